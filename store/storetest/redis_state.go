package storetest

import (
	"bytes"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// checkState fails t unless (kind, key) holds value with the used mark used.
func checkState(t *testing.T, st oauth.StateStore, kind oauth.StateKind, key string, value []byte, used bool) {
	t.Helper()
	got, gotUsed, err := st.State(t.Context(), kind, key)
	if err != nil {
		t.Fatalf("State(%s, %s): %v", kind, key, err)
	}
	if !bytes.Equal(got, value) || gotUsed != used {
		t.Fatalf("State(%s, %s) = %q, used %v; want %q, used %v", kind, key, got, gotUsed, value, used)
	}
}

func checkNoState(t *testing.T, st oauth.StateStore, kind oauth.StateKind, key string) {
	t.Helper()
	_, _, err := st.State(t.Context(), kind, key)
	wantErr(t, "State("+string(kind)+", "+key+")", err, identity.ErrNotFound)
}

// RunStateStore checks an oauth.StateStore. newStore is called once per case.
// Cases run in parallel and wait in real time (about 1 s in all).
func RunStateStore(t *testing.T, newStore func(t *testing.T) oauth.StateStore) {
	const kind = oauth.KindAuthorizeCode
	value := []byte("serialized request\x00\xff\x01")

	t.Run("put, get, use once", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutState(ctx, kind, key, value, time.Minute, ""); err != nil {
			t.Fatalf("PutState: %v", err)
		}
		checkState(t, st, kind, key, value, false)
		if err := st.UseState(ctx, kind, key); err != nil {
			t.Fatalf("first UseState: %v", err)
		}
		wantErr(t, "second UseState", st.UseState(ctx, kind, key), identity.ErrConflict)
		checkState(t, st, kind, key, value, true)
	})

	t.Run("a missing entry is ErrNotFound and deleting it is not an error", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		checkNoState(t, st, kind, key)
		wantErr(t, "UseState", st.UseState(ctx, kind, key), identity.ErrNotFound)
		checkNoState(t, st, kind, key) // UseState must not create it
		if err := st.DeleteState(ctx, kind, key); err != nil {
			t.Fatalf("DeleteState of a missing entry: %v", err)
		}
	})

	t.Run("kinds are separate", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutState(ctx, oauth.KindPKCE, key, value, time.Minute, ""); err != nil {
			t.Fatalf("PutState: %v", err)
		}
		checkNoState(t, st, kind, key)
		wantErr(t, "UseState of another kind", st.UseState(ctx, kind, key), identity.ErrNotFound)
		checkState(t, st, oauth.KindPKCE, key, value, false)
	})

	t.Run("put replaces the value and the used mark", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutState(ctx, kind, key, []byte("old"), time.Minute, ""); err != nil {
			t.Fatalf("PutState: %v", err)
		}
		if err := st.UseState(ctx, kind, key); err != nil {
			t.Fatalf("UseState: %v", err)
		}
		if err := st.PutState(ctx, kind, key, []byte("new"), time.Minute, ""); err != nil {
			t.Fatalf("PutState again: %v", err)
		}
		checkState(t, st, kind, key, []byte("new"), false)
	})

	t.Run("delete removes the entry", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutState(ctx, kind, key, value, time.Minute, "g"); err != nil {
			t.Fatalf("PutState: %v", err)
		}
		if err := st.DeleteState(ctx, kind, key); err != nil {
			t.Fatalf("DeleteState: %v", err)
		}
		checkNoState(t, st, kind, key)
	})

	t.Run("of concurrent uses exactly one wins", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutState(ctx, kind, key, value, time.Minute, ""); err != nil {
			t.Fatalf("PutState: %v", err)
		}
		errs := make([]error, 50)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = st.UseState(ctx, kind, key) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !isErr(err, identity.ErrConflict):
				t.Errorf("UseState: %v, want nil or ErrConflict", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent UseState calls succeeded, want exactly 1", won, len(errs))
		}
	})

	t.Run("delete grant state removes that grant's entries of that kind only", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		grant, other := randomID(t), randomID(t)
		put := func(kind oauth.StateKind, key, grant string) {
			t.Helper()
			if err := st.PutState(ctx, kind, key, value, time.Minute, grant); err != nil {
				t.Fatalf("PutState: %v", err)
			}
		}
		put(kind, "k1", grant)
		put(kind, "k2", grant)
		put(kind, "k3", other)
		put(oauth.KindPKCE, "k4", grant)
		put(kind, "k5", "")
		put(kind, "gone", grant)
		if err := st.DeleteState(ctx, kind, "gone"); err != nil {
			t.Fatalf("DeleteState: %v", err)
		}
		got, err := st.DeleteGrantState(ctx, kind, grant)
		if err != nil {
			t.Fatalf("DeleteGrantState: %v", err)
		}
		if !slices.Equal(sorted(got), []string{"k1", "k2"}) {
			t.Fatalf("DeleteGrantState = %q, want [k1 k2]", got)
		}
		checkNoState(t, st, kind, "k1")
		checkNoState(t, st, kind, "k2")
		checkState(t, st, kind, "k3", value, false)
		checkState(t, st, oauth.KindPKCE, "k4", value, false)
		checkState(t, st, kind, "k5", value, false)
		got, err = st.DeleteGrantState(ctx, kind, grant)
		if err != nil || len(got) != 0 {
			t.Fatalf("second DeleteGrantState = %q, %v; want none", got, err)
		}
		got, err = st.DeleteGrantState(ctx, oauth.KindPKCE, grant)
		if err != nil || !slices.Equal(got, []string{"k4"}) {
			t.Fatalf("DeleteGrantState(pkce) = %q, %v; want [k4]", got, err)
		}
	})

	t.Run("entries end with their ttl, used or not", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		grant := randomID(t)
		ttl := 300 * time.Millisecond
		for _, key := range []string{"fresh", "used"} {
			if err := st.PutState(ctx, kind, key, value, ttl, grant); err != nil {
				t.Fatalf("PutState: %v", err)
			}
		}
		if err := st.UseState(ctx, kind, "used"); err != nil {
			t.Fatalf("UseState: %v", err)
		}
		time.Sleep(ttl + 400*time.Millisecond)
		checkNoState(t, st, kind, "fresh")
		checkNoState(t, st, kind, "used")
		wantErr(t, "UseState after the ttl", st.UseState(ctx, kind, "fresh"), identity.ErrNotFound)
		got, err := st.DeleteGrantState(ctx, kind, grant)
		if err != nil || len(got) != 0 {
			t.Fatalf("DeleteGrantState after the ttl = %q, %v; want none", got, err)
		}
	})

	t.Run("an entry without a ttl is refused", func(t *testing.T) {
		t.Parallel()
		st, ctx := newStore(t), t.Context()
		key := randomID(t)
		if err := st.PutState(ctx, kind, key, value, 0, ""); err == nil {
			t.Fatal("PutState with ttl 0 succeeded, want an error")
		}
		checkNoState(t, st, kind, key)
	})
}
