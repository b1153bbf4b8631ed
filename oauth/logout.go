package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/yihao-gov/yihao/identity"
)

// LogoutPrompt is what the logout confirmation page shows and posts back.
type LogoutPrompt struct {
	ClientName            string
	IDTokenHint           string
	PostLogoutRedirectURI string
	State                 string
	ClientID              string
}

// LogoutPages renders the browser side of logout (package web implements it).
type LogoutPages interface {
	// ConfirmLogout asks the citizen to confirm (hint missing or invalid).
	ConfirmLogout(w http.ResponseWriter, r *http.Request, p LogoutPrompt)
	// LoggedOut shows the logged-out page (no valid post-logout redirect).
	LoggedOut(w http.ResponseWriter, r *http.Request)
	// Error shows an error page for err.
	Error(w http.ResponseWriter, r *http.Request, err error)
	// ClearSessionCookie removes the SSO cookie from the browser.
	ClearSessionCookie(w http.ResponseWriter)
}

// ErrBadLogoutRequest is shown when post_logout_redirect_uri is not registered.
var ErrBadLogoutRequest = errors.New("the logout request names a return address that is not registered for the site")

// endSession is RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.deps.Pages.Error(w, r, ErrBadLogoutRequest)
		return
	}
	hint := r.Form.Get("id_token_hint")
	redirect := r.Form.Get("post_logout_redirect_uri")
	state := r.Form.Get("state")
	clientID := r.Form.Get("client_id")

	var hintSID, hintClient string
	hintValid := false
	if hint != "" {
		if t, err := (&signer{keys: p.deps.Keys}).Decode(ctx, hint); err == nil || isExpiredOnly(err) {
			if t != nil && t.Claims["iss"] == p.cfg.Issuer {
				hintValid = true
				hintSID, _ = t.Claims["sid"].(string)
				switch aud := t.Claims["aud"].(type) {
				case string:
					hintClient = aud
				case []interface{}:
					if len(aud) > 0 {
						hintClient, _ = aud[0].(string)
					}
				}
			}
		}
	}
	if hintValid {
		if clientID != "" && clientID != hintClient {
			p.deps.Pages.Error(w, r, ErrBadLogoutRequest)
			return
		}
		clientID = hintClient
	}
	var client *Client
	if clientID != "" {
		c, err := p.storage.client(ctx, clientID)
		if err != nil && !errors.Is(err, identity.ErrNotFound) {
			p.deps.Pages.Error(w, r, err)
			return
		}
		client = c
	}
	if redirect != "" && (client == nil || !slices.Contains(client.PostLogoutRedirectURIs, redirect)) {
		p.deps.Pages.Error(w, r, ErrBadLogoutRequest)
		return
	}

	current, err := p.deps.Browser.RequestSession(r)
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		p.deps.Pages.Error(w, r, err)
		return
	}
	confirmed := r.Method == http.MethodPost && r.Form.Get("confirm") == "yes" && sameOrigin(r, p.cfg.Issuer)
	// A valid hint for the browser's own session (or no session left) needs no confirmation.
	if !confirmed && !(hintValid && (current == nil || current.ID == hintSID)) {
		if r.Method == http.MethodPost && r.Form.Get("confirm") == "no" {
			// Cancelled: the citizen stays signed in.
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		prompt := LogoutPrompt{IDTokenHint: hint, PostLogoutRedirectURI: redirect, State: state, ClientID: clientID}
		if client != nil {
			prompt.ClientName = client.Name
		}
		p.deps.Pages.ConfirmLogout(w, r, prompt)
		return
	}
	if current != nil {
		if err := p.EndSession(ctx, current.ID); err != nil && !errors.Is(err, identity.ErrNotFound) {
			p.deps.Pages.Error(w, r, err)
			return
		}
	}
	p.deps.Pages.ClearSessionCookie(w)
	if redirect == "" {
		p.deps.Pages.LoggedOut(w, r)
		return
	}
	u, _ := url.Parse(redirect)
	if state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func isExpiredOnly(err error) bool {
	var ve *jwt.ValidationError
	return errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired
}

// sameOrigin accepts a POST only when the browser says it came from our own pages.
func sameOrigin(r *http.Request, issuer string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return strings.EqualFold(strings.TrimSuffix(o, "/"), originOf(issuer))
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return originOf(ref) == originOf(issuer)
	}
	return false
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// EndSession is the kill path for one SSO session: the session is deleted,
// every grant it produced is revoked (refresh families dead, access-token
// records gone, unredeemed codes gone) on every replica, and every client that
// joined it and registered a back-channel logout URI is notified in the
// background. identity.ErrNotFound if the session did not exist.
func (p *Provider) EndSession(ctx context.Context, sid string) error {
	sess, err := p.deps.Sessions.DeleteSession(ctx, sid)
	if err != nil && !errors.Is(err, identity.ErrNotFound) {
		return err
	}
	grants, gerr := p.deps.Grants.SessionGrants(ctx, sid)
	if gerr != nil {
		return gerr
	}
	for _, g := range grants {
		if err := p.RevokeGrant(ctx, g.ID); err != nil {
			return err
		}
	}
	if sess == nil {
		return err
	}
	p.auditSessionEnded(ctx, sess, len(grants))
	clients := sess.Clients
	for _, g := range grants {
		if !slices.Contains(clients, g.ClientID) {
			clients = append(clients, g.ClientID)
		}
	}
	p.logouts.notify(sess, clients)
	return nil
}

// EndCitizenSessions ends every SSO session of a citizen (freeze, merge).
func (p *Provider) EndCitizenSessions(ctx context.Context, citizenID string) error {
	sessions, err := p.deps.Sessions.CitizenSessions(ctx, citizenID)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if err := p.EndSession(ctx, s.ID); err != nil && !errors.Is(err, identity.ErrNotFound) {
			return err
		}
	}
	grants, err := p.deps.Grants.CitizenGrants(ctx, citizenID)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if err := p.RevokeGrant(ctx, g.ID); err != nil {
			return err
		}
	}
	return nil
}

// RevokeGrant revokes one grant and everything minted from it.
func (p *Provider) RevokeGrant(ctx context.Context, grantID string) error {
	if err := p.deps.Grants.RevokeGrant(ctx, grantID, p.now().UTC()); err != nil && !errors.Is(err, identity.ErrNotFound) {
		return err
	}
	if g, err := p.deps.Grants.Grant(ctx, grantID); err == nil && g.CitizenID != "" {
		// A kill path never waits on the audit: a failure is logged.
		if err := p.record(ctx, &identity.AuditEntry{Action: identity.AuditGrantRevoked, CitizenID: g.CitizenID, Actor: identity.ActorSystem,
			ClientID: g.ClientID, SessionID: g.SessionID, GrantID: g.ID}); err != nil {
			p.log.WarnContext(ctx, "audit: grant revocation not recorded", "err", err)
		}
	}
	for _, kind := range []StateKind{KindAccessToken, KindAuthorizeCode, KindPKCE, KindOIDC} {
		if _, err := p.deps.State.DeleteGrantState(ctx, kind, grantID); err != nil {
			return err
		}
	}
	return nil
}

// backchannel delivers logout tokens (OpenID Connect Back-Channel Logout 1.0).
type backchannel struct {
	p  *Provider
	wg sync.WaitGroup
}

func (b *backchannel) notify(sess *identity.Session, clientIDs []string) {
	for _, id := range clientIDs {
		c, err := b.p.storage.client(context.Background(), id)
		if err != nil || c.BackchannelLogoutURI == "" {
			continue
		}
		token, err := b.p.logoutToken(c, sess)
		if err != nil {
			b.p.log.Error("back-channel logout token", "client", c.ID, "err", err)
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.deliver(c, token)
		}()
	}
}

// deliver posts with retries (1 s, 2 s, 4 s) and gives up after 4 tries.
func (b *backchannel) deliver(c *Client, token string) {
	delay := time.Second
	for attempt := 1; attempt <= 4; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.p.deps.HTTPClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		b.p.log.Warn("back-channel logout delivery failed", "client", c.ID, "attempt", attempt, "err", err)
		time.Sleep(delay)
		delay *= 2
	}
}

// Wait blocks until pending back-channel deliveries finish (tests, shutdown).
func (p *Provider) Wait() { p.logouts.wg.Wait() }

func (p *Provider) logoutToken(c *Client, s *identity.Session) (string, error) {
	now := p.now().UTC()
	claims := jwt.MapClaims{
		"iss":    p.cfg.Issuer,
		"aud":    c.ID,
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    randomID(),
		"sub":    p.Subject(c, s.CitizenID),
		"sid":    s.ID,
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = RS256
	}
	kid, _ := p.deps.Keys.Active(alg)
	hdr := &jwt.Headers{Extra: map[string]interface{}{"typ": "logout+jwt", "kid": kid}}
	tok, _, err := (&signer{keys: p.deps.Keys, defaultAlg: alg}).Generate(context.Background(), claims, hdr)
	return tok, err
}
