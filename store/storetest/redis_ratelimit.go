package storetest

import (
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// RunRateLimiter checks an identity.RateLimiter. newStore is called once per
// case. Cases run in parallel and wait in real time (under 1 s in all).
func RunRateLimiter(t *testing.T, newStore func(t *testing.T) identity.RateLimiter) {
	hit := func(t *testing.T, rl identity.RateLimiter, key string, window time.Duration, want int64) {
		t.Helper()
		n, retry, err := rl.Hit(t.Context(), key, window)
		if err != nil {
			t.Fatalf("Hit(%s): %v", key, err)
		}
		if n != want {
			t.Fatalf("Hit(%s) count = %d, want %d", key, n, want)
		}
		if retry <= 0 || retry > window {
			t.Fatalf("Hit(%s) retryAfter = %v, want in (0, %v]", key, retry, window)
		}
	}

	t.Run("hits are counted in a window", func(t *testing.T) {
		t.Parallel()
		rl := newStore(t)
		key := "login:" + randomID(t)
		for want := int64(1); want <= 3; want++ {
			hit(t, rl, key, time.Minute, want)
		}
	})

	t.Run("keys are counted apart", func(t *testing.T) {
		t.Parallel()
		rl := newStore(t)
		a, b := "ip:"+randomID(t), "ip:"+randomID(t)
		hit(t, rl, a, time.Minute, 1)
		hit(t, rl, a, time.Minute, 2)
		hit(t, rl, b, time.Minute, 1)
	})

	t.Run("reset starts over", func(t *testing.T) {
		t.Parallel()
		rl := newStore(t)
		key := "login:" + randomID(t)
		hit(t, rl, key, time.Minute, 1)
		hit(t, rl, key, time.Minute, 2)
		if err := rl.Reset(t.Context(), key); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		hit(t, rl, key, time.Minute, 1)
		if err := rl.Reset(t.Context(), "never-hit:"+randomID(t)); err != nil {
			t.Fatalf("Reset of an unknown key: %v", err)
		}
	})

	t.Run("a new window starts a new count", func(t *testing.T) {
		t.Parallel()
		rl := newStore(t)
		key := "otp:" + randomID(t)
		window := 300 * time.Millisecond
		hit(t, rl, key, window, 1)
		hit(t, rl, key, window, 2)
		time.Sleep(window + 200*time.Millisecond)
		hit(t, rl, key, window, 1)
	})

	t.Run("a window must be positive", func(t *testing.T) {
		t.Parallel()
		rl := newStore(t)
		if _, _, err := rl.Hit(t.Context(), "k:"+randomID(t), 0); err == nil {
			t.Fatal("Hit with window 0 succeeded, want an error")
		}
	})
}
