package identity

import (
	"context"
	"sync"
	"time"
)

// memCitizens is an in-memory CitizenRepository. fail, when set, is
// returned by every call (ErrUnavailable tests).
type memCitizens struct {
	mu       sync.Mutex
	byID     map[string]*Citizen
	byNumber map[Number]string
	hashes   map[string]string
	fail     error
	lookups  int
}

func newMemCitizens() *memCitizens {
	return &memCitizens{byID: map[string]*Citizen{}, byNumber: map[Number]string{}, hashes: map[string]string{}}
}

var _ CitizenRepository = (*memCitizens)(nil)

func (m *memCitizens) CreateCitizen(_ context.Context, c *Citizen, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.byNumber[c.Number]; ok {
		return ErrAlreadyExists
	}
	cp := *c
	m.byID[c.ID] = &cp
	m.byNumber[c.Number] = c.ID
	if hash != "" {
		m.hashes[c.ID] = hash
	}
	return nil
}

func (m *memCitizens) Citizen(_ context.Context, id string) (*Citizen, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	c, ok := m.byID[id]
	if !ok {
		return nil, ErrNotFound
	}
	cp := *c
	return &cp, nil
}

func (m *memCitizens) CitizenByNumber(_ context.Context, n Number) (*Citizen, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	if m.fail != nil {
		return nil, m.fail
	}
	id, ok := m.byNumber[n]
	if !ok {
		return nil, ErrNotFound
	}
	cp := *m.byID[id]
	return &cp, nil
}

func (m *memCitizens) PasswordHash(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", m.fail
	}
	h, ok := m.hashes[id]
	if !ok {
		return "", ErrNotFound
	}
	return h, nil
}

func (m *memCitizens) SetPasswordHash(_ context.Context, id, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.byID[id]; !ok {
		return ErrNotFound
	}
	m.hashes[id] = hash
	return nil
}

func (m *memCitizens) SetStatus(_ context.Context, id string, s Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	c, ok := m.byID[id]
	if !ok {
		return ErrNotFound
	}
	c.Status = s
	return nil
}

// memLimiter is a fixed-window RateLimiter on a fake clock.
type memLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	windows map[string]memWindow
	fail    error
}

type memWindow struct {
	count int64
	end   time.Time
}

var _ RateLimiter = (*memLimiter)(nil)

func newMemLimiter(now func() time.Time) *memLimiter {
	return &memLimiter{now: now, windows: map[string]memWindow{}}
}

func (l *memLimiter) Hit(_ context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return 0, 0, l.fail
	}
	now := l.now()
	w := l.windows[key]
	if !now.Before(w.end) {
		w = memWindow{end: now.Add(window)}
	}
	w.count++
	l.windows[key] = w
	return w.count, w.end.Sub(now), nil
}

func (l *memLimiter) Reset(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	delete(l.windows, key)
	return nil
}

// fakeClock is a settable Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
