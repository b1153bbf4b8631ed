package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"
)

// storedRequest is a fosite request as it is kept in Redis or SQL: the client
// is kept by id and loaded again on read. An authorization code's record
// also carries the PKCE and OIDC requests fosite stores beside it (Parts):
// they are the same request under the same signature, differing only in the
// form fields fosite keeps for each, so the session is stored once.
type storedRequest struct {
	ID                string          `json:"id"`
	RequestedAt       time.Time       `json:"at"`
	ClientID          string          `json:"cid"`
	RequestedScope    []string        `json:"rs,omitempty"`
	GrantedScope      []string        `json:"gs,omitempty"`
	RequestedAudience []string        `json:"ra,omitempty"`
	GrantedAudience   []string        `json:"ga,omitempty"`
	Form              url.Values      `json:"f,omitempty"`
	Session           json.RawMessage `json:"s"`

	Parts bool        `json:"pt,omitempty"` // PKCE and OIDC live here (nil: none was stored)
	PKCE  *storedPart `json:"pk,omitempty"`
	OIDC  *storedPart `json:"oi,omitempty"`
}

// storedPart is the form of a request kept inside another's record.
type storedPart struct {
	Form url.Values `json:"f,omitempty"`
}

func encodeRequest(r fosite.Requester) ([]byte, error) {
	sr, err := toStored(r)
	if err != nil {
		return nil, err
	}
	return json.Marshal(sr)
}

// toStored is r as it is kept, its session encoded now.
func toStored(r fosite.Requester) (*storedRequest, error) {
	sess, err := json.Marshal(r.GetSession())
	if err != nil {
		return nil, fmt.Errorf("oauth: encode session: %w", err)
	}
	return &storedRequest{
		ID:                r.GetID(),
		RequestedAt:       r.GetRequestedAt(),
		ClientID:          r.GetClient().GetID(),
		RequestedScope:    r.GetRequestedScopes(),
		GrantedScope:      r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(),
		GrantedAudience:   r.GetGrantedAudience(),
		Form:              keptForm(r.GetRequestForm()),
		Session:           sess,
	}, nil
}

// keptForm is form without the secrets that may arrive in it.
func keptForm(form url.Values) url.Values {
	if form.Has("client_secret") || form.Has("code_verifier") || form.Has("refresh_token") || form.Has("code") || form.Has("client_assertion") {
		form = cloneValues(form)
		for _, k := range []string{"client_secret", "code_verifier", "refresh_token", "code", "client_assertion"} {
			form.Del(k)
		}
	}
	return form
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// decodeRequest rebuilds a request, hydrating into session (which fosite
// passes in) and loading the client through clients.
func decodeRequest(ctx context.Context, data []byte, session fosite.Session, clients func(context.Context, string) (fosite.Client, error)) (*fosite.Request, error) {
	var sr storedRequest
	if err := json.Unmarshal(data, &sr); err != nil {
		return nil, fmt.Errorf("oauth: decode request: %w", err)
	}
	if session == nil {
		session = NewSession()
	}
	if err := json.Unmarshal(sr.Session, session); err != nil {
		return nil, fmt.Errorf("oauth: decode session: %w", err)
	}
	client, err := clients(ctx, sr.ClientID)
	if err != nil {
		return nil, err
	}
	return &fosite.Request{
		ID:                sr.ID,
		RequestedAt:       sr.RequestedAt,
		Client:            client,
		RequestedScope:    sr.RequestedScope,
		GrantedScope:      sr.GrantedScope,
		RequestedAudience: sr.RequestedAudience,
		GrantedAudience:   sr.GrantedAudience,
		Form:              sr.Form,
		Session:           session,
	}, nil
}
