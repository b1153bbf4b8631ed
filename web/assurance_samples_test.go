package web

import "html/template"

func init() {
	samples[PageAccountLevel] = AccountLevelData{Level: "Level 1", Method: "m", VerifiedAt: "2026-03-01 08:00", MaskedName: "李*",
		MaskedNumber: "110***********002X", MaskedPhone: "139****9000", CanVerify: true, CodeSent: true, Minutes: 5,
		PasskeysURL: "/account/passkeys", Notice: "n", Error: "e <b>", ReauthURL: "/login?return=%2Faccount%2Flevel"}
	samples[PageAccountTOTP] = AccountTOTPData{Pending: true, EnrolmentID: "e1", Secret: "ABCD EFGH",
		URI: template.URL("otpauth://totp/%E4%B8%80%E5%8F%B7:110?secret=ABCD&issuer=%E4%B8%80%E5%8F%B7"), Notice: "n", Error: "e", Since: "s"}
}
