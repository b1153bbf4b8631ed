package identity

// The audit actions of password recovery (recovery.go).
const (
	// AuditPasswordRecovered: the citizen set a new password with an SMS
	// code to their bound phone; their sessions ended and their tokens were
	// revoked. Detail: method "sms", and after_reset "true" when an
	// operator had cleared the password before.
	AuditPasswordRecovered AuditAction = "password.recovered"
)
