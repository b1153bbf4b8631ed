package account

import (
	"context"
	"strings"

	"github.com/yihao-gov/yihao/identity"
)

// AuditReader is the query side of identity.AuditLog.
type AuditReader interface {
	AuditEntries(ctx context.Context, q identity.AuditQuery) (identity.AuditPage, error)
}

// FromAudit reads a citizen's activity from the audit chain.
func FromAudit(log AuditReader) Activity { return auditActivity{log} }

type auditActivity struct{ log AuditReader }

var kindActions = map[Kind]identity.AuditAction{
	KindLogin:        identity.AuditLoginSuccess,
	KindLoginFailure: identity.AuditLoginFailure,
	KindToken:        identity.AuditTokenIssued,
	KindUserinfo:     identity.AuditUserinfoReleased,
	KindIntrospect:   identity.AuditTokenIntrospected,
}

func (a auditActivity) CitizenActivity(ctx context.Context, q Query) (Page, error) {
	if q.CitizenID == "" {
		// Never the whole trail: an empty citizen would match every entry.
		return Page{}, nil
	}
	aq := identity.AuditQuery{CitizenID: q.CitizenID, ClientID: q.ClientID, Since: q.Since, Until: q.Until,
		Limit: q.Limit, Cursor: q.Cursor}
	for _, k := range q.Kinds {
		if act, ok := kindActions[k]; ok {
			aq.Actions = append(aq.Actions, act)
		}
	}
	if len(aq.Actions) == 0 {
		return Page{}, nil
	}
	page, err := a.log.AuditEntries(ctx, aq)
	if err != nil {
		return Page{}, err
	}
	out := Page{Next: page.Next}
	for _, e := range page.Entries {
		if e.CitizenID != q.CitizenID {
			continue
		}
		ev := Event{At: e.At, ClientID: e.ClientID}
		switch e.Action {
		case identity.AuditLoginSuccess, identity.AuditLoginFailure:
			ev.Kind, ev.Method, ev.Network = KindLogin, e.Detail["method"], e.IP
			if e.Action == identity.AuditLoginFailure {
				ev.Kind = KindLoginFailure
			}
		case identity.AuditTokenIssued:
			ev.Kind, ev.Released = KindToken, strings.Fields(e.Detail["scopes"])
		case identity.AuditUserinfoReleased:
			ev.Kind, ev.Released = KindUserinfo, strings.Fields(e.Detail["claims"])
		case identity.AuditTokenIntrospected:
			ev.Kind = KindIntrospect
			if by, ok := strings.CutPrefix(e.Actor, identity.ActorClient); ok && by != e.ClientID {
				ev.CheckedBy = by
			}
		default:
			continue
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}
