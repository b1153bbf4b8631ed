package web

// Operator console page template names (package web/console renders them
// with its own data types; every value is masked and localized there).
const (
	PageConsoleLogin     = "console_login.html"
	PageConsole          = "console.html"
	PageConsoleCitizen   = "console_citizen.html"
	PageConsoleRegister  = "console_register.html"
	PageConsoleApprovals = "console_approvals.html"
	PageConsoleClients   = "console_clients.html"
	PageConsoleClient    = "console_client.html"
	PageConsoleOperators = "console_operators.html"
)

// consolePages lists them for Pages.
func consolePages() []string {
	return []string{PageConsoleLogin, PageConsole, PageConsoleCitizen, PageConsoleRegister,
		PageConsoleApprovals, PageConsoleClients, PageConsoleClient, PageConsoleOperators, PageConsoleAudit}
}

// ConsoleOption is one choice of a select or a group of checkboxes.
type ConsoleOption struct {
	Value, Label string
	Selected     bool
}

// ConsoleBase is what every signed-in console page shows: who is signed in,
// the navigation it may use, and the outcome of the last action.
type ConsoleBase struct {
	Operator  string // name
	Username  string
	Region    string // localized scope
	Roles     string // localized
	Admin     bool
	CanChange bool
	Auditor   bool   // may read the audit trail
	Section   string // the navigation entry of this page: find, register, counter, approvals, audit, clients, operators
	Notice    string
	Error     string
}

// ConsoleLoginData is console_login.html.
type ConsoleLoginData struct {
	Username string
	Error    string
}

// ConsoleHomeData is console.html: the look-up form.
type ConsoleHomeData struct {
	ConsoleBase
	DocTypes []ConsoleOption
	Reason   string
	Pending  int
}

// ConsoleCitizen is a citizen as the console shows them: masked number and
// phone, localized labels.
type ConsoleCitizen struct {
	ID           string
	Name         string
	DocumentType string
	MaskedNumber string
	Region       string
	Level        string
	Status       string
	Frozen       bool
	MaskedPhone  string
	ResetAt      string
	// A merged account: the survivor (masked), when, and whether it can
	// still be reversed.
	MergedInto  string
	MergedAt    string
	Unmergeable bool
}

// ConsoleCitizenData is console_citizen.html.
type ConsoleCitizenData struct {
	ConsoleBase
	Citizen ConsoleCitizen
}

// ConsoleRegisterData is console_register.html (never echoes the number).
type ConsoleRegisterData struct {
	ConsoleBase
	DocTypes []ConsoleOption
	Name     string
	Phone    string
}

// ConsoleApproval is one pending approval.
type ConsoleApproval struct {
	ID          string
	Action      string
	Target      string
	Detail      string
	Reason      string
	RequestedBy string
	RequestedAt string
	Own         bool
}

// ConsoleApprovalsData is console_approvals.html.
type ConsoleApprovalsData struct {
	ConsoleBase
	Approvals []ConsoleApproval
}

// ConsoleClient is a service site in the console's forms.
type ConsoleClient struct {
	ID, Name, RedirectURIs, PostLogoutRedirectURIs, BackchannelLogoutURI, Scopes string
	GrantTypes                                                                   []ConsoleOption
	MinLevel                                                                     string
	ACRs                                                                         []ConsoleOption // the minimum acr (localized; "" any)
	Public, Disabled                                                             bool
	AllowIDCard                                                                  bool // may ask for the idcard scope
}

// ConsoleClientsData is console_clients.html.
type ConsoleClientsData struct {
	ConsoleBase
	Clients []ConsoleClient
	New     ConsoleClient
}

// Form is the site the page's form edits (the shared client fields).
func (d ConsoleClientsData) Form() ConsoleClient { return d.New }

// ConsoleClientData is console_client.html.
type ConsoleClientData struct {
	ConsoleBase
	Client ConsoleClient
	Secret string // shown once, right after it was generated
}

// Form is the site the page's form edits (the shared client fields).
func (d ConsoleClientData) Form() ConsoleClient { return d.Client }

// ConsoleOperator is one operator in the list.
type ConsoleOperator struct {
	ID, Username, Name, Roles, Region, RegionCode, Status string
	RoleOptions                                           []ConsoleOption
	Self                                                  bool
}

// ConsoleNewOperator is the add-operator form as typed.
type ConsoleNewOperator struct{ Username, Name, Region string }

// ConsoleOperatorsData is console_operators.html. TOTPURI is shown once,
// right after an operator was created.
type ConsoleOperatorsData struct {
	ConsoleBase
	Operators   []ConsoleOperator
	RoleOptions []ConsoleOption
	New         ConsoleNewOperator
	CreatedUser string
	TOTPURI     string
}
