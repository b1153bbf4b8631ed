package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// TOTPCredential is a citizen's authenticator-app secret (RFC 6238, the same
// parameters and code as operators' TOTP). It is a second factor: it raises
// a password session to acr 2 at a step-up, never signs anyone in alone.
type TOTPCredential struct {
	CitizenID string
	// ID names this enrolment, so that confirming one secret never confirms
	// another that replaced it meanwhile (two tabs).
	ID        string
	Secret    TOTPSecret
	Confirmed bool  // false while the enrolment waits for its first code
	LastStep  int64 // the time step of the last code accepted (0: none)
	CreatedAt time.Time
}

// TOTPRepository keeps citizens' TOTP credentials, at most one per citizen
// (SQL; the secret sealed at rest). Errors are identity's sentinels, wrapped.
type TOTPRepository interface {
	// PutPendingTOTP stores an unconfirmed credential (ID, CitizenID,
	// Secret, CreatedAt set), replacing an unconfirmed one. ErrAlreadyExists
	// when the citizen has a confirmed one; ErrNotFound for no such citizen.
	PutPendingTOTP(ctx context.Context, c *TOTPCredential) error
	// CitizenTOTP loads the citizen's credential, confirmed or not, or
	// ErrNotFound.
	CitizenTOTP(ctx context.Context, citizenID string) (*TOTPCredential, error)
	// ConfirmTOTP confirms the pending enrolment id and records step as
	// used, in one conditional write. ErrConflict when the citizen has no
	// pending enrolment with that id (replaced, removed, or confirmed).
	ConfirmTOTP(ctx context.Context, citizenID, id string, step int64) error
	// UseCitizenTOTPStep records step as used, in one conditional write
	// that succeeds only when it is above the last used step: of two uses
	// of one code, exactly one wins. ErrConflict when it is not above
	// (a replay); ErrNotFound without a confirmed credential.
	UseCitizenTOTPStep(ctx context.Context, citizenID string, step int64) error
	// DeleteCitizenTOTP removes the credential, confirmed or not.
	// ErrNotFound when there is none.
	DeleteCitizenTOTP(ctx context.Context, citizenID string) error
}

// ErrTOTPReplayed is the reason of an *OTPRefusal for a right code that was
// already used (its time step is not after the last one accepted).
var ErrTOTPReplayed = errors.New("identity: code already used")

// DefaultTOTPFailures bounds wrong TOTP codes per citizen: 5 per 15 minutes.
var DefaultTOTPFailures = Limit{Max: 5, Window: 15 * time.Minute}

// TOTPEnrolment is what the enrolment page shows once, while it waits for
// the first code: the secret as base32 and as an otpauth:// URI.
type TOTPEnrolment struct {
	ID        string
	Secret    string // base32, no padding, as authenticator apps take it typed
	URI       string
	CreatedAt time.Time
}

// TOTPFactor is the citizen's authenticator-app second factor: enrolment
// (a pending secret, confirmed by a first code), removal, and the check at a
// step-up. Codes are single use: each accepted code records its time step,
// and a step not after the last one is refused. Wrong codes are limited to
// Failures per citizen (5 in 15 minutes by default); a right code resets
// the count.
type TOTPFactor struct {
	Repo TOTPRepository
	// Limiter counts wrong codes; nil means no limit (tests only).
	Limiter  RateLimiter
	Failures Limit // zero means DefaultTOTPFailures
	Audit    AuditRecorder
	// Issuer is the otpauth issuer label (default "一号").
	Issuer string
	Now    func() time.Time
}

// Begin starts an enrolment for c: a new random secret, stored unconfirmed
// (replacing an earlier unconfirmed one). ErrAlreadyExists when c already
// has a confirmed authenticator.
func (f *TOTPFactor) Begin(ctx context.Context, c *Citizen) (*TOTPEnrolment, error) {
	secret, err := NewTOTPSecret()
	if err != nil {
		return nil, fmt.Errorf("identity: totp: %w", err)
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("identity: totp: %w", err)
	}
	cred := &TOTPCredential{CitizenID: c.ID, ID: hex.EncodeToString(id[:]), Secret: secret, CreatedAt: f.now().Truncate(time.Microsecond)}
	if err := f.Repo.PutPendingTOTP(ctx, cred); err != nil {
		return nil, fmt.Errorf("identity: totp enrolment: %w", err)
	}
	return f.enrolment(c, cred), nil
}

// Pending returns c's unconfirmed enrolment, or ErrNotFound (wrapped) when
// there is none (none at all, or a confirmed one).
func (f *TOTPFactor) Pending(ctx context.Context, c *Citizen) (*TOTPEnrolment, error) {
	cred, err := f.Repo.CitizenTOTP(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("identity: totp: %w", err)
	}
	if cred.Confirmed {
		return nil, fmt.Errorf("identity: totp: no pending enrolment: %w", ErrNotFound)
	}
	return f.enrolment(c, cred), nil
}

func (f *TOTPFactor) enrolment(c *Citizen, cred *TOTPCredential) *TOTPEnrolment {
	issuer := f.Issuer
	if issuer == "" {
		issuer = "一号"
	}
	return &TOTPEnrolment{ID: cred.ID, Secret: cred.Secret.Base32(), URI: cred.Secret.URI(issuer, c.Number.Masked()), CreatedAt: cred.CreatedAt}
}

// Enrolled reports whether the citizen has a confirmed authenticator, and
// since when.
func (f *TOTPFactor) Enrolled(ctx context.Context, citizenID string) (bool, time.Time, error) {
	cred, err := f.Repo.CitizenTOTP(ctx, citizenID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, time.Time{}, nil
	case err != nil:
		return false, time.Time{}, fmt.Errorf("identity: totp: %w", err)
	}
	return cred.Confirmed, cred.CreatedAt, nil
}

// Confirm checks the first code of the pending enrolment id and makes it
// c's second factor. Errors: *FieldError (Field "code") for a code that is
// not 6 digits; *OTPRefusal (ErrOTPMismatch with the tries left, or
// ErrOTPLocked); ErrNotFound (wrapped) when nothing is pending, ErrConflict
// (wrapped) when id is no longer the pending enrolment.
func (f *TOTPFactor) Confirm(ctx context.Context, c *Citizen, id, code string) error {
	cred, err := f.Repo.CitizenTOTP(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("identity: totp: %w", err)
	}
	if cred.Confirmed || cred.ID != id {
		return fmt.Errorf("identity: totp: enrolment replaced: %w", ErrConflict)
	}
	err = f.check(ctx, c.ID, cred.Secret, code, func(step int64) error {
		return f.Repo.ConfirmTOTP(ctx, c.ID, id, step)
	})
	if err != nil {
		return err
	}
	return recordAudit(ctx, f.Audit, &AuditEntry{Action: AuditTOTPEnrolled, CitizenID: c.ID, Actor: ActorCitizen + c.ID, At: f.now()})
}

// Verify checks a code at a step-up. Errors: *FieldError; *OTPRefusal
// (ErrOTPMismatch, ErrTOTPReplayed — both with the tries left — or
// ErrOTPLocked); ErrNotFound (wrapped) without a confirmed authenticator.
func (f *TOTPFactor) Verify(ctx context.Context, citizenID, code string) error {
	cred, err := f.Repo.CitizenTOTP(ctx, citizenID)
	if err != nil {
		return fmt.Errorf("identity: totp: %w", err)
	}
	if !cred.Confirmed {
		return fmt.Errorf("identity: totp: not confirmed: %w", ErrNotFound)
	}
	return f.check(ctx, citizenID, cred.Secret, code, func(step int64) error {
		return f.Repo.UseCitizenTOTPStep(ctx, citizenID, step)
	})
}

// Remove deletes the citizen's authenticator (confirmed or pending).
// ErrNotFound (wrapped) when there is none.
func (f *TOTPFactor) Remove(ctx context.Context, citizenID string) error {
	cred, err := f.Repo.CitizenTOTP(ctx, citizenID)
	if err != nil {
		return fmt.Errorf("identity: totp: %w", err)
	}
	if err := f.Repo.DeleteCitizenTOTP(ctx, citizenID); err != nil {
		return fmt.Errorf("identity: totp: remove: %w", err)
	}
	if !cred.Confirmed {
		return nil
	}
	return recordAudit(ctx, f.Audit, &AuditEntry{Action: AuditTOTPRemoved, CitizenID: citizenID, Actor: ActorCitizen + citizenID, At: f.now()})
}

// check parses the code, counts the try, compares it with the steps around
// now and records its step through use (ErrConflict there is a replay).
// A right code resets the count of wrong ones.
func (f *TOTPFactor) check(ctx context.Context, citizenID string, secret TOTPSecret, raw string, use func(step int64) error) error {
	code, err := ParseOTPCode(raw)
	if err != nil {
		return err
	}
	lim := f.Failures
	if lim.Max <= 0 || lim.Window <= 0 {
		lim = DefaultTOTPFailures
	}
	key := "totp:try:" + citizenID
	var tries int64
	if f.Limiter != nil {
		n, retry, err := f.Limiter.Hit(ctx, key, lim.Window)
		if err != nil {
			return fmt.Errorf("identity: totp: rate limit: %w", err)
		}
		if n > lim.Max {
			return &OTPRefusal{Reason: ErrOTPLocked, RetryAfter: retry}
		}
		tries = n
	}
	left := int(max(lim.Max-tries, 0))
	step, ok := secret.VerifyTOTP(code, f.now())
	if !ok {
		return &OTPRefusal{Reason: ErrOTPMismatch, Left: left}
	}
	if err := use(step); err != nil {
		if errors.Is(err, ErrConflict) {
			return &OTPRefusal{Reason: ErrTOTPReplayed, Left: left}
		}
		return fmt.Errorf("identity: totp: %w", err)
	}
	if f.Limiter != nil {
		if err := f.Limiter.Reset(ctx, key); err != nil {
			return fmt.Errorf("identity: totp: rate limit: %w", err)
		}
	}
	return nil
}

func (f *TOTPFactor) now() time.Time {
	if f.Now != nil {
		return f.Now().UTC()
	}
	return time.Now().UTC()
}

// Base32 is the secret as authenticator apps take it when typed (RFC 4648
// base32, no padding). Show it only while an enrolment waits for its code.
func (s TOTPSecret) Base32() string { return totpBase32.EncodeToString(s.key) }
