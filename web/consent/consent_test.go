package consent

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// sessions is a fake oauth.SessionReader: the cookie value is the session id.
type sessions map[string]*identity.Session

func (s sessions) RequestSession(r *http.Request) (*identity.Session, error) {
	c, err := r.Cookie("sid")
	if err != nil {
		return nil, identity.ErrNotFound
	}
	if c.Value == "down" {
		return nil, fmt.Errorf("redis: %w", identity.ErrUnavailable)
	}
	if x, ok := s[c.Value]; ok {
		return x, nil
	}
	return nil, identity.ErrNotFound
}

type decision struct {
	flow, citizen string
	approved      bool
}

type fakeFlows struct {
	flows     map[string]*oauth.Flow
	decisions []decision
}

func (f *fakeFlows) Flow(_ context.Context, id string) (*oauth.Flow, error) {
	if fl, ok := f.flows[id]; ok {
		return fl, nil
	}
	return nil, identity.ErrNotFound
}

func (f *fakeFlows) LoginDone(context.Context, string, *identity.Session) (string, error) {
	panic("not used")
}

func (f *fakeFlows) ConsentDone(_ context.Context, id, citizen string, approved bool) (string, error) {
	f.decisions = append(f.decisions, decision{id, citizen, approved})
	if approved {
		return "/oauth2/auth?flow=" + id, nil
	}
	return "https://rp.example/cb?error=access_denied", nil
}

type env struct {
	ui    *web.UI
	mux   *http.ServeMux
	flows *fakeFlows
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ui, err := web.New(web.Config{CSRFKey: bytes.Repeat([]byte{9}, 32), Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ui: ui, mux: http.NewServeMux(), flows: &fakeFlows{flows: map[string]*oauth.Flow{
		"f1": {ID: "f1", ClientName: "国家税务总局", SessionID: "s1",
			Scopes: []string{"openid", "profile", "idcard", "offline_access", "phone"},
			Query:  url.Values{"redirect_uri": {"https://rp.example/cb"}}.Encode()},
		"nologin": {ID: "nologin", ClientName: "X", Scopes: []string{"openid"}},
	}}}
	h, err := New(Config{UI: ui, Flows: e.flows, Sessions: sessions{
		"s1": {ID: "s1", CitizenID: "cit-1"},
		"s2": {ID: "s2", CitizenID: "cit-2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(e.mux)
	return e
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches a page with session sid ("" for none) and returns the response
// and the CSRF cookie and token it set.
func (e *env) get(t *testing.T, path, sid, lang string) (*httptest.ResponseRecorder, *http.Cookie, string) {
	t.Helper()
	r := httptest.NewRequest("GET", "https://id.example"+path, nil)
	if sid != "" {
		r.AddCookie(&http.Cookie{Name: "sid", Value: sid})
	}
	r.Header.Set("Accept-Language", lang)
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	var csrf *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == web.CSRFCookieSecure {
			csrf = c
		}
	}
	token := ""
	if m := tokenRE.FindStringSubmatch(w.Body.String()); m != nil {
		token = m[1]
	}
	return w, csrf, token
}

func (e *env) post(t *testing.T, sid string, csrf *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", "https://id.example/consent", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(&http.Cookie{Name: "sid", Value: sid})
	if csrf != nil {
		r.AddCookie(csrf)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return w
}

func TestConsentPage(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"国家税务总局", "an identifier for you at this site", "your name, date of birth and sex",
			"your phone number", `class="sensitive">your ID document type and number`, "keep access while you are away",
			"Personal Information Protection Law", `value="allow"`, `value="deny"`}},
		{"zh-CN", []string{"您的证件类型和证件号码", "个人信息保护法", "单独同意", ">同意<", ">拒绝<"}},
	} {
		w, _, token := e.get(t, "/consent?flow=f1", "s1", tc.lang)
		if w.Code != http.StatusOK || token == "" {
			t.Fatalf("%s: %d", tc.lang, w.Code)
		}
		for _, s := range tc.want {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("%s: page lacks %q", tc.lang, s)
			}
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://rp.example;") {
			t.Errorf("CSP = %q", csp)
		}
	}
}

func TestConsentNeedsTheFlowsSession(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, path, sid string
		want            int
	}{
		{"no session", "/consent?flow=f1", "", http.StatusForbidden},
		{"another session", "/consent?flow=f1", "s2", http.StatusForbidden},
		{"flow not logged in", "/consent?flow=nologin", "s1", http.StatusForbidden},
		{"expired flow", "/consent?flow=gone", "s1", http.StatusBadRequest},
		{"no flow", "/consent", "s1", http.StatusBadRequest},
		{"session store down", "/consent?flow=f1", "down", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, _ := e.get(t, tt.path, tt.sid, "en")
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if w.Header().Get("X-Frame-Options") != "DENY" {
				t.Error("no security headers")
			}
		})
	}
	w, _, _ := e.get(t, "/consent?flow=gone", "s1", "en")
	if !strings.Contains(w.Body.String(), "This login link has expired") {
		t.Error("expired flow: not the expired page")
	}
}

func TestConsentDecision(t *testing.T) {
	for _, tc := range []struct {
		decision string
		approved bool
		location string
	}{
		{"allow", true, "/oauth2/auth?flow=f1"},
		{"deny", false, "https://rp.example/cb?error=access_denied"},
	} {
		t.Run(tc.decision, func(t *testing.T) {
			e := newEnv(t)
			_, csrf, token := e.get(t, "/consent?flow=f1", "s1", "")
			w := e.post(t, "s1", csrf, url.Values{"flow": {"f1"}, "decision": {tc.decision}, "csrf_token": {token}})
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tc.location {
				t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
			}
			want := []decision{{"f1", "cit-1", tc.approved}}
			if len(e.flows.decisions) != 1 || e.flows.decisions[0] != want[0] {
				t.Errorf("ConsentDone calls = %+v, want %+v", e.flows.decisions, want)
			}
		})
	}
}

func TestConsentRefused(t *testing.T) {
	e := newEnv(t)
	_, csrf, token := e.get(t, "/consent?flow=f1", "s1", "")
	tests := []struct {
		name string
		sid  string
		form url.Values
		want int
	}{
		{"no CSRF token", "s1", url.Values{"flow": {"f1"}, "decision": {"allow"}}, http.StatusForbidden},
		{"bad CSRF token", "s1", url.Values{"flow": {"f1"}, "decision": {"allow"}, "csrf_token": {"AAAA"}}, http.StatusForbidden},
		{"another session", "s2", url.Values{"flow": {"f1"}, "decision": {"allow"}, "csrf_token": {token}}, http.StatusForbidden},
		{"unknown decision", "s1", url.Values{"flow": {"f1"}, "decision": {"maybe"}, "csrf_token": {token}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := e.post(t, tt.sid, csrf, tt.form); w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
		})
	}
	if len(e.flows.decisions) != 0 {
		t.Errorf("ConsentDone called: %+v", e.flows.decisions)
	}
}

func TestScopeLines(t *testing.T) {
	lines := ScopeLines("en", []string{"openid", "openid", "weird"})
	if len(lines) != 2 || lines[1].Text != "other information: weird" || lines[0].Sensitive {
		t.Errorf("%+v", lines)
	}
}
