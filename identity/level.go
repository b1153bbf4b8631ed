package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// How a citizen's level was raised (Citizen.LevelMethod).
const (
	// LevelMethodIDCheck: name and number confirmed by the real-name
	// verification service, and the bound phone by an SMS code (level 2).
	LevelMethodIDCheck = "id_check"
	// LevelMethodPasskey: a passkey enrolled on a level-2 account (level 3).
	LevelMethodPasskey = "passkey"
)

// Verdict is the answer of a real-name verification service.
type Verdict int

const (
	// VerdictNoMatch: the name does not belong to the number (or the
	// service has no such number). The zero value, so that nothing
	// unanswered reads as a match.
	VerdictNoMatch Verdict = iota
	// VerdictMatch: the service confirms the name and number.
	VerdictMatch
)

func (v Verdict) String() string {
	if v == VerdictMatch {
		return "match"
	}
	return "no_match"
}

// IdentityVerifier checks a name and a document number against the
// authority's records (the population register behind a verification
// service). Implementations: DevVerifier (development), the HTTP adapter in
// package verifygateway.
//
// Verify answers VerdictMatch or VerdictNoMatch; when the service cannot
// answer (no answer in time, an error status, an answer it cannot read) it
// returns an error wrapping ErrUnavailable — the third outcome, which is
// never a "no match". Neither the name nor the number may appear in the
// error or in any log.
type IdentityVerifier interface {
	Verify(ctx context.Context, n Number, name string) (Verdict, error)
}

// DevNoMatchNumber is the resident ID number DevVerifier never matches, so
// that the "not confirmed" path can be tried in development and tests.
const DevNoMatchNumber = "110105197001010994"

// DevVerifier is the development verification service (`serve --dev`):
// every well-formed number with a non-empty name matches, except the
// numbers in NoMatch (DevNoMatchNumber when NoMatch is nil). Down makes it
// answer "unavailable".
type DevVerifier struct {
	NoMatch []string // canonical document numbers that never match
	Down    bool
}

var _ IdentityVerifier = (*DevVerifier)(nil)

// Verify implements IdentityVerifier.
func (d *DevVerifier) Verify(ctx context.Context, n Number, name string) (Verdict, error) {
	if err := ctx.Err(); err != nil || d.Down {
		return VerdictNoMatch, fmt.Errorf("identity: development verifier: %w", ErrUnavailable)
	}
	if n.IsZero() || strings.TrimSpace(name) == "" {
		return VerdictNoMatch, nil
	}
	never := d.NoMatch
	if never == nil {
		never = []string{DevNoMatchNumber}
	}
	for _, v := range never {
		if n.Value() == v {
			return VerdictNoMatch, nil
		}
	}
	return VerdictMatch, nil
}

// Errors of the level use case.
var (
	// ErrLevelReached: the account is already at the level asked for, or above.
	ErrLevelReached = errors.New("identity: the account already has this real-name level")
	// ErrNotConfirmed: the verification service did not confirm the name
	// and number.
	ErrNotConfirmed = errors.New("identity: the real-name check did not confirm the name and number")
)

// DefaultVerifyAttempts bounds calls to the verification service per
// citizen: the service must not become a way to test names against a
// number that someone registered without being its holder.
var DefaultVerifyAttempts = Limit{Max: 5, Window: 24 * time.Hour}

// OTPPhoneCheck is the purpose of a code that confirms the bound phone
// before the level is raised.
const OTPPhoneCheck = "phone"

// Leveler raises a citizen's real-name level (DOMAIN.md §4.5; DESIGN.md
// "Assurance has two axes"): from 1 to 2 when the verification service
// confirms the registered name and number and an SMS code confirms the
// bound phone; from 2 to 3 when a passkey is enrolled.
//
// The name checked is the one on the account — the name relying parties
// receive — never a name typed for the occasion.
type Leveler struct {
	Citizens CitizenRepository
	Verifier IdentityVerifier
	// VerifierName names the service in audit entries ("dev", "http").
	VerifierName string
	// Codes sends and checks the phone code (the SMS use case).
	Codes *OTP
	// Limiter counts verification attempts; nil means no limit (tests).
	Limiter  RateLimiter
	Attempts Limit // zero means DefaultVerifyAttempts
	Audit    AuditRecorder
	Now      func() time.Time
}

// SendPhoneCode sends a code to c's bound phone, bound to binding (the
// SSO session). ErrLevelReached at level 2 or above, ErrNoPhone without a
// phone; otherwise as OTP.SendStepUp.
func (l *Leveler) SendPhoneCode(ctx context.Context, c *Citizen, binding, clientIP string) (*OTPSent, error) {
	if c.Level >= LevelVerified {
		return nil, ErrLevelReached
	}
	if c.Phone == "" {
		return nil, ErrNoPhone
	}
	o := l.Codes
	if err := o.limit(ctx, "ip", otpIPKey(clientIP), o.IPLimit, DefaultOTPIPLimit); err != nil {
		return nil, err
	}
	return o.send(ctx, o.accountKey(c.Number), c.Phone, OTPPhoneCheck, binding, c.Status == StatusActive)
}

// RaiseToVerified checks the phone code, then asks the verification service
// about c's number and registered name, and on a match raises c to level 2
// (method LevelMethodIDCheck) and records it in the audit trail. c is
// updated to match.
//
// Errors: ErrLevelReached; ErrNoPhone; those of a code check (*FieldError,
// *OTPRefusal, ErrNotFound for no live code); *RateLimitedError (Scope
// "verify") after too many verifications; ErrNotConfirmed for a "no match";
// a wrapped ErrUnavailable when the service does not answer (the code is
// spent then: the citizen asks for a new one); other wrapped port errors.
func (l *Leveler) RaiseToVerified(ctx context.Context, c *Citizen, binding, code string) error {
	if c.Level >= LevelVerified {
		return ErrLevelReached
	}
	if c.Phone == "" {
		return ErrNoPhone
	}
	code, err := ParseOTPCode(code)
	if err != nil {
		return err
	}
	if err := l.Codes.use(ctx, l.Codes.accountKey(c.Number), OTPPhoneCheck, binding, code); err != nil {
		return err
	}
	if err := l.limit(ctx, c.ID); err != nil {
		return err
	}
	verdict, err := l.Verifier.Verify(ctx, c.Number, c.Name)
	if err != nil {
		if !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return fmt.Errorf("identity: real-name check: %w", err)
	}
	now := l.now()
	if verdict != VerdictMatch {
		if err := l.record(ctx, AuditLevelRefused, c.ID, now, "verifier", l.VerifierName, "reason", "no_match"); err != nil {
			return err
		}
		return ErrNotConfirmed
	}
	return l.raise(ctx, c, LevelVerified, LevelMethodIDCheck, now, "verifier", l.VerifierName)
}

// RaiseByPasskey raises a level-2 account to level 3 after a passkey was
// enrolled on it (method LevelMethodPasskey). It reports whether the level
// changed; other levels are left as they are.
func (l *Leveler) RaiseByPasskey(ctx context.Context, citizenID string) (bool, error) {
	c, err := l.Citizens.Citizen(ctx, citizenID)
	if err != nil {
		return false, fmt.Errorf("identity: raise level: %w", err)
	}
	if c.Level != LevelVerified || c.Status != StatusActive {
		return false, nil
	}
	if err := l.raise(ctx, c, LevelInPerson, LevelMethodPasskey, l.now()); err != nil {
		return false, err
	}
	return true, nil
}

func (l *Leveler) raise(ctx context.Context, c *Citizen, to Level, method string, at time.Time, detail ...string) error {
	if err := l.Citizens.SetLevel(ctx, c.ID, to, method, at); err != nil {
		return fmt.Errorf("identity: raise level: %w", err)
	}
	from := c.Level
	c.Level, c.LevelMethod, c.LevelAt = to, method, at
	detail = append(detail, "from", strconv.Itoa(int(from)), "to", strconv.Itoa(int(to)), "method", method)
	return l.record(ctx, AuditLevelRaised, c.ID, at, detail...)
}

func (l *Leveler) record(ctx context.Context, action AuditAction, citizenID string, at time.Time, kv ...string) error {
	d := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			d[kv[i]] = kv[i+1]
		}
	}
	return recordAudit(ctx, l.Audit, &AuditEntry{Action: action, CitizenID: citizenID, Actor: ActorCitizen + citizenID, At: at, Detail: d})
}

func (l *Leveler) limit(ctx context.Context, citizenID string) error {
	if l.Limiter == nil {
		return nil
	}
	lim := l.Attempts
	if lim.Max <= 0 || lim.Window <= 0 {
		lim = DefaultVerifyAttempts
	}
	n, retry, err := l.Limiter.Hit(ctx, "verify:"+citizenID, lim.Window)
	if err != nil {
		return fmt.Errorf("identity: real-name check: rate limit: %w", err)
	}
	if n > lim.Max {
		return &RateLimitedError{Scope: "verify", RetryAfter: retry}
	}
	return nil
}

func (l *Leveler) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC()
	}
	return time.Now().UTC()
}
