package web

// The data of each page template. Handlers fill them with already localized
// text where the text depends on the handler (messages of typed errors,
// scope lines); fixed text comes from the catalog in the template.

// LoginData is login.html.
type LoginData struct {
	FlowID      string // hidden field; "" when /login was opened directly
	ClientName  string // the site asking; "" without a flow
	Username    string // what the citizen typed (or the flow's login_hint)
	Error       string // localized message shown above the form
	RegisterURL string
	SMSURL      string // "log in with an SMS code"; "" when SMS is not offered
	RecoverURL  string // "forgot your password?"; "" when recovery is not offered
	Return      string // hidden field: a local path to go back to after signing in again (see login.SafeReturn)
}

// RegisterData is register.html. Passwords are never filled in again.
type RegisterData struct {
	FlowID   string
	Number   string
	Name     string
	Phone    string
	Errors   RegisterErrors
	LoginURL string // back link: the flow's login page, or /login
}

// RegisterErrors are localized messages shown next to each field.
type RegisterErrors struct {
	Form, Number, Name, Phone, Password, Confirm string
}

// Any reports whether some field has an error.
func (e RegisterErrors) Any() bool { return e != RegisterErrors{} }

// RegisterDoneData is register_done.html: the same page whether the number
// was new or already registered.
type RegisterDoneData struct {
	LoginURL string
}

// ConsentData is consent.html.
type ConsentData struct {
	FlowID     string
	ClientName string
	Scopes     []ScopeLine
}

// ScopeLine is one plain-language line of what a site will receive.
type ScopeLine struct {
	Scope     string
	Text      string // localized
	Sensitive bool   // shown with a warning and the PIPL separate-consent wording
}

// HasSensitive reports whether some line needs separate consent.
func (d ConsentData) HasSensitive() bool {
	for _, s := range d.Scopes {
		if s.Sensitive {
			return true
		}
	}
	return false
}

// HomeData is home.html.
type HomeData struct {
	SignedIn   bool
	MaskedName string
}

// ErrorData is error.html.
type ErrorData struct {
	Message string // localized
	ErrorID string // for 500s
}

// LoggedOutData is logged_out.html.
type LoggedOutData struct {
	ClientName string // "" when there is no site to go back to
	ReturnURL  string // a validated post-logout redirect URI, or ""
}
