package embedded

import (
	"context"
	"errors"
	"time"
)

func counterDeadline(e *counter) time.Time { return e.deadline }

// Hit adds one event for key in a fixed window and returns the count so far
// and the time until the window ends.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, errors.New("store: rate limit: window must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("rate limit"); err != nil {
		return 0, 0, err
	}
	now := s.now()
	e := live(s.counters, key, now, counterDeadline)
	if e == nil {
		e = &counter{deadline: now.Add(window)}
		s.counters[key] = e
	}
	e.n++
	return e.n, e.deadline.Sub(now), nil
}

// Reset forgets key.
func (s *Store) Reset(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("rate limit reset"); err != nil {
		return err
	}
	delete(s.counters, key)
	return nil
}
