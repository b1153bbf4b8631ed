package redisstore_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/yihao-gov/yihao/identity"
	redisstore "github.com/yihao-gov/yihao/store/redis"
	"github.com/yihao-gov/yihao/store/redis/sealed"
	"github.com/yihao-gov/yihao/store/storetest"
)

// What Redis holds reveals neither the citizen's account id nor the session
// id (the cookie), and a session altered in Redis is never accepted.
func TestSessionsAreSealedInRedis(t *testing.T) {
	t.Parallel()
	s, prefix := newStore(t, func(c *redisstore.Config) { c.Logger = discard(t) })
	raw := rawClient(t, redisURL(t))
	ctx := t.Context()
	codec, err := sealed.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	sess := storetest.TypicalSession()
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	other := storetest.TypicalSession()
	other.ID = "another-session-id-0000000000000000000000000"
	if err := s.CreateSession(ctx, other); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}

	// Everything the store wrote, names and values.
	var dump bytes.Buffer
	it := raw.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for it.Next(ctx) {
		k := it.Val()
		dump.WriteString(k + "\n")
		switch typ := raw.Type(ctx, k).Val(); typ {
		case "string":
			dump.WriteString(raw.Get(ctx, k).Val() + "\n")
		case "set":
			dump.WriteString(strings.Join(raw.SMembers(ctx, k).Val(), "\n"))
		default:
			t.Fatalf("unexpected key type %s", typ)
		}
	}
	for _, secret := range []string{sess.CitizenID, sess.ID, sess.UserAgent, sess.ACR} {
		if bytes.Contains(dump.Bytes(), []byte(secret)) {
			t.Errorf("Redis holds %q in clear", secret)
		}
	}

	key := prefix + codec.SessionName(sess.ID)
	otherKey := prefix + codec.SessionName(other.ID)
	tampers := []struct {
		name  string
		apply func(value []byte)
		load  string // the session id to load afterwards
	}{
		{"a flipped bit in the sealed value", func(v []byte) {
			v[len(v)-20] ^= 1
			raw.Set(ctx, key, v, redis.KeepTTL)
		}, sess.ID},
		{"a later absolute end", func(v []byte) {
			x, rest, _ := bytes.Cut(v, []byte("\n"))
			later := strconv.AppendInt(nil, mustInt(t, string(x))+3600, 10)
			raw.Set(ctx, key, append(append(later, '\n'), rest...), redis.KeepTTL)
		}, sess.ID},
		{"another session's value", func(v []byte) {
			raw.Set(ctx, otherKey, v, redis.KeepTTL)
		}, other.ID},
		{"a value of another shape", func([]byte) {
			raw.Set(ctx, key, "garbage", redis.KeepTTL)
		}, sess.ID},
	}
	for _, tc := range tampers {
		for _, x := range []*identity.Session{sess, other} {
			if err := s.CreateSession(ctx, x); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		v, err := raw.Get(ctx, key).Bytes()
		if err != nil {
			t.Fatalf("read the session value: %v", err)
		}
		tc.apply(v)
		got, err := s.Session(ctx, tc.load)
		if !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%s: Session = %+v, %v; want ErrNotFound", tc.name, got, err)
		}
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
