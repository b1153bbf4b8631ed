package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestIDHeader carries the request id back to the client.
const RequestIDHeader = "X-Request-Id"

// RequestID gives every request a fresh random id: in the context (see
// RequestIDFrom), in the X-Request-Id response header, and on every log line
// written with that context through LogHandler. An id sent by the client is
// not trusted.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 12)
		rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request id of ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// LogHandler wraps an slog.Handler so that every record logged with a request
// context carries request_id. cmd wraps its handler once with it.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

const cspBase = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every page gets.
func (u *UI) securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", cspBase)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" with every POST (Fetch, "serialize a request origin"),
	// which checkCSRF refuses. Other sites still get no Referer.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if u.secure {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
}

// AllowFormAction adds origin to the CSP form-action directive of this
// response. Chrome applies form-action to every redirect that follows a form
// POST, so a page whose POST ends at the client (login, consent, logout) must
// allow the client's redirect-URI origin. Call it before the response is
// written; origin must come from FormActionOrigin.
func AllowFormAction(w http.ResponseWriter, origin string) {
	if origin == "" || strings.ContainsAny(origin, " ;,'\"") {
		return
	}
	csp := w.Header().Get("Content-Security-Policy")
	if csp == "" {
		csp = cspBase
	}
	if strings.Contains(csp, "form-action 'self' "+origin+";") {
		return
	}
	w.Header().Set("Content-Security-Policy",
		strings.Replace(csp, "form-action 'self'", "form-action 'self' "+origin, 1))
}

// Page wraps a page handler with the browser defaults: security headers, the
// CSRF and Origin checks on every unsafe method (a failed check is a 403 and
// the handler is never called), the remembered language switch, and the
// mapping of the returned error to a page or JSON.
func (u *UI) Page(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.securityHeaders(w)
		u.rememberLang(w, r)
		if !safeMethod(r.Method) {
			if err := u.checkCSRF(w, r); err != nil {
				u.log.InfoContext(r.Context(), "csrf check failed", "route", route(r), "reason", err.Error())
				u.writeError(w, r, errCSRF)
				return
			}
		}
		if err := h(w, r); err != nil {
			u.writeError(w, r, err)
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// rememberLang stores an explicit ?lang= choice in the yihao-lang cookie.
func (u *UI) rememberLang(w http.ResponseWriter, r *http.Request) {
	l := normalizeLang(r.URL.Query().Get("lang"))
	if l == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteLaxMode})
}
