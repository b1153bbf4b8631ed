package embedded

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

func stateDeadline(e *state) time.Time { return e.deadline }

// PutState stores a copy of value under (kind, key) for ttl, replacing any
// entry there, and indexes it under grant when grant is not empty.
func (s *Store) PutState(ctx context.Context, kind oauth.StateKind, key string, value []byte, ttl time.Duration, grant string) error {
	if ttl <= 0 {
		return errors.New("store: put state: ttl must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("put state"); err != nil {
		return err
	}
	now := s.now()
	deadline := now.Add(ttl)
	s.states[stateKey{kind, key}] = &state{value: slices.Clone(value), deadline: deadline}
	if grant != "" {
		indexAdd(s.grants, stateKey{kind, grant}, key, now, deadline)
	}
	return nil
}

// State returns a copy of the value and whether it was used.
func (s *Store) State(ctx context.Context, kind oauth.StateKind, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("load state"); err != nil {
		return nil, false, err
	}
	e := live(s.states, stateKey{kind, key}, s.now(), stateDeadline)
	if e == nil {
		return nil, false, fmt.Errorf("store: load state: %w", identity.ErrNotFound)
	}
	return slices.Clone(e.value), e.used, nil
}

// UseState marks an entry used; ErrConflict when it already was.
func (s *Store) UseState(ctx context.Context, kind oauth.StateKind, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("use state"); err != nil {
		return err
	}
	e := live(s.states, stateKey{kind, key}, s.now(), stateDeadline)
	switch {
	case e == nil:
		return fmt.Errorf("store: use state: %w", identity.ErrNotFound)
	case e.used:
		return fmt.Errorf("store: use state: %w", identity.ErrConflict)
	}
	e.used = true
	return nil
}

// DeleteState removes an entry; removing a missing one is not an error.
func (s *Store) DeleteState(ctx context.Context, kind oauth.StateKind, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("delete state"); err != nil {
		return err
	}
	delete(s.states, stateKey{kind, key})
	return nil
}

// DeleteGrantState removes the live entries of kind indexed under grant and
// returns their keys, sorted.
func (s *Store) DeleteGrantState(ctx context.Context, kind oauth.StateKind, grant string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("delete grant state"); err != nil {
		return nil, err
	}
	now := s.now()
	removed := []string{}
	ix := live(s.grants, stateKey{kind, grant}, now, indexDeadline)
	if ix == nil {
		return removed, nil
	}
	delete(s.grants, stateKey{kind, grant})
	for key := range ix.members {
		if live(s.states, stateKey{kind, key}, now, stateDeadline) != nil {
			delete(s.states, stateKey{kind, key})
			removed = append(removed, key)
		}
	}
	slices.Sort(removed)
	return removed, nil
}
