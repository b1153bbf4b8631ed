package storetest

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// SessionIdleTimeout is the idle timeout every store handed to RunSessionStore
// must be built with: short, so that expiry can be watched in real time.
const SessionIdleTimeout = 2 * time.Second

// randomID is a fresh 256-bit URL-safe id, like a real session id.
func randomID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	rand.Read(b) // never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession is a session with every field set, ending in life.
func newSession(t testing.TB, citizenID string, life time.Duration) *identity.Session {
	t.Helper()
	now := time.Now()
	return &identity.Session{
		ID:        randomID(t),
		CitizenID: citizenID,
		AuthTime:  now.Add(-time.Minute),
		ACR:       "urn:yihao:acr:2",
		AMR:       []string{"pwd", "sms"},
		Channel:   "web",
		Clients:   []string{"portal", "gov-app"},
		CreatedAt: now.Add(-time.Minute),
		LastSeen:  now,
		ExpiresAt: now.Add(life),
		UserAgent: "Firefox 128 on Linux",
	}
}

// sameSecond: stores keep times at second precision.
func sameSecond(a, b time.Time) bool { return a.Unix() == b.Unix() }

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkSession fails t unless got holds want's fields (times to the second,
// clients in any order). LastSeen may have moved forward.
func checkSession(t *testing.T, got, want *identity.Session) {
	t.Helper()
	if got == nil {
		t.Fatal("session is nil")
	}
	if got.ID != want.ID || got.CitizenID != want.CitizenID || got.ACR != want.ACR ||
		got.Channel != want.Channel || got.UserAgent != want.UserAgent {
		t.Errorf("session = %+v, want %+v", got, want)
	}
	if !slices.Equal(got.AMR, want.AMR) {
		t.Errorf("AMR = %q, want %q", got.AMR, want.AMR)
	}
	if !slices.Equal(sorted(got.Clients), sorted(want.Clients)) {
		t.Errorf("Clients = %q, want %q", got.Clients, want.Clients)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"AuthTime", got.AuthTime, want.AuthTime},
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	} {
		if !sameSecond(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.LastSeen.Unix() < want.LastSeen.Unix() {
		t.Errorf("LastSeen = %v, want %v or later", got.LastSeen, want.LastSeen)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func ids(ss []*identity.Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	slices.Sort(out)
	return out
}

// RunSessionStore checks an identity.SessionStore. newStore is called once per
// case and must return a store built with IdleTimeout = SessionIdleTimeout.
// Cases run in parallel and wait in real time (about 5 s in all).
func RunSessionStore(t *testing.T, newStore func(t *testing.T) identity.SessionStore) {
	t.Run("create then load returns every field", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		want := newSession(t, randomID(t), time.Hour)
		if err := st.CreateSession(ctx, want); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		got, err := st.Session(ctx, want.ID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		checkSession(t, got, want)
	})

	t.Run("a missing session is ErrNotFound", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		id := randomID(t)
		_, err := st.Session(ctx, id)
		wantErr(t, "Session", err, identity.ErrNotFound)
		_, err = st.DeleteSession(ctx, id)
		wantErr(t, "DeleteSession", err, identity.ErrNotFound)
		wantErr(t, "AddSessionClient", st.AddSessionClient(ctx, id, "portal"), identity.ErrNotFound)
		// A client added to no session must not bring one into being.
		_, err = st.Session(ctx, id)
		wantErr(t, "Session after AddSessionClient", err, identity.ErrNotFound)
	})

	t.Run("delete returns the session and ends it", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		want := newSession(t, randomID(t), time.Hour)
		if err := st.CreateSession(ctx, want); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if err := st.AddSessionClient(ctx, want.ID, "tax-bureau"); err != nil {
			t.Fatalf("AddSessionClient: %v", err)
		}
		want.Clients = append(want.Clients, "tax-bureau")
		got, err := st.DeleteSession(ctx, want.ID)
		if err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		checkSession(t, got, want)
		_, err = st.Session(ctx, want.ID)
		wantErr(t, "Session after delete", err, identity.ErrNotFound)
		_, err = st.DeleteSession(ctx, want.ID)
		wantErr(t, "second DeleteSession", err, identity.ErrNotFound)
		list, err := st.CitizenSessions(ctx, want.CitizenID)
		if err != nil || len(list) != 0 {
			t.Fatalf("CitizenSessions after delete = %q, %v; want none", ids(list), err)
		}
	})

	t.Run("an unused session ends after the idle timeout and use extends it", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := newSession(t, randomID(t), time.Hour)
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		step := SessionIdleTimeout * 6 / 10
		for i := range 2 { // 2×0.6 of the idle timeout: alive only because use slides it
			time.Sleep(step)
			if _, err := st.Session(ctx, s.ID); err != nil {
				t.Fatalf("Session after %d uses %v apart: %v", i, step, err)
			}
		}
		time.Sleep(SessionIdleTimeout + 300*time.Millisecond)
		_, err := st.Session(ctx, s.ID)
		wantErr(t, "Session after the idle timeout", err, identity.ErrNotFound)
		wantErr(t, "AddSessionClient after the idle timeout", st.AddSessionClient(ctx, s.ID, "x"), identity.ErrNotFound)
		list, err := st.CitizenSessions(ctx, s.CitizenID)
		if err != nil || len(list) != 0 {
			t.Fatalf("CitizenSessions after expiry = %q, %v; want none", ids(list), err)
		}
	})

	t.Run("the absolute end caps the idle timeout", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		// Ends 3 s from now (2–3 s at second precision); the idle timeout is 2 s.
		s := newSession(t, randomID(t), 3*time.Second)
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		for range 2 {
			time.Sleep(800 * time.Millisecond)
			if _, err := st.Session(ctx, s.ID); err != nil {
				t.Fatalf("Session before the end: %v", err)
			}
		}
		// Used at 1.6 s, so the idle timeout alone would keep it to 3.6 s.
		time.Sleep(1600 * time.Millisecond)
		_, err := st.Session(ctx, s.ID)
		wantErr(t, "Session after ExpiresAt", err, identity.ErrNotFound)
		list, err := st.CitizenSessions(ctx, s.CitizenID)
		if err != nil || len(list) != 0 {
			t.Fatalf("CitizenSessions after expiry = %q, %v; want none", ids(list), err)
		}
	})

	t.Run("a session already past its end is not kept", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := newSession(t, randomID(t), -time.Minute)
		_ = st.CreateSession(ctx, s) // either refused or dropped
		_, err := st.Session(ctx, s.ID)
		wantErr(t, "Session", err, identity.ErrNotFound)
	})

	t.Run("adding a client twice records it once, and odd ids are refused", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := newSession(t, randomID(t), time.Hour)
		s.Clients = nil
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		for range 2 {
			if err := st.AddSessionClient(ctx, s.ID, "portal"); err != nil {
				t.Fatalf("AddSessionClient: %v", err)
			}
		}
		for _, bad := range []string{"", "two\nlines"} { // RFC 6749 client ids are printable ASCII
			if err := st.AddSessionClient(ctx, s.ID, bad); err == nil {
				t.Errorf("AddSessionClient(%q) succeeded, want an error", bad)
			}
		}
		got, err := st.Session(ctx, s.ID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if !slices.Equal(got.Clients, []string{"portal"}) {
			t.Fatalf("Clients = %q, want [portal]", got.Clients)
		}
	})

	t.Run("concurrent client adds are all kept", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		s := newSession(t, randomID(t), time.Hour)
		if err := st.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		want := slices.Clone(s.Clients)
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			c := "client-" + string(rune('a'+i))
			want = append(want, c)
			wg.Go(func() { errs[i] = st.AddSessionClient(ctx, s.ID, c) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("AddSessionClient: %v", err)
		}
		got, err := st.Session(ctx, s.ID)
		if err != nil {
			t.Fatalf("Session: %v", err)
		}
		if !slices.Equal(sorted(got.Clients), sorted(want)) {
			t.Fatalf("Clients = %q, want %q", sorted(got.Clients), sorted(want))
		}
	})

	t.Run("citizen sessions lists that citizen's live sessions only", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		alice, bob := randomID(t), randomID(t)
		var aliceIDs []string
		for range 3 {
			s := newSession(t, alice, time.Hour)
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			aliceIDs = append(aliceIDs, s.ID)
		}
		b := newSession(t, bob, time.Hour)
		if err := st.CreateSession(ctx, b); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		list, err := st.CitizenSessions(ctx, alice)
		if err != nil {
			t.Fatalf("CitizenSessions: %v", err)
		}
		if !slices.Equal(ids(list), sorted(aliceIDs)) {
			t.Fatalf("CitizenSessions(alice) = %q, want %q", ids(list), sorted(aliceIDs))
		}
		for _, s := range list {
			if s.CitizenID != alice || len(s.Clients) != 2 || s.ACR == "" {
				t.Errorf("listed session not complete: %+v", s)
			}
		}
		if _, err := st.DeleteSession(ctx, aliceIDs[0]); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		list, err = st.CitizenSessions(ctx, alice)
		if err != nil || !slices.Equal(ids(list), sorted(aliceIDs[1:])) {
			t.Fatalf("CitizenSessions(alice) after delete = %q, %v; want %q", ids(list), err, sorted(aliceIDs[1:]))
		}
		list, err = st.CitizenSessions(ctx, bob)
		if err != nil || !slices.Equal(ids(list), []string{b.ID}) {
			t.Fatalf("CitizenSessions(bob) = %q, %v; want [%s]", ids(list), err, b.ID)
		}
		list, err = st.CitizenSessions(ctx, randomID(t))
		if err != nil || len(list) != 0 {
			t.Fatalf("CitizenSessions(nobody) = %q, %v; want none, nil", ids(list), err)
		}
	})
}
