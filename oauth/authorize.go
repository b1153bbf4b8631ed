package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/yihao-gov/yihao/identity"
)

// Scopes Yihao knows, and what each releases (see README).
var knownScopes = []string{"openid", "profile", "phone", "email", "idcard", "offline_access"}

// ACR values: the strength of this login (the authentication axis).
const (
	ACRPassword = "urn:yihao:acr:1" // one factor (password or SMS)
	ACRMulti    = "urn:yihao:acr:2" // two factors
	ACRInPerson = "urn:yihao:acr:3" // phishing-resistant or in person
)

// StepUpPath is the page that asks a logged-in citizen for a missing factor.
const StepUpPath = "/login/stepup"

// ACRRank orders the acr values Yihao issues (1, 2, 3); 0 for "" or one it
// does not know.
func ACRRank(acr string) int {
	switch acr {
	case ACRPassword:
		return 1
	case ACRMulti:
		return 2
	case ACRInPerson:
		return 3
	}
	return 0
}

// RequiredACR reads acr_values (space-separated, in order of preference) as
// the minimum the site accepts: the lowest-ranked value Yihao knows, or ""
// when it names none. Any listed value is acceptable to the site, so the
// lowest one is the floor; a session at or above it needs no step-up.
func RequiredACR(acrValues string) string {
	best := ""
	for _, v := range splitSpace(acrValues) {
		if r := ACRRank(v); r > 0 && (best == "" || r < ACRRank(best)) {
			best = v
		}
	}
	return best
}

// StricterACR is the higher-ranked of two acr values ("" ranks lowest).
func StricterACR(a, b string) string {
	if ACRRank(b) > ACRRank(a) {
		return b
	}
	return a
}

// LevelClaims are the claims of the proofing axis (the real-name level),
// carried apart from acr/amr: level, and — once it was raised here —
// level_method (id_check, passkey) and level_verified_at (RFC 3339, UTC,
// seconds). Both the ID token and userinfo (scope profile) carry them. The
// time is a string, not a NumericDate: session claims pass through JSON
// (numbers come back as float64) and go-jose writes large floats in
// exponent form (1.7e+09), which relying parties would misread.
func LevelClaims(c *identity.Citizen) map[string]any {
	out := map[string]any{"level": int(c.Level)}
	if c.LevelMethod != "" {
		out["level_method"] = c.LevelMethod
	}
	if !c.LevelAt.IsZero() {
		out["level_verified_at"] = c.LevelAt.UTC().Format(time.RFC3339)
	}
	return out
}

func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func splitSpace(s string) []string { return fosite.RemoveEmpty(strings.Split(s, " ")) }

// authorize is the authorization endpoint. The browser arrives with the
// client's request, or comes back with ?flow=<id> after logging in or
// consenting; the original request is then replayed from the stored flow.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var flow *Flow
	if id := r.URL.Query().Get("flow"); id != "" && r.Method == http.MethodGet && len(r.URL.Query()) == 1 {
		f, err := p.Flow(ctx, id)
		if err != nil {
			p.deps.Pages.Error(w, r, err)
			return
		}
		flow = f
		r = r.Clone(ctx)
		r.URL.RawQuery = f.Query
	}
	ar, err := p.fosite.NewAuthorizeRequest(ctx, r)
	if err != nil {
		if ar == nil || !ar.IsRedirectURIValid() {
			// Nowhere safe to send the error (unknown client, unregistered
			// redirect_uri): the citizen's browser gets a page, not JSON.
			p.deps.Pages.Error(w, r, authorizeRequestError(err))
			return
		}
		p.fosite.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	// PKCE is checked before the citizen is asked anything (fosite's own
	// check runs only when the response is built, after login).
	if err := checkPKCE(ar); err != nil {
		p.fosite.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	if err := p.decide(ctx, w, r, ar, flow); err != nil {
		p.fosite.WriteAuthorizeError(ctx, w, ar, p.protocolErr(ctx, err))
	}
}

// AuthorizeRequestError is an authorization request that cannot be answered
// at the client's redirect URI. Pages show it to the citizen; its Code is the
// RFC 6749 error for clients that ask for JSON.
type AuthorizeRequestError struct {
	Code        string
	Description string
}

func (e *AuthorizeRequestError) Error() string {
	return "oauth: invalid authorization request: " + e.Code
}

func authorizeRequestError(err error) *AuthorizeRequestError {
	out := &AuthorizeRequestError{Code: "invalid_request"}
	var rfc *fosite.RFC6749Error
	if errors.As(err, &rfc) {
		out.Code, out.Description = rfc.ErrorField, rfc.GetDescription()
	}
	return out
}

func checkPKCE(ar fosite.AuthorizeRequester) error {
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && ar.GetClient().IsPublic():
		return fosite.ErrInvalidRequest.WithHint("Clients must include a code_challenge when performing the authorize code flow, but it is missing.")
	case challenge != "" && method != "S256":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256; plain is not allowed.")
	}
	return nil
}

// protocolErr maps a domain error to the RFC error and logs the cause once.
func (p *Provider) protocolErr(ctx context.Context, err error) error {
	var rfc *fosite.RFC6749Error
	switch {
	case errors.Is(err, identity.ErrUnavailable):
		p.log.WarnContext(ctx, "backend unavailable", "err", err)
		return fosite.ErrTemporarilyUnavailable.WithHint("The service is temporarily unavailable, try again shortly.")
	case errors.As(err, &rfc):
		return err
	}
	if ctx.Err() == nil {
		p.log.ErrorContext(ctx, "authorization failed", "err", err)
	}
	return fosite.ErrServerError
}

func (p *Provider) decide(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, flow *Flow) error {
	client := ar.GetClient().(fositeClient).c
	form := ar.GetRequestForm()
	prompt := splitSpace(form.Get("prompt"))
	now := p.now()
	requestedAt := now
	if flow != nil {
		requestedAt = flow.CreatedAt
	}
	if slices.Contains(ar.GetRequestedScopes(), "idcard") && !client.AllowIDCard {
		return fosite.ErrInvalidScope.WithHint("This client is not registered for the idcard scope.")
	}

	sess, err := p.deps.Browser.RequestSession(r)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		sess = nil
	case err != nil:
		return err
	}
	var citizen *identity.Citizen
	if sess != nil {
		citizen, err = p.deps.Citizens.Citizen(ctx, sess.CitizenID)
		if errors.Is(err, identity.ErrNotFound) || (err == nil && citizen.Status != identity.StatusActive) {
			sess, citizen = nil, nil
		} else if err != nil {
			return err
		}
	}

	loggedInHere := sess != nil && flow != nil && flow.SessionID == sess.ID
	needLogin := sess == nil
	if sess != nil && !loggedInHere {
		if slices.Contains(prompt, "login") {
			needLogin = true
		}
		if ma := form.Get("max_age"); ma != "" {
			if secs, err := strconv.Atoi(ma); err == nil && sess.AuthTime.Add(time.Duration(secs)*time.Second).Before(now) {
				needLogin = true
			}
		}
	}
	if needLogin {
		if slices.Contains(prompt, "none") {
			return fosite.ErrLoginRequired
		}
		return p.redirectToStep(ctx, w, r, ar, flow, client, "/login", nil)
	}
	if client.MinLevel > 0 && int(citizen.Level) < client.MinLevel {
		return fosite.ErrAccessDenied.WithHint("This site requires a higher real-name level than the account has.")
	}
	// Step-up: a session below the acr asked for (acr_values, or the
	// client's registered minimum: the stricter wins) is prompted for the
	// missing factor only (see docs/architecture.md, "Step-up").
	if required := StricterACR(RequiredACR(form.Get("acr_values")), client.MinACR); ACRRank(sess.ACR) < ACRRank(required) {
		switch {
		case slices.Contains(prompt, "none"):
			return fosite.ErrLoginRequired.WithHint("The session is below the requested acr_values.")
		case ACRRank(required) > ACRRank(ACRMulti) && loggedInHere:
			// A fresh login in this very flow still fell short: the
			// citizen has no passkey (the one factor that reaches acr 3).
			return fosite.ErrAccessDenied.WithHint("The requested acr_values need a passkey login.")
		case ACRRank(required) > ACRRank(ACRMulti):
			// Only a passkey login reaches acr 3: ask for a fresh login,
			// where the passkey button is.
			return p.redirectToStep(ctx, w, r, ar, flow, client, "/login", nil)
		}
		if flow == nil {
			flow = p.newFlow(ar, client, requestedAt)
		}
		flow.RequiredACR = required
		return p.redirectToStep(ctx, w, r, ar, flow, client, StepUpPath, nil)
	}

	// Consent.
	requested := ar.GetRequestedScopes()
	consented := flow != nil && flow.Consented && loggedInHereOrSame(flow, sess)
	if !client.SkipConsent && !consented {
		missing, err := p.missingConsent(ctx, citizen.ID, client.ID, requested)
		if err != nil {
			return err
		}
		if len(missing) > 0 || slices.Contains(prompt, "consent") {
			if slices.Contains(prompt, "none") {
				return fosite.ErrConsentRequired
			}
			if len(missing) == 0 {
				missing = requested
			}
			if flow == nil {
				flow = p.newFlow(ar, client, requestedAt)
			}
			flow.SessionID = sess.ID
			return p.redirectToStep(ctx, w, r, ar, flow, client, "/consent", missing)
		}
	}
	for _, s := range requested {
		ar.GrantScope(s)
	}
	ar.GrantAudience(client.ID)

	session := p.newSession(client, citizen, sess, requestedAt)
	uctx, u := beginUnit(ctx)
	resp, err := p.fosite.NewAuthorizeResponse(uctx, ar, session)
	if err != nil {
		return err
	}
	// The grant row and the code's one record are written here, before the
	// code leaves (see unit.go).
	if err := p.storage.commitAuthorize(ctx, u); err != nil {
		return err
	}
	resp.AddParameter("iss", p.cfg.Issuer) // RFC 9207
	if !slices.Contains(sess.Clients, client.ID) {
		if err := p.deps.Sessions.AddSessionClient(ctx, sess.ID, client.ID); err != nil {
			return err
		}
	}
	if flow != nil {
		_ = p.deps.State.DeleteState(ctx, KindFlow, flow.ID)
	}
	p.fosite.WriteAuthorizeResponse(ctx, w, ar, resp)
	return nil
}

func loggedInHereOrSame(f *Flow, s *identity.Session) bool { return s != nil && f.SessionID == s.ID }

func (p *Provider) missingConsent(ctx context.Context, citizenID, clientID string, requested []string) ([]string, error) {
	c, err := p.deps.Consents.Consent(ctx, citizenID, clientID)
	if errors.Is(err, identity.ErrNotFound) {
		return requested, nil
	}
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, s := range requested {
		if !slices.Contains(c.Scopes, s) {
			missing = append(missing, s)
		}
	}
	return missing, nil
}

func (p *Provider) newFlow(ar fosite.AuthorizeRequester, client *Client, at time.Time) *Flow {
	form := ar.GetRequestForm()
	return &Flow{
		ID:         randomID(),
		Query:      form.Encode(),
		ClientID:   client.ID,
		ClientName: client.Name,
		Scopes:     ar.GetRequestedScopes(),
		LoginHint:  form.Get("login_hint"),
		UILocales:  splitSpace(form.Get("ui_locales")),
		CreatedAt:  at.Truncate(time.Second),
	}
}

// redirectToStep stores the flow and sends the browser to the login or consent page.
func (p *Provider) redirectToStep(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, flow *Flow, client *Client, page string, newScopes []string) error {
	if flow == nil {
		flow = p.newFlow(ar, client, p.now())
	}
	if page == "/login" {
		flow.SessionID = ""
		flow.Consented = false
		flow.ForceLogin = true
	}
	flow.NewScopes = newScopes
	if err := p.saveFlow(ctx, flow); err != nil {
		return err
	}
	http.Redirect(w, r, page+"?flow="+url.QueryEscape(flow.ID), http.StatusSeeOther)
	return nil
}

func (p *Provider) saveFlow(ctx context.Context, f *Flow) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return p.deps.State.PutState(ctx, KindFlow, f.ID, data, FlowTTL, "")
}

// Flow implements Flows.
func (p *Provider) Flow(ctx context.Context, id string) (*Flow, error) {
	data, _, err := p.deps.State.State(ctx, KindFlow, id)
	if err != nil {
		return nil, err
	}
	var f Flow
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("oauth: decode flow: %w", err)
	}
	return &f, nil
}

func (p *Provider) resumeURL(f *Flow) string { return "/oauth2/auth?flow=" + url.QueryEscape(f.ID) }

// LoginDone implements Flows.
func (p *Provider) LoginDone(ctx context.Context, flowID string, s *identity.Session) (string, error) {
	f, err := p.Flow(ctx, flowID)
	if err != nil {
		return "", err
	}
	f.SessionID = s.ID
	f.ForceLogin = false
	if err := p.saveFlow(ctx, f); err != nil {
		return "", err
	}
	return p.resumeURL(f), nil
}

// ConsentDone implements Flows.
func (p *Provider) ConsentDone(ctx context.Context, flowID, citizenID string, approved bool) (string, error) {
	f, err := p.Flow(ctx, flowID)
	if err != nil {
		return "", err
	}
	if !approved {
		_ = p.deps.State.DeleteState(ctx, KindFlow, f.ID)
		return p.denyURL(ctx, f)
	}
	prev, err := p.deps.Consents.Consent(ctx, citizenID, f.ClientID)
	scopes := append([]string(nil), f.Scopes...)
	if err == nil {
		for _, s := range prev.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	} else if !errors.Is(err, identity.ErrNotFound) {
		return "", err
	}
	if err := p.deps.Consents.SaveConsent(ctx, &Consent{CitizenID: citizenID, ClientID: f.ClientID, Scopes: scopes, GrantedAt: p.now().UTC()}); err != nil {
		return "", err
	}
	if err := p.record(ctx, &identity.AuditEntry{
		Action: identity.AuditConsentGranted, CitizenID: citizenID, Actor: identity.ActorCitizen + citizenID,
		ClientID: f.ClientID, SessionID: f.SessionID, Detail: map[string]string{"scopes": strings.Join(f.Scopes, " ")},
	}); err != nil {
		return "", err
	}
	f.Consented = true
	if err := p.saveFlow(ctx, f); err != nil {
		return "", err
	}
	return p.resumeURL(f), nil
}

// denyURL builds the access_denied redirect to the client's (already
// validated) redirect URI.
func (p *Provider) denyURL(ctx context.Context, f *Flow) (string, error) {
	q, err := url.ParseQuery(f.Query)
	if err != nil {
		return "", err
	}
	c, err := p.storage.client(ctx, f.ClientID)
	if err != nil {
		return "", err
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(c.RedirectURIs) == 1 {
		redirect = c.RedirectURIs[0]
	}
	if !slices.Contains(c.RedirectURIs, redirect) {
		return "", fosite.ErrInvalidRequest.WithHint("redirect_uri is not registered")
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return "", err
	}
	v := u.Query()
	v.Set("error", "access_denied")
	v.Set("error_description", "The citizen declined the request.")
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	v.Set("iss", p.cfg.Issuer)
	u.RawQuery = v.Encode()
	return u.String(), nil
}

// Subject returns the sub a client sees for a citizen: pairwise per sector by
// default (HMAC of sector and account id), the account id for public clients.
func (p *Provider) Subject(c *Client, citizenID string) string {
	if c.SubjectType == "public" {
		return citizenID
	}
	m := hmac.New(sha256.New, p.cfg.PairwiseSalt)
	m.Write([]byte(c.Sector()))
	m.Write([]byte{0})
	m.Write([]byte(citizenID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Provider) newSession(c *Client, citizen *identity.Citizen, s *identity.Session, requestedAt time.Time) *Session {
	sub := p.Subject(c, citizen.ID)
	out := NewSession()
	out.Subject = sub
	out.CitizenID = citizen.ID
	out.SessionID = s.ID
	// The channel is the site's when it registered one (an app, a
	// mini-program), else the login's (web, kiosk, counter).
	channel := s.Channel
	if c.Channel != "" {
		channel = c.Channel
	}
	out.Channel = channel
	idc := out.Claims
	idc.Subject = sub
	idc.AuthTime = s.AuthTime.UTC().Truncate(time.Second)
	idc.RequestedAt = requestedAt.UTC().Truncate(time.Second)
	idc.AuthenticationContextClassReference = s.ACR
	idc.AuthenticationMethodsReferences = s.AMR
	idc.Extra["sid"] = s.ID
	if channel != "" {
		idc.Extra["channel"] = channel
	}
	for k, v := range LevelClaims(citizen) {
		idc.Extra[k] = v
	}
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = RS256
	}
	if kid, ok := p.deps.Keys.Active(alg); ok {
		out.Headers.Extra["kid"] = kid
	}
	ac := out.AccessClaims
	ac.Subject = sub
	ac.Extra["client_id"] = c.ID
	ac.Extra["auth_time"] = idc.AuthTime.Unix()
	ac.Extra["acr"] = s.ACR
	ac.Extra["amr"] = s.AMR
	ac.Extra["sid"] = s.ID
	if channel != "" {
		ac.Extra["channel"] = channel
	}
	return out
}
