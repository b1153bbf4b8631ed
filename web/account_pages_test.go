package web

// Sample data for the account centre's pages (TestEveryPageRendersInBothLanguages).
func init() {
	nav := AccountPage{Nav: []AccountLink{{Href: "/account", Label: "Profile", Current: true}, {Href: "/account/sites", Label: "Sites"}},
		Notice: "done"}
	samples[PageAccount] = AccountData{AccountPage: nav, MaskedName: "**三", DocumentType: "Resident ID",
		MaskedNumber: "110***********002X", MaskedPhone: "139****9000", Level: "Level 1", Raise: "visit a hall",
		PasskeysURL: "/account/passkeys", LevelURL: "/account/level", TOTPURL: "/account/totp"}
	samples[PageAccountSites] = AccountSitesData{AccountPage: nav, Sites: []AccountSite{{ClientID: "tax", Name: "Tax <Bureau>",
		Scopes:    []ScopeLine{{Scope: "openid", Text: "id"}, {Scope: "idcard", Text: "card", Sensitive: true}},
		GrantedAt: "2026-01-02 03:04", LastUsed: "2026-01-03 03:04"}}}
	samples[PageAccountSessions] = AccountSessionsData{AccountPage: nav, Others: 1, Sessions: []AccountSession{
		{Handle: "h1", Device: "Chrome · Windows", Channel: "web", Method: "password", Started: "s", LastSeen: "l", Current: true},
		{Handle: "h2", Device: "Safari · iOS", Channel: "app", Method: "SMS", Started: "s", LastSeen: "l"}}}
	samples[PageAccountActivity] = AccountActivityData{AccountPage: nav, Title: "Who used my data", Intro: "intro",
		Action: "/account/data-use", Kinds: []AccountOption{{Value: "", Label: "All"}, {Value: "token", Label: "Tokens", Selected: true}},
		Sites: []AccountOption{{Value: "tax", Label: "Tax"}}, From: "2026-01-01", To: "2026-01-31",
		Events: []AccountEvent{{When: "w", What: "Tokens issued", Site: "Tax", Released: []string{"openid", "profile"}},
			{When: "w", What: "Failed", Detail: "password", Failed: true}},
		PrevURL: "/account/data-use", NextURL: "/account/data-use?cursor=x", ExportCSV: "/account/data-use/export?format=csv",
		ExportJSON: "/account/data-use/export?format=jsonl"}
}
