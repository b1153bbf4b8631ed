package identity

// Audit actions of the real-name level and of the citizen's second factors.
// Details hold words only: levels, the method, the verifier's name, a reason
// — never the name, number, phone, code or secret that was checked.
const (
	// AuditLevelRaised: the level went up (detail: from, to, method, and
	// verifier for LevelMethodIDCheck).
	AuditLevelRaised AuditAction = "citizen.level.raised"
	// AuditLevelRefused: the verification service answered "no match"
	// (detail: verifier, reason no_match).
	AuditLevelRefused AuditAction = "citizen.level.refused"
	// AuditTOTPEnrolled: an authenticator app was confirmed as a second factor.
	AuditTOTPEnrolled AuditAction = "totp.enrolled"
	// AuditTOTPRemoved: the citizen removed it.
	AuditTOTPRemoved AuditAction = "totp.removed"
)
