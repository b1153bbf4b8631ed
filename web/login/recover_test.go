package login

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// fakeRecovery accepts goodCode for the last binding sent to and a
// password other than "password1".
type fakeRecovery struct {
	sms    fakeSMS
	resets []string // passwords set
}

func (f *fakeRecovery) Send(ctx context.Context, number, binding, ip string) (*identity.OTPSent, error) {
	return f.sms.SendLogin(ctx, number, "recover:"+binding, ip)
}

func (f *fakeRecovery) Reset(_ context.Context, number, binding, code, password, _ string) (*identity.Citizen, error) {
	if _, err := identity.ParseAny(number); err != nil {
		return nil, err
	}
	if password == "password1" {
		return nil, &identity.PasswordError{Reason: identity.PasswordCommon, Min: 8, Max: 128}
	}
	if err := f.sms.check("login:recover:"+binding, code); err != nil {
		return nil, err
	}
	f.resets = append(f.resets, password)
	return &identity.Citizen{ID: "cit-1"}, nil
}

func newRecoveryEnv(t *testing.T) (*env, *fakeRecovery) {
	t.Helper()
	ui, err := web.New(web.Config{CSRFKey: bytes.Repeat([]byte{7}, 32), Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeRecovery{}
	e := &env{mux: http.NewServeMux(), auth: &fakeAuth{}, store: &memSessions{},
		flows: &fakeFlows{flows: map[string]*oauth.Flow{
			"f1": {ID: "f1", ClientName: "国家税务总局", Query: url.Values{"redirect_uri": {"https://rp.example/cb"}}.Encode()},
		}}}
	h, err := New(Config{UI: ui, Flows: e.flows, Authenticator: e.auth, Citizens: fakeCitizens{},
		Sessions: &web.Sessions{Store: e.store, Secure: true, Now: time.Now}, Recovery: rec})
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(e.mux)
	return e, rec
}

func TestRecoverLinkOnlyWhenOffered(t *testing.T) {
	if body := newEnv(t).browser(t).get("/login?flow=f1").Body.String(); strings.Contains(body, "/login/recover") {
		t.Error("login page offers recovery without it")
	}
	e, _ := newRecoveryEnv(t)
	if body := e.browser(t).get("/login?flow=f1").Body.String(); !strings.Contains(body, `href="/login/recover?flow=f1"`) {
		t.Error("login page lacks the recovery link")
	}
}

func TestRecoverThroughTheFlow(t *testing.T) {
	e, rec := newRecoveryEnv(t)
	b := e.browser(t)
	if w := b.get("/login/recover?flow=f1"); w.Code != 200 || !strings.Contains(w.Body.String(), `action="/login/recover"`) {
		t.Fatalf("GET /login/recover: %d", w.Code)
	}
	w := b.post("/login/recover", url.Values{"flow": {"f1"}, "username": {smsNumber}})
	body := w.Body.String()
	for _, want := range []string{"139****9000", `action="/login/recover/reset"`, `autocomplete="new-password"`, `autocomplete="one-time-code"`} {
		if !strings.Contains(body, want) {
			t.Errorf("code page lacks %s", want)
		}
	}
	form := func(code, pw string) url.Values {
		return url.Values{"flow": {"f1"}, "username": {smsNumber}, "code": {code}, "password": {pw}}
	}
	if w := b.post("/login/recover/reset", form("654321", "a long new password")); w.Code != 400 || !strings.Contains(w.Body.String(), "还可以尝试 4 次") {
		t.Fatalf("wrong code: %d", w.Code)
	}
	if w := b.post("/login/recover/reset", form(goodCode, "password1")); w.Code != 400 || !strings.Contains(w.Body.String(), "过于常见") ||
		strings.Contains(w.Body.String(), "password1") {
		t.Fatalf("common password: %d", w.Code)
	}
	w = b.post("/login/recover/reset", form(goodCode, "a long new password"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login/recover/done?flow=f1" || sessionCookie(w) != nil {
		t.Fatalf("right code: %d %s", w.Code, w.Header().Get("Location"))
	}
	if len(rec.resets) != 1 {
		t.Fatalf("resets %d", len(rec.resets))
	}
	if w := b.get("/login/recover/done?flow=f1"); w.Code != 200 || !strings.Contains(w.Body.String(), `href="/login?flow=f1"`) {
		t.Fatalf("done page: %d", w.Code)
	}
	if w := b.get("/login/recover/done?flow=gone"); w.Code != 200 || !strings.Contains(w.Body.String(), `href="/login"`) {
		t.Fatalf("done page after the flow expired: %d", w.Code)
	}
}

func TestLoginLockedSaysWhatToDo(t *testing.T) {
	e, _ := newRecoveryEnv(t)
	e.auth.err = identity.ErrPasswordLocked
	b := e.browser(t)
	b.get("/login?flow=f1")
	w := b.post("/login", url.Values{"flow": {"f1"}, "username": {smsNumber}, "password": {"x"}})
	body := w.Body.String()
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "" ||
		!strings.Contains(body, "已被锁定") || !strings.Contains(body, `href="/login/recover?flow=f1"`) {
		t.Fatalf("locked: %d, Retry-After %q\n%s", w.Code, w.Header().Get("Retry-After"), body)
	}
	// The 15-minute window still says when to come back.
	e.auth.err = &identity.RateLimitedError{Scope: "account", RetryAfter: 14 * time.Minute}
	w = b.post("/login", url.Values{"flow": {"f1"}, "username": {smsNumber}, "password": {"x"}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "840" || !strings.Contains(w.Body.String(), "14 分钟") {
		t.Fatalf("window: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
}
