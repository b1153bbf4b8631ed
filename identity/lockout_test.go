package identity

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// lockTo runs failures wrong passwords against raw, each in a fresh
// 15-minute window, so only the consecutive-failure count grows.
func (f *loginFixture) lockTo(t *testing.T, raw string, failures int) {
	t.Helper()
	for i := range failures {
		if _, err := f.auth.Login(t.Context(), raw, fmt.Sprintf("wrong guess %d", i), "198.51.100.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		if i%5 == 4 {
			f.clock.Advance(15 * time.Minute)
		}
	}
}

func TestLockoutAfterConsecutiveFailures(t *testing.T) {
	f := newLoginFixture(t)
	f.auth.Lockout = Limit{Max: 12, Window: 30 * 24 * time.Hour}
	audit := newMemAudit(4)
	f.auth.Audit = audit
	ctx := t.Context()

	f.lockTo(t, aliceNumber, 12)
	f.clock.Advance(15 * time.Minute)
	// The right password no longer opens it; an unknown number locks alike.
	if _, err := f.auth.Login(ctx, aliceNumber, alicePassword, "198.51.100.1"); !errors.Is(err, ErrPasswordLocked) {
		t.Fatalf("after 12 failures: %v, want ErrPasswordLocked", err)
	}
	f.lockTo(t, unknownNumber, 12)
	f.clock.Advance(15 * time.Minute)
	if _, err := f.auth.Login(ctx, unknownNumber, "anything", "198.51.100.1"); !errors.Is(err, ErrPasswordLocked) {
		t.Fatalf("unknown number after 12 failures: %v, want ErrPasswordLocked", err)
	}
	// Recorded once (the first refusal), not on every try.
	_, _ = f.auth.Login(ctx, aliceNumber, alicePassword, "198.51.100.1")
	locked := 0
	for _, chain := range audit.chains {
		for _, e := range chain {
			if e.Detail["reason"] == "password_locked" {
				locked++
			}
		}
	}
	if locked != 2 {
		t.Errorf("%d password_locked entries, want 2 (one per number)", locked)
	}

	// Another factor unlocks it.
	if err := f.auth.Unlock(ctx, f.alice.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.Login(ctx, aliceNumber, alicePassword, "198.51.100.1"); err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
}

func TestLockoutCountsOnlyConsecutiveFailures(t *testing.T) {
	f := newLoginFixture(t)
	f.auth.Lockout = Limit{Max: 6, Window: 30 * 24 * time.Hour}
	for range 3 {
		f.lockTo(t, aliceNumber, 4)
		if _, err := f.auth.Login(t.Context(), aliceNumber, alicePassword, "198.51.100.1"); err != nil {
			t.Fatalf("a success between runs of failures: %v", err)
		}
	}
}

func TestLockoutExpiresWithItsWindow(t *testing.T) {
	f := newLoginFixture(t)
	f.auth.Lockout = Limit{Max: 5, Window: 24 * time.Hour}
	f.lockTo(t, aliceNumber, 5)
	if _, err := f.auth.Login(t.Context(), aliceNumber, alicePassword, "198.51.100.1"); !errors.Is(err, ErrPasswordLocked) {
		t.Fatalf("want locked: %v", err)
	}
	f.clock.Advance(24 * time.Hour)
	if _, err := f.auth.Login(t.Context(), aliceNumber, alicePassword, "198.51.100.1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestProgressiveDelay(t *testing.T) {
	f := newLoginFixture(t)
	var asked []int64
	f.auth.Delay = func(n int64) time.Duration { asked = append(asked, n); return DefaultLoginDelay(n) / 1000 }
	f.lockTo(t, aliceNumber, 5)
	if _, err := f.auth.Login(t.Context(), aliceNumber, alicePassword, "198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	if want := []int64{0, 1, 2, 3, 4, 5}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("delays asked for failures %v, want %v", asked, want)
	}
	for _, tc := range []struct {
		failures int64
		want     time.Duration
	}{{0, 0}, {2, 0}, {3, 200 * time.Millisecond}, {4, 400 * time.Millisecond}, {6, 1600 * time.Millisecond}, {7, 2 * time.Second}, {99, 2 * time.Second}} {
		if got := DefaultLoginDelay(tc.failures); got != tc.want {
			t.Errorf("DefaultLoginDelay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}
