package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ory/fosite"

	"github.com/yihao-gov/yihao/identity"
)

// Errors of ValidateAccessToken, for a bearer-token resource (the admin API).
var (
	// ErrInvalidToken: missing, malformed, expired or revoked (RFC 6750
	// invalid_token).
	ErrInvalidToken = errors.New("oauth: the access token is invalid, expired or revoked")
	// ErrInsufficientScope: valid, but without the scope asked for, or issued
	// for a citizen where a client's own token is needed (insufficient_scope).
	ErrInsufficientScope = errors.New("oauth: the access token lacks the required scope")
)

// ValidateAccessToken checks a client_credentials access token in process,
// exactly as introspection would (signature, expiry, the token record that
// revocation deletes, the client still enabled), and that it carries scope.
// It returns the client the token was issued to. A token issued for a
// citizen is ErrInsufficientScope: admin access is a client's own.
// identity.ErrUnavailable (wrapped) when the state store does not answer.
func (p *Provider) ValidateAccessToken(ctx context.Context, token, scope string) (clientID string, err error) {
	if token == "" {
		return "", ErrInvalidToken
	}
	session := NewSession()
	_, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, session, scope)
	switch {
	case err == nil:
	case errors.Is(err, identity.ErrUnavailable) || errors.Is(err, fosite.ErrTemporarilyUnavailable):
		return "", fmt.Errorf("oauth: validate access token: %w", identity.ErrUnavailable)
	case errors.Is(err, fosite.ErrInvalidScope):
		return "", ErrInsufficientScope
	default:
		return "", ErrInvalidToken
	}
	if session.CitizenID != "" || ar.GetClient() == nil {
		return "", ErrInsufficientScope
	}
	return ar.GetClient().GetID(), nil
}
