package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// Session cookie names: __Host- when secure (Secure, Path=/, no Domain).
const (
	SessionCookieSecure = "__Host-yihao-session"
	SessionCookieDev    = "yihao-session"
)

// Default session lifetimes, used when Sessions leaves them zero.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultLifetime    = 12 * time.Hour
)

// Sessions is the cookie side of SSO sessions: the store keeps them, the
// browser holds only the random id. It implements oauth.SessionReader.
//
// The cookie is a browser-session cookie (no Max-Age): closing the browser on
// a shared kiosk forgets it, and the store's idle timeout and absolute
// lifetime end it on the server side.
type Sessions struct {
	Store identity.SessionStore
	// Secure selects __Host-yihao-session with the Secure attribute; false
	// only for `serve --dev` over http://localhost.
	Secure bool
	// IdleTimeout is checked again here (the store enforces it too).
	IdleTimeout time.Duration
	// Lifetime is the absolute end of a session after its login.
	Lifetime time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

var _ oauth.SessionReader = (*Sessions)(nil)

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// CookieName is the session cookie's name.
func (s *Sessions) CookieName() string {
	if s.Secure {
		return SessionCookieSecure
	}
	return SessionCookieDev
}

const sessionIDLen = 43 // 32 bytes, base64url without padding

// cookieID returns the session id in the request's cookie, or "".
func (s *Sessions) cookieID(r *http.Request) string {
	c, err := r.Cookie(s.CookieName())
	if err != nil || len(c.Value) != sessionIDLen {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return ""
	}
	return c.Value
}

// RequestSession returns the live session of the browser: identity.ErrNotFound
// when it has no (valid) cookie or the session ended; a wrapped
// identity.ErrUnavailable when the store does not answer.
func (s *Sessions) RequestSession(r *http.Request) (*identity.Session, error) {
	id := s.cookieID(r)
	if id == "" {
		return nil, fmt.Errorf("web: no session cookie: %w", identity.ErrNotFound)
	}
	sess, err := s.Store.Session(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("web: load session: %w", err)
	}
	now := s.now()
	if !sess.ExpiresAt.IsZero() && !now.Before(sess.ExpiresAt) {
		return nil, fmt.Errorf("web: session past its lifetime: %w", identity.ErrNotFound)
	}
	if idle := s.idle(); !sess.LastSeen.IsZero() && now.Sub(sess.LastSeen) > idle {
		return nil, fmt.Errorf("web: session idle: %w", identity.ErrNotFound)
	}
	return sess, nil
}

func (s *Sessions) idle() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (s *Sessions) lifetime() time.Duration {
	if s.Lifetime > 0 {
		return s.Lifetime
	}
	return DefaultLifetime
}

// NewSessionID returns 32 random bytes, base64url without padding.
func NewSessionID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start creates a brand-new session after a successful login — a new random
// id at every login, never one the browser brought — stores it and sets the
// cookie. A session the browser already had is left to its own timeout (or
// to logout, which also tells the sites that joined it).
func (s *Sessions) Start(w http.ResponseWriter, r *http.Request, citizenID, acr string, amr []string, channel string) (*identity.Session, error) {
	if citizenID == "" {
		return nil, errors.New("web: start session: empty citizen id")
	}
	now := s.now()
	sess := &identity.Session{
		ID:        NewSessionID(),
		CitizenID: citizenID,
		AuthTime:  now,
		ACR:       acr,
		AMR:       slices.Clone(amr),
		Channel:   channel,
		CreatedAt: now,
		LastSeen:  now,
		ExpiresAt: now.Add(s.lifetime()),
		UserAgent: shortUserAgent(r.UserAgent()),
	}
	if err := s.Store.CreateSession(r.Context(), sess); err != nil {
		return nil, fmt.Errorf("web: create session: %w", err)
	}
	http.SetCookie(w, s.cookie(sess.ID, 0))
	return sess, nil
}

// End deletes the browser's session from the store and clears the cookie.
// It returns what the session held (for logout propagation), or
// identity.ErrNotFound when there was none; the cookie is cleared either way.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) (*identity.Session, error) {
	id := s.cookieID(r)
	if _, err := r.Cookie(s.CookieName()); err == nil {
		s.ClearCookie(w)
	}
	if id == "" {
		return nil, fmt.Errorf("web: no session cookie: %w", identity.ErrNotFound)
	}
	sess, err := s.Store.DeleteSession(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("web: delete session: %w", err)
	}
	return sess, nil
}

// ClearCookie tells the browser to forget the session cookie.
func (s *Sessions) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, s.cookie("", -1))
}

func (s *Sessions) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.CookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode}
}

// shortUserAgent reduces the User-Agent to a browser and operating-system
// family ("Chrome · Windows"): enough for the citizen to recognise a device in
// the account centre, and nothing that singles a device out (no versions, no
// build or model strings). An unknown agent is "".
func shortUserAgent(ua string) string {
	browser := firstMatch(ua, browserFamilies)
	os := firstMatch(ua, osFamilies)
	switch {
	case browser != "" && os != "":
		return browser + " · " + os
	case browser != "":
		return browser
	}
	return os
}

// family maps a User-Agent token to a family name; order matters (Edge and
// Opera also say Chrome, Chrome also says Safari, Android also says Linux).
type family struct{ token, name string }

var browserFamilies = []family{
	{"MicroMessenger/", "WeChat"}, {"AlipayClient/", "Alipay"}, {"Edg", "Edge"}, {"OPR/", "Opera"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
	{"Safari/", "Safari"},
}

var osFamilies = []family{
	{"HarmonyOS", "HarmonyOS"}, {"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"},
	{"Windows", "Windows"}, {"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
}

func firstMatch(ua string, fs []family) string {
	for _, f := range fs {
		if strings.Contains(ua, f.token) {
			return f.name
		}
	}
	return ""
}
