package web

// Page data of the account centre's phone and email page (web/account,
// contact.go).

// Page names of the phone and email page.
const (
	PageAccountContact     = "account_contact.html"      // /account/contact: what is bound, the forms
	PageAccountContactCode = "account_contact_code.html" // the code sent to a new phone or address
)

func contactPages() []string { return []string{PageAccountContact, PageAccountContactCode} }

// AccountContactData is account_contact.html. Bound values are masked on
// the server; Phone and Email are only what the citizen just typed, shown
// again in the form with its error (they travel in the POST body only).
type AccountContactData struct {
	AccountPage
	MaskedPhone string // "" when none is bound
	MaskedEmail string // "" when none is bound
	PhoneOn     bool   // phones can be changed here (an SMS sender exists)
	EmailOn     bool   // addresses can be added here (a mailer exists)
	NeedsReauth bool   // the login is too old for a change: a sign-in link
	ReauthURL   string
	PasskeysURL string // where to add a passkey (the way to remove the phone); "" when not offered
	Phone       string
	Email       string
	PhoneError  string // localized
	EmailError  string // localized
	Error       string // localized, about the page
}

// AccountContactCodeData is account_contact_code.html.
type AccountContactCodeData struct {
	AccountPage
	Kind     string // "phone" or "email"
	Value    string // the new phone or address, normalised; carried in the form body
	MaskedTo string
	Minutes  int
	Error    string // localized
}
