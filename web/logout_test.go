package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yihao-gov/yihao/oauth"
)

func TestLogoutPages(t *testing.T) {
	u := newTestUI(t, true, nil)
	p := &LogoutPages{UI: u, Sessions: &Sessions{Secure: true}}

	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/oauth2/logout?id_token_hint=x", nil)
	r.Header.Set("Accept-Language", "en")
	p.ConfirmLogout(w, r, oauth.LogoutPrompt{ClientName: "Tax", IDTokenHint: "eyJhbGc", PostLogoutRedirectURI: "https://rp.example/bye",
		State: "st", ClientID: "tax"})
	body := w.Body.String()
	for _, want := range []string{`action="/oauth2/logout"`, `name="id_token_hint" value="eyJhbGc"`,
		`name="post_logout_redirect_uri" value="https://rp.example/bye"`, `name="state" value="st"`,
		`name="client_id" value="tax"`, `name="confirm" value="yes"`, `name="confirm" value="no"`, "Tax asks you to sign out"} {
		if !strings.Contains(body, want) {
			t.Errorf("confirmation lacks %s", want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://rp.example;") {
		t.Errorf("CSP = %q", csp)
	}

	w = httptest.NewRecorder()
	p.LoggedOut(w, httptest.NewRequest("GET", "/oauth2/logout", nil))
	if w.Code != 200 || w.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(w.Body.String(), "您已退出") {
		t.Errorf("logged out: %d %v", w.Code, w.Header())
	}

	w = httptest.NewRecorder()
	p.Error(w, httptest.NewRequest("GET", "/oauth2/logout", nil), oauth.ErrBadLogoutRequest)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "返回地址未在该网站登记") {
		t.Errorf("bad request: %d", w.Code)
	}

	w = httptest.NewRecorder()
	p.ClearSessionCookie(w)
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Name != SessionCookieSecure || c[0].MaxAge >= 0 {
		t.Errorf("cookie %v", c)
	}
}
