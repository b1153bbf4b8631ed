package web

// The data of the account centre's pages (package web/account fills them).
// Every value is already masked, formatted and localized by the handler.

// Account centre page template names.
const (
	PageAccount         = "account.html"
	PageAccountSites    = "account_sites.html"
	PageAccountSessions = "account_sessions.html"
	PageAccountActivity = "account_activity.html"
)

// AccountPage is what every account page has: the section links and a
// confirmation of the last action.
type AccountPage struct {
	Nav    []AccountLink
	Notice string // localized; "" for none
}

// AccountLink is one section link; Current marks the page shown.
type AccountLink struct {
	Href, Label string
	Current     bool
}

// AccountData is account.html: the profile. The number and phone are masked
// on the server (DOMAIN §4.3); the birth-date digits never reach the page.
type AccountData struct {
	AccountPage
	MaskedName   string
	DocumentType string // localized
	MaskedNumber string
	MaskedPhone  string // "" when no phone is bound
	Level        string // localized real-name level
	Raise        string // localized: how to raise the level; "" at the top
	PasskeysURL  string // where to add a passkey; "" when not offered
	LevelURL     string // the level page (how it was raised, raise it); "" when not offered
	TOTPURL      string // the authenticator-app page; "" when not offered
}

// AccountSitesData is account_sites.html.
type AccountSitesData struct {
	AccountPage
	Sites []AccountSite
}

// AccountSite is one service site the citizen uses.
type AccountSite struct {
	ClientID  string
	Name      string
	Scopes    []ScopeLine
	GrantedAt string // formatted
	LastUsed  string // formatted; "" when no token is live
}

// AccountSessionsData is account_sessions.html.
type AccountSessionsData struct {
	AccountPage
	Sessions []AccountSession
	Others   int // sessions other than the current one
}

// AccountSession is one live SSO session. Handle is an opaque reference to
// it (never the session id, which is the cookie).
type AccountSession struct {
	Handle   string
	Device   string // browser and OS family, or the localized "unknown device"
	Channel  string // localized
	Method   string // localized sign-in method
	Started  string // formatted
	LastSeen string // formatted
	Current  bool
}

// AccountActivityData is account_activity.html: the login history or the
// record of who used the citizen's data, paged and filterable.
type AccountActivityData struct {
	AccountPage
	Title       string // localized
	Intro       string // localized
	Action      string // the page's own path (filter form, pager, export)
	Unavailable bool   // no audit trail is connected yet
	Kinds       []AccountOption
	Sites       []AccountOption
	From, To    string // yyyy-mm-dd as filtered
	Events      []AccountEvent
	PrevURL     string
	NextURL     string
	ExportCSV   string
	ExportJSON  string
}

// AccountOption is one choice of a filter.
type AccountOption struct {
	Value, Label string
	Selected     bool
}

// AccountEvent is one line of the activity list.
type AccountEvent struct {
	When     string // formatted
	What     string // localized kind (and outcome)
	Site     string // the site's name; "" for a sign-in at Yihao itself
	Released []string
	Detail   string // channel and device of a sign-in
	Failed   bool
}
