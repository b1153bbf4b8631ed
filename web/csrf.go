package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// CSRF: every browser gets a random secret in a cookie (HttpOnly,
// SameSite=Strict); every form carries HMAC(server key, secret) in the
// csrf_token field. A POST is accepted only when the field matches the
// cookie (compared in constant time) and its Origin header, when present, is
// ours. The cookie is not tied to the login session, so a form shown before
// login still works after it; a cross-site page can read neither value.

// CSRF cookie names: __Host- when secure (no Domain, Path=/, Secure).
const (
	CSRFCookieSecure = "__Host-yihao-csrf"
	CSRFCookieDev    = "yihao-csrf"
)

const maxFormBytes = 64 << 10

func (u *UI) csrfCookieName() string {
	if u.secure {
		return CSRFCookieSecure
	}
	return CSRFCookieDev
}

// browserSecret returns the CSRF secret from the request's cookie, or nil.
func (u *UI) browserSecret(r *http.Request) []byte {
	c, err := r.Cookie(u.csrfCookieName())
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != 32 {
		return nil
	}
	return b
}

// csrfToken returns the form token of this browser, setting the cookie first
// when the browser has none.
func (u *UI) csrfToken(w http.ResponseWriter, r *http.Request) string {
	secret := u.browserSecret(r)
	if secret == nil {
		secret = make([]byte, 32)
		rand.Read(secret)
		http.SetCookie(w, &http.Cookie{Name: u.csrfCookieName(), Value: base64.RawURLEncoding.EncodeToString(secret),
			Path: "/", HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode})
	}
	return base64.RawURLEncoding.EncodeToString(u.csrfMAC(secret))
}

func (u *UI) csrfMAC(secret []byte) []byte {
	m := hmac.New(sha256.New, u.csrfKey)
	m.Write([]byte("yihao csrf v1\x00"))
	m.Write(secret)
	return m.Sum(nil)
}

var (
	errCrossOrigin  = errors.New("cross-origin request")
	errNoCSRFCookie = errors.New("no csrf cookie")
	errBadCSRFToken = errors.New("csrf token does not match")
)

// checkCSRF verifies an unsafe request. It parses the form (bounded).
func (u *UI) checkCSRF(w http.ResponseWriter, r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" && o != u.ownOrigin(r) {
		return errCrossOrigin
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errCrossOrigin
	}
	secret := u.browserSecret(r)
	if secret == nil {
		return errNoCSRFCookie
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	got, err := base64.RawURLEncoding.DecodeString(r.PostFormValue(CSRFField))
	if err != nil || !hmac.Equal(got, u.csrfMAC(secret)) {
		return errBadCSRFToken
	}
	return nil
}

// ownOrigin is the configured origin, or the one the request was sent to.
func (u *UI) ownOrigin(r *http.Request) string {
	if u.origin != "" {
		return u.origin
	}
	scheme := "http"
	if u.secure || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
