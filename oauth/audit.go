package oauth

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ory/fosite"

	"github.com/yihao-gov/yihao/identity"
)

// The protocol's entries in the audit chain (Deps.Audit). Every release of a
// citizen's data is recorded before it leaves: tokens issued for a citizen,
// claims released at userinfo, and an active token's owner told to a
// resource server at introspection. When the entry cannot be written the
// release does not happen (503 / temporarily_unavailable): an unrecorded
// release is what the chain exists to rule out. Ending a session is recorded
// too, but a kill path never waits for the audit: its failure is logged.
//
// Entries hold ids, scope and claim names; never tokens, codes, secrets or
// claim values.

// record appends e when an audit log is wired (nil-safe).
func (p *Provider) record(ctx context.Context, e *identity.AuditEntry) error {
	if p.deps.Audit == nil {
		return nil
	}
	if e.At.IsZero() {
		e.At = p.now()
	}
	return p.deps.Audit.AppendAudit(ctx, e)
}

// auditTokenIssued records tokens minted for a citizen at the token
// endpoint (client_credentials tokens carry no citizen and are not).
func (p *Provider) auditTokenIssued(ctx context.Context, r *http.Request, ar fosite.AccessRequester, s *Session) error {
	if s == nil || s.CitizenID == "" {
		return nil
	}
	client := ar.GetClient().GetID()
	return p.record(ctx, &identity.AuditEntry{
		Action: identity.AuditTokenIssued, CitizenID: s.CitizenID, Actor: identity.ActorClient + client,
		ClientID: client, SessionID: s.SessionID, GrantID: ar.GetID(), IP: identity.AuditIP(remoteHost(r)),
		Detail: map[string]string{
			"grant_type": strings.Join(ar.GetGrantTypes(), " "),
			"scopes":     strings.Join(ar.GetGrantedScopes(), " "),
		},
	})
}

// auditUserinfo records which claims (names only) userinfo released.
func (p *Provider) auditUserinfo(ctx context.Context, r *http.Request, ar fosite.AccessRequester, s *Session, claims map[string]any) error {
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	slices.Sort(names)
	client := ar.GetClient().GetID()
	return p.record(ctx, &identity.AuditEntry{
		Action: identity.AuditUserinfoReleased, CitizenID: s.CitizenID, Actor: identity.ActorClient + client,
		ClientID: client, SessionID: s.SessionID, GrantID: ar.GetID(), IP: identity.AuditIP(remoteHost(r)),
		Detail: map[string]string{"claims": strings.Join(names, " ")},
	})
}

// auditIntrospection records which resource server learnt about which
// citizen's token. Inactive tokens release nothing and are not recorded.
func (p *Provider) auditIntrospection(ctx context.Context, r *http.Request, ir fosite.IntrospectionResponder) error {
	if !ir.IsActive() || ir.GetAccessRequester() == nil {
		return nil
	}
	ar := ir.GetAccessRequester()
	s, ok := ar.GetSession().(*Session)
	if !ok || s.CitizenID == "" {
		return nil
	}
	return p.record(ctx, &identity.AuditEntry{
		Action: identity.AuditTokenIntrospected, CitizenID: s.CitizenID,
		Actor: identity.ActorClient + p.introspectionCaller(ctx, r), ClientID: ar.GetClient().GetID(),
		SessionID: s.SessionID, GrantID: ar.GetID(), IP: identity.AuditIP(remoteHost(r)),
		Detail: map[string]string{"token_use": string(ir.GetTokenUse())},
	})
}

// introspectionCaller is the client that authenticated the introspection
// request: the basic-auth user, or the client of the bearer token it
// presented (fosite has checked either by now).
func (p *Provider) introspectionCaller(ctx context.Context, r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
	}
	if tok := fosite.AccessTokenFromRequest(r); tok != "" {
		if _, ar, err := p.fosite.IntrospectToken(ctx, tok, fosite.AccessToken, NewSession()); err == nil {
			return ar.GetClient().GetID()
		}
	}
	return "unknown"
}

// auditSessionEnded records the end of an SSO session and how many grants
// it took with it. Failure is logged, never returned: see above.
func (p *Provider) auditSessionEnded(ctx context.Context, s *identity.Session, grants int) {
	err := p.record(ctx, &identity.AuditEntry{
		Action: identity.AuditSessionEnded, CitizenID: s.CitizenID, Actor: identity.ActorSystem,
		SessionID: s.ID, Detail: map[string]string{"grants_revoked": strconv.Itoa(grants), "clients": strings.Join(s.Clients, " ")},
	})
	if err != nil {
		p.log.ErrorContext(ctx, "audit: session end not recorded", "citizen", s.CitizenID, "err", err)
	}
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
