package redisstore_test

import (
	"crypto/rand"
	"testing"
	"time"

	redisstore "github.com/yihao-gov/yihao/store/redis"
	"github.com/yihao-gov/yihao/store/redis/sealed"
	"github.com/yihao-gov/yihao/store/storetest"
)

// The target is at most 600 bytes of Redis memory per typical
// session (three clients joined). MEMORY USAGE counts the key, the hash and
// Redis's own overhead.
const sessionBytesTarget = 600

func TestTypicalSessionSize(t *testing.T) {
	t.Parallel()
	// A prefix as long as the default "yihao:", so the key is as in production.
	s, prefix := newStore(t, func(c *redisstore.Config) {
		c.IdleTimeout = time.Hour
		c.Prefix = "y" + rand.Text()[:4] + ":"
	})
	raw := rawClient(t, redisURL(t))
	ctx := t.Context()
	sess := storetest.TypicalSession()
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	codec, _ := sealed.New(testKey)
	key := prefix + codec.SessionName(sess.ID)
	used, err := raw.MemoryUsage(ctx, key, 0).Result()
	if err != nil {
		t.Fatalf("MEMORY USAGE: %v", err)
	}
	t.Logf("one typical session: %d bytes in Redis (MEMORY USAGE), value %d bytes, key %d bytes",
		used, raw.StrLen(ctx, key).Val(), len(key))
	if used > sessionBytesTarget {
		t.Errorf("a typical session takes %d bytes in Redis, target %d", used, sessionBytesTarget)
	}
}

func benchStore(b *testing.B) *redisstore.Store {
	s, _ := newStore(b, func(c *redisstore.Config) { c.IdleTimeout = time.Hour })
	return s
}

func BenchmarkSessionGet(b *testing.B)  { storetest.BenchSessionGet(b, benchStore(b)) }
func BenchmarkStatePutUse(b *testing.B) { storetest.BenchStatePutUse(b, benchStore(b)) }
