package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// sqlSpec is one behaviour of a port, checked against a fresh store.
type sqlSpec[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

// sqlRunSpecs runs each spec as a subtest on a store from newStore, which
// must return an empty store each time it is called.
func sqlRunSpecs[S any](t *testing.T, newStore func(t *testing.T) S, specs []sqlSpec[S]) {
	t.Helper()
	for _, sp := range specs {
		t.Run(sp.name, func(t *testing.T) {
			sp.run(t, newStore(t))
		})
	}
}

// sqlT0 is a fixed instant with microsecond precision, the finest every SQL
// backend keeps.
var sqlT0 = time.Date(2026, 3, 1, 8, 30, 15, 123456000, time.UTC)

func sqlAt(d time.Duration) time.Time { return sqlT0.Add(d) }

// sqlWantErr fails unless errors.Is(err, want); want nil means no error.
func sqlWantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error: %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// sqlMust fails the test on any error.
func sqlMust(t *testing.T, what string, err error) {
	t.Helper()
	sqlWantErr(t, what, err, nil)
}

func sqlSameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func sqlSameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// sqlRace runs f n times at once, released together, and returns each
// call's error.
func sqlRace(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// sqlCountErrs counts nil errors and errors matching want; any other error
// fails the test.
func sqlCountErrs(t *testing.T, what string, errs []error, want error) (ok, matched int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, want):
			matched++
		default:
			t.Errorf("%s: unexpected error: %v", what, err)
		}
	}
	return ok, matched
}
