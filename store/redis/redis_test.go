package redisstore_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

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
func newStore(t testing.TB, mutate ...func(*redisstore.Config)) (*redisstore.Store, string) {
	t.Helper()
	url := redisURL(t)
	cfg := redisstore.Config{
		URL:         url,
		SealKey:     testKey,
		IdleTimeout: storetest.SessionIdleTimeout,
		Prefix:      "yihao-test-" + rand.Text()[:12] + ":",
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
	redisURL(t)
	storetest.RunSessionStore(t, func(t *testing.T) identity.SessionStore {
		s, _ := newStore(t)
		return s
	})
}

func TestStateStore(t *testing.T) {
	redisURL(t)
	storetest.RunStateStore(t, func(t *testing.T) oauth.StateStore {
		s, _ := newStore(t)
		return s
	})
}

func TestRateLimiter(t *testing.T) {
	redisURL(t)
	storetest.RunRateLimiter(t, func(t *testing.T) identity.RateLimiter {
		s, _ := newStore(t)
		return s
	})
}
