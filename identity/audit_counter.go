package identity

// The audit actions of counter sessions (一窗): an operator opens one for a
// citizen whose ID card they checked in person; the citizen confirms or
// refuses on their phone; the terminal's tokens are then recorded as every
// token is (token.issued, grant_type urn:yihao:grant-type:counter).
const (
	AuditCounterOpened    AuditAction = "counter.opened"    // actor: the operator; outcome opened / out_of_region / not_found / inactive
	AuditCounterConfirmed AuditAction = "counter.confirmed" // actor: the citizen; method qr or sms, operator id
	AuditCounterRefused   AuditAction = "counter.refused"   // actor: the citizen
)
