package oauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strings"

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

func (s *signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	return jwt.Parse(token, s.keyFunc)
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
