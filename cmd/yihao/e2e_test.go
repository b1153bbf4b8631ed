package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/yihao-gov/yihao/oauth"
)

type rp struct {
	t        testing.TB
	ts       *testServer
	client   *oauth.Client
	conf     *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t testing.TB, ts *testServer, id string, mutate ...func(*oauth.Client)) *rp {
	c, secret := ts.client(id, mutate...)
	ctx := oidc.InsecureIssuerURLContext(context.Background(), ts.URL)
	prov, err := oidc.NewProvider(ctx, ts.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: prov.Endpoint(), RedirectURL: c.RedirectURIs[0], Scopes: []string{"openid", "profile", "offline_access"}}
	if c.Public {
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &rp{t: t, ts: ts, client: c, conf: conf, verifier: prov.Verifier(&oidc.Config{ClientID: c.ID, SupportedSigningAlgs: []string{"RS256", "ES256"}})}
}

type loginResult struct {
	code, state, nonce, verifier string
	redirect                     *url.URL
}

// login runs the authorization request through the browser and returns the code.
func (r *rp) login(b *browser, number string, extra ...oauth2.AuthCodeOption) loginResult {
	r.t.Helper()
	l := loginResult{state: oauth2.GenerateVerifier()[:24], nonce: oauth2.GenerateVerifier()[:24], verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce)}, extra...)
	l.redirect = b.authorize(r.conf.AuthCodeURL(l.state, opts...), number, testPassword)
	q := l.redirect.Query()
	if e := q.Get("error"); e != "" {
		r.t.Fatalf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if got := l.redirect.Scheme + "://" + l.redirect.Host + l.redirect.Path; got != r.client.RedirectURIs[0] {
		r.t.Fatalf("redirected to %s, want %s", got, r.client.RedirectURIs[0])
	}
	if q.Get("state") != l.state {
		r.t.Fatalf("state %q, want %q", q.Get("state"), l.state)
	}
	if q.Get("iss") != r.ts.URL {
		r.t.Fatalf("iss %q, want %q (RFC 9207)", q.Get("iss"), r.ts.URL)
	}
	l.code = q.Get("code")
	return l
}

func (r *rp) exchange(l loginResult) (*oauth2.Token, *oidc.IDToken) {
	r.t.Helper()
	tok, err := r.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(l.verifier))
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		r.t.Fatalf("id token: %v", err)
	}
	if idt.Nonce != l.nonce {
		r.t.Fatalf("nonce %q, want %q", idt.Nonce, l.nonce)
	}
	return tok, idt
}

func (r *rp) introspect(token string) map[string]any {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.ts.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.t.Fatalf("introspect: status %d", resp.StatusCode)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func (r *rp) refresh(refreshToken string) (*oauth2.Token, error) {
	ts := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)})
	return ts.Token()
}

func jwtHeader(t *testing.T, raw string) map[string]any {
	part := strings.Split(raw, ".")[0]
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	_ = json.Unmarshal(b, &h)
	return h
}

func TestCodeFlowEndToEnd(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "portal")
	_, number := ts.citizen()
	b := ts.browser()

	l := site.login(b, number)
	tok, idt := site.exchange(l)
	var claims struct {
		SID    string   `json:"sid"`
		ACR    string   `json:"acr"`
		AMR    []string `json:"amr"`
		Auth   int64    `json:"auth_time"`
		AtHash string   `json:"at_hash"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.SID == "" || claims.ACR == "" || len(claims.AMR) == 0 || claims.Auth == 0 || claims.AtHash == "" {
		t.Fatalf("id token lacks sid/acr/amr/auth_time/at_hash: %+v", claims)
	}
	if strings.Contains(idt.Subject, number) || len(idt.Subject) < 20 {
		t.Fatalf("subject %q is not an opaque pairwise id", idt.Subject)
	}
	if h := jwtHeader(t, tok.Extra("id_token").(string)); h["alg"] != "RS256" {
		t.Fatalf("id token alg %v, want RS256", h["alg"])
	}
	if h := jwtHeader(t, tok.AccessToken); h["alg"] != "ES256" || h["typ"] != "at+jwt" {
		t.Fatalf("access token header %v, want ES256 at+jwt", h)
	}

	// userinfo releases the profile claims.
	ctx := oidc.InsecureIssuerURLContext(context.Background(), ts.URL)
	prov, _ := oidc.NewProvider(ctx, ts.URL)
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var info map[string]any
	_ = ui.Claims(&info)
	if ui.Subject != idt.Subject || info["name"] != "李四" || info["birthdate"] != "1980-01-01" {
		t.Fatalf("userinfo %v", info)
	}
	if _, ok := info["id_number"]; ok {
		t.Fatal("userinfo released the ID number without the idcard scope")
	}

	// Introspection: active now.
	if got := site.introspect(tok.AccessToken); got["active"] != true {
		t.Fatalf("introspect: %v", got)
	}

	// Refresh rotates; the old refresh token is dead and its reuse kills the family.
	tok2, err := site.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh token did not rotate")
	}
	if _, err := site.refresh(tok.RefreshToken); err == nil {
		t.Fatal("reusing a rotated refresh token worked")
	}
	if _, err := site.refresh(tok2.RefreshToken); err == nil {
		t.Fatal("after reuse detection the newest refresh token still works")
	}
	if got := site.introspect(tok2.AccessToken); got["active"] != false {
		t.Fatalf("access token of a revoked family still active: %v", got)
	}

	// The code cannot be redeemed twice.
	if _, err := site.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(l.verifier)); err == nil {
		t.Fatal("second redemption of a code worked")
	}
}

func TestCodeReuseRevokesTokens(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "reuse")
	_, number := ts.citizen()
	l := site.login(ts.browser(), number)
	tok, _ := site.exchange(l)
	if _, err := site.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(l.verifier)); err == nil {
		t.Fatal("replayed code was accepted")
	}
	if got := site.introspect(tok.AccessToken); got["active"] != false {
		t.Fatalf("access token from a replayed code still active: %v", got)
	}
	if _, err := site.refresh(tok.RefreshToken); err == nil {
		t.Fatal("refresh token from a replayed code still works")
	}
}

func TestClientCredentialsAndRevocation(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "backend")
	cc := clientcredentials.Config{ClientID: site.conf.ClientID, ClientSecret: site.conf.ClientSecret, TokenURL: ts.URL + "/oauth2/token", Scopes: []string{"api.read"}}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	got := site.introspect(tok.AccessToken)
	if got["active"] != true || got["client_id"] != "backend" || !strings.Contains(got["scope"].(string), "api.read") {
		t.Fatalf("introspect: %v", got)
	}
	// openid needs a citizen.
	bad := clientcredentials.Config{ClientID: site.conf.ClientID, ClientSecret: site.conf.ClientSecret, TokenURL: ts.URL + "/oauth2/token", Scopes: []string{"openid"}}
	if _, err := bad.Token(context.Background()); err == nil {
		t.Fatal("client_credentials with openid was granted")
	}
	// Wrong secret.
	wrong := clientcredentials.Config{ClientID: site.conf.ClientID, ClientSecret: "wrong-secret-wrong-secret-wrong-secret", TokenURL: ts.URL + "/oauth2/token"}
	if _, err := wrong.Token(context.Background()); err == nil {
		t.Fatal("wrong client secret was accepted")
	}
	// Revoke (RFC 7009), then introspection says inactive.
	form := url.Values{"token": {tok.AccessToken}}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(site.conf.ClientID, url.QueryEscape(site.conf.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	if got := site.introspect(tok.AccessToken); got["active"] != false {
		t.Fatalf("revoked token still active: %v", got)
	}
}

func TestSSOAcrossClientsAndPrompts(t *testing.T) {
	ts := startServer(t)
	a := newRP(t, ts, "site-a")
	bsite := newRP(t, ts, "site-b")
	_, number := ts.citizen()
	br := ts.browser()

	// prompt=none without a session → login_required, back at the client.
	resp, _ := br.get(a.conf.AuthCodeURL("state-none-000001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	loc, _ := resp.Location()
	if loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none without session: %v %v", resp.StatusCode, loc)
	}

	la := a.login(br, number)
	_, ida := a.exchange(la)

	// Second site, same browser: the first redirect already carries a code
	// (after its one-time consent); no login page.
	lb := bsite.login(br, "", oauth2.SetAuthURLParam("prompt", "consent"))
	_, idb := bsite.exchange(lb)
	if ida.Subject == idb.Subject {
		t.Fatal("two sites with different sectors got the same pairwise subject")
	}
	var ca, cb struct {
		SID string `json:"sid"`
	}
	_ = ida.Claims(&ca)
	_ = idb.Claims(&cb)
	if ca.SID != cb.SID {
		t.Fatal("SSO across clients created a second session")
	}

	// Consent is remembered: a second authorization for site-b goes straight back.
	v := oauth2.GenerateVerifier()
	resp, _ = br.get(bsite.conf.AuthCodeURL("state-again-00001", oauth2.S256ChallengeOption(v), oidc.Nonce("nonce-again-00001")))
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("SSO with remembered consent: status %d, location %v", resp.StatusCode, loc)
	}

	// prompt=none with a session → a code.
	resp, _ = br.get(a.conf.AuthCodeURL("state-none-000002", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with session: %v", loc)
	}

	// max_age=0 forces a fresh login.
	resp, _ = br.get(a.conf.AuthCodeURL("state-maxage-0001", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("max_age", "0")))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("max_age=0 did not ask to log in again (ended at %s)", resp.Request.URL)
	}
	// prompt=login likewise.
	resp, _ = br.get(a.conf.AuthCodeURL("state-plogin-0001", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "login")))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("prompt=login did not ask to log in again (ended at %s)", resp.Request.URL)
	}
}

func TestLogoutEndsSessionEverywhere(t *testing.T) {
	ts := startServer(t)
	var mu sync.Mutex
	var tokens []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		tokens = append(tokens, r.PostForm.Get("logout_token"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	site := newRP(t, ts, "bcl", func(c *oauth.Client) { c.BackchannelLogoutURI = receiver.URL + "/backchannel" })
	other := newRP(t, ts, "other")
	_, number := ts.citizen()
	br := ts.browser()
	tok, idt := site.exchange(site.login(br, number))
	tokOther, _ := other.exchange(other.login(br, ""))
	var c struct {
		SID string `json:"sid"`
	}
	_ = idt.Claims(&c)

	// RP-initiated logout with a valid hint and registered return address.
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"https://bcl.example/bye"}, "state": {"bye-state"}}
	resp, _ := br.get(ts.URL + "/oauth2/logout?" + q.Encode())
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != "bcl.example" || loc.Query().Get("state") != "bye-state" {
		t.Fatalf("logout: status %d location %v", resp.StatusCode, loc)
	}
	ts.srv.provider.Wait()
	mu.Lock()
	got := append([]string(nil), tokens...)
	mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("back-channel logout tokens delivered: %d, want 1", len(got))
	}
	lt, err := site.verifier.Verify(context.Background(), got[0])
	if err == nil {
		// go-oidc's ID-token verifier must not accept a logout token as an ID token? It does not check typ;
		// check the claims we need instead.
		_ = lt
	}
	var lc struct {
		SID    string         `json:"sid"`
		Events map[string]any `json:"events"`
		Nonce  string         `json:"nonce"`
	}
	parts := strings.Split(got[0], ".")
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(body, &lc)
	if h := jwtHeader(t, got[0]); h["typ"] != "logout+jwt" {
		t.Fatalf("logout token typ %v", h["typ"])
	}
	if lc.SID != c.SID || lc.Events["http://schemas.openid.net/event/backchannel-logout"] == nil || lc.Nonce != "" {
		t.Fatalf("logout token claims %+v", lc)
	}
	// Every token of the session is dead, for both sites.
	if _, err := site.refresh(tok.RefreshToken); err == nil {
		t.Fatal("refresh token works after logout")
	}
	if got := other.introspect(tokOther.AccessToken); got["active"] != false {
		t.Fatalf("other site's access token active after logout: %v", got)
	}
	// The browser has no session any more: prompt=none says login_required.
	resp, _ = br.get(site.conf.AuthCodeURL("after-logout-0001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("after logout prompt=none: %v", loc)
	}
	// Logout with an unregistered return address never redirects there.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	resp, _ = br.get(ts.URL + "/oauth2/logout?" + q.Encode())
	if loc, _ := resp.Location(); loc != nil && loc.Host == "evil.example" {
		t.Fatal("redirected to an unregistered post-logout URI")
	}
}

func TestRedirectURIVariantsNeverRedirect(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "exact")
	br := ts.browser()
	for _, variant := range []string{
		"https://exact.example/callback/",
		"https://EXACT.example/callback",
		"https://exact.example/Callback",
		"https://exact.example/callback?x=1",
		"https://user@exact.example/callback",
		"https://exact.example:8443/callback",
		"http://exact.example/callback",
		"https://exact.example.evil.example/callback",
		"https://exact.example/callback#frag",
	} {
		conf := *site.conf
		conf.RedirectURL = variant
		resp, _ := br.get(conf.AuthCodeURL("state-variant-0001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if loc, _ := resp.Location(); loc != nil && loc.Host != strings.TrimPrefix(ts.URL, "http://") {
			t.Errorf("redirect_uri %q: redirected to %s", variant, loc)
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("redirect_uri %q: status %d %s, want a 400 error page", variant, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestPKCE(t *testing.T) {
	ts := startServer(t)
	pub := newRP(t, ts, "mobile", func(c *oauth.Client) { c.Public = true; c.TokenEndpointAuthMethod = "none" })
	_, number := ts.citizen()
	br := ts.browser()

	// Missing challenge for a public client: refused at the authorization endpoint.
	resp, _ := br.get(pub.conf.AuthCodeURL("state-pkce-missing"))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") == "" {
		t.Fatalf("public client without PKCE: %v", loc)
	}
	// plain is refused.
	resp, _ = br.get(pub.conf.AuthCodeURL("state-pkce-plain01", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") == "" {
		t.Fatalf("plain PKCE: %v", loc)
	}
	// Wrong verifier.
	l := pub.login(br, number)
	if _, err := pub.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("wrong code_verifier accepted")
	}
	// The attempt consumed the code: the right verifier no longer redeems it.
	if _, err := pub.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(l.verifier)); err == nil {
		t.Fatal("code redeemed after a wrong code_verifier")
	}
	// Missing verifier (downgrade).
	l = pub.login(br, number)
	if _, err := pub.conf.Exchange(context.Background(), l.code); err == nil {
		t.Fatal("missing code_verifier accepted")
	}
	// Confidential client: verifier sent without a challenge at authorize (downgrade) is refused.
	conf := newRP(t, ts, "confidential")
	state := "state-downgrade-01"
	loc := br.authorize(conf.conf.AuthCodeURL(state, oidc.Nonce("nonce-downgrade-01")), number, testPassword)
	if _, err := conf.conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("code_verifier without a challenge accepted")
	}
	// The right verifier works.
	l = pub.login(br, number)
	if _, err := pub.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(l.verifier)); err != nil {
		t.Fatalf("public client with PKCE: %v", err)
	}
}

func TestParallelRedemptionMintsOneSet(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "race")
	_, number := ts.citizen()
	br := ts.browser()

	l := site.login(br, number)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := site.conf.Exchange(context.Background(), l.code, oauth2.VerifierOption(l.verifier)); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() > 1 {
		t.Fatalf("one code redeemed %d times", wins.Load())
	}

	tok, _ := site.exchange(site.login(br, number))
	wins.Store(0)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := site.refresh(tok.RefreshToken); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("50 parallel refreshes of one token minted %d sets, want exactly 1", wins.Load())
	}
}
