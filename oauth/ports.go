package oauth

import (
	"context"
	"time"
)

// The ports the protocol layer needs from storage. Implementations return the
// sentinels of package identity (identity.ErrNotFound, ErrAlreadyExists,
// ErrConflict, ErrUnavailable), wrapped with %w; the fosite adapter in this
// package turns them into fosite's errors.

// Channels a site may be registered as (Client.Channel).
var Channels = []string{"web", "app", "miniapp", "kiosk", "counter", "api"}

// Client is a registered service site (relying party).
type Client struct {
	ID                       string
	SecretHash               []byte // HMAC-SHA256 digest of the secret (see HashSecret); nil for public clients
	Name                     string
	RedirectURIs             []string // matched exactly
	PostLogoutRedirectURIs   []string // matched exactly
	BackchannelLogoutURI     string
	GrantTypes               []string // authorization_code, refresh_token, client_credentials
	ResponseTypes            []string // code
	Scopes                   []string // scopes the client may ask for
	Audience                 []string
	Public                   bool   // no secret; PKCE S256 required
	TokenEndpointAuthMethod  string // client_secret_basic, client_secret_post, none
	SubjectType              string // pairwise (default) or public
	SectorIdentifier         string // pairwise sector; defaults to the host of the first redirect URI
	AllowIDCard              bool   // may receive the idcard scope (with consent)
	SkipConsent              bool   // first-party client
	IDTokenSignedResponseAlg string // RS256 (default) or ES256
	MinLevel                 int    // minimum real-name level of citizens it may receive (0: any)
	MinACR                   string // minimum acr of the logins it may receive ("": any; a step-up reaches it)
	Channel                  string // the service channel the site is: web, app, miniapp, kiosk, counter, api ("": as the login's)
	Disabled                 bool
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

// ClientStore keeps clients (SQL).
type ClientStore interface {
	// CreateClient stores c. ErrAlreadyExists when the id is taken.
	CreateClient(ctx context.Context, c *Client) error
	// UpdateClient replaces every field of an existing client. ErrNotFound if none.
	UpdateClient(ctx context.Context, c *Client) error
	// Client loads one client, or ErrNotFound.
	Client(ctx context.Context, id string) (*Client, error)
	// Clients lists all clients ordered by id.
	Clients(ctx context.Context) ([]*Client, error)
	// DeleteClient removes a client. ErrNotFound if none.
	DeleteClient(ctx context.Context, id string) error
}

// Grant is one authorization: the root of the lineage
// SSO session → grant → tokens. Its ID is fosite's request ID, which every
// token minted from it (codes, access, refresh, rotated refresh) carries.
type Grant struct {
	ID        string
	ClientID  string
	CitizenID string // "" for client_credentials
	SessionID string // SSO session (sid) it came from; "" for client_credentials
	Scopes    []string
	CreatedAt time.Time
	RevokedAt time.Time // zero while live
}

// RefreshToken is one refresh token of a grant's rotation family. Rows are keyed
// by fosite's signature, never the token itself.
type RefreshToken struct {
	Signature       string
	GrantID         string
	AccessSignature string
	Active          bool
	Request         []byte // the serialized fosite request (see requestcodec.go)
	CreatedAt       time.Time
	ExpiresAt       time.Time // zero: never
}

// GrantStore keeps grants and refresh-token families (SQL).
type GrantStore interface {
	// CreateGrant records a grant. Creating an existing ID again is a no-op.
	CreateGrant(ctx context.Context, g *Grant) error
	// Grant loads one grant, or ErrNotFound.
	Grant(ctx context.Context, id string) (*Grant, error)
	// SessionGrants lists the live (unrevoked) grants of an SSO session.
	SessionGrants(ctx context.Context, sessionID string) ([]*Grant, error)
	// CitizenGrants lists the live grants of a citizen.
	CitizenGrants(ctx context.Context, citizenID string) ([]*Grant, error)
	// RevokeGrant marks the grant revoked and deactivates all its refresh
	// tokens, in one transaction. Revoking twice is not an error; ErrNotFound
	// if the grant does not exist.
	RevokeGrant(ctx context.Context, id string, at time.Time) error

	// CreateRefreshToken stores an active refresh token.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// RefreshToken loads a token, active or not, or ErrNotFound.
	RefreshToken(ctx context.Context, signature string) (*RefreshToken, error)
	// DeactivateRefreshToken atomically flips an active token to inactive
	// (a conditional update). ErrConflict when it was already inactive — the
	// caller lost a rotation race; ErrNotFound if there is no such token.
	DeactivateRefreshToken(ctx context.Context, signature string) error
	// DeleteRefreshToken removes one token row (ErrNotFound if none).
	DeleteRefreshToken(ctx context.Context, signature string) error
	// DeactivateGrantRefreshTokens deactivates every token of a grant.
	DeactivateGrantRefreshTokens(ctx context.Context, grantID string) error
}

// Consent is what a citizen agreed a client may receive.
type Consent struct {
	CitizenID string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// ConsentStore keeps remembered consents (SQL).
type ConsentStore interface {
	// Consent loads the consent of citizen for client, or ErrNotFound.
	Consent(ctx context.Context, citizenID, clientID string) (*Consent, error)
	// SaveConsent creates or replaces the consent of (CitizenID, ClientID).
	SaveConsent(ctx context.Context, c *Consent) error
	// DeleteConsent removes it (ErrNotFound if none).
	DeleteConsent(ctx context.Context, citizenID, clientID string) error
	// CitizenConsents lists a citizen's consents, newest first.
	CitizenConsents(ctx context.Context, citizenID string) ([]*Consent, error)
}

// SigningKey is one token-signing key. The private key is sealed by the
// caller (package oauth) before it reaches the store.
type SigningKey struct {
	ID        string // kid
	Algorithm string // RS256, ES256
	Sealed    []byte // encrypted PKCS#8 private key
	CreatedAt time.Time
	RetiredAt time.Time // zero while it is the active key of its algorithm; set on rotation
}

// KeyStore keeps signing keys (SQL).
type KeyStore interface {
	// AddSigningKey stores a new key and, in the same transaction, sets
	// RetiredAt=k.CreatedAt on every unretired key of the same algorithm.
	AddSigningKey(ctx context.Context, k *SigningKey) error
	// SigningKeys lists every key, oldest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	// DeleteSigningKey removes a key (used to drop retired keys whose tokens
	// have all expired). ErrNotFound if none.
	DeleteSigningKey(ctx context.Context, id string) error
}

// StateKind names a family of short-lived protocol state.
type StateKind string

const (
	KindAuthorizeCode StateKind = "code"
	KindPKCE          StateKind = "pkce"
	KindOIDC          StateKind = "oidc"
	KindAccessToken   StateKind = "at"
	KindFlow          StateKind = "flow" // login / consent flow state
	KindRevokedJTI    StateKind = "rjti" // revoked access-token ids until they would expire
)

// StateStore keeps short-lived protocol state (Redis, or the embedded store).
// Every entry has a TTL. Errors: identity.ErrNotFound for a missing or expired
// key, identity.ErrConflict from Use, identity.ErrUnavailable (wrapped) when
// the backend does not answer.
type StateStore interface {
	// PutState stores value under (kind, key) for ttl. When grant is not
	// empty the key is also indexed under that grant, so DeleteGrantState can
	// find it.
	PutState(ctx context.Context, kind StateKind, key string, value []byte, ttl time.Duration, grant string) error
	// State returns the value and whether Use was called on it.
	State(ctx context.Context, kind StateKind, key string) (value []byte, used bool, err error)
	// UseState atomically marks the entry used, keeping it until its TTL ends.
	// ErrConflict when it was already used; ErrNotFound when there is none.
	UseState(ctx context.Context, kind StateKind, key string) error
	// DeleteState removes an entry (no error if it is already gone).
	DeleteState(ctx context.Context, kind StateKind, key string) error
	// DeleteGrantState removes every entry of kind indexed under grant and
	// returns the keys it removed.
	DeleteGrantState(ctx context.Context, kind StateKind, grant string) ([]string, error)
}
