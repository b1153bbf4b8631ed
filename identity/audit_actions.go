package identity

import "slices"

// auditActions is every action of the audit trail, in the order the
// auditors' filter shows them: sign-ins and sites, the citizen's own
// changes, counter sessions, then the console's. A test holds it complete.
var auditActions = []AuditAction{
	AuditLoginSuccess, AuditLoginFailure, AuditCitizenRegistered,
	AuditTokenIssued, AuditUserinfoReleased, AuditTokenIntrospected,
	AuditSessionEnded, AuditConsentGranted, AuditConsentRevoked, AuditGrantRevoked,
	AuditPasswordRecovered, AuditLevelRaised, AuditLevelRefused, AuditTOTPEnrolled, AuditTOTPRemoved,
	AuditContactPhoneChanged, AuditContactPhoneRemoved, AuditContactPhoneKept,
	AuditContactEmailChanged, AuditContactEmailRemoved,
	AuditCounterOpened, AuditCounterConfirmed, AuditCounterRefused,
	AuditOperatorLogin, AuditOperatorLoginFailure, AuditOperatorCreated,
	AuditOperatorChangeAsked, AuditOperatorChanged,
	AuditConsoleLookup, AuditConsoleRegistered, AuditConsolePhone,
	AuditConsoleFreeze, AuditConsoleUnfreezeAsked, AuditConsoleUnfrozen,
	AuditConsoleReset, AuditConsoleRejected, AuditConsoleClient,
	AuditMergeAsked, AuditMerged, AuditMergeSurvivor,
	AuditUnmergeAsked, AuditUnmerged, AuditUnmergeSurvivor,
	AuditLastFactorAsked, AuditLastFactorRemoved, AuditConsoleAuditVerify,
}

// AuditActions lists every action of the audit trail (for filters and
// their translations), in display order.
func AuditActions() []AuditAction { return slices.Clone(auditActions) }
