package account

import (
	"context"
	"slices"
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

type fakeAudit struct {
	got     identity.AuditQuery
	entries []*identity.AuditEntry
}

func (f *fakeAudit) AuditEntries(_ context.Context, q identity.AuditQuery) (identity.AuditPage, error) {
	f.got = q
	return identity.AuditPage{Entries: f.entries, Next: "c2"}, nil
}

func TestFromAudit(t *testing.T) {
	log := &fakeAudit{entries: []*identity.AuditEntry{
		{Action: identity.AuditLoginSuccess, CitizenID: "cit-1", IP: "203.0.113.0/24", Detail: map[string]string{"method": "pwd"}, At: now},
		{Action: identity.AuditLoginFailure, CitizenID: "cit-1", Detail: map[string]string{"method": "pwd", "reason": "bad_credentials"}},
		{Action: identity.AuditTokenIssued, CitizenID: "cit-1", ClientID: "tax", Detail: map[string]string{"scopes": "openid profile"}},
		{Action: identity.AuditUserinfoReleased, CitizenID: "cit-1", ClientID: "tax", Detail: map[string]string{"claims": "name sub"}},
		{Action: identity.AuditTokenIntrospected, CitizenID: "cit-1", ClientID: "tax", Actor: identity.ActorClient + "api"},
		{Action: identity.AuditTokenIntrospected, CitizenID: "cit-1", ClientID: "tax", Actor: identity.ActorClient + "tax"},
		{Action: identity.AuditSessionEnded, CitizenID: "cit-1"},
		{Action: identity.AuditTokenIssued, CitizenID: "someone-else", ClientID: "tax"},
	}}
	a := FromAudit(log)
	page, err := a.CitizenActivity(t.Context(), Query{CitizenID: "cit-1", ClientID: "tax", Kinds: []Kind{KindToken, KindIntrospect},
		Since: now, Limit: 20, Cursor: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	q := log.got
	if q.CitizenID != "cit-1" || q.ClientID != "tax" || q.Cursor != "c1" || q.Limit != 20 || !q.Since.Equal(now) ||
		!slices.Equal(q.Actions, []identity.AuditAction{identity.AuditTokenIssued, identity.AuditTokenIntrospected}) {
		t.Errorf("audit query %+v", q)
	}
	want := []Event{
		{At: now, Kind: KindLogin, Method: "pwd", Network: "203.0.113.0/24"},
		{Kind: KindLoginFailure, Method: "pwd"},
		{Kind: KindToken, ClientID: "tax", Released: []string{"openid", "profile"}},
		{Kind: KindUserinfo, ClientID: "tax", Released: []string{"name", "sub"}},
		{Kind: KindIntrospect, ClientID: "tax", CheckedBy: "api"},
		{Kind: KindIntrospect, ClientID: "tax"},
	}
	if page.Next != "c2" || len(page.Events) != len(want) {
		t.Fatalf("page %+v", page)
	}
	for i, w := range want {
		g := page.Events[i]
		if !g.At.Equal(w.At) || g.Kind != w.Kind || g.ClientID != w.ClientID || !slices.Equal(g.Released, w.Released) ||
			g.Method != w.Method || g.Network != w.Network || g.CheckedBy != w.CheckedBy {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
	}
	// No citizen, no query: the whole trail is never read.
	log.got = identity.AuditQuery{}
	if p, err := a.CitizenActivity(t.Context(), Query{Kinds: []Kind{KindToken}}); err != nil || len(p.Events) != 0 || log.got.Limit != 0 {
		t.Errorf("empty citizen: %+v %v", p, err)
	}
}
