package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturn(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/account", "/account"},
		{"/account/sites?page=2", "/account/sites?page=2"},
		{"/account#frag", "/account"},
		{"", ""},
		{"account", ""},
		{"//evil.example/x", ""},
		{"/\\evil.example", ""},
		{"\\\\evil.example", ""},
		{"https://evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"/%2F/evil.example", ""},
		{"/a\r\nLocation: https://evil.example", ""},
		{"/\tx", ""},
		{"/" + strings.Repeat("a", 600), ""},
	} {
		if got := SafeReturn(tc.in); got != tc.want {
			t.Errorf("SafeReturn(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLoginReturnsToALocalPath(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	w := b.get("/login?return=" + url.QueryEscape("/account/sites"))
	if !strings.Contains(w.Body.String(), `name="return" value="/account/sites"`) {
		t.Fatalf("login page does not carry the return path:\n%s", w.Body.String())
	}
	w = b.post("/login", url.Values{"username": {"n"}, "password": {"p"}, "return": {"/account/sites"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/account/sites" {
		t.Fatalf("status %d location %q, want 303 to /account/sites", w.Code, w.Header().Get("Location"))
	}
	// Another site is never a destination; the login goes home instead.
	w = b.post("/login", url.Values{"username": {"n"}, "password": {"p"}, "return": {"//evil.example/"}})
	if w.Header().Get("Location") != "/" {
		t.Fatalf("location %q, want /", w.Header().Get("Location"))
	}
	// A flow wins over a return path.
	w = b.post("/login", url.Values{"username": {"n"}, "password": {"p"}, "flow": {"f1"}, "return": {"/account"}})
	if loc := w.Header().Get("Location"); !strings.HasPrefix(loc, "/oauth2/auth?flow=f1") {
		t.Fatalf("location %q, want the flow", loc)
	}
}
