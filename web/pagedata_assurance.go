package web

import "html/template"

// Page data of the real-name level and authenticator-app pages of the
// account centre (web/assurance).

// Page names of web/assurance.
const (
	PageAccountLevel = "account_level.html" // /account/level: the level and how to raise it
	PageAccountTOTP  = "account_totp.html"  // /account/totp: the authenticator app
)

func assurancePages() []string { return []string{PageAccountLevel, PageAccountTOTP} }

// AccountLevelData is account_level.html. Everything personal is masked on
// the server.
type AccountLevelData struct {
	Level        string // localized level
	Method       string // localized: how it was reached; "" when not recorded
	VerifiedAt   string // formatted; "" when not recorded
	MaskedName   string
	MaskedNumber string
	MaskedPhone  string // "" when no phone is bound
	CanVerify    bool   // level 1 and a verification service is configured
	NoPhone      bool   // level 1 without a bound phone: it must be bound first
	NeedsReauth  bool   // the login is too old for a change: show a sign-in link
	ReauthURL    string
	CodeSent     bool // the phone code was sent: show the code form
	Minutes      int  // validity of the code
	PasskeysURL  string
	Notice       string // localized
	Error        string // localized
}

// AccountTOTPData is account_totp.html.
type AccountTOTPData struct {
	Enrolled    bool
	Since       string // formatted, when enrolled
	Pending     bool   // an enrolment waits for its first code: show the secret
	EnrolmentID string
	Secret      string       // base32, in groups of four for reading
	URI         template.URL // otpauth://, built by identity (html/template would refuse the scheme)
	NeedsReauth bool
	ReauthURL   string
	Notice      string
	Error       string
}
