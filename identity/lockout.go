package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultLockout is NIST SP 800-63B's ceiling: at most 100 consecutive
// failed password attempts per account. The count lives in the rate
// limiter under its own key for 30 days from the first failure, and any
// successful sign-in (password, SMS code, passkey) or a password recovery
// resets it.
var DefaultLockout = Limit{Max: 100, Window: 30 * 24 * time.Hour}

// ErrPasswordLocked: the account's password sign-in is locked after
// DefaultLockout consecutive failures. SMS login, passkeys and password
// recovery still work, and each of them unlocks it. Numbers without an
// account are counted and locked exactly alike, so the answer tells nothing
// about registration.
var ErrPasswordLocked = errors.New("identity: password sign-in locked after too many failures")

// DefaultLoginDelay is the progressive delay before a password is checked,
// given the consecutive failures before this attempt: none for the first
// three, then 200 ms doubling up to 2 s. With the 5-per-15-minutes window it
// makes a run of guesses slower still; it depends only on the number's
// counter, never on whether the number is registered.
func DefaultLoginDelay(failures int64) time.Duration {
	if failures < 3 {
		return 0
	}
	d := 200 * time.Millisecond
	for i := int64(3); i < failures && d < 2*time.Second; i++ {
		d *= 2
	}
	return min(d, 2*time.Second)
}

// Unlock forgets the account's failure counts — the 15-minute window and
// the consecutive-failure lockout — after the citizen proved themselves
// another way (an SMS code, a passkey, a password recovery).
func (a *Authenticator) Unlock(ctx context.Context, n Number) error {
	if a.Limiter == nil {
		return nil
	}
	acct := a.accountKey(n)
	for _, k := range []string{acct, lockKey(acct)} {
		if err := a.Limiter.Reset(ctx, k); err != nil {
			return fmt.Errorf("identity: unlock: %w", err)
		}
	}
	return nil
}

// lockout counts one password attempt against the account's consecutive
// failures (reset on success) and, below the limit, waits the progressive
// delay. Over the limit it returns ErrPasswordLocked without waiting, with
// first true for the first refusal (the one worth recording).
func (a *Authenticator) lockout(ctx context.Context, acct string) (first bool, err error) {
	if a.Limiter == nil {
		return false, nil
	}
	l := a.Lockout
	if l.Max <= 0 || l.Window <= 0 {
		l = DefaultLockout
	}
	count, _, err := a.Limiter.Hit(ctx, lockKey(acct), l.Window)
	if err != nil {
		return false, fmt.Errorf("identity: login: lockout: %w", err)
	}
	if count > l.Max {
		return count == l.Max+1, ErrPasswordLocked
	}
	delay := DefaultLoginDelay
	if a.Delay != nil {
		delay = a.Delay
	}
	if d := delay(count - 1); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false, fmt.Errorf("identity: login: %w", errors.Join(ErrUnavailable, ctx.Err()))
		}
	}
	return false, nil
}

// lockKey is "login:lock:" and the hash of the account key.
func lockKey(acct string) string {
	return "login:lock:" + strings.TrimPrefix(acct, "login:acct:")
}
