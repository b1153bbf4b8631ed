package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what an operator may do in the console and the admin API.
type Role string

const (
	// RoleAdministrator manages operators and service sites, and may do
	// everything a registrar does.
	RoleAdministrator Role = "administrator"
	// RoleRegistrar registers citizens in person, binds phones, freezes,
	// resets credentials and approves a colleague's unfreeze.
	RoleRegistrar Role = "registrar"
	// RoleAuditor looks citizens up and reads; it changes nothing.
	RoleAuditor Role = "auditor"
)

// Roles lists every role, in display order.
func Roles() []Role { return []Role{RoleAdministrator, RoleRegistrar, RoleAuditor} }

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(s))
	if !slices.Contains(Roles(), r) {
		return "", &FieldError{Field: "role", Reason: FieldInvalid}
	}
	return r, nil
}

// OperatorStatus is whether an operator may sign in.
type OperatorStatus string

const (
	OperatorActive   OperatorStatus = "active"
	OperatorDisabled OperatorStatus = "disabled"
)

// Operator is a staff account of the console: separate from citizens, with
// its own credentials (a password and a TOTP secret, both required to sign
// in), roles and a region scope.
type Operator struct {
	ID       string // random, opaque: "o_" and 32 hex digits
	Username string // sign-in name, unique
	Name     string // shown in the console and the approvals list
	Roles    []Role
	// Region is a GB/T 2260 prefix: "110105" a county, "1101" a prefecture,
	// "11" a province, "" the whole nation. The operator sees and changes
	// only citizens whose region code starts with it (see Console).
	Region       string
	Status       OperatorStatus
	PasswordHash string     // argon2id PHC string (PasswordHasher)
	TOTP         TOTPSecret // RFC 6238 shared secret
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Has reports whether the operator holds role r.
func (o *Operator) Has(r Role) bool { return o != nil && slices.Contains(o.Roles, r) }

// Covers reports whether a citizen of region code (see CitizenRegion) is in
// the operator's scope. A citizen without a region belongs to the nation
// only, so only a national operator covers it.
func (o *Operator) Covers(code string) bool {
	if o == nil {
		return false
	}
	if o.Region == "" {
		return true
	}
	return code != "" && strings.HasPrefix(code, o.Region)
}

// NewOperatorID returns a random opaque operator id.
func NewOperatorID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "o_" + hex.EncodeToString(b), nil
}

// MaxUsernameLength bounds operator usernames.
const MaxUsernameLength = 64

// NormalizeUsername checks an operator username: 3 to 64 characters of
// lower-case ASCII letters, digits, '.', '-' and '_'.
func NormalizeUsername(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" {
		return "", &FieldError{Field: "username", Reason: FieldRequired}
	}
	if len(s) > MaxUsernameLength {
		return "", &FieldError{Field: "username", Reason: FieldTooLong}
	}
	if len(s) < 3 {
		return "", &FieldError{Field: "username", Reason: FieldInvalid}
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return "", &FieldError{Field: "username", Reason: FieldInvalid}
		}
	}
	return s, nil
}

// ParseRegionPrefix checks an operator's region scope: "" (the nation), or 2,
// 4 or 6 digits naming a province, prefecture or county of the GB/T 2260
// table (810000/820000/830000 and their prefixes included). Trailing "00"
// pairs are dropped, so "110000" means the province "11".
func ParseRegionPrefix(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil
	}
	if len(s) > 6 || !allDigits(s) || len(s)%2 != 0 {
		return "", &FieldError{Field: "region", Reason: FieldInvalid}
	}
	for len(s) > 2 && strings.HasSuffix(s, "00") {
		s = s[:len(s)-2]
	}
	if s == "00" {
		return "", &FieldError{Field: "region", Reason: FieldInvalid}
	}
	if _, known := divisionName(RegionCode6(s)); !known {
		return "", &FieldError{Field: "region", Reason: FieldInvalid}
	}
	return s, nil
}

// RegionCode6 pads a region prefix to a 6-digit code ("11" → "110000").
func RegionCode6(prefix string) string {
	return prefix + strings.Repeat("0", max(0, 6-len(prefix)))
}

// RegionName names a region prefix from the division table ("" when the
// table has no name; the nation for "").
func RegionName(prefix string) string {
	if prefix == "" {
		return ""
	}
	name, _ := divisionName(RegionCode6(prefix))
	return name
}

// CitizenRegion is the region code a citizen belongs to for the operators'
// scope, taken from their document:
//   - a resident ID or a residence permit: its 6-digit address code
//     (810000/820000/830000 for the permits);
//   - the 2023 foreign permanent resident card: the 2-digit province of the
//     office that accepted it; the old 15-character card: its 4-digit
//     province and city;
//   - any other document (permits, passports): "" — the nation only.
func CitizenRegion(n Number) string {
	switch n.typ {
	case ResidentID, ResidencePermit:
		code, _, _ := n.Region()
		return code
	case ForeignPermanentResident:
		switch {
		case len(n.value) == 18 && allDigits(n.value[1:3]):
			return n.value[1:3]
		case len(n.value) == 15 && allDigits(n.value[3:7]):
			return n.value[3:7]
		}
	}
	return ""
}

// MaxReasonLength bounds the stated reason of a look-up or an action.
const MaxReasonLength = 200

// NormalizeReason checks the reason an operator states for a look-up or an
// action: required, at most MaxReasonLength characters, plain text, and
// without a run of 8 or more digits — the reason is written to the audit
// chain, which must never hold a document number.
func NormalizeReason(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", &FieldError{Field: "reason", Reason: FieldRequired}
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxReasonLength {
		return "", &FieldError{Field: "reason", Reason: FieldTooLong}
	}
	run := 0
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return "", &FieldError{Field: "reason", Reason: FieldControl}
		}
		if r >= '0' && r <= '9' || r == 'X' || r == 'x' {
			run++
			if run >= 8 {
				return "", &FieldError{Field: "reason", Reason: FieldInvalid}
			}
		} else {
			run = 0
		}
	}
	return s, nil
}

// Errors of the console use cases.
var (
	// ErrOutOfRegion: the citizen (or the number typed) is outside the
	// operator's region. It is decided from the number alone, before any
	// look-up, so it tells nothing about who is registered.
	ErrOutOfRegion = errors.New("identity: outside the operator's region")
	// ErrForbidden: the operator's roles do not allow the action.
	ErrForbidden = errors.New("identity: not allowed for this operator")
	// ErrSameOperator: the operator who asked for a change cannot approve it.
	ErrSameOperator = errors.New("identity: a second operator must approve")
	// ErrNotPending: the approval was already decided.
	ErrNotPending = errors.New("identity: approval already decided")
)

// OperatorRepository keeps operators, the client → operator bindings of
// the admin API, and the reset marks of citizens' credentials (SQL).
// Errors: ErrNotFound, ErrAlreadyExists (a taken username, a client already
// bound), ErrConflict (UseTOTPStep), ErrUnavailable, all wrapped.
type OperatorRepository interface {
	// CreateOperator stores o (o.ID set by the caller).
	CreateOperator(ctx context.Context, o *Operator) error
	// Operator loads one by id.
	Operator(ctx context.Context, id string) (*Operator, error)
	// OperatorByUsername loads one by username.
	OperatorByUsername(ctx context.Context, username string) (*Operator, error)
	// Operators lists all, by username.
	Operators(ctx context.Context) ([]*Operator, error)
	// UpdateOperator replaces name, roles, region, status, password hash
	// and TOTP secret. ErrNotFound if none.
	UpdateOperator(ctx context.Context, o *Operator) error
	// UseTOTPStep records that the operator signed in with the TOTP time
	// step, atomically and only if it is later than the last one used:
	// ErrConflict otherwise, so a code is never accepted twice.
	UseTOTPStep(ctx context.Context, operatorID string, step int64) error

	// BindClientOperator makes the admin API act as operatorID for tokens
	// of clientID (one operator per client; binding again replaces it).
	BindClientOperator(ctx context.Context, clientID, operatorID string) error
	// ClientOperator returns the operator a client acts as, or ErrNotFound.
	ClientOperator(ctx context.Context, clientID string) (string, error)
}

// CitizenAdmin is what operators change on a citizen beyond
// CitizenRepository (SQL). ErrNotFound for no such citizen.
type CitizenAdmin interface {
	// SetCitizenPhone binds a phone (E.164) or unbinds it ("").
	SetCitizenPhone(ctx context.Context, citizenID, phone string) error
	// ResetCitizenCredentials removes the password and records who reset it
	// and when, in one transaction: the citizen must set a new one.
	ResetCitizenCredentials(ctx context.Context, citizenID, operatorID string, at time.Time) error
	// CitizenCredentialsReset returns when the credentials were last reset
	// by an operator and no password has been set since; ErrNotFound if not.
	CitizenCredentialsReset(ctx context.Context, citizenID string) (time.Time, error)
}
