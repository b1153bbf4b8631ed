package embedded_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/store/embedded"
	"github.com/yihao-gov/yihao/store/storetest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func newStore(t *testing.T, cfg embedded.Config) *embedded.Store {
	t.Helper()
	if cfg.SealKey == nil {
		cfg.SealKey = testKey
	}
	s, err := embedded.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	storetest.RunSessionStore(t, func(t *testing.T) identity.SessionStore {
		return newStore(t, embedded.Config{IdleTimeout: storetest.SessionIdleTimeout})
	})
}

func TestStateStore(t *testing.T) {
	t.Parallel()
	storetest.RunStateStore(t, func(t *testing.T) oauth.StateStore {
		return newStore(t, embedded.Config{})
	})
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	storetest.RunRateLimiter(t, func(t *testing.T) identity.RateLimiter {
		return newStore(t, embedded.Config{})
	})
}

func TestOTPStore(t *testing.T) {
	t.Parallel()
	storetest.RunOTPStore(t, func(t *testing.T) storetest.OTPBackend {
		return newStore(t, embedded.Config{})
	})
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The janitor's sweep drops entries that nobody reads again, so memory does
// not grow with abandoned sessions, codes and counters.
func TestSweepDropsExpiredEntries(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s := newStore(t, embedded.Config{IdleTimeout: time.Minute, Now: clk.Now})
	ctx := t.Context()
	sess := &identity.Session{ID: "sid", CitizenID: "c1", ExpiresAt: clk.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.PutState(ctx, oauth.KindFlow, "f", []byte("v"), 30*time.Second, "g"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Hit(ctx, "ip", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 5 { // session, citizen index, state, grant index, counter
		t.Fatalf("Len before expiry = %d, want 5", n)
	}
	clk.Add(2 * time.Minute) // past the idle timeout and every TTL but the citizen index
	s.Sweep()
	if n := s.Len(); n != 1 {
		t.Fatalf("Len after the idle timeout = %d, want 1 (the citizen index)", n)
	}
	clk.Add(time.Hour)
	s.Sweep()
	if n := s.Len(); n != 0 {
		t.Fatalf("Len after every end = %d, want 0", n)
	}
}

// With an injected clock the idle and absolute ends are exact.
func TestSessionEndsOnInjectedClock(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s := newStore(t, embedded.Config{IdleTimeout: 10 * time.Minute, Now: clk.Now})
	ctx := t.Context()
	sess := &identity.Session{ID: "sid", CitizenID: "c1", ExpiresAt: clk.Now().Add(25 * time.Minute)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	for range 2 { // used every 9 minutes: alive at 18 minutes
		clk.Add(9 * time.Minute)
		got, err := s.Session(ctx, "sid")
		if err != nil {
			t.Fatalf("Session at %v: %v", clk.Now(), err)
		}
		if !got.LastSeen.Equal(clk.Now()) {
			t.Errorf("LastSeen = %v, want %v", got.LastSeen, clk.Now())
		}
	}
	clk.Add(7*time.Minute - time.Second) // 24:59, before the absolute end
	if _, err := s.Session(ctx, "sid"); err != nil {
		t.Fatalf("Session at 24:59: %v", err)
	}
	clk.Add(time.Second) // 25:00, the absolute end, though used a second ago
	if _, err := s.Session(ctx, "sid"); err == nil {
		t.Fatal("Session at the absolute end succeeded")
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	s := newStore(t, embedded.Config{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	s.Close()
	s.Close() // twice is fine
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
	_, err := s.Session(t.Context(), "sid")
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("Session after Close: %v, want ErrUnavailable", err)
	}
}

func TestNewRefusesABadKey(t *testing.T) {
	t.Parallel()
	if _, err := embedded.New(embedded.Config{SealKey: []byte("short")}); err == nil {
		t.Fatal("New with a 5-byte key succeeded")
	}
}
