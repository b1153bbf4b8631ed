package web

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// Sample data for the operator console's pages (TestEveryPageRendersInBothLanguages).
func init() {
	base := ConsoleBase{Operator: "王 <Clerk>", Username: "clerk", Region: "朝阳区 (110105)", Roles: "registrar",
		Admin: true, CanChange: true, Auditor: true, Section: "find", Notice: "done", Error: "oops"}
	opts := []ConsoleOption{{Value: "", Label: "auto"}, {Value: "resident_id", Label: "ID", Selected: true}}
	samples[PageConsoleLogin] = ConsoleLoginData{Username: "clerk", Error: "bad"}
	samples[PageConsole] = ConsoleHomeData{ConsoleBase: base, DocTypes: opts, Reason: "counter", Pending: 2}
	samples[PageConsoleCitizen] = ConsoleCitizenData{ConsoleBase: base, Citizen: ConsoleCitizen{ID: "c_1", Name: "张三",
		DocumentType: "ID", MaskedNumber: "110***********002X", Region: "朝阳区", Level: "3", Status: "frozen", Frozen: true,
		MaskedPhone: "138****8000", ResetAt: "2026-01-01 10:00"}}
	samples[PageConsoleRegister] = ConsoleRegisterData{ConsoleBase: base, DocTypes: opts, Name: "张三", Phone: "138"}
	samples[PageConsoleApprovals] = ConsoleApprovalsData{ConsoleBase: base, Approvals: []ConsoleApproval{
		{ID: "a_1", Action: "Unfreeze", Target: "张三 · 110***********002X", Reason: "came in", RequestedBy: "bob", RequestedAt: "t"},
		{ID: "a_2", Action: "Change", Target: "carol", Detail: "registrar · 11", Reason: "r", RequestedBy: "me", RequestedAt: "t", Own: true}}}
	client := ConsoleClient{ID: "tax", Name: "Tax", RedirectURIs: "https://tax.example/cb", Scopes: "openid",
		GrantTypes: []ConsoleOption{{Value: "authorization_code", Label: "authorization_code", Selected: true}}, MinLevel: "0",
		ACRs: []ConsoleOption{{Value: "", Label: "any"}, {Value: "urn:yihao:acr:2", Label: "two <factors>", Selected: true}}, AllowIDCard: true}
	samples[PageConsoleClients] = ConsoleClientsData{ConsoleBase: base, Clients: []ConsoleClient{client}, New: client}
	samples[PageConsoleClient] = ConsoleClientData{ConsoleBase: base, Client: client, Secret: "s3cret"}
	samples[PageConsoleOperators] = ConsoleOperatorsData{ConsoleBase: base, Operators: []ConsoleOperator{
		{ID: "o_1", Username: "alice", Name: "Alice", Roles: "admin", Region: "全国", Status: "active", RoleOptions: opts},
		{ID: "o_2", Username: "clerk", Name: "Clerk", Self: true}}, RoleOptions: opts,
		New: ConsoleNewOperator{Username: "x"}, CreatedUser: "bob", TOTPURI: "otpauth://totp/Yihao:bob?secret=X"}
}

// consoleBaseOf returns the ConsoleBase a console page's data embeds.
func consoleBaseOf(d any) (ConsoleBase, bool) {
	v := reflect.ValueOf(d)
	if v.Kind() != reflect.Struct {
		return ConsoleBase{}, false
	}
	f := v.FieldByName("ConsoleBase")
	if !f.IsValid() {
		return ConsoleBase{}, false
	}
	b, ok := f.Interface().(ConsoleBase)
	return b, ok
}

// TestConsolePagesShareTheHeader: every signed-in console page shows the
// shared header (partials.html): the navigation its roles allow, the
// signed-in line, the sign-out form and the outcome of the last action.
func TestConsolePagesShareTheHeader(t *testing.T) {
	u := newTestUI(t, true, nil)
	links := map[string]func(ConsoleBase) bool{
		"/console":           func(ConsoleBase) bool { return true },
		"/console/register":  func(b ConsoleBase) bool { return b.CanChange },
		"/console/counter":   func(b ConsoleBase) bool { return b.CanChange },
		"/console/approvals": func(ConsoleBase) bool { return true },
		"/console/audit":     func(b ConsoleBase) bool { return b.Auditor || b.Admin },
		"/console/clients":   func(b ConsoleBase) bool { return b.Admin },
		"/console/operators": func(b ConsoleBase) bool { return b.Admin },
	}
	roles := []ConsoleBase{
		{Operator: "Clerk", Roles: "registrar", CanChange: true, Section: "counter", Notice: "saved <ok>", Error: "bad <x>"},
		{Operator: "Auditor", Roles: "auditor", Auditor: true, Section: "audit"},
		{Operator: "Admin", Roles: "administrator", Admin: true, CanChange: true, Section: "clients"},
	}
	n := 0
	for _, name := range Pages() {
		if _, ok := consoleBaseOf(samples[name]); !ok {
			continue
		}
		n++
		for _, base := range roles {
			for _, lang := range []string{"", "en"} {
				d := reflect.New(reflect.TypeOf(samples[name])).Elem()
				d.Set(reflect.ValueOf(samples[name]))
				d.FieldByName("ConsoleBase").Set(reflect.ValueOf(base))
				r := httptest.NewRequest("GET", "/console/x", nil)
				if lang != "" {
					r.Header.Set("Accept-Language", lang)
				}
				w := httptest.NewRecorder()
				if err := u.Render(w, r, name, View{Data: d.Interface()}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				body := w.Body.String()
				nav, _, ok := strings.Cut(body, "</nav>")
				if !ok || !strings.Contains(nav, `class="account-nav"`) {
					t.Fatalf("%s (%s): no console navigation", name, base.Roles)
				}
				for href, want := range links {
					if got := strings.Contains(nav, `href="`+href+`"`); got != want(base) {
						t.Errorf("%s (%s): link %s shown = %v, want %v", name, base.Roles, href, got, want(base))
					}
				}
				if strings.Count(nav, `aria-current="page"`) != 1 {
					t.Errorf("%s (%s): the current section is not marked once", name, base.Roles)
				}
				if !strings.Contains(body, `action="/console/logout"`) || !strings.Contains(body, `<p class="hint">`) {
					t.Errorf("%s (%s): no signed-in line or sign-out form", name, base.Roles)
				}
				if base.Notice != "" && (!strings.Contains(body, "saved &lt;ok&gt;") || !strings.Contains(body, "bad &lt;x&gt;")) {
					t.Errorf("%s: notice or error not shown (escaped)", name)
				}
				if strings.Count(body, "<h1>") != 1 {
					t.Errorf("%s: %d h1 headings", name, strings.Count(body, "<h1>"))
				}
			}
		}
	}
	if n < 9 {
		t.Errorf("%d console pages with a header, want at least 9", n)
	}
}

// TestConsolePageVariants renders the console pages' other states (a merged
// citizen, each counter step, an empty or broken trail, …) in both
// languages: translated, plain forms with their CSRF field, no script.
func TestConsolePageVariants(t *testing.T) {
	u := newTestUI(t, true, nil)
	base := ConsoleBase{Operator: "Clerk", Roles: "registrar", Region: "朝阳区 (110105)", CanChange: true, Section: "find"}
	variants := []struct {
		page string
		data any
	}{
		{PageConsoleCitizen, ConsoleCitizenData{ConsoleBase: base, Citizen: ConsoleCitizen{ID: "c_2", Name: "李四", Status: "merged",
			MergedInto: "张三 · 110***********002X", MergedAt: "2026-01-01 10:00", Unmergeable: true}}},
		{PageConsoleCitizen, ConsoleCitizenData{ConsoleBase: base, Citizen: ConsoleCitizen{ID: "c_3", MergedInto: "c_1", MergedAt: "2025-01-01 10:00"}}},
		{PageConsoleCitizen, ConsoleCitizenData{ConsoleBase: ConsoleBase{Operator: "Auditor", Auditor: true}, Citizen: ConsoleCitizen{ID: "c_4"}}},
		{PageConsoleCounter, ConsoleCounterData{ConsoleBase: base, Step: "open", Method: "sms", UserCode: "ABCD-EFGH",
			DocTypes: []ConsoleOption{{Value: "", Label: "auto", Selected: true}}}},
		{PageConsoleCounter, ConsoleCounterData{ConsoleBase: base, Step: "confirm", Method: "sms", Key: "k", Phone: "138****8000"}},
		{PageConsoleCounter, ConsoleCounterData{ConsoleBase: base, Step: "done", ClientName: "Counter <3>"}},
		{PageConsoleApprovals, ConsoleApprovalsData{ConsoleBase: base}},
		{PageConsoleAudit, ConsoleAuditData{ConsoleBase: ConsoleBase{Operator: "Admin", Admin: true}, CanVerify: true,
			Verify: &ConsoleAuditVerify{Break: "partition 3, seq 7: edited"}}},
		{PageConsoleAudit, ConsoleAuditData{ConsoleBase: ConsoleBase{Operator: "Auditor", Auditor: true}, CanRead: true, Read: true}},
		{PageConsoleClient, ConsoleClientData{ConsoleBase: base, Client: ConsoleClient{ID: "pub", Name: "Public", Public: true, Disabled: true}}},
	}
	for i, v := range variants {
		for _, lang := range []string{"zh-CN", "en"} {
			r := httptest.NewRequest("GET", "/console/x", nil)
			r.Header.Set("Accept-Language", lang)
			w := httptest.NewRecorder()
			if err := u.Render(w, r, v.page, View{Data: v.data}); err != nil {
				t.Fatalf("%d %s: %v", i, v.page, err)
			}
			body := w.Body.String()
			if strings.Contains(body, "MISSING:") || strings.Contains(body, "<script") {
				t.Errorf("%d %s (%s): untranslated text or a script", i, v.page, lang)
			}
			if n, m := strings.Count(body, "<form"), strings.Count(body, `name="csrf_token"`); n == 0 || n != m {
				t.Errorf("%d %s (%s): %d forms, %d CSRF fields", i, v.page, lang, n, m)
			}
		}
	}
}
