package redisstore_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	redisstore "github.com/yihao-gov/yihao/store/redis"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

// What Redis holds reveals neither the citizen's account id nor the session
// id (the cookie), and a session altered in Redis is never accepted.
func TestSessionsAreSealedInRedis(t *testing.T) {
	s, prefix := newStore(t, func(c *redisstore.Config) { c.Logger = discard(t) })
	raw := rawClient(t, redisURL(t))
	ctx := t.Context()
	codec, err := sealed.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	sess := typicalSession()
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	other := typicalSession()
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
		case "hash":
			for f, v := range raw.HGetAll(ctx, k).Val() {
				dump.WriteString(f + "=" + v + "\n")
			}
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
		apply func(box []byte)
		load  string // the session id to load afterwards
	}{
		{"a flipped bit in the sealed value", func(box []byte) {
			box[len(box)/2] ^= 1
			raw.HSet(ctx, key, "d", box)
		}, sess.ID},
		{"a later absolute end", func([]byte) {
			raw.HIncrBy(ctx, key, "x", 3600)
		}, sess.ID},
		{"another session's sealed value", func(box []byte) {
			raw.HSet(ctx, otherKey, "d", box)
		}, other.ID},
	}
	for _, tc := range tampers {
		for _, x := range []*identity.Session{sess, other} {
			if err := s.CreateSession(ctx, x); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		box, err := raw.HGet(ctx, key, "d").Bytes()
		if err != nil {
			t.Fatalf("read the sealed value: %v", err)
		}
		tc.apply(box)
		got, err := s.Session(ctx, tc.load)
		if !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("%s: Session = %+v, %v; want ErrNotFound", tc.name, got, err)
		}
	}
}

// typicalSession is a session as a citizen's browser login makes it.
func typicalSession() *identity.Session {
	now := time.Now()
	return &identity.Session{
		ID:        "q3Hn0o1vZr8Xkq2QmRkT3b8w9zH0a5C7d1E4f6G8h0J", // 256 bits, base64url
		CitizenID: "01J9Z3K7W8X2Y4V6T0R5Q1P3N9",                  // a ULID
		AuthTime:  now,
		ACR:       "urn:yihao:acr:2",
		AMR:       []string{"pwd", "sms"},
		Channel:   "web",
		Clients:   []string{"gov-portal", "tax-bureau", "social-security"},
		CreatedAt: now,
		LastSeen:  now,
		ExpiresAt: now.Add(12 * time.Hour),
		UserAgent: "Chrome 131 on Windows 10",
	}
}
