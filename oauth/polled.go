package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"
	foauth2 "github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"

	"github.com/yihao-gov/yihao/identity"
)

// The device grant and counter sessions share one shape: a terminal asks for
// a code, a person decides elsewhere, the terminal polls. These helpers hold
// what the two have in common.

// polledRecord is a JSON state record that ends at its own expiry.
type polledRecord interface{ expiry() time.Time }

func (r *deviceRecord) expiry() time.Time  { return r.Expires }
func (r *counterRecord) expiry() time.Time { return r.Expires }

// loadPolled reads a record of kind: identity.ErrConflict once it was used,
// identity.ErrNotFound once it expired. It returns the time it has left.
func loadPolled[T any, PT interface {
	*T
	polledRecord
}](ctx context.Context, p *Provider, kind StateKind, key string) (PT, time.Duration, error) {
	data, used, err := p.deps.State.State(ctx, kind, key)
	if err != nil {
		return nil, 0, err
	}
	rec := PT(new(T))
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, 0, err
	}
	if used {
		return nil, 0, identity.ErrConflict
	}
	left := rec.expiry().Sub(p.now())
	if left <= 0 {
		return nil, 0, identity.ErrNotFound
	}
	return rec, left, nil
}

func (p *Provider) savePolled(ctx context.Context, kind StateKind, key string, rec polledRecord, ttl time.Duration) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return p.deps.State.PutState(ctx, kind, key, data, ttl, "")
}

// pollingClient authenticates the client of a device or counter request and
// checks that it is registered for grant and may ask for the scopes. On
// failure it has written the RFC error and returns nil.
func (p *Provider) pollingClient(w http.ResponseWriter, r *http.Request, grant, notRegistered string) (*Client, []string) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest)
		return nil, nil
	}
	fc, err := p.core.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, p.accessErr(r, err))
		return nil, nil
	}
	client := fc.(fositeClient).c
	if !slices.Contains(client.GrantTypes, grant) {
		p.fosite.WriteAccessError(ctx, w, nil, fosite.ErrUnauthorizedClient.WithHint(notRegistered))
		return nil, nil
	}
	scopes := splitSpace(r.PostForm.Get("scope"))
	for _, s := range scopes {
		if !slices.Contains(client.Scopes, s) || (s == "idcard" && !client.AllowIDCard) {
			p.fosite.WriteAccessError(ctx, w, nil, fosite.ErrInvalidScope.WithHintf("The client may not request scope %q.", s))
			return nil, nil
		}
	}
	return client, scopes
}

// polledGrant is what the device and counter token handlers share: the
// grant type they answer, and the helpers that mint the tokens once a poll
// finds the request approved. Each embeds it and adds its own
// HandleTokenEndpointRequest.
type polledGrant struct {
	p         *Provider
	grantType string
	access    *foauth2.HandleHelper
	refresh   foauth2.RefreshTokenStrategy
	idToken   *openid.IDTokenHandleHelper
}

// factory is the compose.Factory that wires the helpers from fosite's
// strategy and hands fosite the handler h (the grant embedding g).
func (g *polledGrant) factory(store *fositeStorage, h fosite.TokenEndpointHandler) func(fosite.Configurator, interface{}, interface{}) interface{} {
	return func(config fosite.Configurator, _ interface{}, strategy interface{}) interface{} {
		g.access = &foauth2.HandleHelper{AccessTokenStrategy: strategy.(foauth2.AccessTokenStrategy), AccessTokenStorage: store, Config: config}
		g.refresh = strategy.(foauth2.RefreshTokenStrategy)
		g.idToken = &openid.IDTokenHandleHelper{IDTokenStrategy: strategy.(openid.OpenIDConnectTokenStrategy)}
		return h
	}
}

func (g *polledGrant) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (g *polledGrant) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(g.grantType)
}

func (g *polledGrant) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !g.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return issueTokens(ctx, g.p, g.access, g.refresh, g.idToken, r, resp)
}
