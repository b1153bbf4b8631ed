package identity

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// memHandles is a partial PasskeyRepository: the user-handle methods and
// UpdatePasskeyUse, enough for the helpers of passkey.go.
type memHandles struct {
	PasskeyRepository
	mu        sync.Mutex
	handles   map[string][]byte
	createErr error
	updateErr error
}

func (m *memHandles) UserHandle(_ context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.handles[id]
	if !ok {
		return nil, ErrNotFound
	}
	return h, nil
}

func (m *memHandles) CreateUserHandle(_ context.Context, id string, h []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.createErr != nil {
		return m.createErr
	}
	if _, ok := m.handles[id]; ok {
		return ErrAlreadyExists
	}
	m.handles[id] = h
	return nil
}

func (m *memHandles) UpdatePasskeyUse(context.Context, []byte, uint32, bool, time.Time) error {
	return m.updateErr
}

func TestNewUserHandleIsRandom(t *testing.T) {
	a, b := NewUserHandle(), NewUserHandle()
	if len(a) != UserHandleLen || len(b) != UserHandleLen {
		t.Fatalf("lengths %d, %d, want %d", len(a), len(b), UserHandleLen)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two handles are equal")
	}
}

func TestEnsureUserHandle(t *testing.T) {
	repo := &memHandles{handles: map[string][]byte{}}
	first, err := EnsureUserHandle(t.Context(), repo, "cit-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := EnsureUserHandle(t.Context(), repo, "cit-1")
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second call = %x, %v; want %x", again, err, first)
	}
	other, err := EnsureUserHandle(t.Context(), repo, "cit-2")
	if err != nil || bytes.Equal(first, other) {
		t.Fatalf("other citizen's handle = %x, %v", other, err)
	}

	// Losing the creation race reads the winner's handle.
	repo.handles["cit-3"] = []byte("winner")
	repo.createErr = nil
	racing := &raceRepo{memHandles: repo}
	h, err := EnsureUserHandle(t.Context(), racing, "cit-3")
	if err != nil || string(h) != "winner" {
		t.Fatalf("after a lost race = %q, %v", h, err)
	}

	repo.createErr = ErrUnavailable
	if _, err := EnsureUserHandle(t.Context(), repo, "cit-4"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("backend down: err = %v", err)
	}
}

// raceRepo reports "not found" on the first read, as if another request
// created the handle between the read and the write.
type raceRepo struct {
	*memHandles
	read bool
}

func (r *raceRepo) UserHandle(ctx context.Context, id string) ([]byte, error) {
	if !r.read {
		r.read = true
		return nil, ErrNotFound
	}
	return r.memHandles.UserHandle(ctx, id)
}

func TestRecordPasskeyUse(t *testing.T) {
	repo := &memHandles{}
	if err := RecordPasskeyUse(t.Context(), repo, []byte{1}, 5, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	repo.updateErr = ErrConflict
	err := RecordPasskeyUse(t.Context(), repo, []byte{1}, 5, false, time.Now())
	if !errors.Is(err, ErrSignCountRegressed) {
		t.Fatalf("conflict: err = %v, want ErrSignCountRegressed", err)
	}
	repo.updateErr = ErrNotFound
	err = RecordPasskeyUse(t.Context(), repo, []byte{1}, 5, false, time.Now())
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrSignCountRegressed) {
		t.Fatalf("not found: err = %v", err)
	}
	if strings.Contains(err.Error(), "\x01") {
		t.Fatal("error carries the credential id")
	}
}
