package identity

import "errors"

// Sentinel errors every port returns, wrapped with %w by the adapter that
// produced them. Nothing above store/ ever sees a driver error.
var (
	// ErrNotFound: the record asked for does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique key (document number, client id, …) is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a conditional change lost its race (a refresh token already
	// rotated, an authorization code already used).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the backend (Redis, SQL) did not answer in time. Callers
	// turn it into 503 / temporarily_unavailable, never into "no session".
	ErrUnavailable = errors.New("backend unavailable")
)
