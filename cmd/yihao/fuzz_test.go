package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzAuthorizeRequest throws arbitrary query strings at the authorization
// endpoint: it must never panic, never answer 5xx, and never redirect to a
// URI that is not exactly registered.
func FuzzAuthorizeRequest(f *testing.F) {
	ts := startServer(f)
	c, _ := ts.client("fuzz")
	f.Add("response_type=code&client_id=fuzz&redirect_uri=https%3A%2F%2Ffuzz.example%2Fcallback&scope=openid&state=abcdefgh&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
	f.Add("response_type=token&client_id=fuzz&redirect_uri=https://evil.example/")
	f.Add("client_id=fuzz&prompt=none%20login&max_age=-1&flow=x")
	f.Add("flow=%00")
	f.Add("response_type=code&client_id=fuzz&scope=idcard&request=eyJ")
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/oauth2/auth", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		ts.srv.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d for %q: %s", rec.Code, query, rec.Body.String())
		}
		if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatalf("unparsable redirect %q", loc)
			}
			target := u.Scheme + "://" + u.Host + u.Path
			if target != c.RedirectURIs[0] {
				t.Fatalf("redirected to unregistered %q for %q", loc, query)
			}
		}
	})
}

// FuzzTokenRequest throws arbitrary form bodies at the token endpoint: never a
// panic, never 5xx, never a token without valid client authentication.
func FuzzTokenRequest(f *testing.F) {
	ts := startServer(f)
	_, secret := ts.client("fuzz-t")
	f.Add("grant_type=client_credentials", true)
	f.Add("grant_type=authorization_code&code=abc&redirect_uri=https://fuzz-t.example/callback&code_verifier=x", true)
	f.Add("grant_type=refresh_token&refresh_token=ory_rt_x.y", false)
	f.Add("grant_type=password&username=a&password=b", true)
	f.Add("grant_type=client_credentials&client_id=fuzz-t&client_secret=nope", false)
	f.Fuzz(func(t *testing.T, body string, auth bool) {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth {
			req.SetBasicAuth("fuzz-t", url.QueryEscape(secret))
		}
		rec := httptest.NewRecorder()
		ts.srv.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		if rec.Code == http.StatusOK && !auth {
			if form, _ := url.ParseQuery(body); form.Get("client_secret") != secret {
				t.Fatalf("token issued without client authentication for %q", body)
			}
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Fatalf("token response Cache-Control %q", got)
		}
	})
}
