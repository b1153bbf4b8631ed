package passkey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// Sessions starts SSO sessions and finds the browser's one (*web.Sessions).
type Sessions interface {
	oauth.SessionReader
	Start(w http.ResponseWriter, r *http.Request, citizenID, acr string, amr []string, channel string) (*identity.Session, error)
}

// Citizens loads accounts (identity.CitizenRepository satisfies it).
type Citizens interface {
	Citizen(ctx context.Context, id string) (*identity.Citizen, error)
	CitizenByNumber(ctx context.Context, n identity.Number) (*identity.Citizen, error)
}

// StateKind is where ceremony state lives in the oauth.StateStore.
const StateKind oauth.StateKind = "webauthn"

// CeremonyTTL is how long a citizen has to answer the authenticator.
const CeremonyTTL = 5 * time.Minute

// DefaultRecentLogin is how recent the session's login must be to add a passkey.
const DefaultRecentLogin = 15 * time.Minute

// The authentication context of a passkey login.
const (
	ACRPasskey = oauth.ACRInPerson // phishing-resistant
	ChannelWeb = "web"
	AMRHardKey = "hwk" // device-bound key (RFC 8176)
	AMRSoftKey = "swk" // synced passkey: the key lives in software that syncs it
)

// Config holds what the handler uses. Every field but Logger, Now,
// RecentLogin and RPName is required.
type Config struct {
	UI       *web.UI
	Sessions Sessions
	Flows    oauth.Flows
	Citizens Citizens
	Passkeys identity.PasskeyRepository
	State    oauth.StateStore
	// Levels, when set, is told of every passkey enrolled: a level-2
	// account reaches level 3 (*identity.Leveler).
	Levels interface {
		RaiseByPasskey(ctx context.Context, citizenID string) (bool, error)
	}
	// Issuer is Yihao's external URL: its host is the RP ID, its origin the
	// only accepted origin. WebAuthn does not work on an IP address.
	Issuer string
	// DecoyKey (at least 32 bytes) derives the decoy credential id shown for
	// a number without passkeys.
	DecoyKey    []byte
	RPName      string        // shown by the authenticator; default 一号通
	RecentLogin time.Duration // default DefaultRecentLogin
	Logger      *slog.Logger
	Now         func() time.Time
}

// Handler serves the passkey routes.
type Handler struct {
	cfg Config
	wa  *webauthn.WebAuthn
}

// New checks the configuration and sets up the WebAuthn relying party.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.UI == nil, cfg.Sessions == nil, cfg.Flows == nil, cfg.Citizens == nil, cfg.Passkeys == nil, cfg.State == nil:
		return nil, errors.New("passkey: UI, Sessions, Flows, Citizens, Passkeys and State are required")
	case len(cfg.DecoyKey) < 32:
		return nil, errors.New("passkey: DecoyKey must be at least 32 bytes")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("passkey: issuer %q is not an absolute http(s) URL", cfg.Issuer)
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, fmt.Errorf("passkey: issuer host %s is an IP address; WebAuthn needs a domain name (localhost in development)", u.Hostname())
	}
	if cfg.RPName == "" {
		cfg.RPName = "一号通"
	}
	if cfg.RecentLogin <= 0 {
		cfg.RecentLogin = DefaultRecentLogin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: cfg.RPName,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Handler{cfg: cfg, wa: wa}, nil
}

// Mount adds the routes:
//
//	GET  /account/passkeys               the citizen's passkeys (SSO session required)
//	POST /account/passkeys/begin         enrolment options (JSON)
//	POST /account/passkeys/finish        store the new passkey (JSON)
//	POST /account/passkeys/{id}/rename   rename one
//	POST /account/passkeys/{id}/delete   delete one
//	POST /login/passkey/begin            sign-in options (JSON)
//	POST /login/passkey/finish           verify, start the session (JSON)
func (h *Handler) Mount(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET /account/passkeys", ui.Page(h.page))
	mux.Handle("POST /account/passkeys/begin", ui.Page(h.enrolBegin))
	mux.Handle("POST /account/passkeys/finish", ui.Page(h.enrolFinish))
	mux.Handle("POST /account/passkeys/{id}/rename", ui.Page(h.rename))
	mux.Handle("POST /account/passkeys/{id}/delete", ui.Page(h.delete))
	mux.Handle("POST /login/passkey/begin", ui.Page(h.loginBegin))
	mux.Handle("POST /login/passkey/finish", ui.Page(h.loginFinish))
}

// Errors shown to the citizen.
var (
	errFailed   = &web.StatusError{Status: http.StatusBadRequest, Key: "passkey.failed", Code: "passkey_failed"}
	errExpired  = &web.StatusError{Status: http.StatusBadRequest, Key: "passkey.expired", Code: "invalid_request"}
	errExists   = &web.StatusError{Status: http.StatusConflict, Key: "passkey.exists", Code: "already_exists"}
	errSignIn   = &web.StatusError{Status: http.StatusUnauthorized, Key: "passkey.signin.needed", Code: "login_required"}
	errReauth   = &web.StatusError{Status: http.StatusUnauthorized, Key: "passkey.reauth", Code: "login_required"}
	errBadInput = &web.StatusError{Status: http.StatusBadRequest, Key: "error.badrequest"}
)

// ceremony is what begin leaves for finish, in the state store.
type ceremony struct {
	Purpose   string               `json:"p"`           // purposeEnrol or purposeLogin
	CitizenID string               `json:"c,omitempty"` // enrolment, or a login that named a number
	FlowID    string               `json:"f,omitempty"` // login bound to an authorization flow
	Decoy     bool                 `json:"d,omitempty"` // the number had no passkeys: finish always fails
	Session   webauthn.SessionData `json:"s"`
}

const (
	purposeEnrol = "enrol"
	purposeLogin = "login"
)

const ceremonyIDLen = 43 // 32 bytes, base64url without padding

func (h *Handler) putCeremony(ctx context.Context, c *ceremony) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	v, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("passkey: encode ceremony: %w", err)
	}
	if err := h.cfg.State.PutState(ctx, StateKind, id, v, CeremonyTTL, ""); err != nil {
		return "", fmt.Errorf("passkey: store ceremony: %w", err)
	}
	return id, nil
}

// takeCeremony claims a ceremony once (UseState is atomic): a second finish
// with the same id, or one after the TTL, is errExpired.
func (h *Handler) takeCeremony(ctx context.Context, id, purpose string) (*ceremony, error) {
	if len(id) != ceremonyIDLen {
		return nil, errExpired
	}
	if err := h.cfg.State.UseState(ctx, StateKind, id); err != nil {
		if errors.Is(err, identity.ErrNotFound) || errors.Is(err, identity.ErrConflict) {
			return nil, errExpired
		}
		return nil, fmt.Errorf("passkey: claim ceremony: %w", err)
	}
	v, _, err := h.cfg.State.State(ctx, StateKind, id)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, errExpired
	}
	if err != nil {
		return nil, fmt.Errorf("passkey: load ceremony: %w", err)
	}
	var c ceremony
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("passkey: decode ceremony: %w", err)
	}
	if c.Purpose != purpose {
		return nil, errExpired
	}
	return &c, nil
}

// user adapts a citizen and their passkeys to webauthn.User.
type user struct {
	handle []byte
	name   string
	keys   []*identity.Passkey
}

func (u *user) WebAuthnID() []byte          { return u.handle }
func (u *user) WebAuthnName() string        { return u.name }
func (u *user) WebAuthnDisplayName() string { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.keys))
	for i, p := range u.keys {
		out[i] = toCredential(p)
	}
	return out
}

func toCredential(p *identity.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                p.ID,
		PublicKey:         p.PublicKey,
		AttestationType:   p.AttestationType,
		AttestationFormat: p.AttestationFormat,
		Transport:         transports,
		Flags: webauthn.CredentialFlags{
			UserPresent: p.UserPresent, UserVerified: p.UserVerified,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState,
		},
		Authenticator: webauthn.Authenticator{
			AAGUID: p.AAGUID, SignCount: p.SignCount,
			Attachment: protocol.AuthenticatorAttachment(p.Attachment),
		},
	}
}

func fromCredential(c *webauthn.Credential, citizenID, name string, now time.Time) *identity.Passkey {
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	return &identity.Passkey{
		ID:                c.ID,
		CitizenID:         citizenID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		Transports:        transports,
		AAGUID:            c.Authenticator.AAGUID,
		Attachment:        string(c.Authenticator.Attachment),
		SignCount:         c.Authenticator.SignCount,
		UserPresent:       c.Flags.UserPresent,
		UserVerified:      c.Flags.UserVerified,
		BackupEligible:    c.Flags.BackupEligible,
		BackupState:       c.Flags.BackupState,
		Name:              name,
		CreatedAt:         now,
	}
}

// loadUser returns the citizen and their WebAuthn user. It needs the
// citizen's handle to exist (ErrNotFound otherwise) unless create is set.
func (h *Handler) loadUser(ctx context.Context, citizenID string, create bool) (*identity.Citizen, *user, error) {
	c, err := h.cfg.Citizens.Citizen(ctx, citizenID)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: load citizen: %w", err)
	}
	var handle []byte
	if create {
		handle, err = identity.EnsureUserHandle(ctx, h.cfg.Passkeys, citizenID)
	} else {
		handle, err = h.cfg.Passkeys.UserHandle(ctx, citizenID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: user handle: %w", err)
	}
	keys, err := h.cfg.Passkeys.Passkeys(ctx, citizenID)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: list passkeys: %w", err)
	}
	// The authenticator shows this name in its account list: the masked
	// number, never the number itself.
	return c, &user{handle: handle, name: c.Number.Masked(), keys: keys}, nil
}

// session returns the browser's SSO session, or errSignIn.
func (h *Handler) session(r *http.Request) (*identity.Session, error) {
	s, err := h.cfg.Sessions.RequestSession(r)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, errSignIn
	}
	return s, err
}

func (h *Handler) recent(s *identity.Session) bool {
	return h.cfg.Now().Sub(s.AuthTime) <= h.cfg.RecentLogin
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(v)
}

// beginAnswer is what both begin steps send to passkey.js.
type beginAnswer struct {
	Ceremony  string `json:"ceremony"`
	PublicKey any    `json:"publicKey"`
}

// enrolBegin creates registration options for the signed-in citizen.
func (h *Handler) enrolBegin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	s, err := h.session(r)
	if err != nil {
		return err
	}
	if !h.recent(s) {
		return errReauth
	}
	_, u, err := h.loadUser(ctx, s.CitizenID, true)
	if err != nil {
		return err
	}
	creation, sd, err := h.wa.BeginRegistration(u,
		webauthn.WithExclusions(webauthn.Credentials(u.WebAuthnCredentials()).CredentialDescriptors()))
	if err != nil {
		return fmt.Errorf("passkey: begin registration: %w", err)
	}
	id, err := h.putCeremony(ctx, &ceremony{Purpose: purposeEnrol, CitizenID: s.CitizenID, Session: *sd})
	if err != nil {
		return err
	}
	return writeJSON(w, beginAnswer{Ceremony: id, PublicKey: creation.Response})
}

// enrolFinish verifies the new credential and stores it.
func (h *Handler) enrolFinish(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	s, err := h.session(r)
	if err != nil {
		return err
	}
	c, err := h.takeCeremony(ctx, r.PostFormValue("ceremony"), purposeEnrol)
	if err != nil {
		return err
	}
	if c.CitizenID != s.CitizenID {
		return errExpired
	}
	_, u, err := h.loadUser(ctx, s.CitizenID, false)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		h.cfg.Logger.InfoContext(ctx, "passkey enrolment refused", "citizen_id", s.CitizenID, "reason", webauthnReason(err))
		return errFailed
	}
	cred, err := h.wa.CreateCredential(u, c.Session, parsed)
	if err != nil {
		h.cfg.Logger.InfoContext(ctx, "passkey enrolment refused", "citizen_id", s.CitizenID, "reason", webauthnReason(err))
		return errFailed
	}
	now := h.cfg.Now()
	lang := web.Lang(r, nil)
	name := cleanName(r.PostFormValue("name"))
	if name == "" {
		name = web.TextFor(lang).T("passkey.default.name", now.In(chinaTime).Format("2006-01-02"))
	}
	p := fromCredential(cred, s.CitizenID, name, now)
	if err := h.cfg.Passkeys.AddPasskey(ctx, p); err != nil {
		if errors.Is(err, identity.ErrAlreadyExists) {
			return errExists
		}
		return err
	}
	h.cfg.Logger.InfoContext(ctx, "passkey added", "citizen_id", s.CitizenID, "backup_eligible", p.BackupEligible)
	if h.cfg.Levels != nil {
		// The passkey stands either way; a failed raise is retried by the next enrolment.
		if raised, err := h.cfg.Levels.RaiseByPasskey(ctx, s.CitizenID); err != nil {
			h.cfg.Logger.WarnContext(ctx, "passkey: level not raised", "citizen_id", s.CitizenID, "err", err)
		} else if raised {
			h.cfg.Logger.InfoContext(ctx, "level raised by a passkey", "citizen_id", s.CitizenID)
		}
	}
	return writeJSON(w, map[string]bool{"ok": true})
}

// loginBegin creates sign-in options: discoverable without a number, or
// the passkeys of the typed number (a decoy when it has none).
func (h *Handler) loginBegin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c := &ceremony{Purpose: purposeLogin, FlowID: r.PostFormValue("flow")}
	if c.FlowID != "" {
		if _, err := h.cfg.Flows.Flow(ctx, c.FlowID); err != nil {
			return fmt.Errorf("passkey: load flow: %w", web.FlowError(err))
		}
	}
	var (
		assertion *protocol.CredentialAssertion
		sd        *webauthn.SessionData
		err       error
	)
	if raw := strings.TrimSpace(r.PostFormValue("username")); raw != "" {
		n, err := identity.ParseAnyAt(raw, h.cfg.Now())
		if err != nil {
			return err // a *identity.NumberError: says which part is wrong
		}
		u, citizenID, decoy, err := h.numberUser(ctx, n)
		if err != nil {
			return err
		}
		if u != nil {
			c.CitizenID = citizenID
			assertion, sd, err = h.wa.BeginLogin(u)
		} else {
			c.Decoy = true
			assertion, sd, err = h.wa.BeginDiscoverableLogin(webauthn.WithAllowedCredentials(decoy))
		}
		if err != nil {
			return fmt.Errorf("passkey: begin login: %w", err)
		}
	} else if assertion, sd, err = h.wa.BeginDiscoverableLogin(); err != nil {
		return fmt.Errorf("passkey: begin login: %w", err)
	}
	c.Session = *sd
	id, err := h.putCeremony(ctx, c)
	if err != nil {
		return err
	}
	return writeJSON(w, beginAnswer{Ceremony: id, PublicKey: assertion.Response})
}

// numberUser returns the WebAuthn user of the citizen with number n, or,
// when the number is unknown or has no passkey, one decoy credential
// derived from the number: the browser sees the same shape either way.
func (h *Handler) numberUser(ctx context.Context, n identity.Number) (*user, string, []protocol.CredentialDescriptor, error) {
	c, err := h.cfg.Citizens.CitizenByNumber(ctx, n)
	switch {
	case errors.Is(err, identity.ErrNotFound):
	case err != nil:
		return nil, "", nil, fmt.Errorf("passkey: find citizen: %w", err)
	default:
		_, u, err := h.loadUser(ctx, c.ID, false)
		switch {
		case errors.Is(err, identity.ErrNotFound): // no handle yet: never enrolled
		case err != nil:
			return nil, "", nil, err
		case len(u.keys) > 0:
			return u, c.ID, nil, nil
		}
	}
	m := hmac.New(sha256.New, h.cfg.DecoyKey)
	m.Write([]byte("yihao passkey decoy v1\x00" + string(n.Type()) + "\x00" + n.Value()))
	return nil, "", []protocol.CredentialDescriptor{{Type: protocol.PublicKeyCredentialType, CredentialID: m.Sum(nil)}}, nil
}

// loginFinish verifies the assertion and signs the citizen in.
func (h *Handler) loginFinish(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := h.takeCeremony(ctx, r.PostFormValue("ceremony"), purposeLogin)
	if err != nil {
		return err
	}
	if c.Decoy {
		return errFailed
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		h.cfg.Logger.InfoContext(ctx, "passkey login refused", "reason", webauthnReason(err))
		return errFailed
	}
	var (
		citizen   *identity.Citizen
		cred      *webauthn.Credential
		lookupErr error
	)
	if c.CitizenID != "" {
		var u *user
		if citizen, u, err = h.loadUser(ctx, c.CitizenID, false); err == nil {
			cred, err = h.wa.ValidateLogin(u, c.Session, parsed)
		} else {
			lookupErr = err
		}
	} else {
		cred, err = h.wa.ValidateDiscoverableLogin(func(_, handle []byte) (webauthn.User, error) {
			id, err := h.cfg.Passkeys.CitizenByUserHandle(ctx, handle)
			if err != nil {
				lookupErr = err
				return nil, err
			}
			var u *user
			citizen, u, err = h.loadUser(ctx, id, false)
			if err != nil {
				lookupErr = err
				return nil, err
			}
			return u, nil
		}, c.Session, parsed)
	}
	if lookupErr != nil && !errors.Is(lookupErr, identity.ErrNotFound) {
		return lookupErr // the backend did not answer: 503, not "wrong passkey"
	}
	if err != nil {
		h.cfg.Logger.InfoContext(ctx, "passkey login refused", "reason", webauthnReason(err))
		return errFailed
	}
	if cred.Authenticator.CloneWarning {
		h.cfg.Logger.WarnContext(ctx, "passkey login refused: signature counter did not advance (possible cloned authenticator)",
			"citizen_id", citizen.ID, "sign_count", parsed.Response.AuthenticatorData.Counter)
		return errFailed
	}
	if citizen.Status != identity.StatusActive {
		h.cfg.Logger.InfoContext(ctx, "passkey login refused: account not active", "citizen_id", citizen.ID)
		return errFailed
	}
	err = identity.RecordPasskeyUse(ctx, h.cfg.Passkeys, cred.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, h.cfg.Now())
	if errors.Is(err, identity.ErrSignCountRegressed) {
		// Lost to a concurrent use with the same or a higher counter.
		h.cfg.Logger.WarnContext(ctx, "passkey login refused: signature counter did not advance (possible cloned authenticator)",
			"citizen_id", citizen.ID, "sign_count", cred.Authenticator.SignCount)
		return errFailed
	}
	if err != nil {
		return err
	}
	amr := AMRHardKey
	if cred.Flags.BackupEligible {
		amr = AMRSoftKey
	}
	s, err := h.cfg.Sessions.Start(w, r, citizen.ID, ACRPasskey, []string{amr}, ChannelWeb)
	if err != nil {
		return err
	}
	next := "/"
	if c.FlowID != "" {
		if next, err = h.cfg.Flows.LoginDone(ctx, c.FlowID, s); err != nil {
			return fmt.Errorf("passkey: finish login step: %w", web.FlowError(err))
		}
	}
	return writeJSON(w, map[string]string{"redirect": next})
}

// webauthnReason is the library's short error text for the log: it names
// the check that failed and carries no key material.
func webauthnReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.Details != "" {
			return pe.Type + ": " + pe.Details
		}
		return pe.Type
	}
	return err.Error()
}

// cleanName keeps a passkey name printable and short.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if rs := []rune(s); len(rs) > identity.PasskeyNameMaxRunes {
		s = string(rs[:identity.PasskeyNameMaxRunes])
	}
	return strings.TrimSpace(s)
}

// chinaTime shows dates as the citizen reads them (UTC+8, no DST).
var chinaTime = time.FixedZone("CST", 8*3600)
