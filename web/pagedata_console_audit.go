package web

// PageConsoleAudit is the auditors' reading of the audit trail.
const PageConsoleAudit = "console_audit.html"

// ConsoleAuditEntry is one entry as the trail page shows it: localized
// action, the citizen masked, details as "key: value" (the chain never
// holds a document number).
type ConsoleAuditEntry struct {
	At, Action, Actor, Citizen, Client, Session, IP string
	Details                                         []string
}

// ConsoleAuditVerify is the outcome of verifying the chain (administrators).
type ConsoleAuditVerify struct {
	Intact      bool
	Entries     int64
	Partitions  int
	HeadsDigest string
	Break       string // where the chain is broken, when it is
}

// ConsoleAuditData is console_audit.html.
type ConsoleAuditData struct {
	ConsoleBase
	CanRead   bool // auditors
	CanVerify bool // administrators
	DocTypes  []ConsoleOption
	Actions   []ConsoleOption
	CitizenID string // the citizen filter (opaque id)
	Citizen   string // that citizen, masked
	Since     string // yyyy-mm-dd
	Until     string
	Reason    string
	Entries   []ConsoleAuditEntry
	NextURL   string // the following (older) page; "" at the end
	Read      bool   // entries were asked for (so "none" can be said)
	Verify    *ConsoleAuditVerify
}
