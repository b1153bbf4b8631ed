package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	aliceNumber   = "11010519491231002X"
	alicePassword = "plum blossom in winter"
)

type loginFixture struct {
	auth     *Authenticator
	citizens *memCitizens
	limiter  *memLimiter
	clock    *fakeClock
	alice    *Citizen
}

func newLoginFixture(t *testing.T) *loginFixture {
	t.Helper()
	clock := &fakeClock{t: testNow}
	f := &loginFixture{citizens: newMemCitizens(), clock: clock, limiter: newMemLimiter(clock.Now)}
	f.auth = &Authenticator{Citizens: f.citizens, Hasher: fastHasher(), Limiter: f.limiter, Now: clock.Now,
		Delay: func(int64) time.Duration { return 0 }}
	reg := &Registrar{Citizens: f.citizens, Hasher: f.auth.Hasher, Now: clock.Now}
	alice, err := reg.Register(t.Context(), RegisterInput{Number: aliceNumber, Name: "王丽", Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	f.alice = alice
	return f
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *loginFixture)
		raw     string
		pw      string
		wantErr func(error) bool
	}{
		{name: "right password", raw: aliceNumber, pw: alicePassword},
		{name: "lower-case x and spaces", raw: " 11010519491231002x ", pw: alicePassword},
		{name: "wrong password", raw: aliceNumber, pw: "plum blossom in summer", wantErr: is(ErrInvalidCredentials)},
		{name: "unknown number", raw: "440524188001010014", pw: alicePassword, wantErr: is(ErrInvalidCredentials)},
		{
			name:  "frozen account, right password",
			setup: func(f *loginFixture) { _ = f.citizens.SetStatus(context.Background(), f.alice.ID, StatusFrozen) },
			raw:   aliceNumber, pw: alicePassword, wantErr: is(ErrInvalidCredentials),
		},
		{
			name:  "account without password",
			setup: func(f *loginFixture) { delete(f.citizens.hashes, f.alice.ID) },
			raw:   aliceNumber, pw: alicePassword, wantErr: is(ErrInvalidCredentials),
		},
		{name: "malformed number", raw: "110105194912310021", pw: alicePassword, wantErr: numberPart(PartCheck)},
		{name: "empty number", raw: "", pw: alicePassword, wantErr: numberPart(PartLength)},
		{
			name:  "storage down",
			setup: func(f *loginFixture) { f.citizens.fail = fmt.Errorf("store: %w", ErrUnavailable) },
			raw:   aliceNumber, pw: alicePassword, wantErr: is(ErrUnavailable),
		},
		{
			name:  "limiter down fails closed",
			setup: func(f *loginFixture) { f.limiter.fail = fmt.Errorf("redis: %w", ErrUnavailable) },
			raw:   aliceNumber, pw: alicePassword, wantErr: is(ErrUnavailable),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLoginFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			c, err := f.auth.Login(t.Context(), tt.raw, tt.pw, "198.51.100.7")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if c.ID != f.alice.ID {
					t.Fatalf("got citizen %s, want %s", c.ID, f.alice.ID)
				}
				return
			}
			if c != nil || !tt.wantErr(err) {
				t.Fatalf("Login = %v, %v", c, err)
			}
		})
	}
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func numberPart(p Part) func(error) bool {
	return func(err error) bool {
		var ne *NumberError
		return errors.As(err, &ne) && ne.Part == p
	}
}

func TestLoginAccountRateLimit(t *testing.T) {
	f := newLoginFixture(t)
	ctx := t.Context()
	for i := range 5 {
		if _, err := f.auth.Login(ctx, aliceNumber, "wrong guess "+fmt.Sprint(i), fmt.Sprintf("198.51.100.%d", i)); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// Sixth attempt, even with the right password and from a new address.
	_, err := f.auth.Login(ctx, aliceNumber, alicePassword, "203.0.113.9")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.Scope != "account" || rl.RetryAfter <= 0 || rl.RetryAfter > 15*time.Minute {
		t.Fatalf("6th attempt = %v, want account rate limit", err)
	}
	if !strings.Contains(rl.Localize("zh-CN"), "分钟") || !strings.Contains(rl.Localize("en"), "minutes") {
		t.Errorf("messages: %q / %q", rl.Localize("zh-CN"), rl.Localize("en"))
	}
	// Unknown numbers are limited the same way (no enumeration).
	for range 6 {
		_, err = f.auth.Login(ctx, "440524188001010014", "guess", "203.0.113.10")
	}
	if !errors.As(err, &rl) || rl.Scope != "account" {
		t.Fatalf("unknown number not limited: %v", err)
	}

	f.clock.Advance(15 * time.Minute)
	if _, err := f.auth.Login(ctx, aliceNumber, alicePassword, "203.0.113.9"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestLoginSuccessResetsAccountCount(t *testing.T) {
	f := newLoginFixture(t)
	ctx := t.Context()
	for round := range 3 {
		for range 4 {
			if _, err := f.auth.Login(ctx, aliceNumber, "wrong", "198.51.100.1"); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if _, err := f.auth.Login(ctx, aliceNumber, alicePassword, "198.51.100.1"); err != nil {
			t.Fatalf("round %d: success refused: %v", round, err)
		}
	}
}

func TestLoginIPRateLimit(t *testing.T) {
	f := newLoginFixture(t)
	f.auth.IPLimit = Limit{Max: 3, Window: time.Minute}
	ctx := t.Context()
	for i := range 3 {
		n := withCheck(fmt.Sprintf("1101051990010100%d", i))
		if _, err := f.auth.Login(ctx, n, "guess", "2001:db8:1:2::10"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Same /64, another interface id.
	_, err := f.auth.Login(ctx, aliceNumber, alicePassword, "2001:db8:1:2::99")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.Scope != "ip" {
		t.Fatalf("4th attempt from the /64 = %v, want ip rate limit", err)
	}
	if _, err := f.auth.Login(ctx, aliceNumber, alicePassword, "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

func TestLoginKeysNeverHoldTheNumber(t *testing.T) {
	f := newLoginFixture(t)
	_, _ = f.auth.Login(t.Context(), aliceNumber, "wrong", "::ffff:198.51.100.7")
	keys := []string{}
	for k := range f.limiter.windows {
		keys = append(keys, k)
		if strings.Contains(k, aliceNumber) || strings.Contains(k, aliceNumber[6:14]) {
			t.Fatalf("key %q holds the number", k)
		}
	}
	acct := f.auth.accountKey(mustParse(t, ResidentID, aliceNumber))
	want := map[string]bool{"login:ip:198.51.100.7": true, acct: true, lockKey(acct): true}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected key %q (keys %v)", k, keys)
		}
	}
	if k := f.auth.accountKey(mustParse(t, ResidentID, aliceNumber)); !strings.HasPrefix(k, "login:acct:") || len(k) != len("login:acct:")+64 {
		t.Errorf("account key %q", k)
	}
	keyed := &Authenticator{LimitKeySecret: []byte("s")}
	if keyed.accountKey(f.alice.Number) == f.auth.accountKey(f.alice.Number) {
		t.Error("LimitKeySecret ignored")
	}
}

// An unknown number must cost an argon2 verification too (against the
// dummy hash), or response times would tell which numbers are registered.
// TestLoginSameWorkForUnknownAndKnown checks, without timing anything, that
// an unknown number costs a password verification just like a known one: with
// the hasher's only slot held, both logins must wait for it.
func TestLoginSameWorkForUnknownAndKnown(t *testing.T) {
	f := newLoginFixture(t)
	ctx := t.Context()
	f.auth.Hasher = &PasswordHasher{Memory: 8 * 1024, Time: 2, Threads: 1, MaxConcurrent: 1}
	f.auth.dummyHash = ""
	_ = f.citizens.SetPasswordHash(ctx, f.alice.ID, mustHash(t, f.auth.Hasher, alicePassword))
	const unknown = "440524188001010014"
	_, _ = f.auth.Login(ctx, unknown, "x", "") // computes the dummy hash once
	release, err := f.auth.Hasher.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, raw := range []string{aliceNumber, unknown} {
		f.limiter.windows = map[string]memWindow{}
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := f.auth.Login(cctx, raw, "wrong", "")
		if cctx.Err() == nil {
			t.Errorf("login with %s returned (%v) without waiting for a password verification", map[bool]string{true: "a known number", false: "an unknown number"}[raw == aliceNumber], err)
		}
		cancel()
	}
}

func mustHash(t *testing.T, h *PasswordHasher, pw string) string {
	t.Helper()
	phc, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return phc
}

func TestLoginRehashesOldParameters(t *testing.T) {
	f := newLoginFixture(t)
	old := &PasswordHasher{Memory: 32, Time: 1}
	_ = f.citizens.SetPasswordHash(t.Context(), f.alice.ID, mustHash(t, old, alicePassword))
	if _, err := f.auth.Login(t.Context(), aliceNumber, alicePassword, ""); err != nil {
		t.Fatal(err)
	}
	if h := f.citizens.hashes[f.alice.ID]; f.auth.Hasher.NeedsRehash(h) {
		t.Fatalf("hash not upgraded: %s", h[:30])
	}
}

func TestLoginNumberPassport(t *testing.T) {
	f := newLoginFixture(t)
	reg := &Registrar{Citizens: f.citizens, Hasher: f.auth.Hasher, Now: f.clock.Now}
	c, err := reg.Register(t.Context(), RegisterInput{Number: "USA:X1234567", DocumentType: Passport, Name: "John Smith", Password: "harbour lights at dusk"})
	if err != nil {
		t.Fatal(err)
	}
	n := mustParse(t, Passport, "usa:x1234567")
	got, err := f.auth.LoginNumber(t.Context(), n, "harbour lights at dusk", "")
	if err != nil || got.ID != c.ID {
		t.Fatalf("LoginNumber = %v, %v", got, err)
	}
	if _, err := f.auth.LoginNumber(t.Context(), Number{}, "x", ""); !numberPart(PartLength)(err) {
		t.Fatalf("zero number: %v", err)
	}
}
