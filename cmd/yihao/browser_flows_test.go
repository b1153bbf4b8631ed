package main

// Browser tests of the flows beyond the password: SMS login through the
// development sender, step-up to acr 2 when a site asks, the device-flow
// verification page, and password recovery. Each drives a real headless
// Chromium (helpers in browser_test.go), is bounded by browserTimeout and
// stops its browser itself. Codes are read from the development sender's
// console, as a developer reads them from `serve --dev`.

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/oauth"
)

// authorizeURLWith is authorizeURL with more parameters (acr_values, …).
func (r *rp) authorizeURLWith(extra ...oauth2.AuthCodeOption) (string, loginResult) {
	l := loginResult{state: oauth2.GenerateVerifier()[:24], nonce: oauth2.GenerateVerifier()[:24], verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce)}, extra...)
	return r.conf.AuthCodeURL(l.state, opts...), l
}

// toClient consents when asked and returns the code at the client.
func (p *page) toClient(r *rp, l loginResult) loginResult {
	p.t.Helper()
	if strings.Contains(p.waitPath("/consent", "/callback"), "/consent") {
		p.consent()
	}
	return r.finish(l, p.callback())
}

func claimsOf(t *testing.T, r *rp, l loginResult) tokenClaims {
	t.Helper()
	_, idt := r.exchange(l)
	var c tokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBrowserSMSLogin(t *testing.T) {
	ts, console := startSMSServer(t)
	r := newRP(t, ts, "web-sms")
	_, number := ts.citizen()
	p := newPage(t)

	authURL, l := r.authorizeURL()
	p.do(chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("sms-login")),
		chromedp.Click(chromedp.ID("sms-login")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login/sms"] #username`)),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.Click(chromedp.CSS(`form[action="/login/sms"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	p.do(chromedp.SendKeys(chromedp.ID("code"), console.next(t, 0)),
		chromedp.Click(chromedp.CSS(`form[action="/login/sms/verify"] button[type="submit"]`)))
	c := claimsOf(t, r, p.toClient(r, l))
	if c.ACR != oauth.ACRPassword || !slices.Equal(c.AMR, []string{"sms"}) {
		t.Errorf("acr, amr = %s, %v; want %s, [sms]", c.ACR, c.AMR, oauth.ACRPassword)
	}
	p.checkClean()
}

func TestBrowserStepUp(t *testing.T) {
	ts, console := startSMSServer(t)
	r := newRP(t, ts, "web-stepup")
	_, number := ts.citizen()
	p := newPage(t)

	// A password session first.
	authURL, l := r.authorizeURL()
	p.do(chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
	first := claimsOf(t, r, p.toClient(r, l))

	// The site asks for acr 2: only the SMS code is asked for.
	authURL, l = r.authorizeURLWith(oauth2.SetAuthURLParam("acr_values", oauth.ACRMulti))
	p.do(chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login/stepup/send"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/login/stepup/send"] button`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	p.do(chromedp.SendKeys(chromedp.ID("code"), console.next(t, 0)),
		chromedp.Click(chromedp.CSS(`form[action="/login/stepup/verify"] button[type="submit"]`)))
	second := claimsOf(t, r, p.toClient(r, l))
	if second.ACR != oauth.ACRMulti || !slices.Equal(second.AMR, []string{"pwd", "sms"}) || second.SID != first.SID {
		t.Errorf("after step-up: %+v; want acr %s, amr [pwd sms], sid %s kept", second, oauth.ACRMulti, first.SID)
	}
	p.checkClean()
}

func TestBrowserDeviceVerification(t *testing.T) {
	ts := startServer(t)
	kiosk := newRP(t, ts, "kiosk-b", func(c *oauth.Client) {
		c.Public = true
		c.TokenEndpointAuthMethod = "none"
		c.GrantTypes = []string{oauth.DeviceGrantType, "refresh_token"}
	})
	kiosk.conf.Endpoint.DeviceAuthURL = ts.URL + "/oauth2/device_authorization"
	_, number := ts.citizen()
	da, err := kiosk.conf.DeviceAuth(context.Background(), oauth2.SetAuthURLParam("scope", "openid profile"))
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	p := newPage(t)

	// The citizen types the address the kiosk shows, signs in, then the code.
	p.do(chromedp.Navigate(da.VerificationURI),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("user_code")),
		chromedp.SendKeys(chromedp.ID("user_code"), strings.ToLower(da.UserCode)),
		chromedp.Click(chromedp.CSS(`form[action="/device"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/device/decide"] button[value="allow"]`)),
	)
	asking, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(".asking")))
	if err != nil || !strings.Contains(asking, "Site kiosk-b") {
		t.Errorf("confirm page asks %q, want the kiosk's name", asking)
	}
	p.do(chromedp.Click(chromedp.CSS(`form[action="/device/decide"] button[value="allow"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/device/decide"]`)))
	if status, out := devicePoll(t, ts, "kiosk-b", da.DeviceCode); status != http.StatusOK || out["access_token"] == nil {
		t.Fatalf("poll after approval: %d %v", status, out)
	}
	p.checkClean()
}

func TestBrowserPasswordRecovery(t *testing.T) {
	ts, console := startSMSServer(t)
	r := newRP(t, ts, "web-recover")
	_, number := ts.citizen()
	p := newPage(t)

	authURL, l := r.authorizeURL()
	p.do(chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("recover-link")),
		chromedp.Click(chromedp.ID("recover-link")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login/recover"] #username`)),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.Click(chromedp.CSS(`form[action="/login/recover"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	p.do(chromedp.SendKeys(chromedp.ID("code"), console.next(t, 0)),
		chromedp.SendKeys(chromedp.ID("password"), newPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login/recover/reset"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("recover-done")),
		// Back to the same flow's sign-in, with the new password.
		chromedp.Click(chromedp.CSS(`a.button.primary`)),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), number),
		chromedp.SendKeys(chromedp.ID("password"), newPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
	c := claimsOf(t, r, p.toClient(r, l))
	if !slices.Equal(c.AMR, []string{"pwd"}) {
		t.Errorf("amr = %v, want [pwd]", c.AMR)
	}
	p.checkClean()
}
