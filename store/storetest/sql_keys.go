package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

func sqlKey(id, alg string, created time.Time) *oauth.SigningKey {
	return &oauth.SigningKey{ID: id, Algorithm: alg, Sealed: []byte("sealed\x00\xff:" + id), CreatedAt: created}
}

// sqlKeysByID loads every key, by kid.
func sqlKeysByID(t *testing.T, s oauth.KeyStore) map[string]*oauth.SigningKey {
	t.Helper()
	list, err := s.SigningKeys(t.Context())
	sqlMust(t, "SigningKeys", err)
	m := make(map[string]*oauth.SigningKey, len(list))
	for _, k := range list {
		m[k.ID] = k
	}
	return m
}

// RunKeyStore checks an oauth.KeyStore. newStore must return an empty
// store on every call.
func RunKeyStore(t *testing.T, newStore func(t *testing.T) oauth.KeyStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[oauth.KeyStore]{
		{"add then list, oldest first", func(t *testing.T, s oauth.KeyStore) {
			list, err := s.SigningKeys(t.Context())
			sqlMust(t, "SigningKeys on an empty store", err)
			if len(list) != 0 {
				t.Fatalf("empty store lists %d keys", len(list))
			}
			es := sqlKey("es-1", "ES256", sqlAt(time.Hour))
			rs := sqlKey("rs-1", "RS256", sqlAt(0))
			sqlMust(t, "AddSigningKey es-1", s.AddSigningKey(t.Context(), es))
			sqlMust(t, "AddSigningKey rs-1", s.AddSigningKey(t.Context(), rs))
			list, err = s.SigningKeys(t.Context())
			sqlMust(t, "SigningKeys", err)
			if len(list) != 2 {
				t.Fatalf("%d keys, want 2", len(list))
			}
			for i, want := range []*oauth.SigningKey{rs, es} {
				got := list[i]
				if got.ID != want.ID || got.Algorithm != want.Algorithm || !bytes.Equal(got.Sealed, want.Sealed) {
					t.Errorf("key %d = %s %s %q, want %s %s %q", i, got.ID, got.Algorithm, got.Sealed, want.ID, want.Algorithm, want.Sealed)
				}
				sqlSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
				if !got.RetiredAt.IsZero() {
					t.Errorf("%s is retired at %v; the only key of its algorithm must be active", got.ID, got.RetiredAt)
				}
			}
		}},
		{"a new key retires the previous key of its algorithm only", func(t *testing.T, s oauth.KeyStore) {
			sqlMust(t, "AddSigningKey rs-1", s.AddSigningKey(t.Context(), sqlKey("rs-1", "RS256", sqlAt(0))))
			sqlMust(t, "AddSigningKey es-1", s.AddSigningKey(t.Context(), sqlKey("es-1", "ES256", sqlAt(time.Minute))))
			sqlMust(t, "AddSigningKey es-2", s.AddSigningKey(t.Context(), sqlKey("es-2", "ES256", sqlAt(time.Hour))))
			sqlMust(t, "AddSigningKey es-3", s.AddSigningKey(t.Context(), sqlKey("es-3", "ES256", sqlAt(2*time.Hour))))

			keys := sqlKeysByID(t, s)
			want := map[string]time.Time{
				"rs-1": {},
				"es-1": sqlAt(time.Hour), // retired when es-2 came, and not again by es-3
				"es-2": sqlAt(2 * time.Hour),
				"es-3": {},
			}
			if len(keys) != len(want) {
				t.Fatalf("%d keys, want %d", len(keys), len(want))
			}
			for id, retired := range want {
				k, ok := keys[id]
				if !ok {
					t.Errorf("key %s missing", id)
					continue
				}
				sqlSameTime(t, id+" RetiredAt", k.RetiredAt, retired)
			}
		}},
		{"a taken kid is refused and nothing is retired", func(t *testing.T, s oauth.KeyStore) {
			sqlMust(t, "AddSigningKey", s.AddSigningKey(t.Context(), sqlKey("es-1", "ES256", sqlAt(0))))
			sqlMust(t, "AddSigningKey es-2", s.AddSigningKey(t.Context(), sqlKey("es-2", "ES256", sqlAt(time.Minute))))
			sqlWantErr(t, "AddSigningKey again", s.AddSigningKey(t.Context(), sqlKey("es-1", "ES256", sqlAt(time.Hour))), identity.ErrAlreadyExists)
			keys := sqlKeysByID(t, s)
			if k := keys["es-2"]; k == nil || !k.RetiredAt.IsZero() {
				t.Errorf("the active key es-2 was retired by a refused add: %+v", k)
			}
			if k := keys["es-1"]; k == nil || !k.CreatedAt.Equal(sqlAt(0)) {
				t.Errorf("es-1 was replaced: %+v", k)
			}
		}},
		{"delete a key", func(t *testing.T, s oauth.KeyStore) {
			sqlMust(t, "AddSigningKey es-1", s.AddSigningKey(t.Context(), sqlKey("es-1", "ES256", sqlAt(0))))
			sqlMust(t, "AddSigningKey es-2", s.AddSigningKey(t.Context(), sqlKey("es-2", "ES256", sqlAt(time.Hour))))
			sqlMust(t, "DeleteSigningKey", s.DeleteSigningKey(t.Context(), "es-1"))
			keys := sqlKeysByID(t, s)
			if _, ok := keys["es-1"]; ok || len(keys) != 1 {
				t.Errorf("keys after delete = %d, es-1 present %v", len(keys), ok)
			}
			sqlWantErr(t, "DeleteSigningKey again", s.DeleteSigningKey(t.Context(), "es-1"), identity.ErrNotFound)
		}},
	})
}
