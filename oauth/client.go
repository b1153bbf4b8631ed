package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
)

// MinSecretLength is the shortest client secret an operator may supply.
const MinSecretLength = 32

// GenerateSecret returns a new 256-bit client secret, base64url.
func GenerateSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret is the stored form of a client secret. A secret is random and at
// least 256 bits (generated) or 32 characters (supplied), so one SHA-256 is as
// strong as a slow hash and costs microseconds per token request.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte("yihao-client-secret:" + secret))
	return sum[:]
}

// secretHasher implements fosite.Hasher with HashSecret.
type secretHasher struct{}

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	if subtle.ConstantTimeCompare(hash, HashSecret(string(data))) != 1 {
		return errors.New("oauth: client secret mismatch")
	}
	return nil
}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return HashSecret(string(data)), nil
}

// fositeClient adapts Client to the fosite client interfaces.
type fositeClient struct{ c *Client }

var (
	_ fosite.Client              = fositeClient{}
	_ fosite.OpenIDConnectClient = fositeClient{}
)

func (f fositeClient) GetID() string             { return f.c.ID }
func (f fositeClient) GetHashedSecret() []byte   { return f.c.SecretHash }
func (f fositeClient) GetRedirectURIs() []string { return f.c.RedirectURIs }
func (f fositeClient) GetGrantTypes() fosite.Arguments {
	if len(f.c.GrantTypes) == 0 {
		return fosite.Arguments{"authorization_code"}
	}
	return f.c.GrantTypes
}
func (f fositeClient) GetResponseTypes() fosite.Arguments {
	if len(f.c.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return f.c.ResponseTypes
}
func (f fositeClient) GetScopes() fosite.Arguments         { return f.c.Scopes }
func (f fositeClient) IsPublic() bool                      { return f.c.Public }
func (f fositeClient) GetRequestURIs() []string            { return nil }
func (f fositeClient) GetJSONWebKeys() *jose.JSONWebKeySet { return nil }
func (f fositeClient) GetJSONWebKeysURI() string           { return "" }
func (f fositeClient) GetRequestObjectSigningAlgorithm() string {
	return ""
}
func (f fositeClient) GetTokenEndpointAuthMethod() string {
	switch {
	case f.c.Public:
		return "none"
	case f.c.TokenEndpointAuthMethod == "":
		return "client_secret_basic"
	}
	return f.c.TokenEndpointAuthMethod
}
func (f fositeClient) GetTokenEndpointAuthSigningAlgorithm() string { return "RS256" }

// Sector is the pairwise-subject sector of the client: the registered sector
// identifier, or the host of its first redirect URI.
func (c *Client) Sector() string {
	if c.SectorIdentifier != "" {
		return c.SectorIdentifier
	}
	for _, u := range c.RedirectURIs {
		if p, err := url.Parse(u); err == nil && p.Host != "" {
			return p.Host
		}
	}
	return c.ID
}

// GetAudience: a client may always name itself as audience.
func (f fositeClient) GetAudience() fosite.Arguments {
	return append(fosite.Arguments{f.c.ID}, f.c.Audience...)
}
