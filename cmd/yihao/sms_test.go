package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/oauth"
)

// smsConsole is the development sender's console: written by the delivery
// goroutine, read by the test.
type smsConsole struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *smsConsole) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *smsConsole) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

var smsCodeRe = regexp.MustCompile(`验证码 (\d{6})`)

// codes returns every code printed so far.
func (c *smsConsole) codes() []string {
	var out []string
	for _, m := range smsCodeRe.FindAllStringSubmatch(c.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

// next waits for the (n+1)th code (delivery runs after the page answered).
func (c *smsConsole) next(t testing.TB, n int) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if codes := c.codes(); len(codes) > n {
			return codes[n]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no SMS code %d on the console:\n%s", n+1, c.String())
	return ""
}

func startSMSServer(t *testing.T) (*testServer, *smsConsole) {
	console := &smsConsole{}
	ts := startServer(t, func(c *Config) { c.smsOut = console })
	return ts, console
}

// finish follows the browser from a response through consent to the
// redirect to the client.
func (b *browser) finish(resp *http.Response, body string) *url.URL {
	b.t.Helper()
	for range 3 {
		if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
			loc, _ := resp.Location()
			return loc
		}
		if resp.Request.URL.Path != "/consent" || resp.StatusCode != http.StatusOK {
			b.t.Fatalf("unexpected %d at %s:\n%.1500s", resp.StatusCode, resp.Request.URL, body)
		}
		resp, body = b.post(b.ts.URL+"/consent", url.Values{
			"csrf_token": {field(b.t, csrfRe, body)}, "flow": {field(b.t, flowRe, body)}, "decision": {"allow"},
		})
	}
	b.t.Fatalf("did not reach the client")
	return nil
}

// startAuth sends the browser to the authorization endpoint and returns the
// page it lands on.
func (r *rp) startAuth(b *browser, extra ...oauth2.AuthCodeOption) (loginResult, *http.Response, string) {
	l := loginResult{state: oauth2.GenerateVerifier()[:24], nonce: oauth2.GenerateVerifier()[:24], verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.verifier), oauth2.SetAuthURLParam("nonce", l.nonce)}, extra...)
	resp, body := b.get(r.conf.AuthCodeURL(l.state, opts...))
	return l, resp, body
}

func (l *loginResult) take(t *testing.T, loc *url.URL) {
	t.Helper()
	if e := loc.Query().Get("error"); e != "" {
		t.Fatalf("authorization error %s: %s", e, loc.Query().Get("error_description"))
	}
	l.redirect, l.code = loc, loc.Query().Get("code")
}

type tokenClaims struct {
	SID string   `json:"sid"`
	ACR string   `json:"acr"`
	AMR []string `json:"amr"`
}

func TestSMSLoginEndToEnd(t *testing.T) {
	ts, console := startSMSServer(t)
	site := newRP(t, ts, "sms-portal")
	_, number := ts.citizen()
	b := ts.browser()

	l, resp, body := site.startAuth(b)
	if resp.Request.URL.Path != "/login" || !contains(body, `href="/login/sms?flow=`) {
		t.Fatalf("login page at %s has no SMS link", resp.Request.URL.Path)
	}
	flow := field(t, flowRe, body)
	_, body = b.get(ts.URL + "/login/sms?flow=" + url.QueryEscape(flow))
	resp, body = b.post(ts.URL+"/login/sms", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "username": {number}})
	if resp.StatusCode != http.StatusOK || !contains(body, "139****9000") || !contains(body, `name="code"`) {
		t.Fatalf("send: %d\n%.1500s", resp.StatusCode, body)
	}
	code := console.next(t, 0)
	if contains(console.String(), "13900139000") {
		t.Error("the console shows the whole phone number")
	}
	resp, body = b.post(ts.URL+"/login/sms/verify", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "username": {number}, "code": {code}})
	l.take(t, b.finish(resp, body))
	_, idt := site.exchange(l)
	var c tokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != oauth.ACRPassword || !slices.Equal(c.AMR, []string{"sms"}) {
		t.Fatalf("id token acr %q amr %v, want acr:1 [sms]", c.ACR, c.AMR)
	}
	// The code was single use.
	resp, _ = b.post(ts.URL+"/login/sms/verify", url.Values{"csrf_token": {field(t, csrfRe, body)}, "username": {number}, "code": {code}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("second use of a code: %d", resp.StatusCode)
	}
}

func TestSMSWrongCodeFiveTimesLocks(t *testing.T) {
	ts, console := startSMSServer(t)
	_, number := ts.citizen()
	b := ts.browser()
	_, body := b.get(ts.URL + "/login/sms")
	csrf := field(t, csrfRe, body)
	if resp, _ := b.post(ts.URL+"/login/sms", url.Values{"csrf_token": {csrf}, "username": {number}}); resp.StatusCode != 200 {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	code := console.next(t, 0)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 5; i++ {
		resp, body := b.post(ts.URL+"/login/sms/verify", url.Values{"csrf_token": {csrf}, "username": {number}, "code": {wrong}})
		if resp.StatusCode != http.StatusBadRequest || (i < 5 && !contains(body, "还可以尝试")) {
			t.Fatalf("wrong try %d: %d\n%.1500s", i, resp.StatusCode, body)
		}
	}
	resp, body := b.post(ts.URL+"/login/sms/verify", url.Values{"csrf_token": {csrf}, "username": {number}, "code": {code}})
	if resp.StatusCode != http.StatusTooManyRequests || !contains(body, "错误次数过多") || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right code after 5 wrong: %d\n%.1500s", resp.StatusCode, body)
	}
	if contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), "yihao-session") {
		t.Fatal("a session was started")
	}
}

// An unknown number gets the same page as a registered one — a masked
// mobile, the same form — and no message is sent.
func TestSMSNoEnumeration(t *testing.T) {
	ts, console := startSMSServer(t)
	_, number := ts.citizen()
	unknown := validNumber("110105", "19800101", 999)
	page := func(n string) string {
		b := ts.browser()
		_, body := b.get(ts.URL + "/login/sms")
		resp, body := b.post(ts.URL+"/login/sms", url.Values{"csrf_token": {field(t, csrfRe, body)}, "username": {n}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("send for a number: %d", resp.StatusCode)
		}
		body = csrfRe.ReplaceAllString(body, "CSRF")
		body = strings.ReplaceAll(body, n, "NUMBER")
		return regexp.MustCompile(`1[3-9]\d\*{4}\d{4}`).ReplaceAllString(body, "PHONE")
	}
	known, other := page(number), page(unknown)
	if !contains(known, "PHONE") {
		t.Fatalf("known number: no masked phone:\n%.1500s", known)
	}
	if known != other {
		t.Fatalf("pages differ:\n--- registered\n%.3000s\n--- unknown\n%.3000s", known, other)
	}
	console.next(t, 0)
	time.Sleep(100 * time.Millisecond)
	if n := len(console.codes()); n != 1 {
		t.Fatalf("%d messages sent, want 1 (the registered number only)", n)
	}
}

// acr_values=urn:yihao:acr:2 on a password session asks only for the SMS
// code, keeps the session (same sid) and yields acr 2 with amr [pwd sms].
func TestStepUpEndToEnd(t *testing.T) {
	ts, console := startSMSServer(t)
	site := newRP(t, ts, "stepup-site")
	_, number := ts.citizen()
	b := ts.browser()

	_, idt := site.exchange(site.login(b, number))
	var first tokenClaims
	if err := idt.Claims(&first); err != nil {
		t.Fatal(err)
	}
	if first.ACR != oauth.ACRPassword || !slices.Equal(first.AMR, []string{"pwd"}) {
		t.Fatalf("password login: acr %q amr %v", first.ACR, first.AMR)
	}

	// prompt=none cannot step up.
	_, resp, _ := site.startAuth(b, oauth2.SetAuthURLParam("acr_values", oauth.ACRMulti), oauth2.SetAuthURLParam("prompt", "none"))
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none below the acr: %d %v", resp.StatusCode, loc)
	}

	l, resp, body := site.startAuth(b, oauth2.SetAuthURLParam("acr_values", oauth.ACRMulti+" "+oauth.ACRInPerson))
	if resp.Request.URL.Path != oauth.StepUpPath {
		t.Fatalf("landed on %s, want the step-up page (not a new login)\n%.1500s", resp.Request.URL.Path, body)
	}
	if !contains(body, "139****9000") || contains(body, `name="password"`) {
		t.Fatalf("step-up page:\n%.1500s", body)
	}
	flow := resp.Request.URL.Query().Get("flow")
	resp, body = b.post(ts.URL+"/login/stepup/send", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}})
	if resp.StatusCode != http.StatusOK || !contains(body, `action="/login/stepup/verify"`) {
		t.Fatalf("send: %d\n%.1500s", resp.StatusCode, body)
	}
	code := console.next(t, 0)
	resp, body = b.post(ts.URL+"/login/stepup/verify", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {flow}, "code": {code}})
	l.take(t, b.finish(resp, body))
	_, idt = site.exchange(l)
	var c tokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.ACR != oauth.ACRMulti || !slices.Contains(c.AMR, "pwd") || !slices.Contains(c.AMR, "sms") {
		t.Fatalf("after step-up: acr %q amr %v, want acr:2 with pwd and sms", c.ACR, c.AMR)
	}
	if c.SID != first.SID {
		t.Fatalf("step-up changed the sid: %s -> %s", first.SID, c.SID)
	}

	// acr:3 needs a passkey: the citizen is asked to sign in again (where the
	// passkey button is); a password login in that flow still falls short, and
	// the site is told access_denied, never given a lower acr.
	_, resp, body = site.startAuth(b, oauth2.SetAuthURLParam("acr_values", oauth.ACRInPerson))
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("acr:3 on an acr:2 session landed on %s, want a fresh login", resp.Request.URL.Path)
	}
	resp, _ = b.post(ts.URL+"/login", url.Values{"csrf_token": {field(t, csrfRe, body)}, "flow": {field(t, flowRe, body)}, "username": {number}, "password": {testPassword}})
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "access_denied" {
		t.Fatalf("acr:3 after a password login: %d %v", resp.StatusCode, loc)
	}
}

func TestSMSOffWithoutASender(t *testing.T) {
	a := &app{cfg: defaultConfig(), log: slog.New(slog.DiscardHandler)}
	codes, dev, err := a.smsCodes()
	if codes != nil || dev != nil || err != nil {
		t.Fatalf("smsCodes without a sender = %v, %v, %v; want SMS off", codes, dev, err)
	}
}

func TestDevSMSPageListsCodes(t *testing.T) {
	ts, console := startSMSServer(t)
	_, number := ts.citizen()
	b := ts.browser()
	_, body := b.get(ts.URL + "/login/sms")
	b.post(ts.URL+"/login/sms", url.Values{"csrf_token": {field(t, csrfRe, body)}, "username": {number}})
	code := console.next(t, 0)
	if _, body := b.get(ts.URL + "/dev/sms"); !contains(body, code) || !contains(body, "139****9000") {
		t.Fatalf("/dev/sms:\n%s", body)
	}
}

func TestSMSConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name, url, secret, want string
	}{
		{"secret without url", "", strings.Repeat("s", 32), "YIHAO_SMS_WEBHOOK_SECRET"},
		{"url without secret", "https://sms.example.gov.cn/send", "", "YIHAO_SMS_WEBHOOK_SECRET"},
		{"http url", "http://sms.example.gov.cn/send", strings.Repeat("s", 32), "YIHAO_SMS_WEBHOOK_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			c.Dev, c.SMSWebhookURL, c.SMSWebhookSecret = true, tc.url, tc.secret
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %s", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Fatal("the error repeats the secret")
			}
		})
	}
	c := defaultConfig()
	c.Dev, c.SMSWebhookURL, c.SMSWebhookSecret = true, "https://sms.example.gov.cn/send", strings.Repeat("s", 32)
	if err := c.Validate(); err != nil {
		t.Fatalf("a good webhook: %v", err)
	}
}
