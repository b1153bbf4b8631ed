package identity

import (
	"context"
	"time"
)

// CitizenRepository keeps citizen accounts and their password credential (SQL).
type CitizenRepository interface {
	// CreateCitizen stores c (c.ID must be set) with an optional password hash
	// (PHC string; "" for none) in one transaction. ErrAlreadyExists when the
	// same document type and number is already registered; nothing is written then.
	CreateCitizen(ctx context.Context, c *Citizen, passwordHash string) error
	// Citizen returns the account with this id, or ErrNotFound.
	Citizen(ctx context.Context, id string) (*Citizen, error)
	// CitizenByNumber finds an account by document (through the blind index),
	// or ErrNotFound.
	CitizenByNumber(ctx context.Context, n Number) (*Citizen, error)
	// PasswordHash returns the stored PHC hash, or ErrNotFound when the citizen
	// has no password.
	PasswordHash(ctx context.Context, citizenID string) (string, error)
	// SetPasswordHash replaces the password hash. ErrNotFound for no such citizen.
	SetPasswordHash(ctx context.Context, citizenID, hash string) error
	// SetStatus freezes or unfreezes. ErrNotFound for no such citizen.
	SetStatus(ctx context.Context, citizenID string, s Status) error
	// SetLevel sets the real-name level and records how (a LevelMethod…
	// constant) and when it was reached. ErrNotFound for no such citizen.
	SetLevel(ctx context.Context, citizenID string, level Level, method string, at time.Time) error
}

// SessionStore keeps SSO sessions (Redis, or the embedded store). Every entry
// has a TTL: the idle timeout the store was built with, capped at ExpiresAt.
// Errors: ErrNotFound for a missing or expired session, ErrUnavailable (wrapped)
// when the backend does not answer.
type SessionStore interface {
	// CreateSession stores s (s.ID set by the caller).
	CreateSession(ctx context.Context, s *Session) error
	// Session loads a live session and slides its idle timeout.
	Session(ctx context.Context, id string) (*Session, error)
	// AddSessionClient records that clientID joined the session (idempotent).
	AddSessionClient(ctx context.Context, id, clientID string) error
	// DeleteSession ends a session and returns what it held (ErrNotFound if none).
	DeleteSession(ctx context.Context, id string) (*Session, error)
	// CitizenSessions lists the live sessions of a citizen.
	CitizenSessions(ctx context.Context, citizenID string) ([]*Session, error)
}

// RateLimiter counts events per key in a fixed window, shared by all replicas.
type RateLimiter interface {
	// Hit adds one event for key and returns the count in the current window
	// and the time left in that window.
	Hit(ctx context.Context, key string, window time.Duration) (count int64, retryAfter time.Duration, err error)
	// Reset forgets the key (after a successful login, for example).
	Reset(ctx context.Context, key string) error
}
