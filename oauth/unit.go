package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/ory/fosite"

	"github.com/yihao-gov/yihao/identity"
)

// A unit gathers the fosite storage calls of one authorization or token
// request, so that an authorization code costs one state-store record and
// one round trip each way instead of three.
//
// At the authorization endpoint fosite stores the code, then the PKCE
// request under the same signature, then the OIDC request under the code:
// the same request (one session) three times, differing only in the form
// fields fosite keeps for each. Inside a unit the three are held until
// commitAuthorize, which writes the grant row and then one record carrying
// all three (storedRequest.Parts). The code is not released before that:
// the response is written after commitAuthorize returns.
//
// At the token endpoint fosite reads the code twice, then the PKCE and the
// OIDC request, deletes those two and marks the code used. Inside a unit the
// record is read once and the parts are served from it. Deleting a part is
// noted in the unit; marking the code used (UseState) makes the parts
// unreadable for every later request anyway, so on success nothing more is
// written. When a request deletes a part but ends without using the code (a
// wrong code_verifier), endUnit marks the code used: the attempt consumes
// the code. That is stricter than fosite's own stores, which would leave the
// code redeemable without its PKCE challenge.
//
// The unit travels in the request context under an unexported key, like
// store/sql's transaction; nothing outside this file reads it.
type unit struct {
	pending *pendingCode
	codes   map[string]*codeRecord // by code signature, as read in this request
}

type unitKey struct{}

// pendingCode is an authorization code to be written by commitAuthorize.
type pendingCode struct {
	signature string
	grant     *Grant // nil for a code without a citizen
	record    *storedRequest
	ttl       time.Duration
}

// codeRecord is a code's record as this request read it.
type codeRecord struct {
	signature string
	sr        *storedRequest
	client    fosite.Client
	used      bool // used when read, or used by this request
	usedHere  bool
	hydrated  fosite.Session // the session last filled from sr.Session
	dropPKCE  bool
	dropOIDC  bool
}

func unitOf(ctx context.Context) *unit {
	u, _ := ctx.Value(unitKey{}).(*unit)
	return u
}

// beginUnit returns ctx carrying a new unit.
func beginUnit(ctx context.Context) (context.Context, *unit) {
	u := &unit{codes: map[string]*codeRecord{}}
	return context.WithValue(ctx, unitKey{}, u), u
}

// commitAuthorize writes what the unit holds: the grant row, then the
// code's record (with its PKCE and OIDC parts) in one state-store call.
func (s *fositeStorage) commitAuthorize(ctx context.Context, u *unit) error {
	pc := u.pending
	if pc == nil {
		return nil
	}
	u.pending = nil
	if pc.grant != nil {
		if err := s.grants.CreateGrant(ctx, pc.grant); err != nil {
			return fmt.Errorf("oauth: record grant: %w", storeErr(err))
		}
	}
	data, err := json.Marshal(pc.record)
	if err != nil {
		return fmt.Errorf("oauth: encode request: %w", err)
	}
	return storeErr(s.state.PutState(ctx, KindAuthorizeCode, pc.signature, data, pc.ttl, pc.record.ID))
}

// endUnit consumes every code whose PKCE or OIDC part this request deleted
// without using the code (see unit). It runs even when the client has gone.
func (s *fositeStorage) endUnit(ctx context.Context, u *unit) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, c := range u.codes {
		if (c.dropPKCE || c.dropOIDC) && !c.used {
			err := s.state.UseState(ctx, KindAuthorizeCode, c.signature)
			if err != nil && !errors.Is(err, identity.ErrConflict) && !errors.Is(err, identity.ErrNotFound) {
				errs = append(errs, err)
			}
			c.used = true
		}
	}
	return errors.Join(errs...)
}

// codeRecord returns the record of the code with signature sig: the unit's
// copy when this request read it before, else from the state store.
func (s *fositeStorage) codeRecord(ctx context.Context, sig string) (*codeRecord, error) {
	u := unitOf(ctx)
	if u != nil {
		if c, ok := u.codes[sig]; ok {
			return c, nil
		}
	}
	data, used, err := s.state.State(ctx, KindAuthorizeCode, sig)
	if err != nil {
		return nil, storeErr(err)
	}
	sr := new(storedRequest)
	if err := json.Unmarshal(data, sr); err != nil {
		return nil, fmt.Errorf("oauth: decode request: %w", err)
	}
	c := &codeRecord{signature: sig, sr: sr, used: used}
	if u != nil {
		u.codes[sig] = c
	}
	return c, nil
}

// request rebuilds a fosite request from c with form, hydrating session
// (which fosite passes in). Filling the same session from the same bytes
// twice changes nothing, so a session already filled from c is not decoded
// again. Slices and the form are copies: fosite may change what it gets.
func (s *fositeStorage) request(ctx context.Context, c *codeRecord, form url.Values, session fosite.Session) (*fosite.Request, error) {
	if session == nil {
		session = NewSession()
	}
	if c.hydrated == nil || c.hydrated != session {
		if err := json.Unmarshal(c.sr.Session, session); err != nil {
			return nil, fmt.Errorf("oauth: decode session: %w", err)
		}
		c.hydrated = session
	}
	if c.client == nil {
		client, err := s.fositeClient(ctx, c.sr.ClientID)
		if err != nil {
			return nil, err
		}
		c.client = client
	}
	sr := c.sr
	return &fosite.Request{
		ID:                sr.ID,
		RequestedAt:       sr.RequestedAt,
		Client:            c.client,
		RequestedScope:    slices.Clone(sr.RequestedScope),
		GrantedScope:      slices.Clone(sr.GrantedScope),
		RequestedAudience: slices.Clone(sr.RequestedAudience),
		GrantedAudience:   slices.Clone(sr.GrantedAudience),
		Form:              cloneValues(form),
		Session:           session,
	}, nil
}

// codePart is the PKCE or OIDC part of the code with signature sig. It is
// gone once the code was used by another request, or deleted by this one.
// A record written without parts (by a unit-less call, or an older
// release) keeps them under their own kind: legacy is then true.
func (s *fositeStorage) codePart(ctx context.Context, sig string, oidc bool) (c *codeRecord, form url.Values, legacy bool, err error) {
	c, err = s.codeRecord(ctx, sig)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	if !c.sr.Parts {
		return c, nil, true, nil
	}
	part, dropped := c.sr.PKCE, c.dropPKCE
	if oidc {
		part, dropped = c.sr.OIDC, c.dropOIDC
	}
	if part == nil || dropped || (c.used && !c.usedHere) {
		return c, nil, false, fosite.ErrNotFound
	}
	return c, part.Form, false, nil
}
