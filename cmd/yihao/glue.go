package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// authAdapter and regAdapter fit the identity use cases to the small
// interfaces the login pages declare.
type authAdapter struct{ a *identity.Authenticator }

func (x authAdapter) Login(ctx context.Context, number, password, ip string) (*identity.Citizen, error) {
	return x.a.Login(ctx, number, password, ip)
}

type regAdapter struct{ r *identity.Registrar }

func (x regAdapter) Register(ctx context.Context, number, name, phone, password string) (*identity.Citizen, error) {
	return x.r.Register(ctx, identity.RegisterInput{Number: number, Name: name, Phone: phone, Password: password})
}

func (a *app) hasher() *identity.PasswordHasher {
	return &identity.PasswordHasher{Memory: uint32(a.cfg.ArgonMemoryKiB), Time: uint32(a.cfg.ArgonTime), Threads: 1}
}

// register creates a citizen from the command line (operators, scripts).
func (a *app) register(ctx context.Context, n identity.Number, name, phone, password string) (*identity.Citizen, error) {
	reg := &identity.Registrar{Citizens: a.sql, Hasher: a.hasher(), Audit: a.sql}
	c, err := reg.Register(ctx, identity.RegisterInput{Number: n.Value(), DocumentType: n.Type(), Name: name, Phone: phone, Password: password})
	if errors.Is(err, identity.ErrAlreadyRegistered) {
		return nil, errors.New("--id-number: a citizen with this number is already registered")
	}
	return c, err
}

// Demo account and site for `serve --demo`.
const (
	demoNumber   = "11010519491231002X" // GB 11643-1999 Annex A example
	demoPassword = "yihao-demo-2026"
	demoClient   = "demo-site"
	demoSecret   = "demo-secret-demo-secret-demo-secret!"
)

func (a *app) demo(ctx context.Context, out io.Writer) error {
	_, err := a.sql.Client(ctx, demoClient)
	if errors.Is(err, identity.ErrNotFound) {
		now := time.Now().UTC()
		err = a.sql.CreateClient(ctx, &oauth.Client{
			ID: demoClient, Name: "Demo service site 示例服务网站", SecretHash: oauth.HashSecret(demoSecret),
			RedirectURIs:           []string{"http://localhost:9999/callback"},
			PostLogoutRedirectURIs: []string{"http://localhost:9999/"},
			GrantTypes:             []string{"authorization_code", "refresh_token", "client_credentials"},
			Scopes:                 []string{"openid", "profile", "phone", "offline_access"},
			SubjectType:            "pairwise", IDTokenSignedResponseAlg: "RS256",
			CreatedAt: now, UpdatedAt: now,
		})
	}
	if err != nil {
		return fmt.Errorf("demo client: %w", err)
	}
	n, _ := identity.Parse(identity.ResidentID, demoNumber)
	if _, err := a.sql.CitizenByNumber(ctx, n); errors.Is(err, identity.ErrNotFound) {
		if _, err := a.register(ctx, n, "张三", "13800138000", demoPassword); err != nil {
			return fmt.Errorf("demo citizen: %w", err)
		}
	} else if err != nil {
		return err
	}
	auth := url.Values{
		"client_id": {demoClient}, "response_type": {"code"}, "scope": {"openid profile"},
		"redirect_uri": {"http://localhost:9999/callback"}, "state": {"demo-state-0001"}, "nonce": {"demo-nonce-0001"},
	}
	fmt.Fprintf(out, `
Demo ready.
  site (client):  %s / secret %s
  citizen:        ID number %s, password %s
  open:           %s/oauth2/auth?%s
  discovery:      %s/.well-known/openid-configuration
`, demoClient, demoSecret, demoNumber, demoPassword, a.cfg.Issuer, auth.Encode(), a.cfg.Issuer)
	return nil
}

func parseAbsURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a URL")
	}
	if !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http" && u.Host != "") {
		return nil, errors.New("must be an absolute URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, errors.New("must use https (http only on localhost)")
	}
	return u, nil
}
