package oauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/yihao-gov/yihao/identity"
)

// The device authorization grant (RFC 8628) for kiosks and TV-style devices.
// The device asks /oauth2/device_authorization for a device code and a short
// user code; the citizen opens /device on their phone or a desktop, signs in,
// types the user code, sees which site asks for what, and approves; the
// device polls the token endpoint with the device code.

// DeviceGrantType is the grant_type of RFC 8628 §3.4.
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

const (
	KindDevice     StateKind = "dev"  // hash(device_code) → deviceRecord
	KindDeviceUser StateKind = "devu" // user code → hash(device_code)

	deviceTTL      = 10 * time.Minute
	devicePollWait = 5 // seconds between polls (RFC 8628 §3.2 default)
	// userCodeAlphabet has no vowels (no words) and no easily confused letters.
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
)

var (
	errAuthorizationPending = &fosite.RFC6749Error{ErrorField: "authorization_pending", DescriptionField: "The citizen has not yet approved the request.", CodeField: http.StatusBadRequest}
	errSlowDown             = &fosite.RFC6749Error{ErrorField: "slow_down", DescriptionField: "Polling too fast; wait longer between requests.", CodeField: http.StatusBadRequest}
	errExpiredToken         = &fosite.RFC6749Error{ErrorField: "expired_token", DescriptionField: "The device code has expired; start again.", CodeField: http.StatusBadRequest}

	// ErrUnknownUserCode is returned to the verification page for a wrong,
	// expired or already used user code.
	ErrUnknownUserCode = errors.New("unknown or expired user code")
)

type deviceRecord struct {
	ClientID    string    `json:"c"`
	Scopes      []string  `json:"s"`
	UserCode    string    `json:"u"`
	Status      string    `json:"st"` // pending, approved, denied
	CitizenID   string    `json:"cit,omitempty"`
	SessionID   string    `json:"sid,omitempty"`
	ACR         string    `json:"acr,omitempty"`
	AMR         []string  `json:"amr,omitempty"`
	AuthTime    time.Time `json:"at,omitempty"`
	Interval    int       `json:"i"`
	LastPoll    time.Time `json:"lp,omitempty"`
	RequestedAt time.Time `json:"ra"`
	Expires     time.Time `json:"exp"`
}

func newUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for i, v := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, userCodeAlphabet[int(v)%len(userCodeAlphabet)])
	}
	return string(out)
}

// NormalizeUserCode accepts what a citizen types: any case, with or without
// the dash or spaces. It returns "" when the input cannot be a user code.
func NormalizeUserCode(in string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(in) {
		switch {
		case r == '-' || r == ' ':
			continue
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	s := b.String()
	if len(s) != 8 {
		return ""
	}
	return s[:4] + "-" + s[4:]
}

func (p *Provider) loadDevice(ctx context.Context, key string) (*deviceRecord, time.Duration, error) {
	return loadPolled[deviceRecord](ctx, p, KindDevice, key)
}

func (p *Provider) saveDevice(ctx context.Context, key string, rec *deviceRecord, ttl time.Duration) error {
	return p.savePolled(ctx, KindDevice, key, rec, ttl)
}

// deviceAuthorization is RFC 8628 §3.1–3.2.
func (p *Provider) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	client, scopes := p.pollingClient(w, r, DeviceGrantType, "The client is not registered for the device authorization grant.")
	if client == nil {
		return
	}
	deviceCode := randomID() + randomID()
	userCode := newUserCode()
	now := p.now().UTC()
	rec := &deviceRecord{ClientID: client.ID, Scopes: scopes, UserCode: userCode, Status: "pending", Interval: devicePollWait, RequestedAt: now, Expires: now.Add(deviceTTL)}
	key := hashKey(deviceCode)
	if err := p.saveDevice(ctx, key, rec, deviceTTL); err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, p.accessErr(r, err))
		return
	}
	if err := p.deps.State.PutState(ctx, KindDeviceUser, userCode, []byte(key), deviceTTL, ""); err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, p.accessErr(r, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          p.cfg.Issuer + "/device",
		"verification_uri_complete": p.cfg.Issuer + "/device?user_code=" + userCode,
		"expires_in":                int(deviceTTL.Seconds()),
		"interval":                  devicePollWait,
	})
}

// DeviceInfo is what the verification page shows before the citizen approves.
type DeviceInfo struct {
	UserCode   string
	ClientID   string
	ClientName string
	Scopes     []string
}

func (p *Provider) deviceByUserCode(ctx context.Context, userCode string) (string, *deviceRecord, time.Duration, error) {
	code := NormalizeUserCode(userCode)
	if code == "" {
		return "", nil, 0, ErrUnknownUserCode
	}
	key, _, err := p.deps.State.State(ctx, KindDeviceUser, code)
	if errors.Is(err, identity.ErrNotFound) {
		return "", nil, 0, ErrUnknownUserCode
	}
	if err != nil {
		return "", nil, 0, err
	}
	rec, left, err := p.loadDevice(ctx, string(key))
	if errors.Is(err, identity.ErrNotFound) || errors.Is(err, identity.ErrConflict) || (err == nil && rec.Status != "pending") {
		return "", nil, 0, ErrUnknownUserCode
	}
	if err != nil {
		return "", nil, 0, err
	}
	return string(key), rec, left, nil
}

// DeviceLookup tells the verification page which site asks for what.
func (p *Provider) DeviceLookup(ctx context.Context, userCode string) (*DeviceInfo, error) {
	_, rec, _, err := p.deviceByUserCode(ctx, userCode)
	if err != nil {
		return nil, err
	}
	c, err := p.storage.client(ctx, rec.ClientID)
	if err != nil {
		return nil, err
	}
	return &DeviceInfo{UserCode: rec.UserCode, ClientID: c.ID, ClientName: c.Name, Scopes: rec.Scopes}, nil
}

// DeviceDecide records the signed-in citizen's answer. The user code is
// single use: it is gone after the decision.
func (p *Provider) DeviceDecide(ctx context.Context, userCode string, s *identity.Session, approve bool) error {
	key, rec, left, err := p.deviceByUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	if err := p.deps.State.UseState(ctx, KindDeviceUser, rec.UserCode); err != nil {
		if errors.Is(err, identity.ErrConflict) || errors.Is(err, identity.ErrNotFound) {
			return ErrUnknownUserCode
		}
		return err
	}
	rec.Status = "denied"
	if approve {
		rec.Status = "approved"
		rec.CitizenID, rec.SessionID, rec.ACR, rec.AMR, rec.AuthTime = s.CitizenID, s.ID, s.ACR, s.AMR, s.AuthTime
		if !slices.Contains(s.Clients, rec.ClientID) {
			if err := p.deps.Sessions.AddSessionClient(ctx, s.ID, rec.ClientID); err != nil {
				return err
			}
		}
	}
	return p.saveDevice(ctx, key, rec, left)
}

// deviceGrant is the token-endpoint handler for DeviceGrantType, appended to
// fosite's handlers as an extra factory.
type deviceGrant struct{ polledGrant }

var _ fosite.TokenEndpointHandler = (*deviceGrant)(nil)

func (d *deviceGrant) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !d.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	p := d.p
	client := r.GetClient().(fositeClient).c
	if !slices.Contains(client.GrantTypes, DeviceGrantType) {
		return fosite.ErrUnauthorizedClient.WithHint("The client is not registered for the device authorization grant.")
	}
	deviceCode := r.GetRequestForm().Get("device_code")
	if deviceCode == "" {
		return fosite.ErrInvalidRequest.WithHint("device_code is required.")
	}
	key := hashKey(deviceCode)
	rec, left, err := p.loadDevice(ctx, key)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return errExpiredToken
	case errors.Is(err, identity.ErrConflict):
		return fosite.ErrInvalidGrant.WithHint("The device code has already been used.")
	case err != nil:
		return err
	}
	if rec.ClientID != client.ID {
		return fosite.ErrInvalidGrant.WithHint("The device code was issued to another client.")
	}
	now := p.now()
	switch rec.Status {
	case "pending":
		tooFast := !rec.LastPoll.IsZero() && now.Sub(rec.LastPoll) < time.Duration(rec.Interval)*time.Second
		rec.LastPoll = now
		if tooFast {
			rec.Interval += 5 // RFC 8628 §3.5
		}
		if err := p.saveDevice(ctx, key, rec, left); err != nil {
			return err
		}
		if tooFast {
			return errSlowDown
		}
		return errAuthorizationPending
	case "denied":
		_ = p.deps.State.DeleteState(ctx, KindDevice, key)
		return fosite.ErrAccessDenied.WithHint("The citizen declined the request.")
	}
	// Approved: exactly one poll may redeem it.
	if err := p.deps.State.UseState(ctx, KindDevice, key); err != nil {
		if errors.Is(err, identity.ErrConflict) {
			return fosite.ErrInvalidGrant.WithHint("The device code has already been used.")
		}
		return err
	}
	citizen, err := p.deps.Citizens.Citizen(ctx, rec.CitizenID)
	if err != nil {
		return err
	}
	if citizen.Status != identity.StatusActive {
		return fosite.ErrAccessDenied.WithHint("The account is not active.")
	}
	// A site's registered minimums hold on every grant, not only at the
	// authorization endpoint.
	if client.MinLevel > 0 && int(citizen.Level) < client.MinLevel {
		return fosite.ErrAccessDenied.WithHint("This site requires a higher real-name level than the account has.")
	}
	if ACRRank(rec.ACR) < ACRRank(client.MinACR) {
		return fosite.ErrAccessDenied.WithHint("This site requires a stronger login than the approving session's.")
	}
	sess := &identity.Session{ID: rec.SessionID, CitizenID: rec.CitizenID, AuthTime: rec.AuthTime, ACR: rec.ACR, AMR: rec.AMR, Channel: "kiosk"}
	session := p.newSession(client, citizen, sess, rec.RequestedAt)
	r.SetSession(session)
	for _, s := range rec.Scopes {
		r.GrantScope(s)
	}
	r.GrantAudience(client.ID)
	atExp := now.UTC().Add(p.cfg.AccessTokenLifespan).Round(time.Second)
	session.SetExpiresAt(fosite.AccessToken, atExp)
	if slices.Contains(rec.Scopes, "offline_access") {
		session.SetExpiresAt(fosite.RefreshToken, now.UTC().Add(p.cfg.RefreshTokenLifespan).Round(time.Second))
	}
	return p.deps.Grants.CreateGrant(ctx, &Grant{ID: r.GetID(), ClientID: client.ID, CitizenID: citizen.ID, SessionID: rec.SessionID, Scopes: rec.Scopes, CreatedAt: now.UTC()})
}
