package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// TestMergeAndUnmerge: a registrar asks to merge a duplicate account into
// the citizen's other one; the same registrar cannot approve it, a second
// one does. Consents, the passkey and the phone move to the survivor (a
// consent the survivor already had is kept aside), the merged account's
// sessions and tokens end, and its document signs in to the survivor. An
// unmerge, again approved by a second operator, restores what moved.
func TestMergeAndUnmerge(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	clerk := ts.operator("merge.clerk", "110105", identity.RoleRegistrar)
	second := ts.operator("merge.second", "1101", identity.RoleRegistrar)

	dup, dupNumber := ts.citizen()                                       // the duplicate, merged away
	keep, keepNumber := ts.citizen()                                     // the survivor
	if err := ts.app.sql.SetCitizenPhone(ctx, keep.ID, ""); err != nil { // the survivor has no phone
		t.Fatal(err)
	}
	// The duplicate consented to two sites, the survivor to the second one;
	// the duplicate has a passkey and a live session with tokens.
	only, both := newRP(t, ts, "merge-only"), newRP(t, ts, "merge-both")
	dupTok, _ := only.exchange(only.login(ts.browser(), dupNumber))
	both.exchange(both.login(ts.browser(), dupNumber))
	_, keepIDT := both.exchange(both.login(ts.browser(), keepNumber))
	if err := ts.app.sql.CreateUserHandle(ctx, dup.ID, []byte("merge-test-user-handle")); err != nil {
		t.Fatal(err)
	}
	cred := []byte("merge-test-credential")
	if err := ts.app.sql.AddPasskey(ctx, &identity.Passkey{ID: cred, CitizenID: dup.ID, PublicKey: []byte("pk"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Ask through the console, from the duplicate's page.
	ob := ts.browser()
	ob.consoleLogin(clerk)
	_, home := ob.get(ts.URL + "/console")
	resp, page := ob.consolePost("/console/lookup", home, url.Values{"number": {dupNumber}, "reason": {"duplicate account"}})
	if resp.Request.URL.Path != "/console/citizens/"+dup.ID {
		t.Fatalf("look-up: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, page = ob.consolePost("/console/citizens/"+dup.ID+"/merge", page, url.Values{"number": {keepNumber}, "reason": {"same person, two documents"}})
	if resp.StatusCode != http.StatusOK || !contains(page, "合并申请已提交") {
		t.Fatalf("ask merge: %d\n%.1500s", resp.StatusCode, page)
	}
	if contains(page, keepNumber) || contains(page, dupNumber) {
		t.Fatal("a full number is in the page")
	}
	ap := onePending(t, ts, identity.ApproveMerge)
	_, list := ob.get(ts.URL + "/console/approvals")
	resp, body := ob.consolePost("/console/approvals/"+ap+"/approve", list, url.Values{})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("the asking operator approves its own merge: %d\n%.800s", resp.StatusCode, body)
	}
	if c, _ := ts.app.sql.Citizen(ctx, dup.ID); c.Status == identity.StatusMerged {
		t.Fatal("merged without a second operator")
	}
	sb := ts.browser()
	sb.consoleLogin(second)
	_, list = sb.get(ts.URL + "/console/approvals")
	if resp, body := sb.consolePost("/console/approvals/"+ap+"/approve", list, url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("second operator approves: %d\n%.800s", resp.StatusCode, body)
	}

	// What moved.
	if c, _ := ts.app.sql.Citizen(ctx, dup.ID); c.Status != identity.StatusMerged || c.Phone != "" {
		t.Fatalf("merged account: status %s, phone %q", c.Status, c.Phone)
	}
	if c, _ := ts.app.sql.Citizen(ctx, keep.ID); c.Phone != "+8613900139000" {
		t.Fatalf("survivor's phone %q, want the moved one", c.Phone)
	}
	wantConsents(t, ts, keep.ID, "merge-both", "merge-only")
	wantConsents(t, ts, dup.ID)
	if p, err := ts.app.sql.Passkey(ctx, cred); err != nil || p.CitizenID != keep.ID {
		t.Fatalf("passkey after merge: %+v, %v", p, err)
	}
	if only.introspect(dupTok.AccessToken)["active"] != false {
		t.Fatal("the merged account's token is still active")
	}
	_, page = ob.get(ts.URL + "/console/citizens/" + dup.ID)
	if !contains(page, `id="merged-into"`) || !contains(page, keep.Number.Masked()) || contains(page, keepNumber) {
		t.Fatalf("merged account's page:\n%.2000s", page)
	}

	// The duplicate's document signs in to the survivor: the same subject.
	_, idt := both.exchange(both.login(ts.browser(), dupNumber))
	if idt.Subject != keepIDT.Subject {
		t.Fatalf("signing in with the merged document: sub %s, want the survivor's %s", idt.Subject, keepIDT.Subject)
	}

	// Unmerge: asked by the clerk, approved by the second operator.
	resp, page = ob.consolePost("/console/citizens/"+dup.ID+"/unmerge", page, url.Values{"reason": {"not the same person"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ask unmerge: %d\n%.800s", resp.StatusCode, page)
	}
	ap = onePending(t, ts, identity.ApproveUnmerge)
	_, list = sb.get(ts.URL + "/console/approvals")
	if resp, body := sb.consolePost("/console/approvals/"+ap+"/approve", list, url.Values{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("approve unmerge: %d\n%.800s", resp.StatusCode, body)
	}
	if c, _ := ts.app.sql.Citizen(ctx, dup.ID); c.Status != identity.StatusActive || c.Phone != "+8613900139000" {
		t.Fatalf("after unmerge: status %s phone %q", c.Status, c.Phone)
	}
	if c, _ := ts.app.sql.Citizen(ctx, keep.ID); c.Phone != "" {
		t.Fatalf("survivor kept the phone after unmerge: %q", c.Phone)
	}
	wantConsents(t, ts, keep.ID, "merge-both")
	wantConsents(t, ts, dup.ID, "merge-both", "merge-only")
	if p, err := ts.app.sql.Passkey(ctx, cred); err != nil || p.CitizenID != dup.ID {
		t.Fatalf("passkey after unmerge: %+v, %v", p, err)
	}
	_, idt = both.exchange(both.login(ts.browser(), dupNumber))
	if idt.Subject == keepIDT.Subject {
		t.Fatal("after unmerge the document still signs in to the survivor")
	}

	// The trail tells the story on both accounts, never with a number.
	for _, id := range []string{dup.ID, keep.ID} {
		page, err := ts.app.sql.AuditEntries(ctx, identity.AuditQuery{CitizenID: id, Actions: []identity.AuditAction{
			identity.AuditMerged, identity.AuditMergeSurvivor, identity.AuditUnmerged, identity.AuditUnmergeSurvivor}})
		if err != nil || len(page.Entries) != 2 {
			t.Fatalf("merge entries of %s: %d, %v", id, len(page.Entries), err)
		}
		for _, e := range page.Entries {
			if s := toJSON(e); contains(s, dupNumber) || contains(s, keepNumber) {
				t.Fatal("an audit entry holds a document number")
			}
		}
	}
}

// onePending returns the id of the only pending approval, of action a.
func onePending(t *testing.T, ts *testServer, a identity.ApprovalAction) string {
	t.Helper()
	pending, err := ts.app.sql.PendingApprovals(context.Background())
	if err != nil || len(pending) != 1 || pending[0].Action != a {
		t.Fatalf("pending approvals: %v, %v; want one %s", pending, err, a)
	}
	return pending[0].ID
}

func wantConsents(t *testing.T, ts *testServer, citizenID string, clients ...string) {
	t.Helper()
	list, err := ts.app.sql.CitizenConsents(context.Background(), citizenID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range list {
		got = append(got, c.ClientID)
	}
	slices.Sort(got)
	if !slices.Equal(got, clients) {
		t.Fatalf("consents of %s: %v, want %v", citizenID, got, clients)
	}
}
