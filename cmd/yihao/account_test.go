package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/oauth"
)

// signInTo logs the browser in through /login?return=… and returns the page
// it comes back to.
func (b *browser) signInTo(path, number string) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.get(b.ts.URL + path)
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("return") != path {
		b.t.Fatalf("GET %s without a session ended at %s, want /login?return=%s", path, resp.Request.URL, path)
	}
	resp, body = b.post(b.ts.URL+"/login", url.Values{"csrf_token": {field(b.t, csrfRe, body)},
		"username": {number}, "password": {testPassword}, "return": {path}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != strings.SplitN(path, "?", 2)[0] {
		b.t.Fatalf("sign-in came back to %s (status %d), want %s", resp.Request.URL, resp.StatusCode, path)
	}
	return resp, body
}

func TestAccountProfileNeverShowsTheNumber(t *testing.T) {
	ts := startServer(t)
	_, number := ts.citizen() // born 19800101
	br := ts.browser()
	_, body := br.signInTo("/account", number)
	_, en := br.get(ts.URL + "/account?lang=en")
	for _, page := range []string{body, en} {
		for _, never := range []string{number, "19800101", number[6:14], number[:14]} {
			if contains(page, never) {
				t.Fatalf("profile page contains %q", never)
			}
		}
		if !contains(page, number[:3]+strings.Repeat("*", 11)+number[14:]) || !contains(page, "139****9000") {
			t.Errorf("profile page lacks the masked number or phone:\n%.3000s", page)
		}
	}
	if !contains(body, "账户中心") || !contains(en, "Account centre") {
		t.Error("profile page not localized")
	}
	// The home page links to the account centre.
	if _, home := br.get(ts.URL + "/"); !contains(home, `href="/account"`) {
		t.Error("no link to /account from the home page")
	}
}

func TestAccountRevokeSiteKillsItsTokensAndLogsItOut(t *testing.T) {
	ts := startServer(t)
	var mu sync.Mutex
	var delivered []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		delivered = append(delivered, r.PostForm.Get("logout_token"))
		mu.Unlock()
	}))
	defer receiver.Close()
	site := newRP(t, ts, "revokee", func(c *oauth.Client) { c.BackchannelLogoutURI = receiver.URL + "/bcl" })
	other := newRP(t, ts, "keeper", func(c *oauth.Client) { c.BackchannelLogoutURI = receiver.URL + "/bcl" })
	_, number := ts.citizen()
	br := ts.browser()
	tok, idt := site.exchange(site.login(br, number))
	otherTok, _ := other.exchange(other.login(br, ""))
	var claims struct {
		SID string `json:"sid"`
	}
	_ = idt.Claims(&claims)

	_, body := br.get(ts.URL + "/account/sites")
	if !contains(body, "Site revokee") || !contains(body, "Site keeper") {
		t.Fatalf("sites page does not list both sites:\n%.3000s", body)
	}
	resp, body := br.post(ts.URL+"/account/sites/revoke", url.Values{"csrf_token": {field(t, csrfRe, body)}, "client": {"revokee"}})
	if resp.Request.URL.Path != "/account/sites" || resp.Request.URL.Query().Get("done") != "revoked" {
		t.Fatalf("revoke ended at %s (status %d)", resp.Request.URL, resp.StatusCode)
	}
	if contains(body, "Site revokee") || !contains(body, "Site keeper") {
		t.Error("the sites page still lists the revoked site, or lost the other one")
	}
	if got := site.introspect(tok.AccessToken); got["active"] != false {
		t.Fatalf("revoked site's access token still active: %v", got)
	}
	if _, err := site.refresh(tok.RefreshToken); err == nil {
		t.Fatal("revoked site's refresh token still works")
	}
	if got := other.introspect(otherTok.AccessToken); got["active"] != true {
		t.Fatalf("the other site's token was revoked too: %v", got)
	}
	ts.srv.provider.Wait()
	mu.Lock()
	got := append([]string(nil), delivered...)
	mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("back-channel logout tokens delivered: %d, want 1 (to the revoked site only)", len(got))
	}
	var lc struct {
		Aud    any            `json:"aud"`
		SID    string         `json:"sid"`
		Events map[string]any `json:"events"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(got[0], ".")[1])
	_ = json.Unmarshal(payload, &lc)
	if lc.Aud != "revokee" || lc.SID != claims.SID || lc.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Fatalf("logout token claims %+v", lc)
	}
	// The citizen is still signed in to Yihao, and the site must ask again.
	resp, _ = br.get(site.conf.AuthCodeURL("after-revoke-0001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "consent_required" {
		t.Fatalf("prompt=none after revoking: %v", loc)
	}
}

func TestAccountEndOtherSessions(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "sessions-site")
	_, number := ts.citizen()
	here, there := ts.browser(), ts.browser()
	site.exchange(site.login(here, number))
	thereTok, _ := site.exchange(site.login(there, number))

	_, body := here.get(ts.URL + "/account/sessions")
	if strings.Count(body, `<li>`) < 2 || !contains(body, `action="/account/sessions/end-others"`) {
		t.Fatalf("sessions page does not show two sessions:\n%.3000s", body)
	}
	resp, _ := here.post(ts.URL+"/account/sessions/end-others", url.Values{"csrf_token": {field(t, csrfRe, body)}})
	if resp.Request.URL.Path != "/account/sessions" || resp.Request.URL.Query().Get("done") != "ended-others" {
		t.Fatalf("end others ended at %s (status %d)", resp.Request.URL, resp.StatusCode)
	}
	promptNone := func(b *browser) *url.URL {
		resp, _ := b.get(site.conf.AuthCodeURL("prompt-none-00001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
		loc, _ := resp.Location()
		if loc == nil {
			t.Fatalf("prompt=none did not return to the site (ended at %s)", resp.Request.URL)
		}
		return loc
	}
	if loc := promptNone(there); loc.Query().Get("error") != "login_required" {
		t.Errorf("the other browser is still signed in: %v", loc)
	}
	if got := site.introspect(thereTok.AccessToken); got["active"] != false {
		t.Errorf("the other session's token still active: %v", got)
	}
	if loc := promptNone(here); loc.Query().Get("code") == "" {
		t.Errorf("this browser was signed out too: %v", loc)
	}
}

func TestAccountHistoryPagesAndExport(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "history-site")
	_, number := ts.citizen()
	br := ts.browser()
	tok, _ := site.exchange(site.login(br, number))
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	site.introspect(tok.AccessToken)
	for _, path := range []string{"/account/logins", "/account/data-use", "/account/data-use?lang=en"} {
		resp, body := br.get(ts.URL + path)
		if resp.StatusCode != http.StatusOK || !contains(body, `name="csrf_token"`) || contains(body, "MISSING:") {
			t.Fatalf("GET %s: status %d\n%.2000s", path, resp.StatusCode, body)
		}
	}
	// Every release is listed: the tokens with their scopes, the claims read, the introspection.
	_, body := br.get(ts.URL + "/account/data-use?lang=en")
	for _, want := range []string{"Tokens issued", "openid、profile、offline_access", "Details read", "Token checked", "Site history-site"} {
		if !contains(body, want) {
			t.Errorf("data-use page lacks %q", want)
		}
	}
	if _, logins := br.get(ts.URL + "/account/logins?lang=en"); !contains(logins, "Signed in") || !contains(logins, "password · network 127.0.0.0/24") {
		t.Errorf("login history lacks the sign-in:\n%.3000s", logins)
	}
	resp, _ := br.post(ts.URL+"/account/data-use", url.Values{"csrf_token": {field(t, csrfRe, body)}, "site": {"history-site"}, "kind": {"token"}})
	if resp.Request.URL.Path != "/account/data-use" || resp.Request.URL.Query().Get("site") != "history-site" {
		t.Fatalf("filter ended at %s", resp.Request.URL)
	}
	resp, csvBody := br.get(ts.URL + "/account/data-use/export?format=csv&site=history-site")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(csvBody, "\ufefftime,kind,site_id,site,released") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: status %d %v\n%.500s", resp.StatusCode, resp.Header, csvBody)
	}
	if strings.Count(csvBody, "\n") != 4 || !contains(csvBody, ",token,history-site,Site history-site,openid profile offline_access,") {
		t.Errorf("export:\n%s", csvBody)
	}
	if contains(csvBody, number) {
		t.Fatal("the export contains the ID number")
	}
}
