package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// apiAs returns an admin-API token acting as op (a client bound to it).
func (ts *testServer) apiAs(op *identity.Operator, clientID string) string {
	ts.t.Helper()
	_, secret := ts.client(clientID, func(c *oauth.Client) {
		c.GrantTypes, c.Scopes, c.RedirectURIs = []string{"client_credentials"}, []string{"admin"}, nil
	})
	if err := ts.app.sql.BindClientOperator(context.Background(), clientID, op.ID); err != nil {
		ts.t.Fatal(err)
	}
	return adminToken(ts.t.(*testing.T), ts, clientID, secret, "admin")
}

// TestConsoleAPIMergeRegionAndApproval: merges through the admin API follow
// the console's rules: both accounts in the caller's region (refused from
// the path or from the survivor's number, nothing asked), the asking
// operator never approves, a second one does; the unmerge likewise.
func TestConsoleAPIMergeRegionAndApproval(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	county := ts.apiAs(ts.operator("api.merge.county", "110105", identity.RoleRegistrar), "api-merge-county")
	city := ts.apiAs(ts.operator("api.merge.city", "1101", identity.RoleRegistrar), "api-merge-city")
	auditor := ts.apiAs(ts.operator("api.merge.auditor", "", identity.RoleAuditor), "api-merge-auditor")

	dup, _ := ts.citizen()
	keep, keepNumber := ts.citizen()
	n, _ := identity.Parse(identity.ResidentID, validNumber("440524", "19800101", 8))
	outside, err := ts.app.register(ctx, n, "陈八", "", testPassword)
	if err != nil {
		t.Fatal(err)
	}

	// Out of the region: the account of the path, or the survivor named.
	if status, out := adminAPI(t, ts, county, "POST", "/citizens/"+outside.ID+"/merge", map[string]string{"number": keepNumber, "reason": "duplicate"}); status != http.StatusForbidden || out["error"] != "out_of_region" {
		t.Fatalf("merge of an account outside the region: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, county, "POST", "/citizens/"+dup.ID+"/merge", map[string]string{"number": n.Value(), "reason": "duplicate"}); status != http.StatusForbidden || out["error"] != "out_of_region" || strings.Contains(toJSON(out), n.Value()) {
		t.Fatalf("merge into a survivor outside the region: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, county, "POST", "/citizens/"+outside.ID+"/unmerge", map[string]string{"reason": "mistake"}); status != http.StatusForbidden || out["error"] != "out_of_region" {
		t.Fatalf("unmerge outside the region: %d %v", status, out)
	}
	// Not a changer: an auditor may not ask.
	if status, out := adminAPI(t, ts, auditor, "POST", "/citizens/"+dup.ID+"/merge", map[string]string{"number": keepNumber, "reason": "duplicate"}); status != http.StatusForbidden || out["error"] != "access_denied" {
		t.Fatalf("an auditor asks for a merge: %d %v", status, out)
	}
	if pending, _ := ts.app.sql.PendingApprovals(ctx); len(pending) != 0 {
		t.Fatalf("refused requests left %d approvals", len(pending))
	}

	// Asked in the region: an approval, not a merge.
	status, out := adminAPI(t, ts, county, "POST", "/citizens/"+dup.ID+"/merge", map[string]string{"number": keepNumber, "reason": "same person, two documents"})
	if status != http.StatusAccepted || out["action"] != "citizen.merge" || out["target"] != dup.ID || out["status"] != "pending" {
		t.Fatalf("ask merge: %d %v", status, out)
	}
	if params, _ := out["params"].(map[string]any); params["survivor"] != keep.ID {
		t.Fatalf("merge approval params: %v", out["params"])
	}
	if strings.Contains(toJSON(out), keepNumber) {
		t.Fatal("the survivor's number is in the answer")
	}
	ap := out["id"].(string)
	for range 2 {
		if status, out := adminAPI(t, ts, county, "POST", "/approvals/"+ap+"/approve", nil); status != http.StatusConflict || out["error"] != "same_operator" {
			t.Fatalf("the asking operator approves its own merge: %d %v", status, out)
		}
	}
	if c, _ := ts.app.sql.Citizen(ctx, dup.ID); c.Status == identity.StatusMerged {
		t.Fatal("merged without a second operator")
	}
	if status, _ := adminAPI(t, ts, county, "GET", "/citizens/"+dup.ID+"/merge", nil); status != http.StatusNotFound {
		t.Fatalf("merge of an account not merged: %d", status)
	}
	status, out = adminAPI(t, ts, city, "GET", "/approvals", nil)
	if list, _ := out["approvals"].([]any); status != http.StatusOK || len(list) != 1 {
		t.Fatalf("the second operator's approvals: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, city, "POST", "/approvals/"+ap+"/approve", nil); status != http.StatusOK || out["status"] != "approved" {
		t.Fatalf("second operator approves: %d %v", status, out)
	}
	if c, _ := ts.app.sql.Citizen(ctx, dup.ID); c.Status != identity.StatusMerged {
		t.Fatalf("after approval: status %s", c.Status)
	}
	status, out = adminAPI(t, ts, county, "GET", "/citizens/"+dup.ID+"/merge", nil)
	if status != http.StatusOK || out["survivor_id"] != keep.ID || out["reversible"] != true {
		t.Fatalf("merge in effect: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, county, "GET", "/citizens/"+dup.ID, nil); status != http.StatusOK || out["status"] != "merged" {
		t.Fatalf("merged citizen: %d %v", status, out)
	}

	// Unmerge: asked, refused to the same operator, approved by the second.
	status, out = adminAPI(t, ts, county, "POST", "/citizens/"+dup.ID+"/unmerge", map[string]string{"reason": "two people after all"})
	if status != http.StatusAccepted || out["action"] != "citizen.unmerge" {
		t.Fatalf("ask unmerge: %d %v", status, out)
	}
	ap = out["id"].(string)
	if status, out := adminAPI(t, ts, county, "POST", "/approvals/"+ap+"/approve", nil); status != http.StatusConflict || out["error"] != "same_operator" {
		t.Fatalf("the asking operator approves its own unmerge: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, city, "POST", "/approvals/"+ap+"/approve", nil); status != http.StatusOK || out["status"] != "approved" {
		t.Fatalf("second operator approves the unmerge: %d %v", status, out)
	}
	if c, _ := ts.app.sql.Citizen(ctx, dup.ID); c.Status != identity.StatusActive {
		t.Fatalf("after unmerge: status %s", c.Status)
	}
	if status, _ := adminAPI(t, ts, county, "GET", "/citizens/"+dup.ID+"/merge", nil); status != http.StatusNotFound {
		t.Fatalf("merge after the unmerge: %d", status)
	}
	// The survivor's look-up was audited with the reason; no entry holds a number.
	entries, err := ts.app.sql.AuditEntries(ctx, identity.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	for _, e := range entries.Entries {
		if strings.Contains(toJSON(e), keepNumber) || strings.Contains(toJSON(e), n.Value()) {
			t.Errorf("%s holds a document number", e.Action)
		}
		if e.Action == identity.AuditMergeAsked || e.Action == identity.AuditUnmergeAsked {
			asked++
		}
	}
	if asked != 2 {
		t.Errorf("%d merge/unmerge requests audited, want 2", asked)
	}
}

// TestConsoleAPIAuditTrail: auditors read the trail through the API within
// their region, by citizen id, action and time, page by page; others are
// refused; administrators verify the chain.
func TestConsoleAPIAuditTrail(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	county := ts.apiAs(ts.operator("api.audit.county", "110105", identity.RoleAuditor), "api-audit-county")
	nation := ts.apiAs(ts.operator("api.audit.nation", "", identity.RoleAuditor), "api-audit-nation")
	clerk := ts.apiAs(ts.operator("api.audit.clerk", "110105", identity.RoleRegistrar), "api-audit-clerk")
	admin := ts.apiAs(ts.operator("api.audit.admin", "", identity.RoleAdministrator), "api-audit-admin")

	inside, insideNumber := ts.citizen()
	n, _ := identity.Parse(identity.ResidentID, validNumber("440524", "19800101", 9))
	outside, err := ts.app.register(ctx, n, "陈九", "", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for _, c := range []*identity.Citizen{inside, outside} {
			if err := ts.app.sql.AppendAudit(ctx, &identity.AuditEntry{Action: identity.AuditLoginSuccess, CitizenID: c.ID,
				Actor: identity.ActorCitizen + c.ID, Detail: map[string]string{"method": "pwd"}}); err != nil {
				t.Fatal(err)
			}
		}
	}

	citizensOf := func(out map[string]any) map[string]int {
		seen := map[string]int{}
		list, _ := out["entries"].([]any)
		for _, e := range list {
			seen[e.(map[string]any)["citizen_id"].(string)]++
		}
		return seen
	}
	status, out := adminAPI(t, ts, county, "GET", "/audit?action=login.success", nil)
	if seen := citizensOf(out); status != http.StatusOK || seen[inside.ID] != 3 || seen[outside.ID] != 0 {
		t.Fatalf("regional auditor: %d %v", status, seen)
	}
	if strings.Contains(toJSON(out), insideNumber) || !strings.Contains(toJSON(out), inside.Number.Masked()) {
		t.Fatal("entries do not show the citizen masked (or show the number)")
	}
	status, out = adminAPI(t, ts, nation, "GET", "/audit?action=login.success&action=citizen.registered", nil)
	if seen := citizensOf(out); status != http.StatusOK || seen[inside.ID] < 3 || seen[outside.ID] < 3 {
		t.Fatalf("national auditor: %d %v", status, seen)
	}
	if status, out := adminAPI(t, ts, county, "GET", "/audit?citizen="+outside.ID, nil); status != http.StatusForbidden || out["error"] != "out_of_region" {
		t.Fatalf("a citizen outside the region: %d %v", status, out)
	}
	status, out = adminAPI(t, ts, county, "GET", "/audit?citizen="+inside.ID+"&limit=2", nil)
	if seen := citizensOf(out); status != http.StatusOK || seen[inside.ID] != 2 || len(seen) != 1 || out["next"] == nil {
		t.Fatalf("one citizen, two a page: %d %v", status, out)
	}
	status, out = adminAPI(t, ts, county, "GET", "/audit?citizen="+inside.ID+"&limit=2&cursor="+url.QueryEscape(out["next"].(string)), nil)
	if seen := citizensOf(out); status != http.StatusOK || seen[inside.ID] == 0 {
		t.Fatalf("older page: %d %v", status, out)
	}
	if status, out := adminAPI(t, ts, county, "GET", "/audit?since=2000-01-01&until=2000-01-02", nil); status != http.StatusOK || len(citizensOf(out)) != 0 {
		t.Fatalf("a day long past: %d %v", status, out)
	}
	for _, q := range []string{"action=no.such.action", "since=yesterday", "limit=0", "limit=500"} {
		if status, out := adminAPI(t, ts, county, "GET", "/audit?"+q, nil); status != http.StatusBadRequest || out["error"] != "invalid_request" {
			t.Errorf("%s: %d %v", q, status, out)
		}
	}
	// Not an auditor: refused; verifying is for administrators.
	if status, out := adminAPI(t, ts, clerk, "GET", "/audit", nil); status != http.StatusForbidden || out["error"] != "access_denied" {
		t.Fatalf("a registrar reads the trail: %d %v", status, out)
	}
	if status, _ := adminAPI(t, ts, county, "POST", "/audit/verify", nil); status != http.StatusForbidden {
		t.Fatalf("an auditor verifies: %d", status)
	}
	status, out = adminAPI(t, ts, admin, "POST", "/audit/verify", nil)
	if status != http.StatusOK || out["intact"] != true || out["heads_digest"] == "" {
		t.Fatalf("verify: %d %v", status, out)
	}
	status, out = adminAPI(t, ts, nation, "GET", "/audit?action=console.audit.verified", nil)
	if list, _ := out["entries"].([]any); status != http.StatusOK || len(list) != 1 {
		t.Fatalf("the verification is audited: %d %v", status, out)
	}

	// The trail page names actions, in both languages.
	b := ts.browser()
	b.consoleLogin(ts.operator("page.audit.nation", "", identity.RoleAuditor))
	if _, page := b.get(ts.URL + "/console/audit?action=login.success"); !contains(page, "<td>登录成功</td>") || contains(page, "<td>login.success</td>") {
		t.Fatalf("zh-CN trail page does not name the action:\n%.2000s", page)
	}
	if _, page := b.get(ts.URL + "/console/audit?action=console.audit.verified&lang=en"); !contains(page, "<td>Audit chain verified</td>") {
		t.Fatalf("English trail page does not name the action:\n%.2000s", page)
	}
}

// TestConsoleAPIClientACRAndIDCard: a site's minimum acr and its idcard
// permission are set through the admin API and the console's form; the
// idcard scope is refused without the permission, and allowing or
// withdrawing it is audited.
func TestConsoleAPIClientACRAndIDCard(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	adminOp := ts.operator("api.client.admin", "", identity.RoleAdministrator)
	admin := ts.apiAs(adminOp, "api-client-admin")
	site := map[string]any{"client_id": "tax-site", "client_name": "Tax", "redirect_uris": []string{"https://tax.example/cb"},
		"scopes": []string{"openid", "idcard"}}

	if status, out := adminAPI(t, ts, admin, "POST", "/clients", site); status != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Fatalf("idcard without allow_idcard: %d %v", status, out)
	}
	site["allow_idcard"], site["min_acr"] = true, "urn:yihao:acr:9"
	if status, out := adminAPI(t, ts, admin, "POST", "/clients", site); status != http.StatusBadRequest {
		t.Fatalf("an unknown acr: %d %v", status, out)
	}
	site["min_acr"] = oauth.ACRMulti
	status, out := adminAPI(t, ts, admin, "POST", "/clients", site)
	if status != http.StatusCreated || out["min_acr"] != oauth.ACRMulti || out["allow_idcard"] != true {
		t.Fatalf("create: %d %v", status, out)
	}
	if c, err := ts.app.sql.Client(ctx, "tax-site"); err != nil || c.MinACR != oauth.ACRMulti || !c.AllowIDCard {
		t.Fatalf("stored: %+v %v", c, err)
	}
	site["allow_idcard"], site["scopes"] = false, []string{"openid"}
	delete(site, "client_id")
	if status, out := adminAPI(t, ts, admin, "PUT", "/clients/tax-site", site); status != http.StatusOK || out["allow_idcard"] != false {
		t.Fatalf("withdraw idcard: %d %v", status, out)
	}

	// The console's form shows both and sets them.
	b := ts.browser()
	b.consoleLogin(adminOp)
	_, page := b.get(ts.URL + "/console/clients/tax-site")
	if !contains(page, `<option value="urn:yihao:acr:2" selected>`) || !contains(page, `name="allow_idcard"`) || !contains(page, `id="idcard-warning"`) {
		t.Fatalf("client page:\n%.3000s", page)
	}
	form := url.Values{"client_name": {"Tax"}, "redirect_uris": {"https://tax.example/cb"}, "scopes": {"openid idcard"},
		"grant_type": {"authorization_code", "refresh_token"}, "min_level": {"0"}, "min_acr": {oauth.ACRInPerson}}
	if resp, body := b.consolePost("/console/clients/tax-site", page, form); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("idcard scope without the permission, by form: %d\n%.1500s", resp.StatusCode, body)
	}
	form.Set("allow_idcard", "1")
	resp, page := b.consolePost("/console/clients/tax-site", page, form)
	if resp.StatusCode != http.StatusOK || !contains(page, `id="idcard-allowed"`) || !contains(page, `<option value="urn:yihao:acr:3" selected>`) {
		t.Fatalf("save by form: %d\n%.3000s", resp.StatusCode, page)
	}
	if c, _ := ts.app.sql.Client(ctx, "tax-site"); c.MinACR != oauth.ACRInPerson || !c.AllowIDCard {
		t.Fatalf("stored after the form: %q %v", c.MinACR, c.AllowIDCard)
	}
	if _, page := b.get(ts.URL + "/console/clients/tax-site?lang=en"); !contains(page, "idcard scope") {
		t.Fatal("English client page")
	}
	changes := map[string]int{}
	entries, err := ts.app.sql.AuditEntries(ctx, identity.AuditQuery{Actions: []identity.AuditAction{identity.AuditConsoleClient}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries.Entries {
		changes[e.Detail["change"]]++
	}
	if changes["idcard_allowed"] != 2 || changes["idcard_withdrawn"] != 1 {
		t.Fatalf("idcard changes audited: %v", changes)
	}
}
