package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"
)

// signer implements fosite's jwt.Signer over the KeySet. A token is signed
// with the key named by its header's kid when the session set one (an ID token
// for a client registered for ES256, say), otherwise with the active key of
// the signer's default algorithm. Verification picks the key by kid, so tokens
// signed before a rotation keep verifying while their key stays published.
type signer struct {
	keys       *KeySet
	defaultAlg string

	verified verifyCache
}

var _ jwt.Signer = (*signer)(nil)

func (s *signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil || header == nil {
		return "", "", errors.New("oauth: claims or header is nil")
	}
	hdr := header.ToMap()
	var key *signingKey
	if kid, _ := hdr["kid"].(string); kid != "" {
		key = s.keys.key(kid)
	}
	if key == nil {
		key = s.keys.activeKey(s.defaultAlg)
	}
	if key == nil {
		return "", "", fmt.Errorf("oauth: no %s signing key", s.defaultAlg)
	}
	// Session claims that went through JSON storage come back as float64;
	// write whole numbers as integers (auth_time 1795804055, not 1.795804055e+09).
	for k, v := range claims {
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			claims[k] = int64(f)
		}
	}
	t := jwt.NewWithClaims(jose.SignatureAlgorithm(key.alg), claims)
	for k, v := range hdr {
		t.Header[k] = v
	}
	t.Header["kid"] = key.id
	raw, err := t.SignedString(key.private)
	if err != nil {
		return "", "", err
	}
	return raw, raw[strings.LastIndexByte(raw, '.')+1:], nil
}

func (s *signer) keyFunc(t *jwt.Token) (interface{}, error) {
	kid, _ := t.Header["kid"].(string)
	pub, alg, ok := s.keys.PublicKey(kid)
	if !ok {
		return nil, errors.New("unknown key id")
	}
	if string(t.Method) != alg {
		return nil, errors.New("algorithm does not match the key")
	}
	return pub, nil
}

func (s *signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// Decode parses and verifies a token. A token that verified is remembered
// for a short while (see verifyCache): a resource server introspects the
// same bearer token on every call it serves, and the signature check is
// most of an introspection's CPU.
func (s *signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	if t := s.verified.get(key, now, s.keys); t != nil {
		return t, nil
	}
	t, err := jwt.Parse(token, s.keyFunc)
	if err == nil {
		s.verified.put(key, t, now)
	}
	return t, err
}

// verifyCache remembers tokens that verified, by SHA-256 of the whole
// token, so a hit is the same bytes that verified before. An entry is used
// only while its key is still published with the same algorithm, and
// until the token's exp or verifyCacheTTL, whichever is first: within that
// window jwt.Parse would verify it again with the same result (exp is the
// only time claim that can turn a valid token invalid). Callers get a copy
// of the token and its maps. The cache is cleared when full.
type verifyCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]verifiedToken
}

type verifiedToken struct {
	t     *jwt.Token
	kid   string
	until time.Time
}

const (
	verifyCacheTTL = time.Minute
	verifyCacheMax = 8192
)

func (c *verifyCache) get(key [sha256.Size]byte, now time.Time, keys *KeySet) *jwt.Token {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if !ok || !now.Before(v.until) {
		return nil
	}
	if _, alg, ok := keys.PublicKey(v.kid); !ok || alg != string(v.t.Method) {
		return nil
	}
	t := *v.t
	t.Header = maps.Clone(v.t.Header)
	t.Claims = maps.Clone(v.t.Claims)
	return &t
}

func (c *verifyCache) put(key [sha256.Size]byte, t *jwt.Token, now time.Time) {
	kid, _ := t.Header["kid"].(string)
	until := now.Add(verifyCacheTTL)
	if exp, ok := numericClaim(t.Claims["exp"]); ok {
		if at := time.Unix(exp, 0); at.Before(until) {
			until = at
		}
	}
	if kid == "" || !now.Before(until) {
		return
	}
	cp := *t
	cp.Header = maps.Clone(t.Header)
	cp.Claims = maps.Clone(t.Claims)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= verifyCacheMax {
		c.m = make(map[[sha256.Size]byte]verifiedToken, 256)
	}
	c.m[key] = verifiedToken{t: &cp, kid: kid, until: until}
	c.mu.Unlock()
}

// numericClaim reads a NumericDate claim as whole seconds.
func numericClaim(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			f, ferr := n.Float64()
			return int64(f), ferr == nil
		}
		return i, true
	}
	return 0, false
}

func (s *signer) GetSignature(ctx context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("oauth: token is not a JWS in compact form")
	}
	return parts[2], nil
}

func (s *signer) Hash(ctx context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

func (s *signer) GetSigningMethodLength(ctx context.Context) int { return sha256.Size }
