package login

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// memSessions is a fake identity.SessionStore (only what web.Sessions uses).
type memSessions struct {
	identity.SessionStore
	mu sync.Mutex
	m  map[string]*identity.Session
}

func (s *memSessions) CreateSession(_ context.Context, x *identity.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*identity.Session{}
	}
	s.m[x.ID] = x
	return nil
}

func (s *memSessions) Session(_ context.Context, id string) (*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.m[id]; ok {
		return x, nil
	}
	return nil, identity.ErrNotFound
}

// fakeFlows is a fake oauth.Flows.
type fakeFlows struct {
	flows     map[string]*oauth.Flow
	loginDone []*identity.Session
}

func (f *fakeFlows) Flow(_ context.Context, id string) (*oauth.Flow, error) {
	if fl, ok := f.flows[id]; ok {
		c := *fl
		return &c, nil
	}
	return nil, fmt.Errorf("state: %w", identity.ErrNotFound)
}

func (f *fakeFlows) LoginDone(_ context.Context, id string, s *identity.Session) (string, error) {
	if _, ok := f.flows[id]; !ok {
		return "", identity.ErrNotFound
	}
	f.loginDone = append(f.loginDone, s)
	return "/oauth2/auth?flow=" + id, nil
}

func (f *fakeFlows) ConsentDone(context.Context, string, string, bool) (string, error) {
	panic("not used")
}

// fakeAuth answers Login with err, or a citizen.
type fakeAuth struct {
	calls int
	got   []string // number, password, clientIP of the last call
	err   error
}

func (a *fakeAuth) Login(_ context.Context, number, password, ip string) (*identity.Citizen, error) {
	a.calls++
	a.got = []string{number, password, ip}
	if a.err != nil {
		return nil, a.err
	}
	return &identity.Citizen{ID: "cit-1", Name: "张小明"}, nil
}

type fakeRegistrar struct {
	calls int
	err   error
}

func (f *fakeRegistrar) Register(_ context.Context, number, name, phone, password string) (*identity.Citizen, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &identity.Citizen{ID: "cit-2", Name: name}, nil
}

type fakeCitizens struct{}

func (fakeCitizens) Citizen(_ context.Context, id string) (*identity.Citizen, error) {
	return &identity.Citizen{ID: id, Name: "张小明"}, nil
}

type env struct {
	mux   *http.ServeMux
	auth  *fakeAuth
	reg   *fakeRegistrar
	flows *fakeFlows
	store *memSessions
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ui, err := web.New(web.Config{CSRFKey: bytes.Repeat([]byte{7}, 32), Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{mux: http.NewServeMux(), auth: &fakeAuth{}, reg: &fakeRegistrar{}, store: &memSessions{},
		flows: &fakeFlows{flows: map[string]*oauth.Flow{
			"f1": {ID: "f1", ClientName: "国家税务总局", LoginHint: "hint-number",
				Query: url.Values{"redirect_uri": {"https://rp.example:8443/cb"}}.Encode()},
			"fen": {ID: "fen", ClientName: "Tax", UILocales: []string{"en"}},
		}}}
	h, err := New(Config{UI: ui, Flows: e.flows, Authenticator: e.auth, Registrar: e.reg, Citizens: fakeCitizens{},
		Sessions: &web.Sessions{Store: e.store, Secure: true, Now: time.Now}})
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(e.mux)
	ui.Mount(e.mux)
	return e
}

// browser keeps cookies and the last CSRF token it saw.
type browser struct {
	t       *testing.T
	e       *env
	cookies map[string]*http.Cookie
	token   string
	header  http.Header
}

func (e *env) browser(t *testing.T) *browser {
	return &browser{t: t, e: e, cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) do(r *http.Request) *httptest.ResponseRecorder {
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	for k, v := range b.header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	b.e.mux.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	if m := tokenRE.FindStringSubmatch(w.Body.String()); m != nil {
		b.token = m[1]
	}
	return w
}

func (b *browser) get(path string) *httptest.ResponseRecorder {
	return b.do(httptest.NewRequest("GET", "https://id.example"+path, nil))
}

// post sends form with the CSRF token the browser last saw.
func (b *browser) post(path string, form url.Values) *httptest.ResponseRecorder {
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.token)
	}
	r := httptest.NewRequest("POST", "https://id.example"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://id.example")
	return b.do(r)
}

func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == web.SessionCookieSecure {
			return c
		}
	}
	return nil
}

func TestLoginPageShowsTheSiteAndTheForm(t *testing.T) {
	e := newEnv(t)
	w := e.browser(t).get("/login?flow=f1")
	body := w.Body.String()
	for _, want := range []string{
		"国家税务总局", `name="username"`, `autocomplete="username"`, `name="password"`,
		`autocomplete="current-password"`, `name="flow" value="f1"`, `value="hint-number"`,
		`<label for="username">证件号码</label>`, `name="csrf_token"`, `href="/register?flow=f1"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://rp.example:8443;") {
		t.Errorf("CSP = %q, want the client's origin in form-action", csp)
	}
}

func TestLoginCSRF(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
	}{{"missing", ""}, {"bad", "Zm9yZ2Vk"}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser(t)
			b.get("/login?flow=f1")
			w := b.post("/login", url.Values{"flow": {"f1"}, "username": {"x"}, "password": {"y"}, "csrf_token": {tc.token}})
			if w.Code != http.StatusForbidden {
				t.Errorf("status = %d, want 403", w.Code)
			}
			if e.auth.calls != 0 || len(e.flows.loginDone) != 0 || sessionCookie(w) != nil {
				t.Error("something changed after a failed CSRF check")
			}
		})
	}
}

func TestLoginSuccess(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.get("/login?flow=f1")
	var ids []string
	for i := range 2 {
		w := b.post("/login", url.Values{"flow": {"f1"}, "username": {" 11010519491231002X "}, "password": {"pw"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/oauth2/auth?flow=f1" {
			t.Fatalf("login %d: %d %q", i, w.Code, w.Header().Get("Location"))
		}
		c := sessionCookie(w)
		if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie = %+v", c)
		}
		s := e.flows.loginDone[i]
		if s.ID != c.Value || s.CitizenID != "cit-1" || s.ACR != ACRPassword || s.Channel != "web" ||
			len(s.AMR) != 1 || s.AMR[0] != "pwd" {
			t.Errorf("session = %+v", s)
		}
		ids = append(ids, s.ID)
	}
	if ids[0] == ids[1] {
		t.Error("the same session id for two logins")
	}
	if e.auth.got[0] != "11010519491231002X" || e.auth.got[1] != "pw" || e.auth.got[2] != "192.0.2.1" {
		t.Errorf("Login got %q", e.auth.got)
	}
}

func TestLoginWithoutFlowGoesHome(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.get("/login")
	w := b.post("/login", url.Values{"username": {"n"}, "password": {"p"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
	}
	body := b.get("/").Body.String()
	if !strings.Contains(body, "**明") || strings.Contains(body, "张小明") {
		t.Errorf("home page does not show the masked name:\n%s", body)
	}
	if !strings.Contains(body, `action="/oauth2/logout"`) {
		t.Error("no sign-out form")
	}
	if body := e.browser(t).get("/").Body.String(); !strings.Contains(body, "您尚未登录") {
		t.Error("home page without a session")
	}
}

func TestLoginErrors(t *testing.T) {
	_, numErr := identity.ParseAny("1101051949123")
	if numErr == nil {
		t.Fatal("ParseAny accepted a short number")
	}
	tests := []struct {
		name       string
		err        error
		lang       string
		wantStatus int
		wantText   string
		wantRetry  string
	}{
		{name: "wrong credentials", err: identity.ErrInvalidCredentials, wantStatus: 200,
			wantText: "证件号码或密码不正确，或账号暂不可用。"},
		{name: "wrong credentials, wrapped", err: fmt.Errorf("login: %w", identity.ErrInvalidCredentials), lang: "en",
			wantStatus: 200, wantText: "The ID number or password is not correct"},
		{name: "malformed number", err: numErr, wantStatus: 400, wantText: numErr.(interface{ Localize(string) string }).Localize("zh-CN")},
		{name: "malformed number, English", err: numErr, lang: "en", wantStatus: 400,
			wantText: numErr.(interface{ Localize(string) string }).Localize("en")},
		{name: "rate limited", err: &identity.RateLimitedError{RetryAfter: 90 * time.Second}, lang: "en",
			wantStatus: 429, wantText: "Try again in 2 minutes", wantRetry: "90"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.auth.err = tt.err
			b := e.browser(t)
			if tt.lang != "" {
				b.header.Set("Accept-Language", tt.lang)
			}
			b.get("/login?flow=f1")
			w := b.post("/login", url.Values{"flow": {"f1"}, "username": {"1101051949123"}, "password": {"secret-pw"}})
			body := html.UnescapeString(w.Body.String())
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if !strings.Contains(body, tt.wantText) {
				t.Errorf("body lacks %q", tt.wantText)
			}
			if got := w.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
			}
			if sessionCookie(w) != nil || len(e.flows.loginDone) != 0 {
				t.Error("a session after a failed login")
			}
			if strings.Contains(body, "secret-pw") {
				t.Error("password echoed")
			}
			if !strings.Contains(body, `value="1101051949123"`) || !strings.Contains(body, `name="flow" value="f1"`) {
				t.Error("form not refilled with what was typed and the flow")
			}
			if strings.Contains(w.Header().Get("Location"), "1101") {
				t.Error("number in a URL")
			}
		})
	}
}

func TestLoginUniformMessage(t *testing.T) {
	// Unknown number, wrong password and frozen account all arrive as
	// ErrInvalidCredentials; whatever else identity says about credentials
	// gets the same body.
	bodies := map[string]string{}
	for name, err := range map[string]error{
		"invalid":  identity.ErrInvalidCredentials,
		"password": &identity.PasswordError{},
	} {
		e := newEnv(t)
		e.auth.err = err
		b := e.browser(t)
		b.get("/login?flow=f1")
		w := b.post("/login", url.Values{"flow": {"f1"}, "username": {"n"}, "password": {"p"}})
		bodies[name] = tokenRE.ReplaceAllString(w.Body.String(), "")
	}
	if bodies["invalid"] != bodies["password"] {
		t.Error("credential errors are told apart")
	}
}

func TestLoginExpiredFlow(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	b.header.Set("Accept-Language", "en")
	w := b.get("/login?flow=gone")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "This login link has expired") {
		t.Errorf("GET: %d\n%s", w.Code, w.Body.String())
	}
	b.get("/login")
	w = b.post("/login", url.Values{"flow": {"gone"}, "username": {"n"}, "password": {"p"}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "This login link has expired") {
		t.Errorf("POST: %d", w.Code)
	}
	if e.auth.calls != 0 {
		t.Error("authenticated against an expired flow")
	}
}

func TestLoginUnavailable(t *testing.T) {
	e := newEnv(t)
	e.auth.err = fmt.Errorf("store: %w", identity.ErrUnavailable)
	b := e.browser(t)
	b.get("/login?flow=f1")
	w := b.post("/login", url.Values{"flow": {"f1"}, "username": {"n"}, "password": {"p"}})
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), "服务暂时不可用") {
		t.Errorf("%d %v", w.Code, w.Header())
	}
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	for _, path := range []string{"/", "/login", "/login?flow=f1", "/login?flow=gone", "/register", "/register?flow=f1", "/register/done"} {
		w := b.get(path)
		h := w.Header()
		if !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'; style-src 'self';") ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "same-origin" || h.Get("Cache-Control") != "no-store" ||
			h.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

func TestLanguage(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, path, accept, want string
	}{
		{"zh by default", "/login?flow=f1", "", `<html lang="zh-CN">`},
		{"en by Accept-Language", "/login?flow=f1", "en-US,en;q=0.9", `<html lang="en">`},
		{"en by ?lang", "/login?flow=f1&lang=en", "zh-CN", `<html lang="en">`},
		{"en by ui_locales", "/login?flow=fen", "zh-CN", `<html lang="en">`},
		{"zh by ?lang over ui_locales", "/login?flow=fen&lang=zh-CN", "", `<html lang="zh-CN">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser(t)
			if tt.accept != "" {
				b.header.Set("Accept-Language", tt.accept)
			}
			body := b.get(tt.path).Body.String()
			if !strings.Contains(body, tt.want) {
				t.Errorf("want %s", tt.want)
			}
			if !strings.Contains(body, "flow=f") {
				t.Error("language switch link lost the flow")
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"张小明": "**明", "李四": "*四", "王": "*", "": "*"} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The identity use cases fit the ports declared here.
var (
	_ Authenticator = (*identity.Authenticator)(nil)
	_ Registrar     = RegistrarFunc(func(ctx context.Context, number, name, phone, password string) (*identity.Citizen, error) {
		return (*identity.Registrar)(nil).Register(ctx, identity.RegisterInput{Number: number, Name: name, Phone: phone, Password: password})
	})
	_ Sessions = (*web.Sessions)(nil)
	_ Citizens = identity.CitizenRepository(nil)
)
