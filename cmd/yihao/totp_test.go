package main

import (
	"encoding/base32"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

var (
	totpSecretRe    = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
	totpEnrolmentRe = regexp.MustCompile(`name="enrolment" value="([^"]+)"`)
)

// enrolTOTP sets up the authenticator app through /account/totp and
// returns its secret. The confirming code is the one of the current step.
func (b *browser) enrolTOTP(t *testing.T, number string) identity.TOTPSecret {
	t.Helper()
	_, body := b.signInTo("/account/totp", number)
	if !contains(body, `action="/account/totp/begin"`) {
		t.Fatalf("totp page:\n%.2000s", body)
	}
	resp, body := b.post(b.ts.URL+"/account/totp/begin", url.Values{"csrf_token": {field(t, csrfRe, body)}})
	if resp.Request.URL.Path != "/account/totp" || !contains(body, "otpauth://totp/") {
		t.Fatalf("begin: %s\n%.2000s", resp.Request.URL, body)
	}
	if contains(body, number) {
		t.Fatal("the otpauth URI holds the whole number")
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(field(t, totpSecretRe, body), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	secret := identity.TOTPSecretFromBytes(key)
	resp, body = b.post(b.ts.URL+"/account/totp/confirm", url.Values{"csrf_token": {field(t, csrfRe, body)},
		"enrolment": {field(t, totpEnrolmentRe, body)}, "code": {secret.TOTPCode(time.Now())}})
	if resp.Request.URL.Query().Get("done") != "enrolled" || !contains(body, `id="totp-enrolled"`) || contains(body, `id="totp-secret"`) {
		t.Fatalf("confirm: %s (%d)\n%.2000s", resp.Request.URL, resp.StatusCode, body)
	}
	return secret
}

// A citizen enrols an authenticator app; a password session asked for
// acr 2 steps up with its code instead of SMS (amr [pwd otp], same sid); a
// code already used is refused.
func TestTOTPEnrolAndStepUp(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "totp-site")
	_, number := ts.citizen()
	b := ts.browser()
	secret := b.enrolTOTP(t, number)

	_, idt := site.exchange(site.login(b, ""))
	var first tokenClaims
	_ = idt.Claims(&first)

	l, resp, body := site.startAuth(b, oauth2.SetAuthURLParam("acr_values", oauth.ACRMulti))
	if resp.Request.URL.Path != oauth.StepUpPath || !contains(body, `action="/login/stepup/totp"`) {
		t.Fatalf("step-up page at %s:\n%.2000s", resp.Request.URL.Path, body)
	}
	flow := resp.Request.URL.Query().Get("flow")
	// The code that confirmed the enrolment is spent: refused, with a word.
	resp, body = b.post(ts.URL+"/login/stepup/totp", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "totp": {secret.TOTPCode(time.Now())}})
	if resp.StatusCode != http.StatusBadRequest || !contains(body, "已经使用过") {
		t.Fatalf("replayed code: %d\n%.2000s", resp.StatusCode, body)
	}
	// The next step's code (within the accepted drift) is new.
	next := secret.TOTPCode(time.Now().Add(identity.TOTPPeriod))
	resp, body = b.post(ts.URL+"/login/stepup/totp", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "totp": {next}})
	l.take(t, b.finish(resp, body))
	_, idt = site.exchange(l)
	var c tokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != oauth.ACRMulti || !slices.Equal(c.AMR, []string{"pwd", "otp"}) || c.SID != first.SID {
		t.Fatalf("after the step-up: acr %q amr %v sid %s (was %s)", c.ACR, c.AMR, c.SID, first.SID)
	}
}

// Five wrong codes lock the authenticator for 15 minutes, even for the
// right one.
func TestTOTPWrongCodesLock(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "totp-lock")
	_, number := ts.citizen()
	b := ts.browser()
	secret := b.enrolTOTP(t, number)
	site.login(b, "")
	_, resp, body := site.startAuth(b, oauth2.SetAuthURLParam("acr_values", oauth.ACRMulti))
	flow := resp.Request.URL.Query().Get("flow")
	right := secret.TOTPCode(time.Now().Add(identity.TOTPPeriod))
	wrongCode := "000000"
	if right == wrongCode {
		wrongCode = "111111"
	}
	for i := 1; i <= 5; i++ {
		resp, body = b.post(ts.URL+"/login/stepup/totp", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "totp": {wrongCode}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i, resp.StatusCode)
		}
	}
	resp, body = b.post(ts.URL+"/login/stepup/totp", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "totp": {right}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right code after 5 wrong: %d\n%.1500s", resp.StatusCode, body)
	}
}

// A site registered with a minimum acr of 2 sends a password login to the
// step-up page without asking for acr_values.
func TestClientMinACRTriggersStepUp(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "min-acr-site", func(c *oauth.Client) { c.MinACR = oauth.ACRMulti })
	_, number := ts.citizen()
	b := ts.browser()
	_, resp, body := site.startAuth(b)
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("landed on %s, want /login", resp.Request.URL.Path)
	}
	resp, body = b.post(ts.URL+"/login", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {field(t, flowRe, body)},
		"username": {number}, "password": {testPassword}})
	if resp.Request.URL.Path != oauth.StepUpPath || !contains(body, "139****9000") {
		t.Fatalf("after a password login: %s\n%.1500s", resp.Request.URL, body)
	}
}

// The authenticator page needs a fresh login to show a secret or change
// anything.
func TestTOTPNeedsAFreshLogin(t *testing.T) {
	ts := startServer(t)
	c, number := ts.citizen()
	b := ts.browser()
	b.signInTo("/account/totp", number)
	ageSessions(t, ts, c.ID, time.Hour)
	_, body := b.get(ts.URL + "/account/totp")
	if !contains(body, `id="totp-reauth"`) || contains(body, `action="/account/totp/begin"`) {
		t.Fatalf("stale session:\n%.2000s", body)
	}
	_, withForm := b.get(ts.URL + "/login")
	resp, _ := b.post(ts.URL+"/account/totp/begin", url.Values{"csrf_token": {field(t, csrfRe, withForm)}})
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("return") != "/account/totp" {
		t.Fatalf("stale begin ended at %s", resp.Request.URL)
	}
}

// yihao client create --min-acr registers the minimum; an unknown value is
// refused with the flag's name.
func TestClientCreateMinACR(t *testing.T) {
	ts := startServer(t)
	create := func(id, acr string) error {
		var out, errOut strings.Builder
		args := append([]string{"client", "create", "--id", id, "--name", "站点", "--redirect-uri", "https://" + id + ".example/cb",
			"--min-acr", acr}, auditFlags(ts)...)
		return run(t.Context(), args, nil, &out, &errOut)
	}
	if err := create("cli-min-acr", oauth.ACRMulti); err != nil {
		t.Fatalf("client create: %v", err)
	}
	c, err := ts.app.sql.Client(t.Context(), "cli-min-acr")
	if err != nil || c.MinACR != oauth.ACRMulti {
		t.Fatalf("stored client: %+v, %v", c, err)
	}
	if err := create("cli-bad-acr", "urn:yihao:acr:9"); err == nil || !strings.Contains(err.Error(), "--min-acr") {
		t.Fatalf("a bad --min-acr: %v", err)
	}
}
