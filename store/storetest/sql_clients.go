package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// sqlClient is a confidential client with every field set.
func sqlClient(id string) *oauth.Client {
	return &oauth.Client{
		ID:                       id,
		SecretHash:               []byte{0x00, 0x01, 0xfe, 0xff, 'x', 0x80},
		Name:                     "社保服务 " + id,
		RedirectURIs:             []string{"https://" + id + ".gov.example/cb", "https://m." + id + ".gov.example/cb"},
		PostLogoutRedirectURIs:   []string{"https://" + id + ".gov.example/bye"},
		BackchannelLogoutURI:     "https://" + id + ".gov.example/bcl",
		GrantTypes:               []string{"authorization_code", "refresh_token"},
		ResponseTypes:            []string{"code"},
		Scopes:                   []string{"openid", "profile", "phone", "idcard"},
		Audience:                 []string{"https://api." + id + ".gov.example"},
		TokenEndpointAuthMethod:  "client_secret_basic",
		SubjectType:              "pairwise",
		SectorIdentifier:         id + ".gov.example",
		AllowIDCard:              true,
		SkipConsent:              true,
		IDTokenSignedResponseAlg: "ES256",
		MinLevel:                 2,
		MinACR:                   "urn:yihao:acr:2",
		Disabled:                 false,
		CreatedAt:                sqlAt(0),
		UpdatedAt:                sqlAt(time.Hour),
	}
}

func sqlCheckClient(t *testing.T, got, want *oauth.Client) {
	t.Helper()
	if got == nil {
		t.Fatal("client is nil")
	}
	if got.ID != want.ID || got.Name != want.Name || got.BackchannelLogoutURI != want.BackchannelLogoutURI {
		t.Errorf("ID, Name, BackchannelLogoutURI = %q, %q, %q, want %q, %q, %q",
			got.ID, got.Name, got.BackchannelLogoutURI, want.ID, want.Name, want.BackchannelLogoutURI)
	}
	if !bytes.Equal(got.SecretHash, want.SecretHash) {
		t.Errorf("SecretHash = %x, want %x", got.SecretHash, want.SecretHash)
	}
	sqlSameList(t, "RedirectURIs", got.RedirectURIs, want.RedirectURIs)
	sqlSameList(t, "PostLogoutRedirectURIs", got.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs)
	sqlSameList(t, "GrantTypes", got.GrantTypes, want.GrantTypes)
	sqlSameList(t, "ResponseTypes", got.ResponseTypes, want.ResponseTypes)
	sqlSameList(t, "Scopes", got.Scopes, want.Scopes)
	sqlSameList(t, "Audience", got.Audience, want.Audience)
	if got.Public != want.Public || got.AllowIDCard != want.AllowIDCard || got.SkipConsent != want.SkipConsent || got.Disabled != want.Disabled {
		t.Errorf("Public, AllowIDCard, SkipConsent, Disabled = %v, %v, %v, %v, want %v, %v, %v, %v",
			got.Public, got.AllowIDCard, got.SkipConsent, got.Disabled,
			want.Public, want.AllowIDCard, want.SkipConsent, want.Disabled)
	}
	if got.TokenEndpointAuthMethod != want.TokenEndpointAuthMethod || got.SubjectType != want.SubjectType ||
		got.SectorIdentifier != want.SectorIdentifier || got.IDTokenSignedResponseAlg != want.IDTokenSignedResponseAlg {
		t.Errorf("auth method, subject type, sector, alg = %q, %q, %q, %q, want %q, %q, %q, %q",
			got.TokenEndpointAuthMethod, got.SubjectType, got.SectorIdentifier, got.IDTokenSignedResponseAlg,
			want.TokenEndpointAuthMethod, want.SubjectType, want.SectorIdentifier, want.IDTokenSignedResponseAlg)
	}
	if got.MinLevel != want.MinLevel {
		t.Errorf("MinLevel = %d, want %d", got.MinLevel, want.MinLevel)
	}
	if got.MinACR != want.MinACR {
		t.Errorf("MinACR = %q, want %q", got.MinACR, want.MinACR)
	}
	sqlSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sqlSameTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// RunClientStore checks an oauth.ClientStore. newStore must return an
// empty store on every call.
func RunClientStore(t *testing.T, newStore func(t *testing.T) oauth.ClientStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[oauth.ClientStore]{
		{"create then load keeps every field", func(t *testing.T, s oauth.ClientStore) {
			c := sqlClient("shebao")
			sqlMust(t, "CreateClient", s.CreateClient(t.Context(), c))
			got, err := s.Client(t.Context(), "shebao")
			sqlMust(t, "Client", err)
			sqlCheckClient(t, got, c)
		}},
		{"a public client has no secret", func(t *testing.T, s oauth.ClientStore) {
			c := sqlClient("app")
			c.SecretHash, c.Public, c.TokenEndpointAuthMethod = nil, true, "none"
			c.Audience, c.PostLogoutRedirectURIs = nil, nil
			sqlMust(t, "CreateClient", s.CreateClient(t.Context(), c))
			got, err := s.Client(t.Context(), "app")
			sqlMust(t, "Client", err)
			sqlCheckClient(t, got, c)
			if got.SecretHash != nil {
				t.Errorf("SecretHash = %x, want nil", got.SecretHash)
			}
		}},
		{"a taken id is refused and the first client stays", func(t *testing.T, s oauth.ClientStore) {
			first := sqlClient("shebao")
			sqlMust(t, "CreateClient", s.CreateClient(t.Context(), first))
			second := sqlClient("shebao")
			second.Name = "impostor"
			second.RedirectURIs = []string{"https://evil.example/cb"}
			sqlWantErr(t, "CreateClient again", s.CreateClient(t.Context(), second), identity.ErrAlreadyExists)
			got, err := s.Client(t.Context(), "shebao")
			sqlMust(t, "Client", err)
			sqlCheckClient(t, got, first)
		}},
		{"unknown client is not found everywhere", func(t *testing.T, s oauth.ClientStore) {
			_, err := s.Client(t.Context(), "nobody")
			sqlWantErr(t, "Client", err, identity.ErrNotFound)
			sqlWantErr(t, "UpdateClient", s.UpdateClient(t.Context(), sqlClient("nobody")), identity.ErrNotFound)
			sqlWantErr(t, "DeleteClient", s.DeleteClient(t.Context(), "nobody"), identity.ErrNotFound)
			_, err = s.Client(t.Context(), "nobody")
			sqlWantErr(t, "Client after UpdateClient", err, identity.ErrNotFound)
		}},
		{"update replaces every field", func(t *testing.T, s oauth.ClientStore) {
			sqlMust(t, "CreateClient", s.CreateClient(t.Context(), sqlClient("shebao")))
			sqlMust(t, "CreateClient other", s.CreateClient(t.Context(), sqlClient("gongjijin")))
			upd := &oauth.Client{
				ID:                       "shebao",
				Name:                     "renamed",
				RedirectURIs:             []string{"https://new.gov.example/cb"},
				GrantTypes:               []string{"client_credentials"},
				Public:                   true,
				TokenEndpointAuthMethod:  "none",
				SubjectType:              "public",
				IDTokenSignedResponseAlg: "RS256",
				Disabled:                 true,
				CreatedAt:                sqlAt(0),
				UpdatedAt:                sqlAt(2 * time.Hour),
			}
			sqlMust(t, "UpdateClient", s.UpdateClient(t.Context(), upd))
			got, err := s.Client(t.Context(), "shebao")
			sqlMust(t, "Client", err)
			sqlCheckClient(t, got, upd)
			other, err := s.Client(t.Context(), "gongjijin")
			sqlMust(t, "Client other", err)
			sqlCheckClient(t, other, sqlClient("gongjijin"))
		}},
		{"an update that changes nothing still finds the client", func(t *testing.T, s oauth.ClientStore) {
			c := sqlClient("shebao")
			sqlMust(t, "CreateClient", s.CreateClient(t.Context(), c))
			sqlMust(t, "UpdateClient unchanged", s.UpdateClient(t.Context(), sqlClient("shebao")))
			got, err := s.Client(t.Context(), "shebao")
			sqlMust(t, "Client", err)
			sqlCheckClient(t, got, c)
		}},
		{"list is ordered by id", func(t *testing.T, s oauth.ClientStore) {
			list, err := s.Clients(t.Context())
			sqlMust(t, "Clients on an empty store", err)
			if len(list) != 0 {
				t.Fatalf("empty store lists %d clients", len(list))
			}
			for _, id := range []string{"c-3", "a-1", "b-2"} {
				sqlMust(t, "CreateClient "+id, s.CreateClient(t.Context(), sqlClient(id)))
			}
			list, err = s.Clients(t.Context())
			sqlMust(t, "Clients", err)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			sqlSameList(t, "Clients ids", ids, []string{"a-1", "b-2", "c-3"})
			if len(list) == 3 {
				sqlCheckClient(t, list[1], sqlClient("b-2"))
			}
		}},
		{"delete removes one client", func(t *testing.T, s oauth.ClientStore) {
			sqlMust(t, "CreateClient", s.CreateClient(t.Context(), sqlClient("shebao")))
			sqlMust(t, "CreateClient other", s.CreateClient(t.Context(), sqlClient("gongjijin")))
			sqlMust(t, "DeleteClient", s.DeleteClient(t.Context(), "shebao"))
			_, err := s.Client(t.Context(), "shebao")
			sqlWantErr(t, "Client after delete", err, identity.ErrNotFound)
			sqlWantErr(t, "DeleteClient again", s.DeleteClient(t.Context(), "shebao"), identity.ErrNotFound)
			_, err = s.Client(t.Context(), "gongjijin")
			sqlMust(t, "Client other", err)
		}},
		{"ids differing only in case are two clients", func(t *testing.T, s oauth.ClientStore) {
			sqlMust(t, "CreateClient lower", s.CreateClient(t.Context(), sqlClient("portal")))
			sqlMust(t, "CreateClient upper", s.CreateClient(t.Context(), sqlClient("PORTAL")))
			got, err := s.Client(t.Context(), "PORTAL")
			sqlMust(t, "Client", err)
			sqlCheckClient(t, got, sqlClient("PORTAL"))
		}},
	})
}
