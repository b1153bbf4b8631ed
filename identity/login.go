package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Limit is a number of attempts allowed in a fixed window.
type Limit struct {
	Max    int64
	Window time.Duration
}

// Default login limits.
var (
	DefaultAccountLimit = Limit{Max: 5, Window: 15 * time.Minute}
	DefaultIPLimit      = Limit{Max: 50, Window: 15 * time.Minute}
)

// Authenticator is the password login use case.
//
// Rate limits: every attempt counts against the account (keyed by a hash of
// the document number, never the number) and against the client address
// (IPv6 by /64). A successful login resets the account's count, so the
// account limit counts failures since the last success; the address limit
// counts all attempts. Over a limit, Login answers *RateLimitedError without
// checking the password.
//
// Set the fields before first use and do not copy an Authenticator after.
type Authenticator struct {
	Citizens CitizenRepository
	Hasher   *PasswordHasher
	// Limiter counts attempts; nil disables rate limiting (tests only:
	// production wiring must set it).
	Limiter RateLimiter
	Now     func() time.Time // nil means time.Now

	AccountLimit Limit // zero means DefaultAccountLimit
	IPLimit      Limit // zero means DefaultIPLimit
	// Lockout bounds consecutive failures per account (lockout.go); zero
	// means DefaultLockout. Delay is the progressive delay given the
	// failures so far; nil means DefaultLoginDelay.
	Lockout Limit
	Delay   func(failures int64) time.Duration
	// LimitKeySecret, when set, keys the account counter with
	// HMAC-SHA256 instead of SHA-256, so the counter keys in Redis cannot be
	// matched against a list of numbers. Any stable secret will do.
	LimitKeySecret []byte
	// Audit, when set, records every success and every refused attempt
	// on a known-shaped number (citizen id when known, the address
	// truncated by AuditIP; never the number). A refusal by a rate limit
	// is recorded once per window, so a flood does not become a flood of
	// SQL writes. When recording fails the login fails with that error.
	Audit AuditRecorder

	dummyMu   sync.Mutex
	dummyHash string
}

// Login checks a document number (any recognised shape, see ParseAny) and a
// password. It returns:
//   - a *NumberError when raw is not a well-formed number, so the page can
//     say which part is wrong;
//   - *RateLimitedError when too many attempts were made;
//   - ErrPasswordLocked after Lockout consecutive failures (lockout.go);
//   - ErrInvalidCredentials for an unknown number, a wrong password or a
//     frozen account, after the same work in each case;
//   - a wrapped port error (ErrUnavailable, …) when storage fails.
func (a *Authenticator) Login(ctx context.Context, raw, password, clientIP string) (*Citizen, error) {
	n, err := ParseAnyAt(raw, a.now())
	if err != nil {
		return nil, err
	}
	return a.LoginNumber(ctx, n, password, clientIP)
}

// LoginNumber is Login for an already parsed number (a page with a document
// type selector, passports).
func (a *Authenticator) LoginNumber(ctx context.Context, n Number, password, clientIP string) (*Citizen, error) {
	if n.IsZero() {
		return nil, &NumberError{Type: n.Type(), Part: PartLength, Detail: DetailEmpty}
	}
	acctKey := a.accountKey(n)
	if first, err := a.limit(ctx, "ip", ipKey(clientIP), a.IPLimit, DefaultIPLimit); err != nil {
		return nil, a.refused(ctx, err, first, nil, clientIP)
	}
	if first, err := a.limit(ctx, "account", acctKey, a.AccountLimit, DefaultAccountLimit); err != nil {
		return nil, a.refused(ctx, err, first, nil, clientIP)
	}
	if first, err := a.lockout(ctx, acctKey); err != nil {
		return nil, a.refused(ctx, err, first, nil, clientIP)
	}

	c, hash, err := a.lookup(ctx, n)
	if err != nil {
		return nil, err
	}
	if hash == "" {
		// Unknown number or no password: spend the same time as a real check.
		if dummy, derr := a.dummy(ctx); derr == nil {
			_, _ = a.Hasher.Verify(ctx, password, dummy)
		}
		return nil, a.refused(ctx, ErrInvalidCredentials, true, c, clientIP)
	}
	ok, err := a.Hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, fmt.Errorf("identity: login: %w", err)
	}
	if !ok || c.Status != StatusActive {
		return nil, a.refused(ctx, ErrInvalidCredentials, true, c, clientIP)
	}
	if err := a.Unlock(ctx, n); err != nil {
		return nil, fmt.Errorf("identity: login: %w", err)
	}
	if a.Hasher.NeedsRehash(hash) {
		// Best effort: the login stands even if the upgrade cannot be stored.
		if fresh, err := a.Hasher.Hash(ctx, password); err == nil {
			_ = a.Citizens.SetPasswordHash(ctx, c.ID, fresh)
		}
	}
	err = recordAudit(ctx, a.Audit, &AuditEntry{
		Action: AuditLoginSuccess, CitizenID: c.ID, Actor: ActorCitizen + c.ID,
		IP: AuditIP(clientIP), At: a.now(), Detail: map[string]string{"method": "pwd"},
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// refused records a refused login (see Audit) and returns err, or the
// recording's error when that fails. c is the account when the number is
// known. record is false for a rate-limit refusal after the first of its
// window, and for storage errors.
func (a *Authenticator) refused(ctx context.Context, err error, record bool, c *Citizen, clientIP string) error {
	if a.Audit == nil || !record {
		return err
	}
	var reason string
	var rl *RateLimitedError
	switch {
	case errors.As(err, &rl):
		reason = "rate_limited_" + rl.Scope
	case errors.Is(err, ErrPasswordLocked):
		reason = "password_locked"
	case c == nil:
		reason = "unknown_account"
	case c.Status != StatusActive:
		reason = "not_active"
	default:
		reason = "bad_credentials"
	}
	e := &AuditEntry{
		Action: AuditLoginFailure, Actor: ActorAnonymous, IP: AuditIP(clientIP), At: a.now(),
		Detail: map[string]string{"method": "pwd", "reason": reason},
	}
	if c != nil {
		e.CitizenID = c.ID
	}
	if aerr := recordAudit(ctx, a.Audit, e); aerr != nil {
		return aerr
	}
	return err
}

// lookup returns the citizen and their password hash; hash is "" when the
// number is unknown or the account has no password.
func (a *Authenticator) lookup(ctx context.Context, n Number) (*Citizen, string, error) {
	c, err := a.Citizens.CitizenByNumber(ctx, n)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("identity: login: %w", err)
	}
	hash, err := a.Citizens.PasswordHash(ctx, c.ID)
	if errors.Is(err, ErrNotFound) {
		return c, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("identity: login: %w", err)
	}
	return c, hash, nil
}

// limit counts one attempt against key. Over the limit it returns
// *RateLimitedError, with first true for the first refusal of the window
// (the one worth recording).
func (a *Authenticator) limit(ctx context.Context, scope, key string, l, def Limit) (first bool, err error) {
	if a.Limiter == nil || key == "" {
		return false, nil
	}
	if l.Max <= 0 || l.Window <= 0 {
		l = def
	}
	count, retry, err := a.Limiter.Hit(ctx, key, l.Window)
	if err != nil {
		return false, fmt.Errorf("identity: login: rate limit: %w", err)
	}
	if count > l.Max {
		return count == l.Max+1, &RateLimitedError{Scope: scope, RetryAfter: retry}
	}
	return false, nil
}

// accountKey is "login:acct:" and a hex SHA-256 (or HMAC-SHA256) of the
// document type and canonical number: stable, and not the number.
func (a *Authenticator) accountKey(n Number) string {
	msg := []byte(string(n.Type()) + "\x00" + n.Value())
	var sum []byte
	if len(a.LimitKeySecret) > 0 {
		m := hmac.New(sha256.New, a.LimitKeySecret)
		m.Write(msg)
		sum = m.Sum(nil)
	} else {
		s := sha256.Sum256(msg)
		sum = s[:]
	}
	return "login:acct:" + hex.EncodeToString(sum)
}

// ipKey is "login:ip:" and the address, IPv6 reduced to its /64 (one
// subscriber). "" (no address known) disables the address limit.
func ipKey(clientIP string) string {
	if clientIP == "" {
		return ""
	}
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		return "login:ip:" + clientIP
	}
	addr = addr.Unmap()
	if addr.Is6() {
		addr = netip.PrefixFrom(addr, 64).Masked().Addr()
	}
	return "login:ip:" + addr.WithZone("").String()
}

// dummy is a hash of a random password with the hasher's parameters, made
// on first need (and again if that failed), to verify against when there is
// no real hash.
func (a *Authenticator) dummy(ctx context.Context) (string, error) {
	a.dummyMu.Lock()
	defer a.dummyMu.Unlock()
	if a.dummyHash != "" {
		return a.dummyHash, nil
	}
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	h, err := a.Hasher.Hash(ctx, hex.EncodeToString(pw))
	if err != nil {
		return "", err
	}
	a.dummyHash = h
	return h, nil
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
