package main

// Browser tests: the real server driven by a real headless Chromium through
// chromedp. They skip when Chromium is not installed, unless
// YIHAO_TEST_REQUIRE lists "chromium" (as .ci/run does), and then they fail.
// Every test is bounded by browserTimeout and stops its browser itself.

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/coreos/go-oidc/v3/oidc"
)

const browserTimeout = 45 * time.Second

// chromiumPath returns the browser to drive, or skips (fails when required).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("YIHAO_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	for _, req := range strings.Split(os.Getenv("YIHAO_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(req) == "chromium" {
			t.Fatal("chromium is required (YIHAO_TEST_REQUIRE) but /usr/bin/chromium is not installed")
		}
	}
	t.Skip("chromium is not installed: skipping the browser tests")
	return ""
}

// page is one browser tab with what it saw: console errors, uncaught
// exceptions, browser log errors (CSP violations among them) and the
// navigations to client redirect URIs, which are answered by the test and
// never reach the network.
type page struct {
	t   *testing.T
	ctx context.Context

	mu        sync.Mutex
	problems  []string
	callbacks chan *url.URL
}

// newPage starts a fresh Chromium (own profile directory) for the test.
func newPage(t *testing.T) *page {
	t.Helper()
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	p := &page{t: t, ctx: bctx, callbacks: make(chan *url.URL, 4)}

	paused := make(chan fetch.RequestID, 8)
	err := chromedp.Listen(bctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				p.problem("console.%s: %s", e.Type, remoteArgs(e.Args))
			}
		case *runtime.EventExceptionThrown:
			p.problem("exception: %s", exceptionText(e.ExceptionDetails))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || strings.Contains(e.Entry.Text, "Content Security Policy") {
				p.problem("log %s/%s: %s (%s)", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL)
			}
		case *fetch.EventRequestPaused:
			if u, err := url.Parse(e.Request.URL); err == nil && e.ResourceType == network.ResourceTypeDocument {
				select {
				case p.callbacks <- u:
				default:
				}
			}
			paused <- e.RequestID
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Answer the client's redirect URIs (*.example) with a small page, so
	// the final navigation succeeds without any DNS lookup or network.
	go func() {
		for {
			select {
			case <-bctx.Done():
				return
			case id := <-paused:
				_, _ = chromedp.Call(bctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID: id, ResponseCode: 200,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/plain"}},
					Body:            []byte("client callback"),
				})
			}
		}
	}()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
			{URLPattern: "https://*.example/*", RequestStage: fetch.RequestStageRequest},
		}})
		return err
	}))
	return p
}

func (p *page) problem(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// checkClean fails the test for any console error, exception or CSP violation.
func (p *page) checkClean() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		p.t.Errorf("browser: %s", pr)
	}
}

func remoteArgs(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return ""
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// do runs actions, failing the test with the page's URL on error.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("browser at %s: %v (problems so far: %q)", loc, err, p.problems)
	}
}

// location is the tab's current URL.
func (p *page) location() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return loc
}

// callback waits for the navigation to the client's redirect URI.
func (p *page) callback() *url.URL {
	p.t.Helper()
	select {
	case u := <-p.callbacks:
		return u
	case <-p.ctx.Done():
		loc, _ := chromedp.Run(context.Background(), chromedp.Location())
		p.t.Fatalf("no redirect to the client (at %s): %v; problems %q", loc, p.ctx.Err(), p.problems)
		return nil
	}
}

// consentIfAsked clicks Allow when the consent page is showing; the flow
// then ends at the client.
func (p *page) consent() {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(`button[name="decision"][value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[name="decision"][value="allow"]`)))
}

// authorizeURL starts an authorization request for r (PKCE, state, nonce).
func (r *rp) authorizeURL() (string, loginResult) {
	l := loginResult{state: oauth2.GenerateVerifier()[:24], nonce: oauth2.GenerateVerifier()[:24], verifier: oauth2.GenerateVerifier()}
	return r.conf.AuthCodeURL(l.state, oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce)), l
}

// finish checks the redirect and fills the code in.
func (r *rp) finish(l loginResult, u *url.URL) loginResult {
	r.t.Helper()
	q := u.Query()
	if got := u.Scheme + "://" + u.Host + u.Path; got != r.client.RedirectURIs[0] {
		r.t.Fatalf("redirected to %s, want %s", got, r.client.RedirectURIs[0])
	}
	if e := q.Get("error"); e != "" {
		r.t.Fatalf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != l.state || q.Get("iss") != r.ts.URL || q.Get("code") == "" {
		r.t.Fatalf("callback %s: want state %s, iss %s and a code", u, l.state, r.ts.URL)
	}
	l.code, l.redirect = q.Get("code"), u
	return l
}

func TestBrowserPasswordLoginAndConsent(t *testing.T) {
	ts := startServer(t)
	r := newRP(t, ts, "web-a")
	_, number := ts.citizen()
	p := newPage(t)

	authURL, l := r.authorizeURL()
	p.do(chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
	p.consent()
	l = r.finish(l, p.callback())
	_, idt := r.exchange(l)
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.ACR != "urn:yihao:acr:1" || !slices.Equal(claims.AMR, []string{"pwd"}) {
		t.Errorf("acr, amr = %s, %v; want urn:yihao:acr:1, [pwd]", claims.ACR, claims.AMR)
	}
	p.checkClean()
}

func TestBrowserLoginPageHasNoErrors(t *testing.T) {
	ts := startServer(t, localhostIssuer)
	r := newRP(t, ts, "web-c")
	p := newPage(t)
	authURL, _ := r.authorizeURL()
	for _, lang := range []string{"zh-CN", "en"} {
		p.do(chromedp.Navigate(authURL+"&ui_locales="+lang),
			chromedp.WaitVisible(chromedp.ID("username")),
			// passkey.js ran (script-src 'self') and found WebAuthn.
			chromedp.WaitVisible(chromedp.ID("passkey-login-button")),
		)
	}
	p.do(chromedp.Navigate(ts.URL+"/register"), chromedp.WaitVisible(chromedp.ID("password")))
	p.checkClean()
}

// localhostIssuer serves on 127.0.0.1 but names the issuer
// http://localhost:PORT: WebAuthn refuses IP addresses as relying-party
// ids, and Chromium treats localhost as a secure context.
func localhostIssuer(c *Config) {
	c.Issuer = strings.Replace(c.Issuer, "://127.0.0.1:", "://localhost:", 1)
}

func TestBrowserPasskeyEnrolAndLogin(t *testing.T) {
	ts := startServer(t, localhostIssuer)
	r := newRP(t, ts, "web-b")
	c, number := ts.citizen()
	p := newPage(t)

	var authID webauthn.AuthenticatorID
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport:      webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
				AutomaticPresenceSimulation: true,
			},
		})
		authID = res.AuthenticatorID
		return err
	}))

	// Sign in with the password, without a flow, then enrol from the account page.
	p.do(chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/oauth2/logout"]`)),
		chromedp.Navigate(ts.URL+"/account/passkeys"),
		chromedp.WaitVisible(chromedp.ID("passkey-add")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "测试钥匙"),
		chromedp.Click(chromedp.ID("passkey-add")),
		chromedp.WaitVisible(chromedp.ID("passkey-notice")),
	)
	keys, err := ts.app.sql.Passkeys(context.Background(), c.ID)
	if err != nil || len(keys) != 1 || keys[0].Name != "测试钥匙" {
		t.Fatalf("stored passkeys = %+v, %v; want one named 测试钥匙", keys, err)
	}
	handle, err := ts.app.sql.UserHandle(context.Background(), c.ID)
	if err != nil || len(handle) != 32 || bytes.Contains(handle, []byte(number)) {
		t.Fatalf("user handle = %x, %v: want 32 random bytes", handle, err)
	}
	creds, err := chromedp.Call(p.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authID})
	if err != nil || len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential ||
		!bytes.Equal(creds.Credentials[0].UserHandle, handle) || strings.Contains(creds.Credentials[0].UserName, number) {
		t.Fatalf("authenticator credentials = %+v, %v: want one discoverable credential with the random handle and no ID number", creds, err)
	}

	signInWithPasskey := func(typeNumber bool) loginResult {
		t.Helper()
		if _, err := chromedp.Call(p.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		authURL, l := r.authorizeURL()
		steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("passkey-login-button"))}
		if typeNumber {
			steps = append(steps, chromedp.SendKeys(chromedp.ID("username"), number))
		}
		p.do(append(steps, chromedp.Click(chromedp.ID("passkey-login-button")))...)
		if !strings.Contains(p.waitPath("/consent", "/callback"), "/consent") {
			return r.finish(l, p.callback())
		}
		p.consent()
		return r.finish(l, p.callback())
	}

	for _, tc := range []struct {
		name       string
		typeNumber bool
	}{{"discoverable, no ID number typed", false}, {"ID number first", true}} {
		l := signInWithPasskey(tc.typeNumber)
		_, idt := r.exchange(l)
		var claims struct {
			ACR string   `json:"acr"`
			AMR []string `json:"amr"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.ACR != "urn:yihao:acr:3" || !slices.Equal(claims.AMR, []string{"hwk"}) {
			t.Errorf("%s: acr, amr = %s, %v; want urn:yihao:acr:3, [hwk]", tc.name, claims.ACR, claims.AMR)
		}
	}
	after, err := ts.app.sql.Passkey(context.Background(), keys[0].ID)
	if err != nil || after.SignCount == 0 || after.LastUsedAt.IsZero() {
		t.Errorf("after two logins: %+v, %v; want a counter above 0 and a last use", after, err)
	}

	// A counter that goes backwards (the stored one is ahead, as after a
	// clone's use) is refused: no session, the login page says so.
	if err := ts.app.sql.UpdatePasskeyUse(context.Background(), keys[0].ID, 1<<31, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(p.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	authURL, _ := r.authorizeURL()
	p.do(chromedp.Navigate(authURL+"&ui_locales=en"), chromedp.WaitVisible(chromedp.ID("passkey-login-button")),
		chromedp.Click(chromedp.ID("passkey-login-button")))
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](`document.getElementById("passkey-status").textContent.includes("could not sign you in")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no refusal shown after a counter regression: %v", err)
	}
	if u, err := url.Parse(p.location()); err != nil || u.Path != "/login" {
		t.Fatalf("after a counter regression the browser is at %s, want /login", p.location())
	}
	p.mu.Lock()
	p.problems = slices.DeleteFunc(p.problems, func(s string) bool { return strings.Contains(s, "/login/passkey/finish") }) // the expected 400
	p.mu.Unlock()
	p.checkClean()
}

// waitPath waits until the tab's URL path ends with one of the suffixes or
// the client callback has been reached (its path is /callback), and
// returns the URL.
func (p *page) waitPath(suffixes ...string) string {
	p.t.Helper()
	for {
		select {
		case u := <-p.callbacks:
			// Put it back for callback().
			p.callbacks <- u
			return u.String()
		case <-p.ctx.Done():
			p.t.Fatalf("waiting for %v: %v; problems %q", suffixes, p.ctx.Err(), p.problems)
		case <-time.After(100 * time.Millisecond):
		}
		loc := p.location()
		if u, err := url.Parse(loc); err == nil {
			for _, s := range suffixes {
				if strings.HasSuffix(u.Path, s) {
					return loc
				}
			}
		}
	}
}
