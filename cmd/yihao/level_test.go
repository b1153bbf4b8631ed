package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// raiseLevel takes a signed-in browser through /account/level: the phone
// code (the n-th one on the console), then the verification service.
func (b *browser) raiseLevel(t *testing.T, console *smsConsole, n int) (*http.Response, string) {
	t.Helper()
	_, body := b.get(b.ts.URL + "/account/level")
	resp, body := b.post(b.ts.URL+"/account/level/send", url.Values{"csrf_token": {field(t, csrfRe, body)}})
	if resp.StatusCode != http.StatusOK || !contains(body, `action="/account/level/verify"`) || !contains(body, "139****9000") {
		t.Fatalf("send the phone code: %d\n%.2000s", resp.StatusCode, body)
	}
	code := console.next(t, n)
	return b.post(b.ts.URL+"/account/level/verify", url.Values{"csrf_token": {field(t, csrfRe, body)}, "code": {code}})
}

// A self-registered citizen raises the account to level 2 through the
// account page (development verifier and an SMS code); a site registered
// with a minimum level of 2 refuses the citizen before, and gets tokens
// after, with the proofing claims beside acr.
func TestLevelRaisedThroughTheAccountPage(t *testing.T) {
	ts, console := startSMSServer(t)
	site := newRP(t, ts, "level2-site", func(c *oauth.Client) { c.MinLevel = 2 })
	_, number := ts.citizen()
	_, other := ts.citizen()
	b := ts.browser()

	loc := ts.browser().authorize(site.conf.AuthCodeURL("state-0123456789"), number, testPassword)
	if loc.Query().Get("error") != "access_denied" {
		t.Fatalf("a level-1 citizen at a min-level-2 site: %v", loc)
	}

	_, body := b.signInTo("/account/level", number)
	if !contains(body, "一级") || !contains(body, `action="/account/level/send"`) {
		t.Fatalf("level page:\n%.2000s", body)
	}
	if contains(body, number) {
		t.Fatal("the level page shows the whole number")
	}
	resp, body := b.raiseLevel(t, console, 0)
	if resp.Request.URL.Path != "/account/level" || resp.Request.URL.Query().Get("done") != "raised" || !contains(body, "二级") {
		t.Fatalf("after the check: %s (%d)\n%.2000s", resp.Request.URL, resp.StatusCode, body)
	}
	if _, prof := b.get(ts.URL + "/account"); !contains(prof, "二级") || !contains(prof, `href="/account/level"`) {
		t.Errorf("profile after the raise:\n%.2000s", prof)
	}

	// The SSO session is still there: the site now gets tokens.
	l, resp, body := site.startAuth(b)
	l.take(t, b.finish(resp, body))
	_, idt := site.exchange(l)
	var c struct {
		Level      int    `json:"level"`
		Method     string `json:"level_method"`
		VerifiedAt string `json:"level_verified_at"`
		ACR        string `json:"acr"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Level != 2 || c.Method != identity.LevelMethodIDCheck || c.VerifiedAt == "" || c.ACR != oauth.ACRPassword {
		t.Fatalf("id token: %+v", c)
	}
	if _, err := time.Parse(time.RFC3339, c.VerifiedAt); err != nil {
		t.Fatalf("level_verified_at %q: %v", c.VerifiedAt, err)
	}

	// Another, still level-1, citizen is refused.
	b2 := ts.browser()
	if loc := b2.authorize(site.conf.AuthCodeURL("state-0123456789"), other, testPassword); loc.Query().Get("error") != "access_denied" {
		t.Fatalf("a level-1 citizen: %v", loc)
	}

	// The raise is in the audit trail, without the number.
	cit, _ := ts.app.sql.CitizenByNumber(context.Background(), mustNumber(t, number))
	page, err := ts.app.sql.AuditEntries(context.Background(), identity.AuditQuery{CitizenID: cit.ID, Actions: []identity.AuditAction{identity.AuditLevelRaised}})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Detail["verifier"] != "dev" {
		t.Fatalf("audit: %+v, %v", page, err)
	}
}

// The development verifier never confirms DevNoMatchNumber: the page says
// so and the level stays.
func TestLevelNotConfirmed(t *testing.T) {
	ts, console := startSMSServer(t)
	n := mustNumber(t, identity.DevNoMatchNumber)
	if _, err := ts.app.register(context.Background(), n, "王五", "13900139000", testPassword); err != nil {
		t.Fatal(err)
	}
	b := ts.browser()
	b.signInTo("/account/level", identity.DevNoMatchNumber)
	resp, body := b.raiseLevel(t, console, 0)
	if resp.StatusCode != http.StatusBadRequest || !contains(body, "未能确认") || !contains(body, "一级") {
		t.Fatalf("no match: %d\n%.2000s", resp.StatusCode, body)
	}
}

// Raising the level needs a login at most 10 minutes old: a stale session
// is sent to sign in again and nothing is sent.
func TestLevelNeedsAFreshLogin(t *testing.T) {
	ts, console := startSMSServer(t)
	c, number := ts.citizen()
	b := ts.browser()
	_, body := b.signInTo("/account/level", number)
	ageSessions(t, ts, c.ID, time.Hour)
	_, body = b.get(ts.URL + "/account/level")
	if !contains(body, `id="level-reauth"`) || contains(body, `action="/account/level/send"`) {
		t.Fatalf("stale session: the page offers the check:\n%.2000s", body)
	}
	_, withForm := b.get(ts.URL + "/login")
	resp, _ := b.post(ts.URL+"/account/level/send", url.Values{"csrf_token": {field(t, csrfRe, withForm)}})
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("return") != "/account/level" {
		t.Fatalf("stale send ended at %s", resp.Request.URL)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(console.codes()); n != 0 {
		t.Fatalf("%d codes sent for a stale session", n)
	}
}

// ageSessions moves the last authentication of every session of the citizen
// back by d.
func ageSessions(t *testing.T, ts *testServer, citizenID string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	ss, err := ts.app.eph.CitizenSessions(ctx, citizenID)
	if err != nil || len(ss) == 0 {
		t.Fatalf("CitizenSessions = %v, %v", ss, err)
	}
	for _, s := range ss {
		if err := ts.app.eph.UpgradeSession(ctx, s.ID, s.ACR, s.AMR, s.AuthTime.Add(-d)); err != nil {
			t.Fatal(err)
		}
	}
}

func mustNumber(t *testing.T, s string) identity.Number {
	t.Helper()
	n, err := identity.Parse(identity.ResidentID, s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
