package web

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/yihao-gov/yihao/identity"
)

// StartCarried starts a new session in this browser for a login that was
// made on another device and carried over (QR login): the citizen and the
// time of authentication are those of the session from, the acr and amr are
// what the caller decided. Like Start, the id is always new.
func (s *Sessions) StartCarried(w http.ResponseWriter, r *http.Request, from *identity.Session, acr string, amr []string, channel string) (*identity.Session, error) {
	now := s.now()
	sess := &identity.Session{
		ID:        NewSessionID(),
		CitizenID: from.CitizenID,
		AuthTime:  from.AuthTime,
		ACR:       acr,
		AMR:       slices.Clone(amr),
		Channel:   channel,
		CreatedAt: now,
		LastSeen:  now,
		ExpiresAt: now.Add(s.lifetime()),
		UserAgent: shortUserAgent(r.UserAgent()),
	}
	if from.CitizenID == "" {
		return nil, fmt.Errorf("web: start carried session: empty citizen id")
	}
	if err := s.Store.CreateSession(r.Context(), sess); err != nil {
		return nil, fmt.Errorf("web: create session: %w", err)
	}
	http.SetCookie(w, s.cookie(sess.ID, 0))
	return sess, nil
}

// ShortUserAgent is the browser and operating-system family of a
// User-Agent ("Chrome · Windows"), "" when unknown.
func ShortUserAgent(ua string) string { return shortUserAgent(ua) }
