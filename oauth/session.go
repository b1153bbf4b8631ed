package oauth

import (
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what fosite carries from the authorization endpoint to every token
// minted from it. Besides the ID-token claims it holds the lineage (citizen,
// SSO session) and the access-token claims (RFC 9068).
type Session struct {
	*openid.DefaultSession
	AccessClaims *jwt.JWTClaims `json:"atc,omitempty"`
	AccessHeader *jwt.Headers   `json:"ath,omitempty"`
	CitizenID    string         `json:"cit,omitempty"`
	SessionID    string         `json:"sid,omitempty"`
	Channel      string         `json:"chn,omitempty"`
}

// NewSession returns an empty session for fosite to hydrate.
func NewSession() *Session {
	return &Session{
		DefaultSession: &openid.DefaultSession{
			Claims:  &jwt.IDTokenClaims{Extra: map[string]interface{}{}},
			Headers: &jwt.Headers{Extra: map[string]interface{}{}},
		},
		AccessClaims: &jwt.JWTClaims{Extra: map[string]interface{}{}},
		AccessHeader: &jwt.Headers{Extra: map[string]interface{}{"typ": "at+jwt"}},
	}
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.AccessClaims == nil {
		s.AccessClaims = &jwt.JWTClaims{Extra: map[string]interface{}{}}
	}
	return s.AccessClaims
}

// GetJWTHeader implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTHeader() *jwt.Headers {
	if s.AccessHeader == nil {
		s.AccessHeader = &jwt.Headers{Extra: map[string]interface{}{}}
	}
	s.AccessHeader.Extra["typ"] = "at+jwt"
	return s.AccessHeader
}

// Clone deep-copies the session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if s.DefaultSession != nil {
		c.DefaultSession = s.DefaultSession.Clone().(*openid.DefaultSession)
	}
	if s.AccessClaims != nil {
		ac := *s.AccessClaims
		ac.Extra = cloneMap(s.AccessClaims.Extra)
		ac.Audience = append([]string(nil), s.AccessClaims.Audience...)
		ac.Scope = append([]string(nil), s.AccessClaims.Scope...)
		c.AccessClaims = &ac
	}
	if s.AccessHeader != nil {
		c.AccessHeader = &jwt.Headers{Extra: cloneMap(s.AccessHeader.Extra)}
	}
	return &c
}

func cloneMap(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// expiry is the latest expiry of any token of the session, for TTLs.
func (s *Session) expiry(kind fosite.TokenType, fallback time.Duration, now time.Time) time.Duration {
	if s != nil && s.DefaultSession != nil {
		if exp := s.GetExpiresAt(kind); !exp.IsZero() {
			if d := exp.Sub(now); d > 0 {
				return d
			}
			return time.Second
		}
	}
	return fallback
}
