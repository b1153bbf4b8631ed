package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

var ticketURLRe = regexp.MustCompile(`<p class="code">([^<]+)</p>`)

// qrStatus is the desktop's poll.
func (b *browser) qrStatus(ticket string) (int, string) {
	b.t.Helper()
	resp, body := b.get(b.ts.URL + "/login/qr/status?ticket=" + url.QueryEscape(ticket))
	var out struct{ Status string }
	_ = json.Unmarshal([]byte(body), &out)
	return resp.StatusCode, out.Status
}

// signIn gives a browser an SSO session with a password login.
func (b *browser) signIn(number string) {
	b.t.Helper()
	_, body := b.get(b.ts.URL + "/login")
	resp, _ := b.post(b.ts.URL+"/login", url.Values{"csrf_token": {field(b.t, csrfRe, body)}, "username": {number}, "password": {testPassword}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		b.t.Fatalf("sign in: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

// finishQR follows consent (if asked) to the client's redirect.
func (b *browser) finishQR(resp *http.Response, body string) *url.URL {
	b.t.Helper()
	for range 3 {
		if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
			loc, _ := resp.Location()
			return loc
		}
		if resp.Request.URL.Path != "/consent" {
			b.t.Fatalf("unexpected page %s (%d):\n%.1500s", resp.Request.URL, resp.StatusCode, body)
		}
		form := hidden(body)
		form.Set("decision", "allow")
		resp, body = b.post(b.ts.URL+"/consent", form)
	}
	b.t.Fatalf("did not reach the client")
	return nil
}

// TestQRLogin: a desktop browser shows a QR code; the citizen's phone,
// already signed in, confirms; the desktop continues with its own session
// (amr qr + the phone's), and the ticket works once, for that desktop only.
func TestQRLogin(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "portal")
	_, number := ts.citizen()
	phone, desktop, stranger := ts.browser(), ts.browser(), ts.browser()
	phone.signIn(number)

	l := loginResult{state: "state-qr-0123456789abcdef", nonce: "nonce-qr-0123456789abcdef", verifier: strings.Repeat("v", 50)}
	resp, body := desktop.get(site.conf.AuthCodeURL(l.state, oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce)))
	if resp.Request.URL.Path != "/login" || !contains(body, `id="qr-login"`) {
		t.Fatalf("login page has no QR link: %s", resp.Request.URL)
	}
	flow := field(t, flowRe, body)
	resp, body = desktop.get(ts.URL + "/login/qr?flow=" + url.QueryEscape(flow))
	if resp.StatusCode != 200 || !contains(body, "<svg ") || !contains(body, `class="qr"`) {
		t.Fatalf("QR page: %d\n%.1500s", resp.StatusCode, body)
	}
	form := hidden(body)
	ticket := form.Get("ticket")
	ticketURL := html.UnescapeString(field(t, ticketURLRe, body))
	if ticketURL != ts.URL+"/qr/"+ticket || len(ticket) != 43 {
		t.Fatalf("ticket URL %q ticket %q", ticketURL, ticket)
	}
	if code, st := desktop.qrStatus(ticket); code != 200 || st != "pending" {
		t.Fatalf("first poll: %d %s", code, st)
	}
	// Only the desktop that holds the ticket's cookie learns its status.
	if _, st := stranger.qrStatus(ticket); st != "expired" {
		t.Fatalf("status for another browser: %s", st)
	}
	// A phone without a session is sent to sign in first, and back.
	if resp, _ := stranger.get(ticketURL); resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("return") != "/qr/"+ticket {
		t.Fatalf("phone without a session went to %s", resp.Request.URL)
	}
	// The phone sees the site and where the desktop is (network only).
	resp, body = phone.get(ticketURL + "?lang=en")
	if resp.StatusCode != 200 || !contains(body, "Site portal") || !contains(body, "network 127.0.0.0/24") {
		t.Fatalf("phone confirm page: %d\n%.1500s", resp.StatusCode, body)
	}
	pf := hidden(body)
	pf.Set("decision", "allow")
	if resp, body = phone.post(ticketURL, pf); resp.StatusCode != 200 || !contains(body, `id="qr-done"`) {
		t.Fatalf("phone decision: %d\n%.800s", resp.StatusCode, body)
	}
	// Decided once.
	if resp, _ := phone.post(ticketURL, pf); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second decision: %d", resp.StatusCode)
	}
	if _, st := desktop.qrStatus(ticket); st != "approved" {
		t.Fatalf("poll after approval: %s", st)
	}
	// Another browser cannot redeem it: it has no desktop secret.
	_, own := stranger.get(ts.URL + "/login/qr?flow=" + url.QueryEscape(flow))
	steal := hidden(own)
	steal.Set("ticket", ticket)
	if resp, _ := stranger.post(ts.URL+"/login/qr/continue", steal); resp.Request.URL.Path != "/login/qr" {
		t.Fatalf("stranger's redemption went to %s", resp.Request.URL)
	}
	resp, body = desktop.post(ts.URL+"/login/qr/continue", form)
	l.redirect = desktop.finishQR(resp, body)
	l.code = l.redirect.Query().Get("code")
	if l.code == "" {
		t.Fatalf("no code: %s", l.redirect)
	}
	_, idt := site.exchange(l)
	var claims struct {
		SID string   `json:"sid"`
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	_ = idt.Claims(&claims)
	if !slices.Equal(claims.AMR, []string{"qr", "pwd"}) || claims.ACR != oauth.ACRPassword || claims.SID == "" {
		t.Fatalf("QR login claims %+v", claims)
	}
	phoneSess, err := ts.srv.sessions.RequestSession(phone.asRequest())
	if err != nil || phoneSess.ID == claims.SID {
		t.Fatalf("the desktop must have its own session: phone %v, desktop %s (%v)", phoneSess, claims.SID, err)
	}
	// Single use: the ticket is gone.
	if _, st := desktop.qrStatus(ticket); st != "expired" {
		t.Fatalf("poll after redemption: %s", st)
	}
	entries, err := ts.app.sql.AuditEntries(context.Background(), identity.AuditQuery{CitizenID: phoneSess.CitizenID, Actions: []identity.AuditAction{identity.AuditLoginSuccess}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries.Entries, func(e *identity.AuditEntry) bool { return e.Detail["method"] == "qr" && e.SessionID == claims.SID }) {
		t.Fatalf("no audited QR login among %d entries", len(entries.Entries))
	}
}

// TestQRLoginRefusedAndRateLimited: a refused ticket cannot be redeemed,
// and polls are limited per ticket.
func TestQRLoginRefusedAndRateLimited(t *testing.T) {
	ts := startServer(t)
	site := newRP(t, ts, "portal")
	_, number := ts.citizen()
	phone, desktop := ts.browser(), ts.browser()
	phone.signIn(number)
	resp, body := desktop.get(site.conf.AuthCodeURL("state-qr-0123456789abcdef", oauth2.S256ChallengeOption(strings.Repeat("v", 50)), oidc.Nonce("nonce-qr-0123456789abcdef")))
	_, body = desktop.get(ts.URL + "/login/qr?flow=" + url.QueryEscape(field(t, flowRe, body)))
	form := hidden(body)
	ticket := form.Get("ticket")
	_, body = phone.get(ts.URL + "/qr/" + ticket)
	pf := hidden(body)
	pf.Set("decision", "deny")
	phone.post(ts.URL+"/qr/"+ticket, pf)
	if _, st := desktop.qrStatus(ticket); st != "denied" {
		t.Fatalf("poll after refusal: %s", st)
	}
	resp, body = desktop.post(ts.URL+"/login/qr/continue", form)
	if resp.Request.URL.Path != "/login/qr" || resp.Request.URL.Query().Get("again") != "1" || hidden(body).Get("ticket") == ticket {
		t.Fatalf("redeeming a refused ticket: %s", resp.Request.URL)
	}
	limited := false
	for range 200 {
		if code, _ := desktop.qrStatus(ticket); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("200 polls of one ticket were never limited")
	}
}

// TestCounterSession: a terminal asks for a counter code; a registrar who
// checked the citizen's ID card opens the session in the console; the
// citizen confirms by scanning the QR code on their phone; the terminal's
// poll gets tokens with channel counter, the in-person amr and acr, and the
// operator; it is all in the audit trail, and freezing the account kills
// the tokens. An operator of another region is refused.
func TestCounterSession(t *testing.T) {
	ts := startServer(t)
	terminal := newRP(t, ts, "counter-1", func(c *oauth.Client) {
		c.Name = "Service hall 1"
		c.GrantTypes = []string{oauth.CounterGrantType}
		c.Scopes = []string{"openid", "profile"}
	})
	citizen, number := ts.citizen()
	phone := ts.browser()
	phone.signIn(number)

	ask := func() (string, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/counter_authorization", strings.NewReader("scope=openid+profile"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("counter-1", terminal.conf.ClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = jsonDecode(resp, &out)
		cc, _ := out["counter_code"].(string)
		uc, _ := out["user_code"].(string)
		if resp.StatusCode != 200 || cc == "" || len(uc) != 9 {
			t.Fatalf("counter authorization: %d %v", resp.StatusCode, out)
		}
		return cc, uc
	}
	poll := func(code string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {oauth.CounterGrantType}, "counter_code": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("counter-1", terminal.conf.ClientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = jsonDecode(resp, &out)
		return resp.StatusCode, out
	}
	counterCode, userCode := ask()
	if status, out := poll(counterCode); status != 400 || out["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v", status, out)
	}
	firstPoll := time.Now()

	// An operator of another region is refused, and the refusal is audited.
	far := ts.browser()
	farOp := ts.operator("far", "4401", identity.RoleRegistrar)
	far.consoleLogin(farOp)
	_, page := far.get(ts.URL + "/console/counter")
	if resp, body := far.consolePost("/console/counter", page, url.Values{"user_code": {userCode}, "document_type": {""}, "number": {number}, "method": {"qr"}}); resp.StatusCode == 200 || contains(body, "<svg ") {
		t.Fatalf("out-of-region operator: %d", resp.StatusCode)
	}

	clerkOp := ts.operator("clerk", "110105", identity.RoleRegistrar)
	clerk := ts.browser()
	clerk.consoleLogin(clerkOp)
	_, page = clerk.get(ts.URL + "/console/counter")
	resp, body := clerk.consolePost("/console/counter", page, url.Values{"user_code": {strings.ToLower(userCode)}, "document_type": {""}, "number": {number}, "method": {"qr"}})
	if resp.StatusCode != 200 || !contains(body, "<svg ") {
		t.Fatalf("open counter session: %d\n%.1500s", resp.StatusCode, body)
	}
	if strings.Contains(body, number) {
		t.Fatal("the console page repeats the document number")
	}
	ticketURL := html.UnescapeString(field(t, ticketURLRe, body))
	statusForm := hidden(body)
	// The terminal code is single use.
	_, page = clerk.get(ts.URL + "/console/counter")
	if resp, _ := clerk.consolePost("/console/counter", page, url.Values{"user_code": {userCode}, "document_type": {""}, "number": {number}, "method": {"qr"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("terminal code used twice: %d", resp.StatusCode)
	}
	// Another citizen's phone cannot confirm.
	_, other := ts.citizen()
	otherPhone := ts.browser()
	otherPhone.signIn(other)
	if resp, _ := otherPhone.get(ticketURL); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another citizen's phone: %d", resp.StatusCode)
	}
	resp, body = phone.get(ticketURL + "?lang=en")
	if resp.StatusCode != 200 || !contains(body, "Service hall 1") || !contains(body, clerkOp.Name) {
		t.Fatalf("phone counter page: %d\n%.1500s", resp.StatusCode, body)
	}
	pf := hidden(body)
	pf.Set("decision", "allow")
	if resp, body = phone.post(ticketURL, pf); resp.StatusCode != 200 {
		t.Fatalf("phone confirmation: %d\n%.800s", resp.StatusCode, body)
	}
	if _, body = clerk.post(ts.URL+"/console/counter/status", statusForm); !contains(body, `id="counter-done"`) {
		t.Fatalf("console status after confirmation:\n%.1500s", body)
	}

	time.Sleep(time.Until(firstPoll.Add(5*time.Second + 100*time.Millisecond)))
	status, out := poll(counterCode)
	if status != 200 {
		t.Fatalf("token poll: %d %v", status, out)
	}
	idt, err := terminal.verifier.Verify(context.Background(), out["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		SID      string   `json:"sid"`
		ACR      string   `json:"acr"`
		AMR      []string `json:"amr"`
		Channel  string   `json:"channel"`
		Operator string   `json:"operator"`
	}
	_ = idt.Claims(&claims)
	if claims.Channel != "counter" || claims.ACR != oauth.ACRInPerson || !slices.Equal(claims.AMR, []string{"counter", "qr"}) || claims.Operator != clerkOp.ID || claims.SID == "" {
		t.Fatalf("counter id token claims %+v", claims)
	}
	access := out["access_token"].(string)
	if got := terminal.introspect(access); got["active"] != true || got["channel"] != nil && got["channel"] != "counter" {
		t.Fatalf("introspection: %v", got)
	}
	if status, out := poll(counterCode); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("second redemption: %d %v", status, out)
	}

	page2, err := ts.app.sql.AuditEntries(context.Background(), identity.AuditQuery{CitizenID: citizen.ID})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[identity.AuditAction]*identity.AuditEntry{}
	for _, e := range page2.Entries {
		if _, ok := seen[e.Action]; !ok {
			seen[e.Action] = e
		}
	}
	if e := seen[identity.AuditCounterOpened]; e == nil || e.Actor != identity.ActorOperator+clerkOp.ID || e.Detail["outcome"] != "opened" {
		t.Fatalf("counter.opened: %+v", e)
	}
	if e := seen[identity.AuditCounterConfirmed]; e == nil || e.Detail["method"] != "qr" || e.Detail["operator"] != clerkOp.ID || e.SessionID != claims.SID {
		t.Fatalf("counter.confirmed: %+v", e)
	}
	if e := seen[identity.AuditTokenIssued]; e == nil || e.Detail["grant_type"] != oauth.CounterGrantType || e.SessionID != claims.SID {
		t.Fatalf("token.issued: %+v", e)
	}
	refusals, _ := ts.app.sql.AuditEntries(context.Background(), identity.AuditQuery{Actions: []identity.AuditAction{identity.AuditCounterOpened}})
	if !slices.ContainsFunc(refusals.Entries, func(e *identity.AuditEntry) bool {
		return e.Actor == identity.ActorOperator+farOp.ID && e.Detail["outcome"] == "out_of_region"
	}) {
		t.Fatal("the out-of-region attempt is not audited")
	}

	// Lineage: freezing the account kills the terminal's tokens.
	if err := ts.app.console(ts.srv.provider).Freeze(context.Background(), clerkOp, citizen.ID, "test freeze"); err != nil {
		t.Fatal(err)
	}
	ts.srv.provider.Wait()
	if got := terminal.introspect(access); got["active"] != false {
		t.Fatalf("counter token alive after freeze: %v", got)
	}
}

// asRequest is a request carrying the browser's cookies for this server.
func (b *browser) asRequest() *http.Request {
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+"/", nil)
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	return req
}

// TestCounterSessionBySMS: the citizen confirms with the SMS code sent to
// the bound phone, read out to the operator; a wrong code is refused.
func TestCounterSessionBySMS(t *testing.T) {
	ts, sms := startSMSServer(t)
	terminal := newRP(t, ts, "counter-2", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.CounterGrantType}
		c.Scopes = []string{"openid"}
	})
	_, number := ts.citizen()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/counter_authorization", strings.NewReader("scope=openid"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("counter-2", terminal.conf.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var da map[string]any
	_ = jsonDecode(resp, &da)
	clerkOp := ts.operator("clerk", "11", identity.RoleRegistrar)
	clerk := ts.browser()
	clerk.consoleLogin(clerkOp)
	_, page := clerk.get(ts.URL + "/console/counter")
	resp, body := clerk.consolePost("/console/counter", page, url.Values{"user_code": {da["user_code"].(string)}, "document_type": {""}, "number": {number}, "method": {"sms"}})
	if resp.StatusCode != 200 || !contains(body, `action="/console/counter/sms"`) || !contains(body, "139****9000") {
		t.Fatalf("open by SMS: %d\n%.1500s", resp.StatusCode, body)
	}
	code := sms.next(t, 0)
	form := hidden(body)
	form.Set("code", wrongCode(code))
	if resp, _ := clerk.post(ts.URL+"/console/counter/sms", form); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	form.Set("code", code)
	if resp, body = clerk.post(ts.URL+"/console/counter/sms", form); resp.StatusCode != 200 || !contains(body, `id="counter-done"`) {
		t.Fatalf("right code: %d\n%.1000s", resp.StatusCode, body)
	}
	tr, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {oauth.CounterGrantType}, "counter_code": {da["counter_code"].(string)}}.Encode()))
	tr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tr.SetBasicAuth("counter-2", terminal.conf.ClientSecret)
	resp, err = http.DefaultClient.Do(tr)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = jsonDecode(resp, &out)
	idt, err := terminal.verifier.Verify(context.Background(), fmt.Sprint(out["id_token"]))
	if err != nil {
		t.Fatalf("token: %d %v (%v)", resp.StatusCode, out, err)
	}
	var claims struct {
		AMR      []string `json:"amr"`
		Channel  string   `json:"channel"`
		Operator string   `json:"operator"`
	}
	_ = idt.Claims(&claims)
	if !slices.Equal(claims.AMR, []string{"counter", "sms"}) || claims.Channel != "counter" || claims.Operator != clerkOp.ID {
		t.Fatalf("claims %+v", claims)
	}
}
