package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

// TestAuditorsReadTheTrailInTheirRegion: a county auditor sees entries of
// its county's citizens only, none about no citizen, and is refused a
// citizen of another province by number and by id; a national auditor sees
// everything; a look-up by number carries a reason and never puts the
// number in an address or a page; pages follow; an administrator verifies
// the chain from the console; a registrar may not read the trail.
func TestAuditorsReadTheTrailInTheirRegion(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	inside, insideNumber := ts.citizen()
	n, _ := identity.Parse(identity.ResidentID, validNumber("440524", "19800101", 9))
	outside, err := ts.app.register(ctx, n, "陈七", "", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	site := newRP(t, ts, "audit-site")
	site.exchange(site.login(ts.browser(), insideNumber))
	site.exchange(site.login(ts.browser(), n.Value()))
	for range 60 { // enough for a second page
		if err := ts.app.sql.AppendAudit(ctx, &identity.AuditEntry{Action: identity.AuditTokenIntrospected, CitizenID: inside.ID, Actor: identity.ActorClient + "audit-site", ClientID: "audit-site"}); err != nil {
			t.Fatal(err)
		}
	}

	county := ts.operator("county.auditor", "110105", identity.RoleAuditor)
	nation := ts.operator("nation.auditor", "", identity.RoleAuditor)
	admin := ts.operator("nation.admin", "", identity.RoleAdministrator)
	clerk := ts.operator("county.registrar", "110105", identity.RoleRegistrar)

	cb := ts.browser()
	cb.consoleLogin(county)
	resp, page := cb.get(ts.URL + "/console/audit?action=login.success")
	if resp.StatusCode != http.StatusOK || !contains(page, inside.Number.Masked()) {
		t.Fatalf("county auditor's trail: %d\n%.1500s", resp.StatusCode, page)
	}
	if contains(page, outside.Number.Masked()) || contains(page, outside.ID) {
		t.Fatal("a county auditor sees an entry of another province's citizen")
	}
	resp, page = cb.get(ts.URL + "/console/audit?action=operator.login")
	if resp.StatusCode != http.StatusOK || contains(page, `id="audit-entries"`) {
		t.Fatal("a county auditor sees entries about no citizen")
	}
	if resp, _ := cb.get(ts.URL + "/console/audit?citizen=" + outside.ID); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("county auditor reads another province's citizen by id: %d", resp.StatusCode)
	}
	resp, page = cb.consolePost("/console/audit", page, url.Values{"number": {n.Value()}, "reason": {"complaint review"}})
	if resp.StatusCode != http.StatusForbidden || contains(page, n.Value()) {
		t.Fatalf("county auditor looks up another province's number: %d", resp.StatusCode)
	}
	_, page = cb.get(ts.URL + "/console/audit")
	resp, _ = cb.consolePost("/console/audit", page, url.Values{"number": {insideNumber}, "reason": {""}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("look-up without a reason: %d", resp.StatusCode)
	}
	resp, page = cb.consolePost("/console/audit", page, url.Values{"number": {insideNumber}, "reason": {"complaint review"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("citizen") != inside.ID {
		t.Fatalf("look-up in the region: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if contains(resp.Request.URL.String(), insideNumber) || contains(page, insideNumber) {
		t.Fatal("the full number is in the address or the page")
	}
	if !contains(page, `id="audit-citizen"`) || !contains(page, "token.introspected") {
		t.Fatalf("citizen's trail:\n%.1500s", page)
	}
	next := regexp.MustCompile(`href="(/console/audit\?[^"]*cursor=[^"]*)" rel="next"`).FindStringSubmatch(page)
	if next == nil {
		t.Fatal("no link to older entries after 50")
	}
	if resp, older := cb.get(ts.URL + html.UnescapeString(next[1])); resp.StatusCode != http.StatusOK || !contains(older, "login.success") {
		t.Fatalf("older page: %d", resp.StatusCode)
	}

	nb := ts.browser()
	nb.consoleLogin(nation)
	if _, page := nb.get(ts.URL + "/console/audit?action=login.success"); !contains(page, outside.Number.Masked()) || !contains(page, inside.Number.Masked()) {
		t.Fatal("the national auditor does not see every citizen")
	}
	if _, page := nb.get(ts.URL + "/console/audit?action=operator.login"); !contains(page, `id="audit-entries"`) {
		t.Fatal("the national auditor does not see entries about no citizen")
	}

	ab := ts.browser()
	ab.consoleLogin(admin)
	_, page = ab.get(ts.URL + "/console/audit")
	resp, page = ab.consolePost("/console/audit/verify", page, url.Values{})
	if resp.StatusCode != http.StatusOK || !contains(page, `id="audit-verify"`) || !contains(page, "审计链完整") {
		t.Fatalf("verify from the console: %d\n%.1500s", resp.StatusCode, page)
	}

	rb := ts.browser()
	rb.consoleLogin(clerk)
	if resp, _ := rb.get(ts.URL + "/console/audit"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a registrar reads the trail: %d", resp.StatusCode)
	}
}
