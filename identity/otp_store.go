package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OTPStore keeps one-time codes (Redis, or the embedded store). Under one
// key (an account) there is at most one live code, stored only as a keyed
// hash, and a count of wrong tries. The entry — code and count together —
// ends ttl after the last PutOTP: asking for a new code replaces the code but
// keeps the count, so re-sending never buys more tries.
//
// Errors: ErrNotFound when there is no live code (never sent, expired,
// already used, or killed by the last allowed wrong try); an *OTPRefusal
// (errors.Is ErrOTPMismatch or ErrOTPLocked) for a wrong code or a locked
// key; a wrapped ErrUnavailable when the backend does not answer.
type OTPStore interface {
	// PutOTP stores hash as the key's live code and makes the entry end ttl
	// from now. When the key's wrong tries have reached maxFailures it
	// stores nothing and returns an *OTPRefusal (ErrOTPLocked) whose
	// RetryAfter is the time left until the entry ends.
	PutOTP(ctx context.Context, key string, hash []byte, ttl time.Duration, maxFailures int) error
	// UseOTP checks hash against the live code, atomically: on a match the
	// whole entry is deleted (single use; the count starts over) and nil is
	// returned. On a mismatch one wrong try is counted and an *OTPRefusal
	// (ErrOTPMismatch) tells how many are left; the try that reaches
	// maxFailures also deletes the code. When the count had already reached
	// maxFailures, nothing is compared: *OTPRefusal (ErrOTPLocked).
	UseOTP(ctx context.Context, key string, hash []byte, maxFailures int) error
}

// The reasons of an *OTPRefusal.
var (
	ErrOTPMismatch = errors.New("identity: wrong code")
	ErrOTPLocked   = errors.New("identity: too many wrong codes")
)

// OTPRefusal is a code that was not accepted. It never holds the code.
type OTPRefusal struct {
	Reason     error         // ErrOTPMismatch or ErrOTPLocked
	Left       int           // wrong tries left (ErrOTPMismatch)
	RetryAfter time.Duration // time until the key takes codes again (ErrOTPLocked)
}

func (e *OTPRefusal) Error() string {
	if errors.Is(e.Reason, ErrOTPLocked) {
		return fmt.Sprintf("%v; retry after %s", e.Reason, e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("%v; %d tries left", e.Reason, e.Left)
}

func (e *OTPRefusal) Unwrap() error { return e.Reason }

// SessionUpgrader raises how strongly a live session was authenticated after
// a step-up (a second factor on top of the first), keeping the session's id,
// its clients and its lifetimes — so the sid in tokens, the logout kill path
// and back-channel logout keep covering everything issued under it.
//
// Errors: ErrNotFound when the session has ended; a wrapped ErrUnavailable
// when the backend does not answer.
type SessionUpgrader interface {
	// UpgradeSession sets the session's ACR, AMR and AuthTime.
	UpgradeSession(ctx context.Context, id, acr string, amr []string, authTime time.Time) error
}
