package web

// Page data of password recovery (login_recover*.html).

// Page names of password recovery.
const (
	PageRecover     = "login_recover.html"      // ask for the ID number
	PageRecoverCode = "login_recover_code.html" // the code and the new password
	PageRecoverDone = "login_recover_done.html" // the password was changed
)

func recoveryPages() []string { return []string{PageRecover, PageRecoverCode, PageRecoverDone} }

// RecoverData is login_recover.html and login_recover_code.html. Passwords
// and codes are never filled in again.
type RecoverData struct {
	FlowID      string
	ClientName  string
	Username    string // the number typed; carried in the code form (body only)
	MaskedPhone string // where the code went (real or, for no account, made up)
	Minutes     int    // validity of the code
	Notice      string // localized, e.g. the resend cool-down
	Error       string // localized
	LoginURL    string // back to the password login of the flow
}

// RecoverDoneData is login_recover_done.html.
type RecoverDoneData struct {
	LoginURL string
}
