package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// Kind is the family of a citizen-facing error.
type Kind int

const (
	KindNumber            Kind = iota + 1 // malformed document number: say which part
	KindPassword                          // a new password does not meet the policy
	KindField                             // another form field is invalid
	KindCredentials                       // wrong number/password or frozen: one uniform message
	KindRateLimited                       // too many attempts
	KindAlreadyRegistered                 // never shown as such (no enumeration)
)

// UserError is how a typed identity error is shown to the citizen.
type UserError struct {
	Kind       Kind
	Field      string // form field it belongs to: "number", "password", or FieldError.Field
	Message    string // localized
	Status     int
	Code       string // JSON "error"
	RetryAfter time.Duration
}

// Describe maps the typed errors of package identity to what the citizen is
// shown, in lang. ok is false for any other error (backend failures, bugs),
// which the edge turns into 503 or 500. Login and registration call it to
// show the message in the form; the adapter calls it for errors they return.
func Describe(err error, lang string) (ue UserError, ok bool) {
	t := TextFor(lang)
	var (
		ne *identity.NumberError
		pe *identity.PasswordError
		fe *identity.FieldError
		re *identity.RateLimitedError
	)
	switch {
	case errors.As(err, &re):
		mins := int((re.RetryAfter + time.Minute - 1) / time.Minute)
		mins = max(mins, 1)
		return UserError{Kind: KindRateLimited, Message: t.T("error.ratelimited", mins),
			Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: max(re.RetryAfter, time.Second)}, true
	case errors.Is(err, identity.ErrInvalidCredentials):
		return UserError{Kind: KindCredentials, Message: t.T("error.invalid"),
			Status: http.StatusOK, Code: "invalid_grant"}, true
	case errors.As(err, &ne):
		return UserError{Kind: KindNumber, Field: "number", Message: ne.Localize(t.Lang),
			Status: http.StatusBadRequest, Code: "invalid_request"}, true
	case errors.As(err, &pe):
		return UserError{Kind: KindPassword, Field: "password", Message: pe.Localize(t.Lang),
			Status: http.StatusBadRequest, Code: "invalid_request"}, true
	case errors.As(err, &fe):
		return UserError{Kind: KindField, Field: fe.Field, Message: fe.Localize(t.Lang),
			Status: http.StatusBadRequest, Code: "invalid_request"}, true
	case errors.Is(err, identity.ErrAlreadyRegistered):
		// Handlers show the same page as a new registration; if one ever
		// reaches the edge, it still must not say "already registered".
		return UserError{Kind: KindAlreadyRegistered, Message: t.T("error.badrequest"),
			Status: http.StatusBadRequest, Code: "invalid_request"}, true
	}
	return UserError{}, false
}
