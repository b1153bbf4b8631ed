package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

func sqlGrant(id, session, citizen string, created time.Time) *oauth.Grant {
	return &oauth.Grant{
		ID:        id,
		ClientID:  "shebao",
		CitizenID: citizen,
		SessionID: session,
		Scopes:    []string{"openid", "profile", "offline_access"},
		CreatedAt: created,
	}
}

func sqlRefresh(sig, grant string) *oauth.RefreshToken {
	return &oauth.RefreshToken{
		Signature:       sig,
		GrantID:         grant,
		AccessSignature: "at-" + sig,
		Active:          true,
		Request:         []byte(`{"id":"` + grant + `","bin":"` + "\x00\xff" + `"}`),
		CreatedAt:       sqlAt(time.Minute),
		ExpiresAt:       sqlAt(30 * 24 * time.Hour),
	}
}

func sqlCheckGrant(t *testing.T, got, want *oauth.Grant) {
	t.Helper()
	if got == nil {
		t.Fatal("grant is nil")
	}
	if got.ID != want.ID || got.ClientID != want.ClientID || got.CitizenID != want.CitizenID || got.SessionID != want.SessionID {
		t.Errorf("grant = %s/%s/%s/%s, want %s/%s/%s/%s", got.ID, got.ClientID, got.CitizenID, got.SessionID,
			want.ID, want.ClientID, want.CitizenID, want.SessionID)
	}
	sqlSameList(t, "Scopes", got.Scopes, want.Scopes)
	sqlSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sqlSameTime(t, "RevokedAt", got.RevokedAt, want.RevokedAt)
}

func sqlGrantIDs(gs []*oauth.Grant) []string {
	ids := []string{}
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

// sqlActive reports whether the refresh token with signature sig is active.
func sqlActive(t *testing.T, s oauth.GrantStore, sig string) bool {
	t.Helper()
	rt, err := s.RefreshToken(t.Context(), sig)
	sqlMust(t, "RefreshToken "+sig, err)
	return rt.Active
}

// RunGrantStore checks an oauth.GrantStore: grants, their lineage queries
// and refresh-token rotation. newStore must return an empty store on every
// call.
func RunGrantStore(t *testing.T, newStore func(t *testing.T) oauth.GrantStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[oauth.GrantStore]{
		{"create then load a grant", func(t *testing.T, s oauth.GrantStore) {
			g := sqlGrant("g-1", "sid-1", "cit-1", sqlAt(0))
			sqlMust(t, "CreateGrant", s.CreateGrant(t.Context(), g))
			got, err := s.Grant(t.Context(), "g-1")
			sqlMust(t, "Grant", err)
			sqlCheckGrant(t, got, g)
			if !got.RevokedAt.IsZero() {
				t.Errorf("a new grant is revoked at %v", got.RevokedAt)
			}
			_, err = s.Grant(t.Context(), "nope")
			sqlWantErr(t, "Grant unknown", err, identity.ErrNotFound)
		}},
		{"creating a grant again is a no-op", func(t *testing.T, s oauth.GrantStore) {
			g := sqlGrant("g-1", "sid-1", "cit-1", sqlAt(0))
			sqlMust(t, "CreateGrant", s.CreateGrant(t.Context(), g))
			again := sqlGrant("g-1", "sid-2", "cit-2", sqlAt(time.Hour))
			sqlMust(t, "CreateGrant again", s.CreateGrant(t.Context(), again))
			got, err := s.Grant(t.Context(), "g-1")
			sqlMust(t, "Grant", err)
			sqlCheckGrant(t, got, g)
		}},
		{"lineage: live grants of a session and of a citizen", func(t *testing.T, s oauth.GrantStore) {
			for _, g := range []*oauth.Grant{
				sqlGrant("g-2", "sid-1", "cit-1", sqlAt(2*time.Second)),
				sqlGrant("g-1", "sid-1", "cit-1", sqlAt(1*time.Second)),
				sqlGrant("g-3", "sid-1", "cit-1", sqlAt(3*time.Second)),
				sqlGrant("g-4", "sid-2", "cit-1", sqlAt(4*time.Second)),
				sqlGrant("g-5", "sid-3", "cit-2", sqlAt(5*time.Second)),
				sqlGrant("g-cc", "", "", sqlAt(6*time.Second)),
			} {
				sqlMust(t, "CreateGrant "+g.ID, s.CreateGrant(t.Context(), g))
			}
			sqlMust(t, "RevokeGrant g-2", s.RevokeGrant(t.Context(), "g-2", sqlAt(time.Minute)))

			tests := []struct {
				name  string
				query func() ([]*oauth.Grant, error)
				want  []string
			}{
				{"session sid-1 without the revoked g-2", func() ([]*oauth.Grant, error) { return s.SessionGrants(t.Context(), "sid-1") }, []string{"g-1", "g-3"}},
				{"session sid-2", func() ([]*oauth.Grant, error) { return s.SessionGrants(t.Context(), "sid-2") }, []string{"g-4"}},
				{"unknown session", func() ([]*oauth.Grant, error) { return s.SessionGrants(t.Context(), "sid-x") }, []string{}},
				{"no session is not every sessionless grant", func() ([]*oauth.Grant, error) { return s.SessionGrants(t.Context(), "") }, []string{}},
				{"citizen cit-1 without the revoked g-2", func() ([]*oauth.Grant, error) { return s.CitizenGrants(t.Context(), "cit-1") }, []string{"g-1", "g-3", "g-4"}},
				{"citizen cit-2", func() ([]*oauth.Grant, error) { return s.CitizenGrants(t.Context(), "cit-2") }, []string{"g-5"}},
				{"no citizen", func() ([]*oauth.Grant, error) { return s.CitizenGrants(t.Context(), "") }, []string{}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := tt.query()
					sqlMust(t, "query", err)
					ids := sqlGrantIDs(got)
					if len(ids) != len(tt.want) {
						t.Fatalf("grants = %q, want %q", ids, tt.want)
					}
					sqlSameList(t, "grants", ids, tt.want)
				})
			}
			live, err := s.SessionGrants(t.Context(), "sid-1")
			sqlMust(t, "SessionGrants", err)
			if len(live) > 0 {
				sqlCheckGrant(t, live[0], sqlGrant("g-1", "sid-1", "cit-1", sqlAt(1*time.Second)))
			}
		}},
		{"revoking a grant deactivates its refresh tokens and no others", func(t *testing.T, s oauth.GrantStore) {
			sqlMust(t, "CreateGrant g-1", s.CreateGrant(t.Context(), sqlGrant("g-1", "sid-1", "cit-1", sqlAt(0))))
			sqlMust(t, "CreateGrant g-2", s.CreateGrant(t.Context(), sqlGrant("g-2", "sid-1", "cit-1", sqlAt(0))))
			for _, rt := range []*oauth.RefreshToken{sqlRefresh("rt-1a", "g-1"), sqlRefresh("rt-1b", "g-1"), sqlRefresh("rt-2", "g-2")} {
				sqlMust(t, "CreateRefreshToken "+rt.Signature, s.CreateRefreshToken(t.Context(), rt))
			}
			sqlMust(t, "RevokeGrant", s.RevokeGrant(t.Context(), "g-1", sqlAt(time.Hour)))

			got, err := s.Grant(t.Context(), "g-1")
			sqlMust(t, "Grant", err)
			sqlSameTime(t, "RevokedAt", got.RevokedAt, sqlAt(time.Hour))
			for sig, want := range map[string]bool{"rt-1a": false, "rt-1b": false, "rt-2": true} {
				if active := sqlActive(t, s, sig); active != want {
					t.Errorf("%s active = %v, want %v", sig, active, want)
				}
			}
			other, err := s.Grant(t.Context(), "g-2")
			sqlMust(t, "Grant g-2", err)
			if !other.RevokedAt.IsZero() {
				t.Errorf("g-2 was revoked too")
			}

			sqlMust(t, "RevokeGrant twice", s.RevokeGrant(t.Context(), "g-1", sqlAt(2*time.Hour)))
			got, err = s.Grant(t.Context(), "g-1")
			sqlMust(t, "Grant", err)
			sqlSameTime(t, "RevokedAt after the second revocation", got.RevokedAt, sqlAt(time.Hour))
			sqlWantErr(t, "RevokeGrant unknown", s.RevokeGrant(t.Context(), "nope", sqlAt(0)), identity.ErrNotFound)
		}},
		{"refresh token round trip", func(t *testing.T, s oauth.GrantStore) {
			rt := sqlRefresh("rt-1", "g-1")
			sqlMust(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), rt))
			forever := sqlRefresh("rt-forever", "g-1")
			forever.ExpiresAt = time.Time{}
			sqlMust(t, "CreateRefreshToken no expiry", s.CreateRefreshToken(t.Context(), forever))

			for _, want := range []*oauth.RefreshToken{rt, forever} {
				got, err := s.RefreshToken(t.Context(), want.Signature)
				sqlMust(t, "RefreshToken", err)
				if got.Signature != want.Signature || got.GrantID != want.GrantID || got.AccessSignature != want.AccessSignature || !got.Active {
					t.Errorf("token = %+v, want %+v", got, want)
				}
				if !bytes.Equal(got.Request, want.Request) {
					t.Errorf("Request = %q, want %q", got.Request, want.Request)
				}
				sqlSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
				sqlSameTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
			}
			_, err := s.RefreshToken(t.Context(), "nope")
			sqlWantErr(t, "RefreshToken unknown", err, identity.ErrNotFound)
		}},
		{"a taken signature is refused", func(t *testing.T, s oauth.GrantStore) {
			sqlMust(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-1", "g-1")))
			sqlWantErr(t, "CreateRefreshToken again", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-1", "g-2")), identity.ErrAlreadyExists)
			got, err := s.RefreshToken(t.Context(), "rt-1")
			sqlMust(t, "RefreshToken", err)
			if got.GrantID != "g-1" {
				t.Errorf("GrantID = %q, want g-1", got.GrantID)
			}
		}},
		{"signatures differing only in case are two tokens", func(t *testing.T, s oauth.GrantStore) {
			sqlMust(t, "CreateRefreshToken lower", s.CreateRefreshToken(t.Context(), sqlRefresh("abcDEF", "g-1")))
			sqlMust(t, "CreateRefreshToken upper", s.CreateRefreshToken(t.Context(), sqlRefresh("ABCdef", "g-2")))
			sqlMust(t, "DeactivateRefreshToken", s.DeactivateRefreshToken(t.Context(), "abcDEF"))
			if !sqlActive(t, s, "ABCdef") {
				t.Errorf("deactivating abcDEF deactivated ABCdef")
			}
		}},
		{"deactivate: once, then conflict; unknown is not found", func(t *testing.T, s oauth.GrantStore) {
			sqlMust(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-1", "g-1")))
			sqlMust(t, "CreateRefreshToken sibling", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-2", "g-1")))
			sqlMust(t, "DeactivateRefreshToken", s.DeactivateRefreshToken(t.Context(), "rt-1"))
			if sqlActive(t, s, "rt-1") {
				t.Errorf("rt-1 still active")
			}
			if !sqlActive(t, s, "rt-2") {
				t.Errorf("rt-2 was deactivated too")
			}
			sqlWantErr(t, "DeactivateRefreshToken again", s.DeactivateRefreshToken(t.Context(), "rt-1"), identity.ErrConflict)
			sqlWantErr(t, "DeactivateRefreshToken unknown", s.DeactivateRefreshToken(t.Context(), "nope"), identity.ErrNotFound)
		}},
		{"50 parallel refreshes of one token: exactly one wins", func(t *testing.T, s oauth.GrantStore) {
			sqlMust(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-hot", "g-1")))
			const n = 50
			errs := sqlRace(n, func(int) error { return s.DeactivateRefreshToken(t.Context(), "rt-hot") })
			won, lost := sqlCountErrs(t, "DeactivateRefreshToken", errs, identity.ErrConflict)
			if won != 1 || lost != n-1 {
				t.Fatalf("%d refreshes won and %d lost with ErrConflict, want 1 and %d", won, lost, n-1)
			}
			if sqlActive(t, s, "rt-hot") {
				t.Errorf("token still active after rotation")
			}
		}},
		{"delete a refresh token", func(t *testing.T, s oauth.GrantStore) {
			sqlMust(t, "CreateRefreshToken", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-1", "g-1")))
			sqlMust(t, "CreateRefreshToken other", s.CreateRefreshToken(t.Context(), sqlRefresh("rt-2", "g-1")))
			sqlMust(t, "DeleteRefreshToken", s.DeleteRefreshToken(t.Context(), "rt-1"))
			_, err := s.RefreshToken(t.Context(), "rt-1")
			sqlWantErr(t, "RefreshToken after delete", err, identity.ErrNotFound)
			sqlWantErr(t, "DeleteRefreshToken again", s.DeleteRefreshToken(t.Context(), "rt-1"), identity.ErrNotFound)
			_, err = s.RefreshToken(t.Context(), "rt-2")
			sqlMust(t, "RefreshToken other", err)
		}},
		{"deactivate every token of one grant", func(t *testing.T, s oauth.GrantStore) {
			for _, rt := range []*oauth.RefreshToken{sqlRefresh("rt-1a", "g-1"), sqlRefresh("rt-1b", "g-1"), sqlRefresh("rt-2", "g-2")} {
				sqlMust(t, "CreateRefreshToken "+rt.Signature, s.CreateRefreshToken(t.Context(), rt))
			}
			sqlMust(t, "DeactivateRefreshToken rt-1b", s.DeactivateRefreshToken(t.Context(), "rt-1b"))
			sqlMust(t, "DeactivateGrantRefreshTokens", s.DeactivateGrantRefreshTokens(t.Context(), "g-1"))
			sqlMust(t, "DeactivateGrantRefreshTokens again", s.DeactivateGrantRefreshTokens(t.Context(), "g-1"))
			sqlMust(t, "DeactivateGrantRefreshTokens of a grant without tokens", s.DeactivateGrantRefreshTokens(t.Context(), "g-none"))
			for sig, want := range map[string]bool{"rt-1a": false, "rt-1b": false, "rt-2": true} {
				if active := sqlActive(t, s, sig); active != want {
					t.Errorf("%s active = %v, want %v", sig, active, want)
				}
			}
		}},
	})
}
