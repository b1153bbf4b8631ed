package web

import "html/template"

// The pages of QR login and counter sessions.
const (
	PageQRLogin        = "qr_login.html"
	PageConsoleCounter = "console_counter.html"
)

// qrPages lists them for Pages.
func qrPages() []string { return []string{PageQRLogin, PageConsoleCounter} }

// QRLoginData is qr_login.html. Step "desktop" shows the QR code on the
// desktop; on the phone "confirm" asks, "done" reports, "unknown" says the
// ticket is wrong or expired, "other" that a counter request is for
// someone else.
type QRLoginData struct {
	Step       string
	Purpose    string // login or counter (phone steps)
	FlowID     string
	ClientName string
	Ticket     string
	TicketURL  string
	QR         template.HTML // the SVG drawn by web/qr
	LoginURL   string        // back to the other ways of signing in
	Seconds    int           // ticket lifetime
	Again      bool          // the last ticket expired or was refused
	Browser    string        // "Chrome · Windows"
	Network    string        // "203.0.113.0/24"
	Operator   string        // counter: the operator's name
	Approved   bool
}

// ConsoleCounterData is console_counter.html: Step "open" is the form,
// "confirm" waits for the citizen (QR code, or the SMS code form), "done"
// reports the confirmation.
type ConsoleCounterData struct {
	ConsoleBase
	Step       string
	DocTypes   []ConsoleOption
	UserCode   string
	Method     string // qr or sms
	Key        string // the counter request's reference
	ClientName string
	Citizen    string        // masked name
	QR         template.HTML // for the citizen's phone
	TicketURL  string
	Phone      string // masked phone the SMS went to
}
