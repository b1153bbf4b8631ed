package login

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// fakeSMS accepts code 123456 for the binding it last sent to; err, when
// set, is the answer to every call.
type fakeSMS struct {
	bindings []string // of each send
	sendErr  error
	checkErr error
}

const goodCode = "123456"

func (f *fakeSMS) SendLogin(_ context.Context, number, binding, _ string) (*identity.OTPSent, error) {
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	if _, err := identity.ParseAny(number); err != nil {
		return nil, err
	}
	f.bindings = append(f.bindings, "login:"+binding)
	return &identity.OTPSent{MaskedPhone: "139****9000", TTL: 5 * time.Minute, Cooldown: time.Minute}, nil
}

func (f *fakeSMS) check(binding, code string) error {
	if f.checkErr != nil {
		return f.checkErr
	}
	code, err := identity.ParseOTPCode(code)
	if err != nil {
		return err
	}
	if len(f.bindings) == 0 || f.bindings[len(f.bindings)-1] != binding {
		return identity.ErrNotFound
	}
	if code != goodCode {
		return &identity.OTPRefusal{Reason: identity.ErrOTPMismatch, Left: 4}
	}
	f.bindings = nil
	return nil
}

func (f *fakeSMS) VerifyLogin(_ context.Context, number, binding, code string) (*identity.Citizen, error) {
	if _, err := identity.ParseAny(number); err != nil {
		return nil, err
	}
	if err := f.check("login:"+binding, code); err != nil {
		return nil, err
	}
	return &identity.Citizen{ID: "cit-1", Phone: "+8613900139000", Status: identity.StatusActive}, nil
}

func (f *fakeSMS) SendStepUp(_ context.Context, c *identity.Citizen, binding, _ string) (*identity.OTPSent, error) {
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	if c.Phone == "" {
		return nil, identity.ErrNoPhone
	}
	f.bindings = append(f.bindings, "stepup:"+binding)
	return &identity.OTPSent{MaskedPhone: identity.MaskPhone(c.Phone), TTL: 5 * time.Minute, Cooldown: time.Minute}, nil
}

func (f *fakeSMS) VerifyStepUp(_ context.Context, c *identity.Citizen, binding, code string) error {
	return f.check("stepup:"+binding, code)
}

// upgradingSessions adds identity.SessionUpgrader to memSessions.
type upgradingSessions struct{ *memSessions }

func (s upgradingSessions) UpgradeSession(_ context.Context, id, acr string, amr []string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[id]
	if !ok {
		return identity.ErrNotFound
	}
	x.ACR, x.AMR, x.AuthTime = acr, slices.Clone(amr), at
	return nil
}

type phoneCitizens struct{ phone string }

func (p phoneCitizens) Citizen(_ context.Context, id string) (*identity.Citizen, error) {
	return &identity.Citizen{ID: id, Name: "张小明", Phone: p.phone, Status: identity.StatusActive}, nil
}

type smsEnv struct {
	*env
	sms      *fakeSMS
	sessions *web.Sessions
}

func newSMSEnv(t *testing.T, phone string) *smsEnv {
	t.Helper()
	ui, err := web.New(web.Config{CSRFKey: bytes.Repeat([]byte{7}, 32), Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &smsEnv{env: &env{mux: http.NewServeMux(), auth: &fakeAuth{}, store: &memSessions{},
		flows: &fakeFlows{flows: map[string]*oauth.Flow{
			"f1": {ID: "f1", ClientName: "国家税务总局", Query: url.Values{"redirect_uri": {"https://rp.example/cb"}}.Encode()},
			"up": {ID: "up", ClientName: "国家税务总局", RequiredACR: oauth.ACRMulti},
		}}}, sms: &fakeSMS{}}
	e.sessions = &web.Sessions{Store: e.store, Secure: true, Now: time.Now}
	h, err := New(Config{UI: ui, Flows: e.flows, Authenticator: e.auth, Citizens: phoneCitizens{phone},
		Sessions: e.sessions, SMS: e.sms, Upgrader: upgradingSessions{e.store}})
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(e.mux)
	return e
}

const smsNumber = "11010519491231002X"

func TestSMSLinkOnlyWhenSMSIsOffered(t *testing.T) {
	if body := newEnv(t).browser(t).get("/login?flow=f1").Body.String(); strings.Contains(body, "/login/sms") {
		t.Error("login page offers SMS without a sender")
	}
	e := newSMSEnv(t, "+8613900139000")
	if body := e.browser(t).get("/login?flow=f1").Body.String(); !strings.Contains(body, `href="/login/sms?flow=f1"`) {
		t.Error("login page lacks the SMS link")
	}
}

func TestSMSLoginThroughTheFlow(t *testing.T) {
	e := newSMSEnv(t, "+8613900139000")
	b := e.browser(t)
	w := b.get("/login/sms?flow=f1")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `action="/login/sms"`) {
		t.Fatalf("GET /login/sms: %d", w.Code)
	}
	w = b.post("/login/sms", url.Values{"flow": {"f1"}, "username": {smsNumber}})
	body := w.Body.String()
	for _, want := range []string{"139****9000", `name="code"`, `autocomplete="one-time-code"`, `name="username" value="` + smsNumber + `"`, `name="flow" value="f1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("code page lacks %s", want)
		}
	}
	if w.Code != 200 || len(e.sms.bindings) != 1 || e.sms.bindings[0] != "login:f1" {
		t.Fatalf("send: status %d, bindings %v", w.Code, e.sms.bindings)
	}
	w = b.post("/login/sms/verify", url.Values{"flow": {"f1"}, "username": {smsNumber}, "code": {"654321"}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "还可以尝试 4 次") || sessionCookie(w) != nil {
		t.Fatalf("wrong code: %d\n%s", w.Code, w.Body.String())
	}
	w = b.post("/login/sms/verify", url.Values{"flow": {"f1"}, "username": {smsNumber}, "code": {" 123 456 "}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/oauth2/auth?flow=f1" || sessionCookie(w) == nil {
		t.Fatalf("right code: %d %s", w.Code, w.Header().Get("Location"))
	}
	s := e.flows.loginDone[0]
	if s.ACR != oauth.ACRPassword || !slices.Equal(s.AMR, []string{"sms"}) || s.CitizenID != "cit-1" {
		t.Fatalf("session acr %s amr %v", s.ACR, s.AMR)
	}
}

func TestSMSErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		path       string
		form       url.Values
		sendErr    error
		checkErr   error
		status     int
		want       string
		retryAfter bool
	}{
		{name: "malformed number", path: "/login/sms", form: url.Values{"username": {"110105194912310021"}},
			status: 400, want: "校验码"},
		{name: "cool-down shows the code form", path: "/login/sms", form: url.Values{"username": {smsNumber}},
			sendErr: &identity.RateLimitedError{Scope: "sms-cooldown", RetryAfter: 42 * time.Second}, status: 200, want: "42 秒"},
		{name: "daily limit", path: "/login/sms", form: url.Values{"username": {smsNumber}},
			sendErr: &identity.RateLimitedError{Scope: "sms-daily", RetryAfter: time.Hour}, status: 429, want: "60 分钟", retryAfter: true},
		{name: "locked on send", path: "/login/sms", form: url.Values{"username": {smsNumber}},
			sendErr: &identity.OTPRefusal{Reason: identity.ErrOTPLocked, RetryAfter: 4 * time.Minute}, status: 429, want: "错误次数过多", retryAfter: true},
		{name: "locked on verify", path: "/login/sms/verify", form: url.Values{"username": {smsNumber}, "code": {goodCode}},
			checkErr: &identity.OTPRefusal{Reason: identity.ErrOTPLocked, RetryAfter: 4 * time.Minute}, status: 429, want: "4 分钟", retryAfter: true},
		{name: "no live code", path: "/login/sms/verify", form: url.Values{"username": {smsNumber}, "code": {goodCode}},
			checkErr: identity.ErrNotFound, status: 400, want: "已失效"},
		{name: "not six digits", path: "/login/sms/verify", form: url.Values{"username": {smsNumber}, "code": {"12ab"}},
			status: 400, want: "6 位数字验证码"},
		{name: "backend down", path: "/login/sms", form: url.Values{"username": {smsNumber}},
			sendErr: identity.ErrUnavailable, status: 503, retryAfter: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSMSEnv(t, "+8613900139000")
			e.sms.sendErr, e.sms.checkErr = tc.sendErr, tc.checkErr
			b := e.browser(t)
			b.get("/login/sms")
			w := b.post(tc.path, tc.form)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("status %d, want %d with %q:\n%.2000s", w.Code, tc.status, tc.want, w.Body.String())
			}
			if (w.Header().Get("Retry-After") != "") != tc.retryAfter {
				t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
			}
			if sessionCookie(w) != nil {
				t.Error("a session was started")
			}
		})
	}
}

// loggedIn starts a password session in the browser.
func (e *smsEnv) loggedIn(t *testing.T, b *browser, amr ...string) *identity.Session {
	t.Helper()
	w := httptest.NewRecorder()
	s, err := e.sessions.Start(w, httptest.NewRequest("POST", "https://id.example/login", nil), "cit-1", oauth.ACRPassword, amr, ChannelWeb)
	if err != nil {
		t.Fatal(err)
	}
	c := sessionCookie(w)
	b.cookies[c.Name] = c
	return s
}

func TestStepUpRaisesTheSameSession(t *testing.T) {
	e := newSMSEnv(t, "+8613900139000")
	b := e.browser(t)
	s := e.loggedIn(t, b, "pwd")
	w := b.get("/login/stepup?flow=up")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "139****9000") || !strings.Contains(w.Body.String(), `action="/login/stepup/send"`) {
		t.Fatalf("step-up page: %d\n%s", w.Code, w.Body.String())
	}
	if len(e.sms.bindings) != 0 {
		t.Fatal("GET sent a code")
	}
	w = b.post("/login/stepup/send", url.Values{"flow": {"up"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `action="/login/stepup/verify"`) {
		t.Fatalf("send: %d", w.Code)
	}
	w = b.post("/login/stepup/verify", url.Values{"flow": {"up"}, "code": {"000000"}})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "还可以尝试 4 次") {
		t.Fatalf("wrong code: %d", w.Code)
	}
	w = b.post("/login/stepup/verify", url.Values{"flow": {"up"}, "code": {goodCode}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/oauth2/auth?flow=up" {
		t.Fatalf("verify: %d %s", w.Code, w.Header().Get("Location"))
	}
	if sessionCookie(w) != nil {
		t.Error("step-up replaced the session cookie; it should keep the sid")
	}
	got := e.store.m[s.ID]
	if got.ACR != oauth.ACRMulti || !slices.Equal(got.AMR, []string{"pwd", "sms"}) {
		t.Fatalf("session after step-up: acr %s amr %v", got.ACR, got.AMR)
	}
	if done := e.flows.loginDone; len(done) != 1 || done[0].ID != s.ID || done[0].ACR != oauth.ACRMulti {
		t.Fatalf("LoginDone got %+v", done)
	}
}

func TestStepUpNeedsASessionAndAStepUpFlow(t *testing.T) {
	e := newSMSEnv(t, "+8613900139000")
	b := e.browser(t)
	if w := b.get("/login/stepup?flow=up"); w.Code != http.StatusForbidden {
		t.Errorf("no session: %d, want 403", w.Code)
	}
	e.loggedIn(t, b, "pwd")
	if w := b.get("/login/stepup?flow=f1"); w.Code != http.StatusBadRequest {
		t.Errorf("flow without RequiredACR: %d, want 400", w.Code)
	}
	if w := b.get("/login/stepup?flow=gone"); w.Code == http.StatusOK {
		t.Errorf("expired flow: %d", w.Code)
	}
}

func TestStepUpWithoutAPhoneOrAPassword(t *testing.T) {
	e := newSMSEnv(t, "")
	b := e.browser(t)
	e.loggedIn(t, b, "pwd")
	if w := b.get("/login/stepup?flow=up"); !strings.Contains(w.Body.String(), `id="stepup-nophone"`) || strings.Contains(w.Body.String(), "<form") {
		t.Errorf("no phone, GET: %d", w.Code)
	}
	b.get("/login/sms") // a CSRF token
	if w := b.post("/login/stepup/send", url.Values{"flow": {"up"}}); !strings.Contains(w.Body.String(), `id="stepup-nophone"`) || len(e.sms.bindings) != 0 {
		t.Errorf("no phone: %d\n%s", w.Code, w.Body.String())
	}
	e = newSMSEnv(t, "+8613900139000")
	b = e.browser(t)
	e.loggedIn(t, b, "sms")
	if w := b.get("/login/stepup?flow=up"); !strings.Contains(w.Body.String(), `href="/login?flow=up"`) {
		t.Errorf("an SMS session is not sent to the password: %d\n%s", w.Code, w.Body.String())
	}
}

func TestDevSMSPage(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := DevSMSPage(func() []identity.SentSMS {
		return []identity.SentSMS{{At: at, MaskedPhone: "139****9000", Message: "code 123456"}}
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/dev/sms", nil))
	if !strings.Contains(w.Body.String(), "139****9000  code 123456") || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("dev page: %s", w.Body.String())
	}
}
