package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ory/fosite"
	foauth2 "github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"

	"github.com/yihao-gov/yihao/identity"
)

// KindClientJTI keeps the jti of client assertions (private_key_jwt) until they expire.
const KindClientJTI StateKind = "cjti"

// fositeStorage is the one fosite storage adapter. Every fosite call is one
// line into the ports: short-lived state (codes, PKCE, OIDC requests, access
// token records) goes to the StateStore with a TTL; grants and refresh-token
// families go to the GrantStore in SQL. A code is invalidated by one atomic
// StateStore operation (UseState) before anything is written to SQL, so a
// replay fails whatever happens after it.
type fositeStorage struct {
	clients ClientStore
	grants  GrantStore
	state   StateStore
	now     func() time.Time

	// codeSignature is fosite's signature of an authorization code: the
	// key of its record, which also holds its PKCE and OIDC requests.
	codeSignature func(ctx context.Context, code string) string

	codeTTL, accessTTL time.Duration

	cacheMu  sync.RWMutex
	cache    map[string]cachedClient
	cacheTTL time.Duration
}

type cachedClient struct {
	c       *Client
	expires time.Time
}

var (
	_ fosite.Storage                        = (*fositeStorage)(nil)
	_ foauth2.CoreStorage                   = (*fositeStorage)(nil)
	_ foauth2.TokenRevocationStorage        = (*fositeStorage)(nil)
	_ openid.OpenIDConnectRequestStorage    = (*fositeStorage)(nil)
	_ pkce.PKCERequestStorage               = (*fositeStorage)(nil)
	_ foauth2.ClientCredentialsGrantStorage = (*fositeStorage)(nil)
)

// storeErr turns a port error into fosite's vocabulary.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, identity.ErrNotFound):
		return fosite.ErrNotFound.WithWrap(err)
	case errors.Is(err, identity.ErrUnavailable):
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	return err
}

// client loads a client, through a short in-process cache: token requests
// must not cost a SQL round trip each. Changes reach other replicas within
// cacheTTL; a disabled client is refused at once on the replica that disabled it.
func (s *fositeStorage) client(ctx context.Context, id string) (*Client, error) {
	now := s.now()
	s.cacheMu.RLock()
	cc, ok := s.cache[id]
	s.cacheMu.RUnlock()
	if ok && now.Before(cc.expires) {
		return cc.c, nil
	}
	c, err := s.clients.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	if s.cache == nil {
		s.cache = map[string]cachedClient{}
	}
	s.cache[id] = cachedClient{c: c, expires: now.Add(s.cacheTTL)}
	s.cacheMu.Unlock()
	return c, nil
}

func (s *fositeStorage) forget(id string) {
	s.cacheMu.Lock()
	delete(s.cache, id)
	s.cacheMu.Unlock()
}

func (s *fositeStorage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, storeErr(err)
	}
	if c.Disabled {
		return nil, fosite.ErrNotFound
	}
	return fositeClient{c}, nil
}

func (s *fositeStorage) fositeClient(ctx context.Context, id string) (fosite.Client, error) {
	return s.GetClient(ctx, id)
}

func (s *fositeStorage) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	_, _, err := s.state.State(ctx, KindClientJTI, hashKey(jti))
	if errors.Is(err, identity.ErrNotFound) {
		return nil
	}
	if err != nil {
		return storeErr(err)
	}
	return fosite.ErrJTIKnown
}

func (s *fositeStorage) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	ttl := exp.Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	return storeErr(s.state.PutState(ctx, KindClientJTI, hashKey(jti), []byte{1}, ttl, ""))
}

// hashKey keys state by a digest when fosite hands us a raw token (the OIDC
// request storage is keyed by the code itself).
func hashKey(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func sessionOf(r fosite.Requester) *Session {
	s, _ := r.GetSession().(*Session)
	return s
}

func (s *fositeStorage) put(ctx context.Context, kind StateKind, key string, r fosite.Requester, ttl time.Duration, grant string) error {
	data, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return storeErr(s.state.PutState(ctx, kind, key, data, ttl, grant))
}

func (s *fositeStorage) load(ctx context.Context, kind StateKind, key string, session fosite.Session) (fosite.Requester, bool, error) {
	data, used, err := s.state.State(ctx, kind, key)
	if err != nil {
		return nil, false, storeErr(err)
	}
	req, err := decodeRequest(ctx, data, session, s.fositeClient)
	if err != nil {
		return nil, used, err
	}
	return req, used, nil
}

// --- authorization codes, with their PKCE and OIDC requests (see unit.go) ---

func (s *fositeStorage) CreateAuthorizeCodeSession(ctx context.Context, signature string, r fosite.Requester) error {
	now := s.now()
	sess := sessionOf(r)
	var g *Grant
	if sess != nil && sess.CitizenID != "" {
		g = &Grant{ID: r.GetID(), ClientID: r.GetClient().GetID(), CitizenID: sess.CitizenID, SessionID: sess.SessionID, Scopes: r.GetGrantedScopes(), CreatedAt: now}
	}
	ttl := sess.expiry(fosite.AuthorizeCode, s.codeTTL, now)
	if u := unitOf(ctx); u != nil {
		sr, err := toStored(r)
		if err != nil {
			return err
		}
		sr.Parts = true
		u.pending = &pendingCode{signature: signature, grant: g, record: sr, ttl: ttl}
		return nil
	}
	if g != nil {
		if err := s.grants.CreateGrant(ctx, g); err != nil {
			return fmt.Errorf("oauth: record grant: %w", storeErr(err))
		}
	}
	return s.put(ctx, KindAuthorizeCode, signature, r, ttl, r.GetID())
}

func (s *fositeStorage) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	c, err := s.codeRecord(ctx, signature)
	if err != nil {
		return nil, err
	}
	req, err := s.request(ctx, c, c.sr.Form, session)
	if err != nil {
		return nil, err
	}
	if c.used {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

func (s *fositeStorage) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	if err := s.state.UseState(ctx, KindAuthorizeCode, signature); err != nil {
		return storeErr(err)
	}
	if u := unitOf(ctx); u != nil {
		if c, ok := u.codes[signature]; ok {
			c.used, c.usedHere = true, true
		}
	}
	return nil
}

// pendingPart is the unit's code about to be written, when part (of
// request r, for the code with signature sig) belongs to it.
func pendingPart(ctx context.Context, sig string, r fosite.Requester) *pendingCode {
	u := unitOf(ctx)
	if u == nil || u.pending == nil || u.pending.signature != sig || u.pending.record.ID != r.GetID() {
		return nil
	}
	return u.pending
}

func (s *fositeStorage) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	if pc := pendingPart(ctx, signature, r); pc != nil {
		pc.record.PKCE = &storedPart{Form: keptForm(r.GetRequestForm())}
		return nil
	}
	return s.put(ctx, KindPKCE, signature, r, sessionOf(r).expiry(fosite.AuthorizeCode, s.codeTTL, s.now()), r.GetID())
}

func (s *fositeStorage) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	c, form, legacy, err := s.codePart(ctx, signature, false)
	switch {
	case legacy:
		req, _, err := s.load(ctx, KindPKCE, signature, session)
		return req, err
	case err != nil:
		return nil, err
	}
	return s.request(ctx, c, form, session)
}

func (s *fositeStorage) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return s.dropPart(ctx, KindPKCE, signature, signature, false)
}

func (s *fositeStorage) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	if pc := pendingPart(ctx, s.codeSignature(ctx, code), r); pc != nil {
		pc.record.OIDC = &storedPart{Form: keptForm(r.GetRequestForm())}
		return nil
	}
	return s.put(ctx, KindOIDC, hashKey(code), r, sessionOf(r).expiry(fosite.AuthorizeCode, s.codeTTL, s.now()), r.GetID())
}

func (s *fositeStorage) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	c, form, legacy, err := s.codePart(ctx, s.codeSignature(ctx, code), true)
	switch {
	case legacy:
		req, _, err := s.load(ctx, KindOIDC, hashKey(code), r.GetSession())
		return req, err
	case err != nil:
		return nil, err
	}
	return s.request(ctx, c, form, r.GetSession())
}

func (s *fositeStorage) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.dropPart(ctx, KindOIDC, hashKey(code), s.codeSignature(ctx, code), true)
}

// dropPart deletes the PKCE or OIDC request of a code. Inside a unit a part
// of the code's record is only noted (endUnit settles it); outside one, the
// code is consumed at once. A part under its own kind is deleted.
func (s *fositeStorage) dropPart(ctx context.Context, kind StateKind, key, sig string, oidc bool) error {
	c, _, legacy, err := s.codePart(ctx, sig, oidc)
	if legacy {
		return storeErr(s.state.DeleteState(ctx, kind, key))
	}
	if errors.Is(err, fosite.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if oidc {
		c.dropOIDC = true
	} else {
		c.dropPKCE = true
	}
	if unitOf(ctx) == nil && !c.used {
		err := s.state.UseState(ctx, KindAuthorizeCode, sig)
		if err != nil && !errors.Is(err, identity.ErrConflict) && !errors.Is(err, identity.ErrNotFound) {
			return storeErr(err)
		}
	}
	return nil
}

// --- access tokens: records in the StateStore until they expire ---

func (s *fositeStorage) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.put(ctx, KindAccessToken, signature, r, sessionOf(r).expiry(fosite.AccessToken, s.accessTTL, s.now()), r.GetID())
}

func (s *fositeStorage) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.load(ctx, KindAccessToken, signature, session)
	return req, err
}

func (s *fositeStorage) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return storeErr(s.state.DeleteState(ctx, KindAccessToken, signature))
}

// RevokeAccessToken removes every access-token record of the grant: every
// replica's introspection then answers active=false.
func (s *fositeStorage) RevokeAccessToken(ctx context.Context, requestID string) error {
	_, err := s.state.DeleteGrantState(ctx, KindAccessToken, requestID)
	return storeErr(err)
}

// --- refresh tokens: rotation families in SQL ---

func (s *fositeStorage) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	data, err := encodeRequest(r)
	if err != nil {
		return err
	}
	t := &RefreshToken{Signature: signature, GrantID: r.GetID(), AccessSignature: accessSignature, Active: true, Request: data, CreatedAt: s.now().UTC()}
	if sess := sessionOf(r); sess != nil && sess.DefaultSession != nil {
		t.ExpiresAt = sess.GetExpiresAt(fosite.RefreshToken)
	}
	return storeErr(s.grants.CreateRefreshToken(ctx, t))
}

func (s *fositeStorage) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	t, err := s.grants.RefreshToken(ctx, signature)
	if err != nil {
		return nil, storeErr(err)
	}
	req, err := decodeRequest(ctx, t.Request, session, s.fositeClient)
	if err != nil {
		return nil, err
	}
	if !t.Active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteRefreshTokenSession deactivates the token; the row stays for the lineage.
func (s *fositeStorage) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	err := s.grants.DeactivateRefreshToken(ctx, signature)
	if errors.Is(err, identity.ErrConflict) || errors.Is(err, identity.ErrNotFound) {
		return nil
	}
	return storeErr(err)
}

// RotateRefreshToken flips the presented token to inactive with a
// conditional update that exactly one concurrent request can win; the losers
// get invalid_grant and mint nothing. The grant's older access tokens go too.
func (s *fositeStorage) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	if err := s.grants.DeactivateRefreshToken(ctx, signature); err != nil {
		if errors.Is(err, identity.ErrConflict) {
			return fosite.ErrInactiveToken.WithWrap(err)
		}
		return storeErr(err)
	}
	return s.RevokeAccessToken(ctx, requestID)
}

// RevokeRefreshToken ends the whole family: the grant is marked revoked and
// every refresh token of it deactivated.
func (s *fositeStorage) RevokeRefreshToken(ctx context.Context, requestID string) error {
	err := s.grants.RevokeGrant(ctx, requestID, s.now().UTC())
	if errors.Is(err, identity.ErrNotFound) {
		err = s.grants.DeactivateGrantRefreshTokens(ctx, requestID)
	}
	return storeErr(err)
}
