package web

func init() {
	page := AccountPage{Nav: []AccountLink{{Href: "/account", Label: "p", Current: true}}, Notice: "done"}
	samples[PageAccountContact] = AccountContactData{AccountPage: page, MaskedPhone: "139****9000", MaskedEmail: "z***@example.com",
		PhoneOn: true, EmailOn: true, NeedsReauth: true, ReauthURL: "/login?return=/account/contact", PasskeysURL: "/account/passkeys",
		Phone: "138 <0013>", Email: "x@<y>", PhoneError: "bad", EmailError: "bad", Error: "last factor"}
	samples[PageAccountContactCode] = AccountContactCodeData{AccountPage: page, Kind: "email", Value: "zhang@example.com",
		MaskedTo: "z***@example.com", Minutes: 5, Error: "wrong"}
}
