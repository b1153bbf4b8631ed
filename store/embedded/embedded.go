// Package embedded is the in-process store `yihao serve` uses when no Redis
// is configured: SSO sessions (identity.SessionStore), short-lived protocol
// state (oauth.StateStore) and rate limits (identity.RateLimiter), with the
// behaviour of store/redis — the same TTL rules, the same sealed session
// format (package sealed), the same errors — but nothing survives a restart
// and nothing is shared between replicas.
//
// Entries expire when read past their deadline, and a janitor goroutine
// (stopped by Close) sweeps the ones nobody reads, so memory stays bounded.
package embedded

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

var (
	_ identity.SessionStore = (*Store)(nil)
	_ identity.RateLimiter  = (*Store)(nil)
	_ oauth.StateStore      = (*Store)(nil)
)

// Config is what New needs.
type Config struct {
	// SealKey is 32 random bytes; sessions are sealed as in store/redis.
	SealKey []byte
	// IdleTimeout ends a session not used for this long (default 30 minutes).
	IdleTimeout time.Duration
	// SweepInterval is how often the janitor drops expired entries
	// (default 1 minute).
	SweepInterval time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// Store implements identity.SessionStore, identity.RateLimiter and
// oauth.StateStore in memory. It is safe for concurrent use.
type Store struct {
	codec *sealed.Codec
	idle  time.Duration
	now   func() time.Time

	mu       sync.Mutex
	closed   bool
	sessions map[string]*session // by sealed.SessionName
	citizens map[string]*index   // by sealed.CitizenName; members are session digests
	states   map[stateKey]*state
	grants   map[stateKey]*index // members are state keys
	counters map[string]*counter

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// session is a session as stored: sealed, with its clear fields beside it.
type session struct {
	box      []byte
	expires  int64 // unix seconds; bound into box
	lastSeen int64
	clients  map[string]struct{}
	deadline time.Time // idle deadline, never past expires
}

type index struct {
	members  map[string]struct{}
	deadline time.Time
}

type stateKey struct {
	kind oauth.StateKind
	key  string
}

type state struct {
	value    []byte
	used     bool
	deadline time.Time
}

type counter struct {
	n        int64
	deadline time.Time
}

// New builds a store and starts its janitor; Close stops it.
func New(cfg Config) (*Store, error) {
	codec, err := sealed.New(cfg.SealKey)
	if err != nil {
		return nil, fmt.Errorf("store: embedded: %w", err)
	}
	if cfg.IdleTimeout < 0 || cfg.SweepInterval < 0 {
		return nil, fmt.Errorf("store: embedded: timeouts must be positive")
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{
		codec:    codec,
		idle:     cfg.IdleTimeout,
		now:      cfg.Now,
		sessions: map[string]*session{},
		citizens: map[string]*index{},
		states:   map[stateKey]*state{},
		grants:   map[stateKey]*index{},
		counters: map[string]*counter{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go s.janitor(cfg.SweepInterval)
	return s, nil
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check("ping")
}

// Close stops the janitor and drops everything; later calls fail with
// identity.ErrUnavailable, as they would on a closed Redis client.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		clear(s.sessions)
		clear(s.citizens)
		clear(s.states)
		clear(s.grants)
		clear(s.counters)
	})
	return nil
}

// check is called with mu held at the start of every call.
func (s *Store) check(op string) error {
	if s.closed {
		return fmt.Errorf("store: %s: embedded store is closed: %w", op, identity.ErrUnavailable)
	}
	return nil
}

func (s *Store) janitor(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// Sweep drops every expired entry now. The janitor calls it; tests may too.
func (s *Store) Sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, e := range s.sessions {
		if !now.Before(e.deadline) {
			delete(s.sessions, k)
		}
	}
	for k, e := range s.states {
		if !now.Before(e.deadline) {
			delete(s.states, k)
		}
	}
	for k, e := range s.counters {
		if !now.Before(e.deadline) {
			delete(s.counters, k)
		}
	}
	sweepIndex(s.citizens, now)
	sweepIndex(s.grants, now)
}

func sweepIndex[K comparable](m map[K]*index, now time.Time) {
	for k, e := range m {
		if !now.Before(e.deadline) {
			delete(m, k)
		}
	}
}

// live returns m[k] if it has not expired, dropping it if it has.
func live[K comparable, V any](m map[K]*V, k K, now time.Time, deadline func(*V) time.Time) *V {
	e, ok := m[k]
	if !ok {
		return nil
	}
	if !now.Before(deadline(e)) {
		delete(m, k)
		return nil
	}
	return e
}

// indexAdd adds member to the index at k, extending its deadline to at least
// until, as store/redis does.
func indexAdd[K comparable](m map[K]*index, k K, member string, now, until time.Time) {
	e := live(m, k, now, indexDeadline)
	if e == nil {
		e = &index{members: map[string]struct{}{}}
		m[k] = e
	}
	e.members[member] = struct{}{}
	if e.deadline.Before(until) {
		e.deadline = until
	}
}

func indexDeadline(e *index) time.Time { return e.deadline }
