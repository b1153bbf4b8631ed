package redisstore_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	redisstore "github.com/yihao-gov/yihao/store/redis"
	"github.com/yihao-gov/yihao/store/storetest"
)

// testKey is the seal key of every test store.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// redisURL is the test Redis (YIHAO_TEST_REDIS_URL), or a skip.
func redisURL(t testing.TB) string {
	t.Helper()
	return storetest.BackendURL(t, "redis", "YIHAO_TEST_REDIS_URL")
}

// rawClient talks to the test Redis directly, past the store.
func rawClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// newStore opens a store on the test Redis under a prefix of its own. When
// the test ends it fails if any key the store wrote has no TTL, then deletes
// them all.
//
// Its timeouts are relaxed: these tests check behaviour, on machines that may
// be busy (-race, packages tested in parallel), where the production
// timeouts of 300 ms could fail a call. The fault tests keep the production
// timeouts.
func newStore(t testing.TB, mutate ...func(*redisstore.Config)) (*redisstore.Store, string) {
	t.Helper()
	url := redisURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	cfg := redisstore.Config{
		URL:         url + sep + "read_timeout=2s&write_timeout=2s&pool_timeout=2s",
		SealKey:     testKey,
		IdleTimeout: storetest.SessionIdleTimeout,
		Prefix:      "yihao-test-" + rand.Text()[:12] + ":",
		CallTimeout: 5 * time.Second,
		Logger:      discard(t),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := redisstore.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	raw := rawClient(t, url)
	t.Cleanup(func() {
		ctx := context.Background() // t.Context is done once cleanups run
		var keys []string
		it := raw.Scan(ctx, 0, cfg.Prefix+"*", 100).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			keys = append(keys, k)
			if ttl, err := raw.PTTL(ctx, k).Result(); err == nil && ttl == -1 {
				t.Errorf("key %s has no TTL", strings.TrimPrefix(k, cfg.Prefix))
			}
		}
		if err := it.Err(); err != nil {
			t.Errorf("scan test keys: %v", err)
		}
		if len(keys) > 0 {
			raw.Del(ctx, keys...)
		}
	})
	t.Cleanup(func() { s.Close() })
	return s, cfg.Prefix
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	redisURL(t)
	storetest.RunSessionStore(t, func(t *testing.T) identity.SessionStore {
		s, _ := newStore(t)
		return s
	})
}

func TestStateStore(t *testing.T) {
	t.Parallel()
	redisURL(t)
	storetest.RunStateStore(t, func(t *testing.T) oauth.StateStore {
		s, _ := newStore(t)
		return s
	})
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	redisURL(t)
	storetest.RunRateLimiter(t, func(t *testing.T) identity.RateLimiter {
		s, _ := newStore(t)
		return s
	})
}

func TestOTPStore(t *testing.T) {
	t.Parallel()
	redisURL(t)
	storetest.RunOTPStore(t, func(t *testing.T) storetest.OTPBackend {
		s, _ := newStore(t)
		return s
	})
}
