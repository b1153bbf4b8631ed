package oauth

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Signing algorithms Yihao publishes a key for.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// signingKey is one decrypted key, kept in memory after start.
type signingKey struct {
	id      string
	alg     string
	private crypto.Signer
	created time.Time
	retired time.Time
}

// KeySet holds the signing keys: decrypted once at load, kept in memory, with
// the JWKS document precomputed. Keys live in SQL (KeyStore), each private key
// sealed with AES-256-GCM under the key-encryption key from configuration.
type KeySet struct {
	store KeyStore
	aead  cipher.AEAD
	now   func() time.Time

	mu     sync.RWMutex
	byID   map[string]*signingKey
	active map[string]*signingKey // alg → newest unretired key
	jwks   []byte
}

// NewKeySet builds a key set sealing private keys with kek (32 bytes).
func NewKeySet(store KeyStore, kek []byte, now func() time.Time) (*KeySet, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("oauth: key-encryption key must be 32 bytes, got %d", len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("oauth: key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &KeySet{store: store, aead: aead, now: now}, nil
}

// Load reads every key from the store and decrypts it. When an algorithm has
// no key yet (first start), one is generated and stored.
func (k *KeySet) Load(ctx context.Context) error {
	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("oauth: load signing keys: %w", err)
	}
	have := map[string]bool{}
	for _, sk := range keys {
		if sk.RetiredAt.IsZero() {
			have[sk.Algorithm] = true
		}
	}
	generated := false
	for _, alg := range []string{RS256, ES256} {
		if !have[alg] {
			if _, err := k.add(ctx, alg); err != nil {
				return err
			}
			generated = true
		}
	}
	if generated {
		if keys, err = k.store.SigningKeys(ctx); err != nil {
			return fmt.Errorf("oauth: load signing keys: %w", err)
		}
	}
	return k.install(keys)
}

// Rotate adds a new key for every algorithm; the previous keys stay published
// (retired) so tokens they signed keep verifying until they expire.
func (k *KeySet) Rotate(ctx context.Context) ([]string, error) {
	var ids []string
	for _, alg := range []string{RS256, ES256} {
		id, err := k.add(ctx, alg)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, k.Load(ctx)
}

// Prune deletes retired keys retired before the cutoff (their tokens have expired).
func (k *KeySet) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	keys, err := k.store.SigningKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sk := range keys {
		if !sk.RetiredAt.IsZero() && sk.RetiredAt.Before(cutoff) {
			if err := k.store.DeleteSigningKey(ctx, sk.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, k.Load(ctx)
}

func (k *KeySet) add(ctx context.Context, alg string) (string, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return "", fmt.Errorf("oauth: unsupported algorithm %q", alg)
	}
	if err != nil {
		return "", fmt.Errorf("oauth: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	id := keyID(alg, priv.Public())
	sealed, err := k.seal(id, der)
	if err != nil {
		return "", err
	}
	if err := k.store.AddSigningKey(ctx, &SigningKey{ID: id, Algorithm: alg, Sealed: sealed, CreatedAt: k.now().UTC()}); err != nil {
		return "", fmt.Errorf("oauth: store signing key: %w", err)
	}
	return id, nil
}

// keyID is the RFC 7638 thumbprint of the public key, prefixed by the algorithm.
func keyID(alg string, pub crypto.PublicKey) string {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		sum := sha256.Sum256([]byte(fmt.Sprint(pub)))
		tp = sum[:]
	}
	return alg[:2] + "-" + base64.RawURLEncoding.EncodeToString(tp)[:16]
}

func (k *KeySet) seal(id string, plain []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plain, []byte("yihao-signing-key:"+id)), nil
}

func (k *KeySet) open(id string, sealed []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns {
		return nil, errors.New("sealed key too short")
	}
	return k.aead.Open(nil, sealed[:ns], sealed[ns:], []byte("yihao-signing-key:"+id))
}

func (k *KeySet) install(keys []*SigningKey) error {
	byID := map[string]*signingKey{}
	active := map[string]*signingKey{}
	var set jose.JSONWebKeySet
	for _, sk := range keys {
		der, err := k.open(sk.ID, sk.Sealed)
		if err != nil {
			return fmt.Errorf("oauth: signing key %s does not decrypt with the configured key-encryption key", sk.ID)
		}
		p, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("oauth: signing key %s: %w", sk.ID, err)
		}
		signer, ok := p.(crypto.Signer)
		if !ok {
			return fmt.Errorf("oauth: signing key %s is not a signer", sk.ID)
		}
		key := &signingKey{id: sk.ID, alg: sk.Algorithm, private: signer, created: sk.CreatedAt, retired: sk.RetiredAt}
		byID[sk.ID] = key
		if sk.RetiredAt.IsZero() {
			if cur := active[sk.Algorithm]; cur == nil || sk.CreatedAt.After(cur.created) {
				active[sk.Algorithm] = key
			}
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: signer.Public(), KeyID: sk.ID, Algorithm: sk.Algorithm, Use: "sig"})
	}
	for _, alg := range []string{RS256, ES256} {
		if active[alg] == nil {
			return fmt.Errorf("oauth: no active %s signing key", alg)
		}
	}
	doc, err := json.Marshal(set)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.byID, k.active, k.jwks = byID, active, doc
	k.mu.Unlock()
	return nil
}

// JWKS is the precomputed JSON Web Key Set document (public keys only).
func (k *KeySet) JWKS() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.jwks
}

// Active returns the kid of the active key of alg.
func (k *KeySet) Active(alg string) (string, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if key := k.active[alg]; key != nil {
		return key.id, true
	}
	return "", false
}

func (k *KeySet) key(id string) *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byID[id]
}

func (k *KeySet) activeKey(alg string) *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.active[alg]
}

// PublicKey returns the public key with this kid (for verifying our own tokens).
func (k *KeySet) PublicKey(id string) (crypto.PublicKey, string, bool) {
	key := k.key(id)
	if key == nil {
		return nil, "", false
	}
	return key.private.Public(), key.alg, true
}
