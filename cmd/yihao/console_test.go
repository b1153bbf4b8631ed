package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

const operatorPassword = "operator passphrase for tests"

// operator creates a console operator directly through the use-case layer.
func (ts *testServer) operator(username, region string, roles ...identity.Role) *identity.Operator {
	ts.t.Helper()
	// Usernames are unique per test run: sign-in counters live in the shared Redis.
	username = fmt.Sprintf("%s.%d", username, time.Now().UnixNano()%1_000_000_000)
	op, err := ts.app.console(ts.srv.provider).CreateOperator(context.Background(), nil, identity.NewOperatorInput{
		Username: username, Name: "Operator " + username, Roles: roles, Region: region, Password: operatorPassword})
	if err != nil {
		ts.t.Fatalf("create operator %s: %v", username, err)
	}
	return op
}

// consoleLogin signs an operator in through the console's form.
func (b *browser) consoleLogin(op *identity.Operator) {
	b.t.Helper()
	_, body := b.get(b.ts.URL + "/console/login")
	resp, body := b.post(b.ts.URL+"/console/login", url.Values{"csrf_token": {field(b.t, csrfRe, body)},
		"username": {op.Username}, "password": {operatorPassword}, "code": {op.TOTP.TOTPCode(time.Now())}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console" {
		b.t.Fatalf("console login: %d at %s\n%.1500s", resp.StatusCode, resp.Request.URL, body)
	}
}

// consolePost posts a console form, taking the CSRF token from page.
func (b *browser) consolePost(path, page string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	form.Set("csrf_token", field(b.t, csrfRe, page))
	return b.post(b.ts.URL+path, form)
}

// adminAPI calls the admin API with a bearer token.
func adminAPI(t *testing.T, ts *testServer, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, ts.URL+"/admin/api"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = jsonDecode(resp, &out)
	return resp.StatusCode, out
}

func adminToken(t *testing.T, ts *testServer, clientID, secret string, scopes ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: ts.URL + "/oauth2/token", Scopes: scopes}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	return tok.AccessToken
}

// TestConsoleRegionScopeFreezeAndApproval: a county registrar finds and
// freezes a citizen of its county, through the console and the admin API,
// and is refused one of another province through both (tried, not
// assumed); the freeze ends the citizen's live session and revokes their
// token at once; an unfreeze needs a second operator.
func TestConsoleRegionScopeFreezeAndApproval(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	county := ts.operator("county.clerk", "110105", identity.RoleRegistrar)
	city := ts.operator("city.clerk", "1101", identity.RoleRegistrar)

	inside, insideNumber := ts.citizen() // 110105…
	n, _ := identity.Parse(identity.ResidentID, validNumber("440524", "19800101", 7))
	outside, err := ts.app.register(ctx, n, "陈七", "", testPassword)
	if err != nil {
		t.Fatal(err)
	}

	// The citizen has a live session and tokens at a site.
	site := newRP(t, ts, "site-console")
	cb := ts.browser()
	tok, _ := site.exchange(site.login(cb, insideNumber))
	if site.introspect(tok.AccessToken)["active"] != true {
		t.Fatal("token not active before the freeze")
	}

	// Console: sign in, then look up outside the region → refused.
	ob := ts.browser()
	ob.consoleLogin(county)
	_, home := ob.get(ts.URL + "/console")
	resp, body := ob.consolePost("/console/lookup", home, url.Values{"number": {n.Value()}, "reason": {"counter visit"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("out-of-region look-up: status %d\n%.800s", resp.StatusCode, body)
	}
	if contains(body, n.Value()) || contains(body, "19800101") {
		t.Fatal("the refused number is echoed in the page")
	}
	if resp, _ := ob.get(ts.URL + "/console/citizens/" + outside.ID); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("out-of-region citizen page by id: status %d", resp.StatusCode)
	}
	// A look-up without a reason, or by partial number, finds nothing.
	resp, _ = ob.consolePost("/console/lookup", home, url.Values{"number": {insideNumber}, "reason": {""}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("look-up without a reason: status %d", resp.StatusCode)
	}
	resp, _ = ob.consolePost("/console/lookup", home, url.Values{"number": {insideNumber[:14]}, "reason": {"counter"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("look-up by partial number: status %d", resp.StatusCode)
	}

	// In the region: found; the page shows the number masked only.
	resp, page := ob.consolePost("/console/lookup", home, url.Values{"number": {insideNumber}, "reason": {"counter visit"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/citizens/"+inside.ID {
		t.Fatalf("in-region look-up: %d at %s\n%.800s", resp.StatusCode, resp.Request.URL, page)
	}
	if contains(page, insideNumber) || !contains(page, inside.Number.Masked()) {
		t.Fatal("citizen page does not show the number masked (or shows it in full)")
	}
	if contains(resp.Request.URL.String(), insideNumber) {
		t.Fatal("the number is in a URL")
	}

	// Every look-up was audited with its reason and outcome, never the number.
	lookups, err := ts.app.sql.AuditEntries(ctx, identity.AuditQuery{Actions: []identity.AuditAction{identity.AuditConsoleLookup}})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, e := range lookups.Entries {
		if e.Actor != identity.ActorOperator+county.ID || e.Detail["reason"] != "counter visit" {
			t.Errorf("look-up entry: actor %s reason %q", e.Actor, e.Detail["reason"])
		}
		if strings.Contains(toJSON(e), insideNumber) || strings.Contains(toJSON(e), n.Value()) {
			t.Error("a look-up entry holds a document number")
		}
		outcomes[e.Detail["outcome"]]++
	}
	if outcomes["out_of_region"] != 1 || outcomes["found"] != 1 || len(lookups.Entries) != 2 {
		t.Errorf("look-ups audited: %v (%d entries), want one out_of_region and one found", outcomes, len(lookups.Entries))
	}

	// Freeze through the console.
	resp, page = ob.consolePost("/console/citizens/"+inside.ID+"/freeze", page, url.Values{"reason": {"reported stolen"}})
	if resp.StatusCode != http.StatusOK || !contains(page, `id="citizen-status">已冻结`) {
		t.Fatalf("freeze: status %d\n%.1500s", resp.StatusCode, page)
	}
	// The live session ended and the token is dead, at once.
	v := oauth2.GenerateVerifier()
	resp, _ = cb.get(site.conf.AuthCodeURL("state-after-freeze", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none after freeze: %d %v", resp.StatusCode, loc)
	}
	if site.introspect(tok.AccessToken)["active"] != false {
		t.Fatal("access token still active after the freeze")
	}
	if _, err := site.refresh(tok.RefreshToken); err == nil {
		t.Fatal("refresh token still works after the freeze")
	}

	// Admin API: a client bound to the same county registrar.
	_, apiSecret := ts.client("county-api", func(c *oauth.Client) {
		c.GrantTypes, c.Scopes, c.RedirectURIs = []string{"client_credentials"}, []string{"admin", "api.read"}, nil
	})
	if err := ts.app.sql.BindClientOperator(ctx, "county-api", county.ID); err != nil {
		t.Fatal(err)
	}
	token := adminToken(t, ts, "county-api", apiSecret, "admin")
	if status, out := adminAPI(t, ts, token, "POST", "/citizens/lookup", map[string]string{"number": n.Value(), "reason": "api check"}); status != http.StatusForbidden || out["error"] != "out_of_region" {
		t.Fatalf("API out-of-region look-up: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, token, "GET", "/citizens/"+outside.ID, nil); status != http.StatusForbidden || out["error"] != "out_of_region" {
		t.Fatalf("API out-of-region citizen: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, token, "POST", "/citizens/"+outside.ID+"/freeze", map[string]string{"reason": "api"}); status != http.StatusForbidden {
		t.Fatalf("API out-of-region freeze: %d %v", status, out)
	}
	if c, _ := ts.app.sql.Citizen(ctx, outside.ID); c.Status != identity.StatusActive {
		t.Fatal("out-of-region citizen was frozen")
	}
	status, out := adminAPI(t, ts, token, "POST", "/citizens/lookup", map[string]string{"number": insideNumber, "reason": "api check"})
	if status != http.StatusOK || out["id"] != inside.ID || out["status"] != "frozen" || strings.Contains(toJSON(out), insideNumber) {
		t.Fatalf("API in-region look-up: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, token, "POST", "/citizens/"+inside.ID+"/freeze", map[string]string{"reason": "api freeze"}); status != http.StatusOK || out["status"] != "frozen" {
		t.Fatalf("API in-region freeze: %d %v", status, out)
	}
	// Without the admin scope, or with a bad token: refused.
	if status, out := adminAPI(t, ts, adminToken(t, ts, "county-api", apiSecret, "api.read"), "GET", "/citizens/"+inside.ID, nil); status != http.StatusForbidden || out["error"] != "insufficient_scope" {
		t.Fatalf("token without admin scope: %d %v", status, out)
	}
	if status, _ := adminAPI(t, ts, "not-a-token", "GET", "/citizens/"+inside.ID, nil); status != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", status)
	}

	// Unfreeze: asked by the county registrar, refused to the same operator
	// (console and API, twice), approved by a second one.
	resp, page = ob.get(ts.URL + "/console/citizens/" + inside.ID)
	resp, page = ob.consolePost("/console/citizens/"+inside.ID+"/unfreeze", page, url.Values{"reason": {"owner came in"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ask unfreeze: %d\n%.800s", resp.StatusCode, page)
	}
	pending, err := ts.app.sql.PendingApprovals(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending approvals: %d, %v", len(pending), err)
	}
	ap := pending[0].ID
	_, list := ob.get(ts.URL + "/console/approvals")
	for i := 0; i < 2; i++ {
		resp, body = ob.consolePost("/console/approvals/"+ap+"/approve", list, url.Values{})
		if resp.StatusCode != http.StatusConflict || !contains(body, "申请人不能审批自己的申请") {
			t.Fatalf("same operator approves (try %d): %d\n%.800s", i+1, resp.StatusCode, body)
		}
	}
	if status, out := adminAPI(t, ts, token, "POST", "/approvals/"+ap+"/approve", nil); status != http.StatusConflict || out["error"] != "same_operator" {
		t.Fatalf("same operator approves through the API: %d %v", status, out)
	}
	if c, _ := ts.app.sql.Citizen(ctx, inside.ID); c.Status != identity.StatusFrozen {
		t.Fatal("unfrozen without a second operator")
	}
	sb := ts.browser()
	sb.consoleLogin(city)
	_, list = sb.get(ts.URL + "/console/approvals")
	resp, body = sb.consolePost("/console/approvals/"+ap+"/approve", list, url.Values{})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/approvals" {
		t.Fatalf("second operator approves: %d\n%.800s", resp.StatusCode, body)
	}
	if c, _ := ts.app.sql.Citizen(ctx, inside.ID); c.Status != identity.StatusActive {
		t.Fatal("still frozen after the second operator approved")
	}
	resp, _ = sb.consolePost("/console/approvals/"+ap+"/approve", list, url.Values{})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("approving a decided approval: %d", resp.StatusCode)
	}
	// The citizen can sign in again.
	site.exchange(site.login(ts.browser(), insideNumber))

	// English, without JavaScript: the pages are plain forms.
	resp, body = ob.get(ts.URL + "/console?lang=en")
	if resp.StatusCode != http.StatusOK || !contains(body, "Find by document number") || contains(body, "<script") {
		t.Fatalf("English console: %d", resp.StatusCode)
	}
}

func TestConsoleSignInNeedsPasswordAndCode(t *testing.T) {
	ts := startServer(t)
	op := ts.operator("nation.admin", "", identity.RoleAdministrator)
	b := ts.browser()
	_, body := b.get(ts.URL + "/console/login")
	for _, form := range []url.Values{
		{"username": {op.Username}, "password": {operatorPassword}, "code": {""}},
		{"username": {op.Username}, "password": {"wrong password entirely"}, "code": {op.TOTP.TOTPCode(time.Now())}},
		{"username": {op.Username}, "password": {operatorPassword}, "code": {wrongCode(op.TOTP.TOTPCode(time.Now()))}},
	} {
		form.Set("csrf_token", field(t, csrfRe, body))
		resp, page := b.post(ts.URL+"/console/login", form)
		if resp.Request.URL.Path == "/console" || resp.StatusCode == http.StatusOK {
			t.Fatalf("signed in with %v: %d", form, resp.StatusCode)
		}
		if contains(page, operatorPassword) {
			t.Fatal("password echoed")
		}
	}
	// Not signed in: the console sends to the sign-in page; a citizen's
	// session cookie is no operator session.
	if resp, _ := b.get(ts.URL + "/console"); resp.Request.URL.Path != "/console/login" {
		t.Fatalf("console without operator session: %s", resp.Request.URL)
	}
	b.consoleLogin(op)
	// The OpenAPI document is served.
	resp, err := http.Get(ts.URL + "/admin/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := jsonDecode(resp, &doc); err != nil || doc["openapi"] == nil {
		t.Fatalf("openapi.json: %v %v", err, doc["openapi"])
	}
}

func wrongCode(c string) string {
	if c == "000000" {
		return "111111"
	}
	return "000000"
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
