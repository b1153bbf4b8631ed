package identity

import "time"

// Session is a citizen's single sign-on session (the OIDC "sid"). It is
// short-lived, TTL-bound state: it lives in Redis (or the embedded store) and
// holds an account id, never the document number.
type Session struct {
	ID        string    // random, 256-bit, URL-safe; the cookie value and the sid claim
	CitizenID string    // Citizen.ID
	AuthTime  time.Time // when the citizen last authenticated
	ACR       string    // authentication context class of that login
	AMR       []string  // methods used: pwd, sms, otp, hwk, swk…
	Channel   string    // web, app, miniapp, kiosk, counter, api
	Clients   []string  // client ids that joined this session (for back-channel logout)
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time // absolute end; the idle timeout is enforced by the store
	UserAgent string    // short description of the device, for the account centre
}
