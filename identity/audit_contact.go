package identity

// The audit actions of the citizen's own contact changes (contact.go). Each
// entry names the citizen as actor, the session that did it and the
// address; never the phone number or the email address, old or new.
const (
	// AuditContactPhoneChanged: a phone was bound or replaced after a code
	// sent to it was entered. Detail: previous "none" or "replaced".
	AuditContactPhoneChanged AuditAction = "contact.phone.changed"
	// AuditContactPhoneRemoved: the citizen unbound their phone.
	AuditContactPhoneRemoved AuditAction = "contact.phone.removed"
	// AuditContactPhoneKept: removing the phone was refused. Detail: reason
	// "last_recovery_factor" (no passkey).
	AuditContactPhoneKept AuditAction = "contact.phone.remove_refused"
	// AuditContactEmailChanged: an email address was bound or replaced
	// after a code sent to it was entered. Detail: previous "none" or
	// "replaced".
	AuditContactEmailChanged AuditAction = "contact.email.changed"
	// AuditContactEmailRemoved: the citizen unbound their email address.
	AuditContactEmailRemoved AuditAction = "contact.email.removed"
)
