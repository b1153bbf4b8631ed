package web

// Page data of SMS login and step-up (login_sms*.html).

// Page names of SMS login and step-up.
const (
	PageLoginSMS     = "login_sms.html"        // ask for the ID number
	PageLoginSMSCode = "login_sms_code.html"   // enter the code
	PageLoginStepUp  = "login_sms_stepup.html" // the missing second factor
)

// LoginSMSData is login_sms.html and login_sms_code.html.
type LoginSMSData struct {
	FlowID      string
	ClientName  string
	Username    string // the number typed; carried in the code form (body only)
	MaskedPhone string // where the code went (real or, for no account, made up)
	Minutes     int    // validity of the code
	Notice      string // localized, e.g. the resend cool-down
	Error       string // localized
	PasswordURL string // back to the password login of the flow
}

// StepUpData is login_sms_stepup.html.
type StepUpData struct {
	FlowID      string
	ClientName  string
	MaskedPhone string
	Minutes     int
	Sent        bool   // a code was sent: show the code form
	NoPhone     bool   // no factor can be offered
	PasswordURL string // set when the missing factor is the password
	Notice      string
	Error       string
	TOTP        bool   // the citizen has an authenticator app: offer its code too
	TOTPError   string // localized, for the authenticator form
}
