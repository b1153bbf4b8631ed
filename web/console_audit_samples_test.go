package web

// Sample data for the audit-trail page (TestEveryPageRendersInBothLanguages).
func init() {
	base := ConsoleBase{Operator: "审计员", Username: "auditor", Region: "朝阳区 (110105)", Roles: "auditor", Auditor: true, Admin: true}
	samples[PageConsoleAudit] = ConsoleAuditData{ConsoleBase: base, CanRead: true, CanVerify: true,
		DocTypes: []ConsoleOption{{Value: "", Label: "auto"}}, Actions: []ConsoleOption{{Value: "login.success", Label: "login", Selected: true}},
		CitizenID: "c_1", Citizen: "张三 · 110***********002X", Since: "2026-01-01", Until: "2026-02-01", Read: true,
		Entries: []ConsoleAuditEntry{{At: "2026-01-01 10:00", Action: "login", Actor: "citizen", Citizen: "张三 · 110***********002X",
			Client: "tax", Details: []string{"method: pwd", "reason: <x>"}}},
		NextURL: "/console/audit?cursor=x", Verify: &ConsoleAuditVerify{Intact: true, Entries: 3, Partitions: 16, HeadsDigest: "ab"}}
}
