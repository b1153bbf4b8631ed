package storetest

import (
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

func sqlCheckConsent(t *testing.T, got, want *oauth.Consent) {
	t.Helper()
	if got == nil {
		t.Fatal("consent is nil")
	}
	if got.CitizenID != want.CitizenID || got.ClientID != want.ClientID {
		t.Errorf("consent of %s for %s, want %s for %s", got.CitizenID, got.ClientID, want.CitizenID, want.ClientID)
	}
	sqlSameList(t, "Scopes", got.Scopes, want.Scopes)
	sqlSameTime(t, "GrantedAt", got.GrantedAt, want.GrantedAt)
}

// RunConsentStore checks an oauth.ConsentStore. newStore must return an
// empty store on every call.
func RunConsentStore(t *testing.T, newStore func(t *testing.T) oauth.ConsentStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[oauth.ConsentStore]{
		{"save then load", func(t *testing.T, s oauth.ConsentStore) {
			c := &oauth.Consent{CitizenID: "cit-1", ClientID: "shebao", Scopes: []string{"openid", "idcard"}, GrantedAt: sqlAt(0)}
			sqlMust(t, "SaveConsent", s.SaveConsent(t.Context(), c))
			got, err := s.Consent(t.Context(), "cit-1", "shebao")
			sqlMust(t, "Consent", err)
			sqlCheckConsent(t, got, c)
		}},
		{"unknown consent is not found", func(t *testing.T, s oauth.ConsentStore) {
			sqlMust(t, "SaveConsent", s.SaveConsent(t.Context(), &oauth.Consent{CitizenID: "cit-1", ClientID: "shebao", Scopes: []string{"openid"}, GrantedAt: sqlAt(0)}))
			for _, k := range [][2]string{{"cit-1", "other"}, {"cit-2", "shebao"}} {
				_, err := s.Consent(t.Context(), k[0], k[1])
				sqlWantErr(t, "Consent "+k[0]+"/"+k[1], err, identity.ErrNotFound)
				sqlWantErr(t, "DeleteConsent "+k[0]+"/"+k[1], s.DeleteConsent(t.Context(), k[0], k[1]), identity.ErrNotFound)
			}
		}},
		{"saving again replaces scopes and time", func(t *testing.T, s oauth.ConsentStore) {
			sqlMust(t, "SaveConsent", s.SaveConsent(t.Context(), &oauth.Consent{CitizenID: "cit-1", ClientID: "shebao", Scopes: []string{"openid", "idcard", "phone"}, GrantedAt: sqlAt(0)}))
			other := &oauth.Consent{CitizenID: "cit-1", ClientID: "gongjijin", Scopes: []string{"openid"}, GrantedAt: sqlAt(0)}
			sqlMust(t, "SaveConsent other", s.SaveConsent(t.Context(), other))
			narrower := &oauth.Consent{CitizenID: "cit-1", ClientID: "shebao", Scopes: []string{"openid"}, GrantedAt: sqlAt(time.Hour)}
			sqlMust(t, "SaveConsent again", s.SaveConsent(t.Context(), narrower))
			got, err := s.Consent(t.Context(), "cit-1", "shebao")
			sqlMust(t, "Consent", err)
			sqlCheckConsent(t, got, narrower)
			got, err = s.Consent(t.Context(), "cit-1", "gongjijin")
			sqlMust(t, "Consent other", err)
			sqlCheckConsent(t, got, other)
		}},
		{"concurrent saves of one consent leave one row", func(t *testing.T, s oauth.ConsentStore) {
			errs := sqlRace(10, func(i int) error {
				return s.SaveConsent(t.Context(), &oauth.Consent{CitizenID: "cit-1", ClientID: "shebao", Scopes: []string{"openid"}, GrantedAt: sqlAt(time.Duration(i) * time.Second)})
			})
			for _, err := range errs {
				sqlMust(t, "SaveConsent", err)
			}
			list, err := s.CitizenConsents(t.Context(), "cit-1")
			sqlMust(t, "CitizenConsents", err)
			if len(list) != 1 {
				t.Fatalf("%d consents, want 1", len(list))
			}
		}},
		{"delete removes one consent", func(t *testing.T, s oauth.ConsentStore) {
			sqlMust(t, "SaveConsent", s.SaveConsent(t.Context(), &oauth.Consent{CitizenID: "cit-1", ClientID: "shebao", Scopes: []string{"openid"}, GrantedAt: sqlAt(0)}))
			sqlMust(t, "SaveConsent other", s.SaveConsent(t.Context(), &oauth.Consent{CitizenID: "cit-1", ClientID: "gongjijin", Scopes: []string{"openid"}, GrantedAt: sqlAt(0)}))
			sqlMust(t, "DeleteConsent", s.DeleteConsent(t.Context(), "cit-1", "shebao"))
			_, err := s.Consent(t.Context(), "cit-1", "shebao")
			sqlWantErr(t, "Consent after delete", err, identity.ErrNotFound)
			sqlWantErr(t, "DeleteConsent again", s.DeleteConsent(t.Context(), "cit-1", "shebao"), identity.ErrNotFound)
			_, err = s.Consent(t.Context(), "cit-1", "gongjijin")
			sqlMust(t, "Consent other", err)
		}},
		{"a citizen's consents, newest first", func(t *testing.T, s oauth.ConsentStore) {
			for _, c := range []*oauth.Consent{
				{CitizenID: "cit-1", ClientID: "a-old", Scopes: []string{"openid"}, GrantedAt: sqlAt(0)},
				{CitizenID: "cit-1", ClientID: "b-new", Scopes: []string{"openid", "phone"}, GrantedAt: sqlAt(2 * time.Hour)},
				{CitizenID: "cit-1", ClientID: "c-mid", Scopes: []string{"openid"}, GrantedAt: sqlAt(time.Hour)},
				{CitizenID: "cit-2", ClientID: "a-old", Scopes: []string{"openid"}, GrantedAt: sqlAt(3 * time.Hour)},
			} {
				sqlMust(t, "SaveConsent", s.SaveConsent(t.Context(), c))
			}
			list, err := s.CitizenConsents(t.Context(), "cit-1")
			sqlMust(t, "CitizenConsents", err)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ClientID)
			}
			sqlSameList(t, "clients", ids, []string{"b-new", "c-mid", "a-old"})
			if len(list) == 3 {
				sqlCheckConsent(t, list[0], &oauth.Consent{CitizenID: "cit-1", ClientID: "b-new", Scopes: []string{"openid", "phone"}, GrantedAt: sqlAt(2 * time.Hour)})
			}
			none, err := s.CitizenConsents(t.Context(), "cit-nobody")
			sqlMust(t, "CitizenConsents of nobody", err)
			if len(none) != 0 {
				t.Errorf("a citizen without consents has %d", len(none))
			}
		}},
	})
}
