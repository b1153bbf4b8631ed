package web

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// HandlerFunc is a page handler that returns its error instead of writing it.
// The adapter (UI.Page) maps the error to HTTP exactly once: the edge of C7.
// A handler that already wrote a response returns nil.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ErrFlowExpired marks an identity.ErrNotFound that came from loading a login
// or consent flow: the citizen followed a link that has expired. Handlers wrap
// it with FlowError so that the adapter shows the "start again" page.
var ErrFlowExpired = errors.New("login flow expired")

// FlowError turns a not-found error from oauth.Flows into ErrFlowExpired (so
// the page says "this login link has expired"); other errors pass through.
func FlowError(err error) error {
	if errors.Is(err, identity.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrFlowExpired, err)
	}
	return err
}

// StatusError is an error a handler returns to show a page with a given
// status and a catalog message (for example 403 "error.session").
type StatusError struct {
	Status int
	Key    string // message key in the catalog
	Code   string // JSON "error" code; derived from Status when empty
	Err    error  // the cause, logged when Status >= 500
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("http %d: %s", e.Status, e.Key)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *StatusError) Unwrap() error { return e.Err }

// Error returns a *StatusError.
func Error(status int, key string) error { return &StatusError{Status: status, Key: key} }

var errCSRF = &StatusError{Status: http.StatusForbidden, Key: "error.csrf", Code: "access_denied"}

// problem is how one error is shown.
type problem struct {
	status     int
	code       string // JSON error
	message    string // localized
	retryAfter time.Duration
	errorID    string // set for 500s
}

// UnavailableRetryAfter is the Retry-After sent with a 503.
const UnavailableRetryAfter = 30 * time.Second

// explain maps an error to what the citizen sees. It is the one place where
// errors become HTTP statuses.
func explain(err error, lang string) problem {
	t := TextFor(lang)
	var se *StatusError
	if errors.As(err, &se) && se.Status < 500 {
		code := se.Code
		if code == "" {
			code = codeFor(se.Status)
		}
		return problem{status: se.Status, code: code, message: t.T(se.Key)}
	}
	if ue, ok := Describe(err, lang); ok {
		return problem{status: ue.Status, code: ue.Code, message: ue.Message, retryAfter: ue.RetryAfter}
	}
	switch {
	case errors.Is(err, identity.ErrUnavailable):
		return problem{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
			message: t.T("error.unavailable"), retryAfter: UnavailableRetryAfter}
	case errors.As(err, new(*oauth.AuthorizeRequestError)):
		var are *oauth.AuthorizeRequestError
		errors.As(err, &are)
		return problem{status: http.StatusBadRequest, code: are.Code, message: t.T("error.authorize")}
	case errors.Is(err, oauth.ErrBadLogoutRequest):
		return problem{status: http.StatusBadRequest, code: "invalid_request", message: t.T("error.logout")}
	case errors.Is(err, ErrFlowExpired):
		return problem{status: http.StatusBadRequest, code: "invalid_request", message: t.T("error.expired")}
	case errors.Is(err, identity.ErrNotFound):
		return problem{status: http.StatusNotFound, code: "not_found", message: t.T("error.notfound")}
	}
	return problem{status: http.StatusInternalServerError, code: "server_error",
		message: t.T("error.internal"), errorID: newErrorID()}
}

func codeFor(status int) string {
	switch status {
	case http.StatusForbidden:
		return "access_denied"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	}
	if status >= 500 {
		return "server_error"
	}
	return "invalid_request"
}

// newErrorID is short, random and easy to read out over the phone.
func newErrorID() string {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// writeError shows err: a page in the citizen's language, or JSON when the
// request asks for JSON. It logs the cause exactly once (5xx only; 4xx are
// the citizen's input, not our fault). Log lines carry the method, the path
// (never the query, which may hold a flow id) and the error's text; Yihao's
// errors never carry secrets or ID numbers (identity.Number is masked).
func (u *UI) writeError(w http.ResponseWriter, r *http.Request, err error) {
	lang := Lang(r, nil)
	p := explain(err, lang)
	switch {
	case p.status >= 500 && p.errorID != "":
		u.log.ErrorContext(r.Context(), "request failed",
			slog.String("error_id", p.errorID), slog.String("method", r.Method),
			slog.String("route", route(r)), slog.Any("err", err))
	case p.status >= 500:
		u.log.WarnContext(r.Context(), "backend unavailable",
			slog.String("method", r.Method), slog.String("route", route(r)), slog.Any("err", err))
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	if WantsJSON(r) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(p.status)
		body := map[string]string{"error": p.code, "error_description": p.message}
		if p.errorID != "" {
			body["error_id"] = p.errorID
		}
		json.NewEncoder(w).Encode(body)
		return
	}
	rerr := u.Render(w, r, PageError, View{Status: p.status, Data: ErrorData{
		Message: p.message,
		ErrorID: p.errorID,
	}})
	if rerr != nil {
		// The error page itself failed: last resort, plain text.
		u.log.ErrorContext(r.Context(), "render error page", slog.Any("err", rerr))
		http.Error(w, http.StatusText(p.status), p.status)
	}
}

// WantsJSON reports whether the client prefers JSON to HTML: an Accept header
// naming application/json (or +json) before any text/html, or a JSON body.
func WantsJSON(r *http.Request) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		return true
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(part, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		switch {
		case mt == "text/html" || mt == "application/xhtml+xml":
			return false
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return true
		}
	}
	return false
}

// route names the request in logs by its mux pattern ("GET /qr/{ticket}")
// rather than its path, so values carried in paths (QR tickets, ids) never
// reach a log.
func route(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.Method + " (unrouted)"
}
