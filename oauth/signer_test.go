package oauth

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/yihao-gov/yihao/identity"
)

// memKeys is an in-memory KeyStore.
type memKeys struct {
	mu   sync.Mutex
	keys []*SigningKey
}

func (m *memKeys) AddSigningKey(_ context.Context, k *SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.Algorithm == k.Algorithm && o.RetiredAt.IsZero() {
			o.RetiredAt = k.CreatedAt
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) SigningKeys(context.Context) ([]*SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

func (m *memKeys) DeleteSigningKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range m.keys {
		if k.ID == id {
			m.keys = slices.Delete(m.keys, i, i+1)
			return nil
		}
	}
	return identity.ErrNotFound
}

func TestSignerRemembersVerifiedTokens(t *testing.T) {
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	keys, err := NewKeySet(&memKeys{}, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := &signer{keys: keys, defaultAlg: ES256}
	sign := func(exp time.Time, sub string) string {
		tok, _, err := s.Generate(t.Context(), jwt.MapClaims{"sub": sub, "exp": exp.Unix()}, &jwt.Headers{Extra: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	tok := sign(time.Now().Add(time.Hour), "a")
	for i := range 2 {
		got, err := s.Decode(t.Context(), tok)
		if err != nil || got.Claims["sub"] != "a" || !got.Valid() {
			t.Fatalf("decode %d: %v %v", i, got, err)
		}
		got.Claims["sub"] = "changed by a caller"
	}
	if len(s.verified.m) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(s.verified.m))
	}
	if got, _ := s.Decode(t.Context(), tok); got.Claims["sub"] != "a" {
		t.Fatal("a caller's change reached the remembered token")
	}

	// A token with the same signature and another payload is not a hit.
	parts := strings.Split(tok, ".")
	other := strings.Split(sign(time.Now().Add(time.Hour), "b"), ".")
	if _, err := s.Decode(t.Context(), parts[0]+"."+other[1]+"."+parts[2]); err == nil {
		t.Fatal("a payload swapped under a remembered signature verified")
	}
	// An expired token is refused, and never remembered.
	old := sign(time.Now().Add(-time.Second), "a")
	for range 2 {
		if _, err := s.Decode(t.Context(), old); err == nil {
			t.Fatal("expired token verified")
		}
	}
	// Once its key is no longer published, a remembered token is refused.
	if _, err := keys.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decode(t.Context(), tok); err != nil {
		t.Fatalf("token of a retired, still published key: %v", err)
	}
	if _, err := keys.Prune(t.Context(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decode(t.Context(), tok); err == nil {
		t.Fatal("token of a pruned key verified from memory")
	}
}
