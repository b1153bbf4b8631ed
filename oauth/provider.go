package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	foauth2 "github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/yihao-gov/yihao/identity"
)

// Config is what the protocol layer needs from configuration.
type Config struct {
	Issuer                string        // https URL, no trailing slash
	GlobalSecret          []byte        // ≥ 32 bytes: HMAC key of authorization codes and refresh tokens
	PairwiseSalt          []byte        // key of pairwise subjects
	AuthorizeCodeLifespan time.Duration // default 60 s
	AccessTokenLifespan   time.Duration // default 10 min
	IDTokenLifespan       time.Duration // default 10 min
	RefreshTokenLifespan  time.Duration // default 30 days
	AccessTokenAlg        string        // ES256 (default) or RS256
	ClientCacheTTL        time.Duration // default 5 s
	AllowHTTPLoopback     bool          // development: http:// redirect URIs on loopback hosts
}

func (c *Config) defaults() error {
	if c.Issuer == "" {
		return errors.New("oauth: issuer is required")
	}
	if len(c.GlobalSecret) < 32 {
		return errors.New("oauth: global secret must be at least 32 bytes")
	}
	if len(c.PairwiseSalt) < 16 {
		return errors.New("oauth: pairwise salt must be at least 16 bytes")
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.AuthorizeCodeLifespan, 60*time.Second)
	set(&c.AccessTokenLifespan, 10*time.Minute)
	set(&c.IDTokenLifespan, 10*time.Minute)
	set(&c.RefreshTokenLifespan, 30*24*time.Hour)
	set(&c.ClientCacheTTL, 5*time.Second)
	switch c.AccessTokenAlg {
	case "":
		c.AccessTokenAlg = ES256
	case ES256, RS256:
	default:
		return fmt.Errorf("oauth: access token algorithm %q: want ES256 or RS256", c.AccessTokenAlg)
	}
	return nil
}

// Deps are the ports and collaborators of the provider.
type Deps struct {
	Clients  ClientStore
	Grants   GrantStore
	Consents ConsentStore
	State    StateStore
	Sessions identity.SessionStore
	Citizens identity.CitizenRepository
	Keys     *KeySet
	Browser  SessionReader // the SSO session of a browser request
	Pages    LogoutPages   // confirmation and logged-out pages
	Logger   *slog.Logger
	Now      func() time.Time
	// HTTPClient sends back-channel logout tokens; nil uses a client with a 5 s timeout.
	HTTPClient *http.Client
	// Audit records tokens issued, claims released, introspections and
	// ended sessions (see audit.go). Nil records nothing.
	Audit identity.AuditLog
}

// Provider is Yihao's OAuth 2.0 / OpenID Connect provider.
type Provider struct {
	cfg     Config
	deps    Deps
	fosite  fosite.OAuth2Provider
	core    *fosite.Fosite
	storage *fositeStorage
	log     *slog.Logger
	now     func() time.Time

	discovery []byte
	logouts   *backchannel
}

// New composes fosite from an explicit list of factories: authorization code
// with PKCE, refresh token, client credentials, OpenID Connect explicit and
// refresh, introspection and revocation. Implicit and the password grant are
// left out (RFC 9700).
func New(cfg Config, d Deps) (*Provider, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if d.Clients == nil || d.Grants == nil || d.Consents == nil || d.State == nil || d.Sessions == nil || d.Citizens == nil || d.Keys == nil || d.Browser == nil {
		return nil, errors.New("oauth: missing dependency")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	store := &fositeStorage{
		clients: d.Clients, grants: d.Grants, state: d.State, now: d.Now,
		codeTTL: cfg.AuthorizeCodeLifespan, accessTTL: cfg.AccessTokenLifespan,
		cacheTTL: cfg.ClientCacheTTL,
	}
	fc := &fosite.Config{
		AccessTokenLifespan:            cfg.AccessTokenLifespan,
		RefreshTokenLifespan:           cfg.RefreshTokenLifespan,
		AuthorizeCodeLifespan:          cfg.AuthorizeCodeLifespan,
		IDTokenLifespan:                cfg.IDTokenLifespan,
		IDTokenIssuer:                  cfg.Issuer,
		AccessTokenIssuer:              cfg.Issuer,
		TokenURL:                       cfg.Issuer + "/oauth2/token",
		GlobalSecret:                   cfg.GlobalSecret,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.ExactAudienceMatchingStrategy,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		AllowedPromptValues:            []string{"none", "login", "consent"},
		MinParameterEntropy:            fosite.MinParameterEntropy,
		ClientSecretsHasher:            secretHasher{},
		SendDebugMessagesToClients:     false,
		RefreshTokenScopes:             []string{"offline_access"},
		JWTScopeClaimKey:               jwt.JWTScopeFieldString, // RFC 9068: scope is a space-separated string
		RedirectSecureChecker:          redirectChecker(cfg.AllowHTTPLoopback),
	}
	idSigner := &signer{keys: d.Keys, defaultAlg: RS256}
	atSigner := &signer{keys: d.Keys, defaultAlg: cfg.AccessTokenAlg}
	hmacStrategy := compose.NewOAuth2HMACStrategy(fc)
	strategy := &compose.CommonStrategy{
		CoreStrategy:               &foauth2.DefaultJWTStrategy{Signer: atSigner, HMACSHAStrategy: hmacStrategy, Config: fc},
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: idSigner, Config: fc},
		Signer:                     idSigner,
	}
	store.codeSignature = strategy.CoreStrategy.AuthorizeCodeSignature
	dg := &deviceGrant{polledGrant{grantType: DeviceGrantType}}
	cg := &counterGrant{polledGrant{grantType: CounterGrantType}}
	f := compose.Compose(fc, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2PKCEFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		// Yihao's own handlers, appended like hydra's extra factories.
		dg.factory(store, dg),
		cg.factory(store, cg),
	)
	p := &Provider{cfg: cfg, deps: d, fosite: f, core: f.(*fosite.Fosite), storage: store, log: d.Logger, now: d.Now}
	dg.p = p
	cg.p = p
	p.logouts = &backchannel{p: p}
	doc, err := p.buildDiscovery()
	if err != nil {
		return nil, err
	}
	p.discovery = doc
	return p, nil
}

// Issuer is the issuer URL.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// ForgetClient drops a client from this replica's cache after a change.
func (p *Provider) ForgetClient(id string) { p.storage.forget(id) }

// redirectChecker allows https everywhere and, in development, http on loopback.
func redirectChecker(allowLoopback bool) func(context.Context, *url.URL) bool {
	return func(_ context.Context, u *url.URL) bool {
		if u.Scheme == "https" {
			return true
		}
		if u.Scheme == "http" && allowLoopback {
			h := u.Hostname()
			return h == "localhost" || h == "127.0.0.1" || h == "::1"
		}
		// Native apps may use private-use URI schemes (RFC 8252).
		return u.Scheme != "http" && u.Scheme != ""
	}
}

// Mount registers the protocol endpoints. Token, introspection and revocation
// are a separate class: form-encoded, client-authenticated, no CSRF cookie,
// Cache-Control: no-store.
func (p *Provider) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", p.serveJWKS)
	mux.HandleFunc("GET /oauth2/auth", p.authorize)
	mux.HandleFunc("POST /oauth2/auth", p.authorize)
	mux.Handle("POST /oauth2/token", noStore(http.HandlerFunc(p.token)))
	mux.Handle("POST /oauth2/introspect", noStore(http.HandlerFunc(p.introspect)))
	mux.Handle("POST /oauth2/revoke", noStore(http.HandlerFunc(p.revoke)))
	mux.Handle("GET /userinfo", noStore(http.HandlerFunc(p.userinfo)))
	mux.Handle("POST /userinfo", noStore(http.HandlerFunc(p.userinfo)))
	mux.Handle("POST /oauth2/device_authorization", noStore(http.HandlerFunc(p.deviceAuthorization)))
	mux.Handle("POST /oauth2/counter_authorization", noStore(http.HandlerFunc(p.counterAuthorization)))
	mux.HandleFunc("GET /oauth2/logout", p.endSession)
	mux.HandleFunc("POST /oauth2/logout", p.endSession)
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		h.ServeHTTP(w, r)
	})
}
