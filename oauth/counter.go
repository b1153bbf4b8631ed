package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"
	foauth2 "github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"

	"github.com/yihao-gov/yihao/identity"
)

// Counter sessions (一窗): the service-hall counter terminal is an OAuth
// client registered for CounterGrantType. It asks
// /oauth2/counter_authorization for a counter code (kept by the terminal)
// and a short user code (shown on its screen). An operator, signed in to the
// console, checks the citizen's physical ID card, types the user code and
// the citizen's full document number (CounterOpen, after identity.Console
// has checked role and region); the citizen confirms on their phone, by
// scanning a QR code or by an SMS code read to the operator
// (CounterConfirm); the terminal, polling the token endpoint with the
// counter code, receives tokens for a new SSO session with channel
// "counter", amr ["counter", <method>], acr urn:yihao:acr:3 and the
// operator's id in the "operator" claim. The grant row is tied to that
// session, so logout, ending the session and freezing kill its tokens.

// CounterGrantType is the grant_type of the counter terminal's polls.
const CounterGrantType = "urn:yihao:grant-type:counter"

// AMRCounter is the amr value of an in-person document check at a counter.
const AMRCounter = "counter"

// ChannelCounter is the session channel of counter sessions.
const ChannelCounter = "counter"

// CounterSessionLifetime bounds a counter session: a visit to the counter.
const CounterSessionLifetime = time.Hour

const (
	KindCounter     StateKind = "ctr"  // hash(counter_code) → counterRecord
	KindCounterUser StateKind = "ctru" // user code → hash(counter_code)

	counterTTL = 10 * time.Minute
)

// Counter request statuses.
const (
	counterWaiting  = "waiting"  // the terminal asked; no operator yet
	counterOpened   = "opened"   // an operator bound a citizen; waiting for the citizen
	counterApproved = "approved" // the citizen confirmed; the session exists
	counterDenied   = "denied"
)

var (
	// ErrCounterOtherCitizen: a session of another citizen tried to
	// confirm a counter request.
	ErrCounterOtherCitizen = errors.New("counter request is for another citizen")
	// ErrCounterState: the request is not waiting for this step (already
	// opened, confirmed, refused or expired).
	ErrCounterState = errors.New("counter request is not waiting for this step")
)

type counterRecord struct {
	ClientID     string    `json:"c"`
	Scopes       []string  `json:"s"`
	UserCode     string    `json:"u"`
	Status       string    `json:"st"`
	CitizenID    string    `json:"cit,omitempty"`
	OperatorID   string    `json:"op,omitempty"`
	OperatorName string    `json:"opn,omitempty"`
	Method       string    `json:"m,omitempty"` // how the citizen confirmed: qr, sms
	SessionID    string    `json:"sid,omitempty"`
	AuthTime     time.Time `json:"at,omitempty"`
	Interval     int       `json:"i"`
	LastPoll     time.Time `json:"lp,omitempty"`
	RequestedAt  time.Time `json:"ra"`
	Expires      time.Time `json:"exp"`
}

// CounterInfo is what the console and the citizen's phone show.
type CounterInfo struct {
	Key          string // the request's reference (not the counter code)
	ClientID     string
	ClientName   string
	CitizenID    string
	OperatorID   string
	OperatorName string
	Status       string
}

func (p *Provider) loadCounter(ctx context.Context, key string) (*counterRecord, time.Duration, error) {
	return loadPolled[counterRecord](ctx, p, KindCounter, key)
}

func (p *Provider) saveCounter(ctx context.Context, key string, rec *counterRecord, ttl time.Duration) error {
	return p.savePolled(ctx, KindCounter, key, rec, ttl)
}

// counterAuthorization is the terminal's request (modelled on RFC 8628 §3.1).
func (p *Provider) counterAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	client, scopes := p.pollingClient(w, r, CounterGrantType, "The client is not registered for counter sessions.")
	if client == nil {
		return
	}
	code := randomID() + randomID()
	userCode := newUserCode()
	now := p.now().UTC()
	rec := &counterRecord{ClientID: client.ID, Scopes: scopes, UserCode: userCode, Status: counterWaiting,
		Interval: devicePollWait, RequestedAt: now, Expires: now.Add(counterTTL)}
	key := hashKey(code)
	if err := p.saveCounter(ctx, key, rec, counterTTL); err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, p.accessErr(r, err))
		return
	}
	if err := p.deps.State.PutState(ctx, KindCounterUser, userCode, []byte(key), counterTTL, ""); err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, p.accessErr(r, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"counter_code": code,
		"user_code":    userCode,
		"expires_in":   int(counterTTL.Seconds()),
		"interval":     devicePollWait,
	})
}

// CounterOperator is the operator opening a counter session, as the
// console's use-case layer has checked them.
type CounterOperator struct{ ID, Name string }

// CounterOpen binds the terminal's request (by the user code on its screen)
// to the citizen the operator checked in person. The user code is single
// use. It returns the request's reference for the confirmation step.
// Errors: ErrUnknownUserCode.
func (p *Provider) CounterOpen(ctx context.Context, userCode, citizenID string, op CounterOperator) (*CounterInfo, error) {
	code := NormalizeUserCode(userCode)
	if code == "" || citizenID == "" || op.ID == "" {
		return nil, ErrUnknownUserCode
	}
	raw, _, err := p.deps.State.State(ctx, KindCounterUser, code)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, ErrUnknownUserCode
	}
	if err != nil {
		return nil, err
	}
	key := string(raw)
	rec, left, err := p.loadCounter(ctx, key)
	if errors.Is(err, identity.ErrNotFound) || errors.Is(err, identity.ErrConflict) || (err == nil && rec.Status != counterWaiting) {
		return nil, ErrUnknownUserCode
	}
	if err != nil {
		return nil, err
	}
	if err := p.deps.State.UseState(ctx, KindCounterUser, code); err != nil {
		if errors.Is(err, identity.ErrConflict) || errors.Is(err, identity.ErrNotFound) {
			return nil, ErrUnknownUserCode
		}
		return nil, err
	}
	rec.Status, rec.CitizenID, rec.OperatorID, rec.OperatorName = counterOpened, citizenID, op.ID, op.Name
	if err := p.saveCounter(ctx, key, rec, left); err != nil {
		return nil, err
	}
	return p.counterInfo(ctx, key, rec)
}

func (p *Provider) counterInfo(ctx context.Context, key string, rec *counterRecord) (*CounterInfo, error) {
	c, err := p.storage.client(ctx, rec.ClientID)
	if err != nil {
		return nil, err
	}
	return &CounterInfo{Key: key, ClientID: c.ID, ClientName: c.Name, CitizenID: rec.CitizenID,
		OperatorID: rec.OperatorID, OperatorName: rec.OperatorName, Status: rec.Status}, nil
}

// CounterInfo describes a live counter request. ErrUnknownUserCode when it
// is gone.
func (p *Provider) CounterInfo(ctx context.Context, key string) (*CounterInfo, error) {
	rec, _, err := p.loadCounter(ctx, key)
	if errors.Is(err, identity.ErrNotFound) || errors.Is(err, identity.ErrConflict) {
		return nil, ErrUnknownUserCode
	}
	if err != nil {
		return nil, err
	}
	return p.counterInfo(ctx, key, rec)
}

// CounterConfirm records the citizen's answer to an opened request: from
// the citizen's own phone session s (QR), or — with s nil — after the
// console checked an SMS code sent to the citizen's bound phone. On
// approval it starts the counter session the terminal's tokens will hang
// from. The answer is audited either way.
func (p *Provider) CounterConfirm(ctx context.Context, key string, s *identity.Session, method string, approve bool) error {
	rec, left, err := p.loadCounter(ctx, key)
	if errors.Is(err, identity.ErrNotFound) || errors.Is(err, identity.ErrConflict) {
		return ErrUnknownUserCode
	}
	if err != nil {
		return err
	}
	if rec.Status != counterOpened {
		return ErrCounterState
	}
	if s != nil && s.CitizenID != rec.CitizenID {
		return ErrCounterOtherCitizen
	}
	now := p.now().UTC()
	detail := map[string]string{"method": method, "operator": rec.OperatorID}
	entry := &identity.AuditEntry{Action: identity.AuditCounterRefused, CitizenID: rec.CitizenID,
		Actor: identity.ActorCitizen + rec.CitizenID, ClientID: rec.ClientID, Detail: detail, At: now}
	if s != nil {
		detail["confirmed_by_session"] = s.ID
	}
	if !approve {
		rec.Status = counterDenied
		if err := p.record(ctx, entry); err != nil {
			return err
		}
		return p.saveCounter(ctx, key, rec, left)
	}
	sess := &identity.Session{ID: newSessionID(), CitizenID: rec.CitizenID, AuthTime: now, ACR: ACRInPerson,
		AMR: []string{AMRCounter, method}, Channel: ChannelCounter, Clients: []string{rec.ClientID},
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(CounterSessionLifetime), UserAgent: "counter · " + rec.ClientID}
	entry.Action, entry.SessionID = identity.AuditCounterConfirmed, sess.ID
	// Recorded before the session exists: an unrecorded counter session
	// must not issue tokens.
	if err := p.record(ctx, entry); err != nil {
		return err
	}
	if err := p.deps.Sessions.CreateSession(ctx, sess); err != nil {
		return err
	}
	rec.Status, rec.Method, rec.SessionID, rec.AuthTime = counterApproved, method, sess.ID, now
	return p.saveCounter(ctx, key, rec, left)
}

func newSessionID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// counterGrant is the token-endpoint handler for CounterGrantType.
type counterGrant struct{ polledGrant }

var _ fosite.TokenEndpointHandler = (*counterGrant)(nil)

func (d *counterGrant) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !d.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	p := d.p
	client := r.GetClient().(fositeClient).c
	if !slices.Contains(client.GrantTypes, CounterGrantType) {
		return fosite.ErrUnauthorizedClient.WithHint("The client is not registered for counter sessions.")
	}
	code := r.GetRequestForm().Get("counter_code")
	if code == "" {
		return fosite.ErrInvalidRequest.WithHint("counter_code is required.")
	}
	key := hashKey(code)
	rec, left, err := p.loadCounter(ctx, key)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return errExpiredToken
	case errors.Is(err, identity.ErrConflict):
		return fosite.ErrInvalidGrant.WithHint("The counter code has already been used.")
	case err != nil:
		return err
	}
	if rec.ClientID != client.ID {
		return fosite.ErrInvalidGrant.WithHint("The counter code was issued to another client.")
	}
	now := p.now()
	switch rec.Status {
	case counterWaiting, counterOpened:
		tooFast := !rec.LastPoll.IsZero() && now.Sub(rec.LastPoll) < time.Duration(rec.Interval)*time.Second
		rec.LastPoll = now
		if tooFast {
			rec.Interval += 5
		}
		if err := p.saveCounter(ctx, key, rec, left); err != nil {
			return err
		}
		if tooFast {
			return errSlowDown
		}
		return errAuthorizationPending
	case counterDenied:
		_ = p.deps.State.DeleteState(ctx, KindCounter, key)
		return fosite.ErrAccessDenied.WithHint("The citizen declined the counter session.")
	}
	if err := p.deps.State.UseState(ctx, KindCounter, key); err != nil {
		if errors.Is(err, identity.ErrConflict) {
			return fosite.ErrInvalidGrant.WithHint("The counter code has already been used.")
		}
		return err
	}
	// The counter session must still be live: a freeze or logout between
	// confirmation and the poll leaves nothing to issue from.
	sess, err := p.deps.Sessions.Session(ctx, rec.SessionID)
	if errors.Is(err, identity.ErrNotFound) {
		return fosite.ErrAccessDenied.WithHint("The counter session has ended.")
	}
	if err != nil {
		return err
	}
	citizen, err := p.deps.Citizens.Citizen(ctx, rec.CitizenID)
	if err != nil {
		return err
	}
	if citizen.Status != identity.StatusActive {
		return fosite.ErrAccessDenied.WithHint("The account is not active.")
	}
	session := p.newSession(client, citizen, sess, rec.RequestedAt)
	session.Claims.Extra["operator"] = rec.OperatorID
	session.AccessClaims.Extra["operator"] = rec.OperatorID
	r.SetSession(session)
	for _, s := range rec.Scopes {
		r.GrantScope(s)
	}
	r.GrantAudience(client.ID)
	session.SetExpiresAt(fosite.AccessToken, now.UTC().Add(p.cfg.AccessTokenLifespan).Round(time.Second))
	if slices.Contains(rec.Scopes, "offline_access") {
		session.SetExpiresAt(fosite.RefreshToken, now.UTC().Add(p.cfg.RefreshTokenLifespan).Round(time.Second))
	}
	return p.deps.Grants.CreateGrant(ctx, &Grant{ID: r.GetID(), ClientID: client.ID, CitizenID: citizen.ID, SessionID: sess.ID, Scopes: rec.Scopes, CreatedAt: now.UTC()})
}

// issueTokens mints what a Yihao grant handler (device, counter) settled:
// the access token, a refresh token with offline_access for a client that
// may refresh, and an ID token with openid.
func issueTokens(ctx context.Context, p *Provider, access *foauth2.HandleHelper, refresh foauth2.RefreshTokenStrategy, idToken *openid.IDTokenHandleHelper, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	accessSig, err := access.IssueAccessToken(ctx, p.cfg.AccessTokenLifespan, r, resp)
	if err != nil {
		return err
	}
	if r.GetGrantedScopes().Has("offline_access") && slices.Contains(r.GetClient().(fositeClient).c.GrantTypes, "refresh_token") {
		token, sig, err := refresh.GenerateRefreshToken(ctx, r)
		if err != nil {
			return err
		}
		if err := p.storage.CreateRefreshTokenSession(ctx, sig, accessSig, r.Sanitize(nil)); err != nil {
			return err
		}
		resp.SetExtra("refresh_token", token)
	}
	if r.GetGrantedScopes().Has("openid") {
		if err := idToken.IssueExplicitIDToken(ctx, p.cfg.IDTokenLifespan, r, resp); err != nil {
			return err
		}
	}
	return nil
}
