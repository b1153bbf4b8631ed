package oauth

import (
	"context"
	"net/http"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// Flow is an authorization request waiting for the citizen: to log in, or to
// consent. It lives in the StateStore (KindFlow) for FlowTTL, keyed by a random
// id that the login and consent pages carry in their forms (never in a log).
type Flow struct {
	ID         string
	Query      string // the original authorization request query, replayed on resume
	ClientID   string
	ClientName string
	Scopes     []string // scopes requested
	NewScopes  []string // requested scopes the citizen has not consented to yet
	LoginHint  string
	UILocales  []string
	ForceLogin bool   // prompt=login or max_age exceeded: a fresh login is needed even with a session
	SessionID  string // set when the login step is done
	// RequiredACR is set when the session is below the acr the site asked
	// for (acr_values): the step-up page asks for the missing factor, then
	// calls LoginDone with the upgraded session.
	RequiredACR string `json:",omitempty"`
	Consented   bool   // set when the consent step is done
	CreatedAt   time.Time
}

// FlowTTL is how long a citizen has to log in and consent.
const FlowTTL = 15 * time.Minute

// SessionReader finds the SSO session of a browser request (web owns the
// cookie). It returns identity.ErrNotFound when there is none, and a wrapped
// identity.ErrUnavailable when the session backend does not answer.
type SessionReader interface {
	RequestSession(r *http.Request) (*identity.Session, error)
}

// Flows is what the login and consent pages need from the protocol layer.
type Flows interface {
	// Flow loads a pending flow; identity.ErrNotFound when it expired or never existed.
	Flow(ctx context.Context, id string) (*Flow, error)
	// LoginDone records that session s completed the login step of the flow,
	// and returns the URL to send the browser to next (303).
	LoginDone(ctx context.Context, flowID string, s *identity.Session) (next string, err error)
	// ConsentDone records the citizen's answer and returns the URL to send
	// the browser to next: back into the authorization endpoint when
	// approved, or to the client's redirect URI with access_denied.
	ConsentDone(ctx context.Context, flowID string, citizenID string, approved bool) (next string, err error)
}
