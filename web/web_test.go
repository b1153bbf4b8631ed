package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

var testKey = bytes.Repeat([]byte("k"), 32)

func newTestUI(t *testing.T, secure bool, log *bytes.Buffer) *UI {
	t.Helper()
	cfg := Config{CSRFKey: testKey, Secure: secure}
	if log != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	u, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// samples holds data for every page; TestEveryPage fails when one is missing.
var samples = map[string]any{
	PageLogin: LoginData{FlowID: "f1", ClientName: "Tax <Bureau>", Username: "11010519491231002X",
		Error: "bad", RegisterURL: "/register?flow=f1", RecoverURL: "/login/recover?flow=f1"},
	PageRegister: RegisterData{FlowID: "f1", Number: "110", Name: "张三", Phone: "138",
		Errors: RegisterErrors{Number: "n", Name: "m", Phone: "p", Password: "pw", Confirm: "c", Form: "f"}, LoginURL: "/login"},
	PageRegisterDone: RegisterDoneData{LoginURL: "/login?flow=f1"},
	PageConsent: ConsentData{FlowID: "f1", ClientName: "Tax", Scopes: []ScopeLine{
		{Scope: "openid", Text: "id"}, {Scope: "idcard", Text: "card", Sensitive: true}}},
	PageHome:          HomeData{SignedIn: true, MaskedName: "**三"},
	PageError:         ErrorData{Message: "oops", ErrorID: "ABCD2345"},
	PageLogoutConfirm: oauth.LogoutPrompt{IDTokenHint: "eyJ", PostLogoutRedirectURI: "https://rp.example/out", State: "s", ClientID: "c", ClientName: "RP"},
	PageLoggedOut:     LoggedOutData{ClientName: "RP", ReturnURL: "https://rp.example/out"},
}

func TestEveryPageRendersInBothLanguages(t *testing.T) {
	u := newTestUI(t, true, nil)
	for _, name := range Pages() {
		data, ok := samples[name]
		if !ok {
			t.Fatalf("no sample data for page %s", name)
		}
		for _, tc := range []struct{ accept, lang, other string }{
			{"", LangZH, LangEN},
			{"en-US,en;q=0.9", LangEN, LangZH},
		} {
			for _, d := range []any{data, zeroOf(data)} {
				t.Run(name+"/"+tc.lang, func(t *testing.T) {
					r := httptest.NewRequest("GET", "/x?flow=f1", nil)
					r.Header.Set("Accept-Language", tc.accept)
					w := httptest.NewRecorder()
					if err := u.Render(w, r, name, View{Data: d}); err != nil {
						t.Fatal(err)
					}
					body := w.Body.String()
					if !strings.Contains(body, `<html lang="`+tc.lang+`">`) {
						t.Errorf("missing lang attribute %s", tc.lang)
					}
					if m := regexp.MustCompile(`MISSING:[\w.]+`).FindString(body); m != "" {
						t.Errorf("untranslated %s", m)
					}
					if !strings.Contains(body, `lang=`+tc.other) || !strings.Contains(body, `class="lang"`) {
						t.Errorf("no language switch link to %s", tc.other)
					}
					inline := strings.Contains(body, "style=")
					for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
						inline = inline || !strings.Contains(tag, ` src="/static/`) // only our own files
					}
					if inline {
						t.Error("inline script or style (CSP forbids them)")
					}
					for _, form := range regexp.MustCompile(`(?s)<form.*?</form>`).FindAllString(body, -1) {
						if !strings.Contains(form, `name="csrf_token"`) {
							t.Errorf("form without CSRF token: %s", form)
						}
					}
				})
			}
		}
	}
}

// zeroOf returns the zero value of d's type.
func zeroOf(d any) any {
	switch d.(type) {
	case LoginData:
		return LoginData{}
	case RegisterData:
		return RegisterData{}
	case RegisterDoneData:
		return RegisterDoneData{}
	case ConsentData:
		return ConsentData{}
	case HomeData:
		return HomeData{}
	case ErrorData:
		return ErrorData{}
	case oauth.LogoutPrompt:
		return oauth.LogoutPrompt{}
	case LoggedOutData:
		return LoggedOutData{}
	}
	return reflect.Zero(reflect.TypeOf(d)).Interface()
}

func TestRenderEscapes(t *testing.T) {
	u := newTestUI(t, true, nil)
	w := httptest.NewRecorder()
	if err := u.Render(w, httptest.NewRequest("GET", "/login", nil), PageLogin, View{Data: samples[PageLogin]}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(w.Body.String(), "<Bureau>") {
		t.Error("client name not escaped")
	}
}

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	for _, k := range catalogKeys() {
		for _, lang := range langs {
			if !TextFor(lang).Has(k) {
				t.Errorf("%s: missing %q", lang, k)
			}
		}
	}
}

func TestNewFailsWithoutAPageTemplate(t *testing.T) {
	fsys := fstest.MapFS{}
	fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() && p != "templates/"+PageConsent {
			b, _ := fs.ReadFile(assets, p)
			fsys[p] = &fstest.MapFile{Data: b}
		}
		return nil
	})
	_, err := newUI(Config{CSRFKey: testKey}, fsys)
	if err == nil || !strings.Contains(err.Error(), PageConsent) {
		t.Fatalf("err = %v, want one naming %s", err, PageConsent)
	}
	if _, err := newUI(Config{CSRFKey: []byte("short")}, assets); err == nil {
		t.Error("short CSRF key accepted")
	}
}

func TestLang(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		cookie    string
		accept    string
		uiLocales []string
		want      string
	}{
		{name: "default is zh-CN", url: "/", want: LangZH},
		{name: "Accept-Language en", url: "/", accept: "en-GB,en;q=0.8,zh;q=0.5", want: LangEN},
		{name: "Accept-Language prefers zh", url: "/", accept: "fr, zh-TW;q=0.9, en;q=0.8", want: LangZH},
		{name: "ui_locales beat Accept-Language", url: "/", accept: "zh-CN", uiLocales: []string{"fr", "en"}, want: LangEN},
		{name: "cookie beats ui_locales", url: "/", cookie: "zh-CN", uiLocales: []string{"en"}, want: LangZH},
		{name: "?lang beats all", url: "/?lang=en", cookie: "zh-CN", accept: "zh", want: LangEN},
		{name: "unknown ?lang ignored", url: "/?lang=xx", accept: "en", want: LangEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.url, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: LangCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := Lang(r, tt.uiLocales); got != tt.want {
				t.Errorf("Lang = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLangSwitchIsRemembered(t *testing.T) {
	u := newTestUI(t, false, nil)
	h := u.Page(func(w http.ResponseWriter, r *http.Request) error {
		return u.Render(w, r, PageHome, View{Data: HomeData{}})
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/?lang=en", nil))
	var got *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == LangCookie {
			got = c
		}
	}
	if got == nil || got.Value != LangEN {
		t.Fatalf("lang cookie = %v", got)
	}
	if !strings.Contains(w.Body.String(), `<html lang="en">`) {
		t.Error("page not in English")
	}
	// The next request, without ?lang, keeps English.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(got)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `<html lang="en">`) {
		t.Error("language choice not remembered")
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, secure := range []bool{true, false} {
		u := newTestUI(t, secure, nil)
		h := u.Page(func(w http.ResponseWriter, r *http.Request) error {
			return u.Render(w, r, PageLogin, View{FormAction: "https://rp.example", Data: LoginData{}})
		})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
		hd := w.Header()
		want := map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self' https://rp.example; frame-ancestors 'none'; base-uri 'none'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
			"Cache-Control":           "no-store",
		}
		for k, v := range want {
			if got := hd.Get(k); got != v {
				t.Errorf("secure=%v %s = %q, want %q", secure, k, got, v)
			}
		}
		if got := hd.Get("Strict-Transport-Security"); (got != "") != secure {
			t.Errorf("secure=%v HSTS = %q", secure, got)
		}
	}
}

func TestAllowFormActionRejectsInjection(t *testing.T) {
	if o := FormActionOrigin("https://rp.example:8443/cb?x=1"); o != "https://rp.example:8443" {
		t.Errorf("origin = %q", o)
	}
	for _, bad := range []string{"javascript:alert(1)", "/relative", "https://u:p@rp.example/", "com.example.app:/cb", ""} {
		if o := FormActionOrigin(bad); o != "" {
			t.Errorf("FormActionOrigin(%q) = %q, want empty", bad, o)
		}
	}
	w := httptest.NewRecorder()
	AllowFormAction(w, "https://a; script-src *")
	if strings.Contains(w.Header().Get("Content-Security-Policy"), "script-src") {
		t.Error("directive injected")
	}
}

// csrfPair gets a CSRF cookie and its form token by rendering a form page.
func csrfPair(t *testing.T, u *UI) (*http.Cookie, string) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := u.Render(w, httptest.NewRequest("GET", "/login", nil), PageLogin, View{Data: LoginData{}}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	cs := w.Result().Cookies()
	if m == nil || len(cs) != 1 {
		t.Fatalf("no CSRF token/cookie: %v", cs)
	}
	return cs[0], m[1]
}

func TestCSRF(t *testing.T) {
	u := newTestUI(t, true, nil)
	cookie, token := csrfPair(t, u)
	if cookie.Name != CSRFCookieSecure || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Errorf("CSRF cookie = %+v", cookie)
	}
	_, otherToken := csrfPair(t, u) // another browser's token

	tests := []struct {
		name   string
		cookie bool
		token  string
		origin string
		want   int
	}{
		{name: "valid", cookie: true, token: token, want: http.StatusNoContent},
		{name: "valid, own origin", cookie: true, token: token, origin: "https://id.example", want: http.StatusNoContent},
		{name: "missing token", cookie: true, want: http.StatusForbidden},
		{name: "bad token", cookie: true, token: "AAAA", want: http.StatusForbidden},
		{name: "another browser's token", cookie: true, token: otherToken, want: http.StatusForbidden},
		{name: "no cookie", token: token, want: http.StatusForbidden},
		{name: "foreign origin", cookie: true, token: token, origin: "https://evil.example", want: http.StatusForbidden},
		{name: "null origin", cookie: true, token: token, origin: "null", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			h := u.Page(func(w http.ResponseWriter, r *http.Request) error {
				called = true
				w.WriteHeader(http.StatusNoContent)
				return nil
			})
			form := url.Values{"x": {"1"}}
			if tt.token != "" {
				form.Set(CSRFField, tt.token)
			}
			r := httptest.NewRequest("POST", "https://id.example/login", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.cookie {
				r.AddCookie(cookie)
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if called != (tt.want == http.StatusNoContent) {
				t.Errorf("handler called = %v", called)
			}
			if tt.want == http.StatusForbidden && w.Header().Get("Content-Security-Policy") == "" {
				t.Error("403 page without security headers")
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		accept     string
		wantStatus int
		wantText   string
		wantRetry  bool
		wantLogged bool
	}{
		{name: "unavailable", err: fmt.Errorf("store: %w", identity.ErrUnavailable), wantStatus: 503,
			wantText: "服务暂时不可用", wantRetry: true, wantLogged: true},
		{name: "unavailable in English", err: identity.ErrUnavailable, accept: "en", wantStatus: 503,
			wantText: "temporarily unavailable", wantRetry: true, wantLogged: true},
		{name: "expired flow", err: FlowError(fmt.Errorf("state: %w", identity.ErrNotFound)), accept: "en", wantStatus: 400,
			wantText: "This login link has expired. Go back to the site"},
		{name: "number error", err: &identity.NumberError{Type: identity.ResidentID, Part: identity.PartCheck, Want: "X"},
			accept: "en", wantStatus: 400, wantText: "the last character should be X"},
		{name: "rate limited", err: &identity.RateLimitedError{RetryAfter: 4*time.Minute + time.Second}, accept: "en",
			wantStatus: 429, wantText: "Try again in 5 minutes", wantRetry: true},
		{name: "status error", err: Error(http.StatusForbidden, "error.session"), accept: "en", wantStatus: 403,
			wantText: "Your sign-in has expired"},
		{name: "anything else", err: errors.New("boom"), accept: "en", wantStatus: 500,
			wantText: "Error ID: ", wantLogged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			u := newTestUI(t, true, &log)
			h := u.Page(func(http.ResponseWriter, *http.Request) error { return tt.err })
			r := httptest.NewRequest("GET", "/login?flow=secretflow", nil)
			r.Header.Set("Accept-Language", tt.accept)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if !strings.Contains(w.Body.String(), tt.wantText) {
				t.Errorf("body lacks %q:\n%s", tt.wantText, w.Body.String())
			}
			if got := w.Header().Get("Retry-After") != ""; got != tt.wantRetry {
				t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
			}
			lines := strings.Count(log.String(), "\n")
			if tt.wantLogged && lines != 1 || !tt.wantLogged && lines != 0 {
				t.Errorf("logged %d lines, want exactly one when logged:\n%s", lines, log.String())
			}
			if strings.Contains(log.String(), "secretflow") {
				t.Error("log holds the query")
			}
			if tt.wantStatus == 500 {
				id := regexp.MustCompile(`Error ID: ([A-Z0-9]+)`).FindStringSubmatch(w.Body.String())
				if id == nil || !strings.Contains(log.String(), "error_id="+id[1]) || !strings.Contains(log.String(), "boom") {
					t.Errorf("error id not in log: %s", log.String())
				}
				if strings.Contains(w.Body.String(), "boom") {
					t.Error("cause leaked into the page")
				}
			}
		})
	}
}

func TestErrorJSON(t *testing.T) {
	u := newTestUI(t, true, nil)
	h := u.Page(func(http.ResponseWriter, *http.Request) error { return identity.ErrUnavailable })
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%v: %s", err, w.Body.String())
	}
	if w.Code != 503 || body["error"] != "temporarily_unavailable" || !strings.Contains(body["error_description"], "try again") {
		t.Errorf("%d %v", w.Code, body)
	}
}

func TestWantsJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                    false,
		"text/html,application/xhtml+xml,*/*": false,
		"application/json":                    true,
		"application/problem+json, text/html": true,
		"*/*":                                 false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := WantsJSON(r); got != want {
			t.Errorf("WantsJSON(%q) = %v", accept, got)
		}
	}
}

func TestStatic(t *testing.T) {
	u := newTestUI(t, true, nil)
	mux := http.NewServeMux()
	u.Mount(mux)
	link := u.static.url("yihao.css")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", link, nil))
	etag := w.Header().Get("ETag")
	if w.Code != 200 || etag == "" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") ||
		!strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	r := httptest.NewRequest("GET", "/static/yihao.css", nil)
	r.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", w.Code)
	}
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/static/nope.js", nil))
	if w.Code != 404 {
		t.Errorf("missing file = %d", w.Code)
	}
}

func TestRequestIDAndLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("app", "yihao")
	var seen string
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestIDFrom(r.Context())
		log.InfoContext(r.Context(), "hello")
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(RequestIDHeader, "forged")
	h.ServeHTTP(w, r)
	if seen == "" || seen == "forged" || w.Header().Get(RequestIDHeader) != seen {
		t.Fatalf("request id %q, header %q", seen, w.Header().Get(RequestIDHeader))
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["request_id"] != seen {
		t.Errorf("log line %s", buf.String())
	}
	buf.Reset()
	log.InfoContext(context.Background(), "no request")
	if strings.Contains(buf.String(), "request_id") {
		t.Error("request_id without a request")
	}
}
