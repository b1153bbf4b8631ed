package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// TypicalSession is a session as a browser login makes it, with three
// clients joined: the yardstick for a session's size in a store.
func TypicalSession() *identity.Session {
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

// BenchSessionGet measures Session on a live typical session, from parallel
// goroutines (the store must be built with an idle timeout of minutes).
func BenchSessionGet(b *testing.B, st identity.SessionStore) {
	ctx := b.Context()
	sess := TypicalSession()
	if err := st.CreateSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Session(ctx, sess.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchStatePutUse measures what an authorization code costs: PutState under
// a grant, then UseState.
func BenchStatePutUse(b *testing.B, st oauth.StateStore) {
	ctx := b.Context()
	value := make([]byte, 512) // about a serialized authorize request
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := strconv.Itoa(i)
		i++
		if err := st.PutState(ctx, oauth.KindAuthorizeCode, key, value, time.Minute, "grant-"+key); err != nil {
			b.Fatal(err)
		}
		if err := st.UseState(ctx, oauth.KindAuthorizeCode, key); err != nil {
			b.Fatal(err)
		}
	}
}
