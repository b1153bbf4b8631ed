package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// OTPBackend is what RunOTPStore needs: the OTP port and, to check step-up,
// sessions with their upgrade.
type OTPBackend interface {
	identity.OTPStore
	identity.SessionStore
	identity.SessionUpgrader
}

func otpHash(s string) []byte {
	h := bytes.Repeat([]byte(s), 32/len(s)+1)
	return h[:32]
}

func wantRefusal(t *testing.T, what string, err, reason error, left int) *identity.OTPRefusal {
	t.Helper()
	var r *identity.OTPRefusal
	if !errors.As(err, &r) || !errors.Is(err, reason) {
		t.Fatalf("%s: %v, want an *OTPRefusal (%v)", what, err, reason)
	}
	if errors.Is(reason, identity.ErrOTPMismatch) && r.Left != left {
		t.Fatalf("%s: %d tries left, want %d", what, r.Left, left)
	}
	return r
}

// RunOTPStore checks an identity.OTPStore and identity.SessionUpgrader.
// newStore is called once per case. Cases run in parallel and wait in real
// time (under 1 s in all).
func RunOTPStore(t *testing.T, newStore func(t *testing.T) OTPBackend) {
	const max = 5
	good, bad := otpHash("good"), otpHash("bad")

	t.Run("a code is used once", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutOTP(ctx, key, good, time.Minute, max); err != nil {
			t.Fatalf("PutOTP: %v", err)
		}
		if err := st.UseOTP(ctx, key, good, max); err != nil {
			t.Fatalf("UseOTP: %v", err)
		}
		wantErr(t, "second UseOTP", st.UseOTP(ctx, key, good, max), identity.ErrNotFound)
	})

	t.Run("no code is ErrNotFound", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		wantErr(t, "UseOTP", st.UseOTP(ctx, randomID(t), good, max), identity.ErrNotFound)
	})

	t.Run("wrong tries are counted and the last allowed one kills the code", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutOTP(ctx, key, good, time.Minute, max); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= max; i++ {
			wantRefusal(t, "wrong try", st.UseOTP(ctx, key, bad, max), identity.ErrOTPMismatch, max-i)
		}
		r := wantRefusal(t, "right code after the limit", st.UseOTP(ctx, key, good, max), identity.ErrOTPLocked, 0)
		if r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
			t.Fatalf("RetryAfter = %v", r.RetryAfter)
		}
		r = wantRefusal(t, "PutOTP while locked", st.PutOTP(ctx, key, good, time.Minute, max), identity.ErrOTPLocked, 0)
		if r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
			t.Fatalf("PutOTP RetryAfter = %v", r.RetryAfter)
		}
	})

	t.Run("a new code keeps the count of wrong tries", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutOTP(ctx, key, otpHash("first"), time.Minute, max); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 3; i++ {
			wantRefusal(t, "wrong try", st.UseOTP(ctx, key, bad, max), identity.ErrOTPMismatch, max-i)
		}
		if err := st.PutOTP(ctx, key, good, time.Minute, max); err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, "the replaced code", st.UseOTP(ctx, key, otpHash("first"), max), identity.ErrOTPMismatch, 1)
		if err := st.UseOTP(ctx, key, good, max); err != nil {
			t.Fatalf("the new code: %v", err)
		}
		// Success starts the count over.
		if err := st.PutOTP(ctx, key, good, time.Minute, max); err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, "wrong try after a success", st.UseOTP(ctx, key, bad, max), identity.ErrOTPMismatch, max-1)
	})

	t.Run("keys are apart", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		a, b := randomID(t), randomID(t)
		if err := st.PutOTP(ctx, a, good, time.Minute, max); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "UseOTP on another key", st.UseOTP(ctx, b, good, max), identity.ErrNotFound)
		if err := st.UseOTP(ctx, a, good, max); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a code and its count end with the ttl", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		ttl := 300 * time.Millisecond
		if err := st.PutOTP(ctx, key, good, ttl, 1); err != nil {
			t.Fatal(err)
		}
		wantRefusal(t, "wrong try", st.UseOTP(ctx, key, bad, 1), identity.ErrOTPMismatch, 0)
		wantRefusal(t, "locked", st.PutOTP(ctx, key, good, ttl, 1), identity.ErrOTPLocked, 0)
		time.Sleep(ttl + 200*time.Millisecond)
		wantErr(t, "UseOTP after the ttl", st.UseOTP(ctx, key, good, 1), identity.ErrNotFound)
		if err := st.PutOTP(ctx, key, good, ttl, 1); err != nil {
			t.Fatalf("PutOTP after the lock ended: %v", err)
		}
		time.Sleep(ttl + 200*time.Millisecond)
		wantErr(t, "expired code", st.UseOTP(ctx, key, good, 1), identity.ErrNotFound)
	})

	t.Run("of concurrent uses of one code exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutOTP(ctx, key, good, time.Minute, max); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Go(func() {
				if st.UseOTP(ctx, key, good, max) == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d concurrent uses succeeded, want 1", wins)
		}
	})

	t.Run("concurrent wrong tries never exceed the limit", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutOTP(ctx, key, good, time.Minute, max); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		mismatches := 0
		for range 12 {
			wg.Go(func() {
				if errors.Is(st.UseOTP(ctx, key, bad, max), identity.ErrOTPMismatch) {
					mu.Lock()
					mismatches++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if mismatches != max {
			t.Fatalf("%d wrong tries were compared, want %d", mismatches, max)
		}
	})

	t.Run("a ttl must be positive", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		if err := st.PutOTP(t.Context(), randomID(t), good, 0, max); err == nil {
			t.Fatal("PutOTP with ttl 0 succeeded")
		}
	})

	t.Run("upgrade keeps the session's id, clients and lifetime", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		now := time.Now().Truncate(time.Second)
		s := &identity.Session{ID: randomID(t), CitizenID: "c-" + randomID(t), AuthTime: now.Add(-time.Minute),
			ACR: "urn:yihao:acr:1", AMR: []string{"pwd"}, Channel: "web", CreatedAt: now, LastSeen: now,
			ExpiresAt: now.Add(time.Hour), UserAgent: "ua"}
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := st.AddSessionClient(ctx, s.ID, "site-a"); err != nil {
			t.Fatal(err)
		}
		if err := st.UpgradeSession(ctx, s.ID, "urn:yihao:acr:2", []string{"pwd", "sms"}, now); err != nil {
			t.Fatalf("UpgradeSession: %v", err)
		}
		if err := st.AddSessionClient(ctx, s.ID, "site-b"); err != nil {
			t.Fatal(err)
		}
		got, err := st.Session(ctx, s.ID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if got.ACR != "urn:yihao:acr:2" || len(got.AMR) != 2 || got.AMR[1] != "sms" || !got.AuthTime.Equal(now) {
			t.Fatalf("upgraded session has acr %q amr %v auth_time %v", got.ACR, got.AMR, got.AuthTime)
		}
		if got.CitizenID != s.CitizenID || !got.ExpiresAt.Equal(s.ExpiresAt) || got.Channel != "web" ||
			len(got.Clients) != 2 || got.Clients[0] != "site-a" || got.Clients[1] != "site-b" {
			t.Fatalf("upgrade changed the rest: %+v", got)
		}
		list, err := st.CitizenSessions(ctx, s.CitizenID)
		if err != nil || len(list) != 1 || list[0].ACR != "urn:yihao:acr:2" {
			t.Fatalf("CitizenSessions after upgrade: %v, %v", list, err)
		}
		wantErr(t, "UpgradeSession of no session", st.UpgradeSession(ctx, randomID(t), "urn:yihao:acr:2", nil, now), identity.ErrNotFound)
		if _, err := st.DeleteSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "UpgradeSession after delete", st.UpgradeSession(ctx, s.ID, "urn:yihao:acr:2", nil, now), identity.ErrNotFound)
	})
}
