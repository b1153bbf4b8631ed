package web

// Sample data for the operator console's pages (TestEveryPageRendersInBothLanguages).
func init() {
	base := ConsoleBase{Operator: "王 <Clerk>", Username: "clerk", Region: "朝阳区 (110105)", Roles: "registrar",
		Admin: true, CanChange: true, Notice: "done", Error: "oops"}
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
		GrantTypes: []ConsoleOption{{Value: "authorization_code", Label: "authorization_code", Selected: true}}, MinLevel: "0"}
	samples[PageConsoleClients] = ConsoleClientsData{ConsoleBase: base, Clients: []ConsoleClient{client}, New: client}
	samples[PageConsoleClient] = ConsoleClientData{ConsoleBase: base, Client: client, Secret: "s3cret"}
	samples[PageConsoleOperators] = ConsoleOperatorsData{ConsoleBase: base, Operators: []ConsoleOperator{
		{ID: "o_1", Username: "alice", Name: "Alice", Roles: "admin", Region: "全国", Status: "active", RoleOptions: opts},
		{ID: "o_2", Username: "clerk", Name: "Clerk", Self: true}}, RoleOptions: opts,
		New: ConsoleNewOperator{Username: "x"}, CreatedUser: "bob", TOTPURI: "otpauth://totp/Yihao:bob?secret=X"}
}
