package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// Clients is the client store the console manages (oauth.ClientStore).
type Clients interface {
	CreateClient(ctx context.Context, c *oauth.Client) error
	UpdateClient(ctx context.Context, c *oauth.Client) error
	Client(ctx context.Context, id string) (*oauth.Client, error)
	Clients(ctx context.Context) ([]*oauth.Client, error)
}

// Protocol is what the console needs from the provider (*oauth.Provider).
type Protocol interface {
	// ForgetClient drops a changed client from this replica's cache.
	ForgetClient(id string)
	// ValidateAccessToken checks an admin-API bearer token.
	ValidateAccessToken(ctx context.Context, token, scope string) (string, error)
}

// Operator session defaults.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultLifetime    = 8 * time.Hour
)

// KindOperatorSession is the state-store kind of operator sessions.
const KindOperatorSession oauth.StateKind = "opsess"

// AdminScope is the scope an admin-API token must carry.
const AdminScope = "admin"

// Config holds what the console and the admin API use. UI, Console, State,
// Clients and Protocol are required.
type Config struct {
	UI       *web.UI
	Console  *identity.Console
	State    oauth.StateStore
	Clients  Clients
	Protocol Protocol
	// Secure selects the __Host- session cookie (false only in --dev).
	Secure      bool
	IdleTimeout time.Duration // DefaultIdleTimeout when zero
	Lifetime    time.Duration // DefaultLifetime when zero
	// Location of the times shown (UTC+8 when nil).
	Location *time.Location
	Now      func() time.Time
	// Logger receives admin-API failures that are not the caller's (nil discards).
	Logger *slog.Logger
}

// Handler serves /console and /admin/api.
type Handler struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.UI == nil || cfg.Console == nil || cfg.State == nil || cfg.Clients == nil || cfg.Protocol == nil {
		return nil, errors.New("console: UI, Console, State, Clients and Protocol are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg}, nil
}

// Mount adds the console pages and the admin API.
func (h *Handler) Mount(mux *http.ServeMux) {
	ui := h.cfg.UI
	page := func(f func(w http.ResponseWriter, r *http.Request, op *identity.Operator) error) http.Handler {
		return ui.Page(h.signedIn(f))
	}
	mux.Handle("GET /console/login", ui.Page(h.loginPage))
	mux.Handle("POST /console/login", ui.Page(h.login))
	mux.Handle("POST /console/logout", ui.Page(h.logout))
	mux.Handle("GET /console", page(h.home))
	mux.Handle("POST /console/lookup", page(h.lookup))
	mux.Handle("GET /console/citizens/{id}", page(h.citizen))
	mux.Handle("POST /console/citizens/{id}/phone", page(h.phone))
	mux.Handle("POST /console/citizens/{id}/freeze", page(h.freeze))
	mux.Handle("POST /console/citizens/{id}/unfreeze", page(h.unfreeze))
	mux.Handle("POST /console/citizens/{id}/reset", page(h.reset))
	mux.Handle("POST /console/citizens/{id}/merge", page(h.merge))
	mux.Handle("POST /console/citizens/{id}/unmerge", page(h.unmerge))
	mux.Handle("GET /console/audit", page(h.auditPage))
	mux.Handle("POST /console/audit", page(h.auditFilter))
	mux.Handle("POST /console/audit/verify", page(h.auditVerify))
	mux.Handle("GET /console/register", page(h.registerPage))
	mux.Handle("POST /console/register", page(h.register))
	mux.Handle("GET /console/approvals", page(h.approvals))
	mux.Handle("POST /console/approvals/{id}/{decision}", page(h.decide))
	mux.Handle("GET /console/clients", page(h.clients))
	mux.Handle("POST /console/clients", page(h.createClient))
	mux.Handle("GET /console/clients/{id}", page(h.client))
	mux.Handle("POST /console/clients/{id}", page(h.editClient))
	mux.Handle("POST /console/clients/{id}/secret", page(h.rotateSecret))
	mux.Handle("POST /console/clients/{id}/disable", page(h.disableClient))
	mux.Handle("GET /console/operators", page(h.operators))
	mux.Handle("POST /console/operators", page(h.createOperator))
	mux.Handle("POST /console/operators/{id}/change", page(h.changeOperator))
	h.mountAPI(mux)
}

// ---- operator sessions ----

const (
	cookieSecure = "__Host-yihao-console"
	cookieDev    = "yihao-console"
)

func (h *Handler) cookieName() string {
	if h.cfg.Secure {
		return cookieSecure
	}
	return cookieDev
}

// opSession is the state-store record of a console session: the operator id
// and times only, never a credential. It is stored under the SHA-256 of the
// cookie value, so the store never holds the bearer value itself.
type opSession struct {
	OperatorID string    `json:"o"`
	Created    time.Time `json:"c"`
}

func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte("yihao-console-session:" + cookie))
	return hex.EncodeToString(sum[:])
}

func (h *Handler) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: h.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode}
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, op *identity.Operator) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	value := base64.RawURLEncoding.EncodeToString(b)
	rec, _ := json.Marshal(opSession{OperatorID: op.ID, Created: h.cfg.Now().UTC()})
	if err := h.cfg.State.PutState(r.Context(), KindOperatorSession, sessionKey(value), rec, h.cfg.IdleTimeout, ""); err != nil {
		return fmt.Errorf("console: start session: %w", err)
	}
	http.SetCookie(w, h.cookie(value, 0))
	return nil
}

// current returns the signed-in operator: ErrNotFound when there is no live
// session (or the operator was disabled). It slides the idle timeout.
func (h *Handler) current(r *http.Request) (*identity.Operator, error) {
	c, err := r.Cookie(h.cookieName())
	if err != nil || len(c.Value) != 43 {
		return nil, identity.ErrNotFound
	}
	key := sessionKey(c.Value)
	raw, _, err := h.cfg.State.State(r.Context(), KindOperatorSession, key)
	if err != nil {
		return nil, err
	}
	var s opSession
	if json.Unmarshal(raw, &s) != nil || s.OperatorID == "" {
		return nil, identity.ErrNotFound
	}
	if h.cfg.Now().Sub(s.Created) > h.cfg.Lifetime {
		_ = h.cfg.State.DeleteState(r.Context(), KindOperatorSession, key)
		return nil, identity.ErrNotFound
	}
	op, err := h.cfg.Console.Current(r.Context(), s.OperatorID)
	if err != nil {
		return nil, err
	}
	if err := h.cfg.State.PutState(r.Context(), KindOperatorSession, key, raw, h.cfg.IdleTimeout, ""); err != nil {
		return nil, err
	}
	return op, nil
}

// signedIn wraps a page that needs an operator: without one, GET goes to
// the sign-in page and anything else is refused.
func (h *Handler) signedIn(f func(w http.ResponseWriter, r *http.Request, op *identity.Operator) error) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		op, err := h.current(r)
		if errors.Is(err, identity.ErrNotFound) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/login", http.StatusSeeOther)
				return nil
			}
			return web.Error(http.StatusForbidden, "console.error.signin")
		}
		if err != nil {
			return err
		}
		return pageErr(f(w, r, op))
	}
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	return h.cfg.UI.Render(w, r, web.PageConsoleLogin, web.View{Data: web.ConsoleLoginData{}})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	user := strings.TrimSpace(r.PostFormValue("username"))
	op, err := h.cfg.Console.SignIn(r.Context(), user, r.PostFormValue("password"), r.PostFormValue("code"))
	if err != nil {
		msg, ok := h.describe(r, err)
		if !ok {
			return err
		}
		if errors.Is(err, identity.ErrInvalidCredentials) {
			msg = web.TextFor(web.Lang(r, nil)).T("console.login.invalid")
		}
		return h.cfg.UI.Render(w, r, web.PageConsoleLogin, web.View{Status: http.StatusUnauthorized,
			Data: web.ConsoleLoginData{Username: user, Error: msg}})
	}
	if err := h.startSession(w, r, op); err != nil {
		return err
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(h.cookieName()); err == nil {
		if err := h.cfg.State.DeleteState(r.Context(), KindOperatorSession, sessionKey(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, h.cookie("", -1))
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return nil
}

// ---- errors ----

// pageErr maps the console's domain errors to pages (the rest pass through
// to the UI's edge mapping).
func pageErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, identity.ErrOutOfRegion):
		return &web.StatusError{Status: http.StatusForbidden, Key: "console.error.region", Err: err}
	case errors.Is(err, identity.ErrForbidden):
		return &web.StatusError{Status: http.StatusForbidden, Key: "console.error.forbidden", Err: err}
	case errors.Is(err, identity.ErrNotFound):
		return &web.StatusError{Status: http.StatusNotFound, Key: "console.error.notfound", Code: "not_found", Err: err}
	}
	return err
}

// describe localizes an error the operator can act on (input errors and
// refusals shown in the page); ok is false for the rest.
func (h *Handler) describe(r *http.Request, err error) (string, bool) {
	t := web.TextFor(web.Lang(r, nil))
	var fe *identity.FieldError
	switch {
	case errors.Is(err, identity.ErrSameOperator):
		return t.T("console.error.same"), true
	case errors.Is(err, identity.ErrNotPending):
		return t.T("console.error.notpending"), true
	case errors.Is(err, identity.ErrMergeExpired):
		return t.T("console.error.expired"), true
	case errors.Is(err, identity.ErrConflict):
		return t.T("console.error.conflict"), true
	case errors.Is(err, identity.ErrAlreadyRegistered):
		return t.T("console.error.registered"), true
	case errors.Is(err, identity.ErrAlreadyExists):
		return t.T("console.error.exists"), true
	case errors.As(err, &fe) && t.Has("console.field."+fe.Field):
		reason := "console.why." + string(fe.Reason)
		if !t.Has(reason) {
			reason = "console.why.invalid"
		}
		return t.T("console.field."+fe.Field) + t.T("console.colon") + t.T(reason), true
	}
	parts := unjoin(err)
	if len(parts) == 1 && parts[0] == err {
		ue, ok := web.Describe(err, t.Lang)
		return ue.Message, ok
	}
	var msgs []string
	for _, e := range parts {
		m, ok := h.describe(r, e)
		if !ok {
			return "", false
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, " "), len(msgs) > 0
}

// unjoin lists the errors of an errors.Join (or err itself).
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ---- page data ----

func (h *Handler) base(r *http.Request, op *identity.Operator) web.ConsoleBase {
	t := web.TextFor(web.Lang(r, nil))
	b := web.ConsoleBase{Operator: op.Name, Username: op.Username, Region: regionLabel(t, op.Region),
		Admin: op.Has(identity.RoleAdministrator), CanChange: op.Has(identity.RoleAdministrator) || op.Has(identity.RoleRegistrar),
		Auditor: op.Has(identity.RoleAuditor), Section: section(r.URL.Path)}
	var roles []string
	for _, ro := range op.Roles {
		roles = append(roles, t.T("console.role."+string(ro)))
	}
	b.Roles = strings.Join(roles, t.T("console.sep"))
	if key := r.URL.Query().Get("done"); key != "" && t.Has("console.done."+key) {
		b.Notice = t.T("console.done." + key)
	}
	return b
}

// section is the navigation entry a console path belongs to.
func section(path string) string {
	rest, _ := strings.CutPrefix(path, "/console")
	switch first, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/"); first {
	case "", "lookup", "citizens":
		return "find"
	default:
		return first
	}
}

func regionLabel(t web.Text, prefix string) string {
	if prefix == "" {
		return t.T("console.region.nation")
	}
	if name := identity.RegionName(prefix); name != "" {
		return name + " (" + prefix + ")"
	}
	return prefix
}

func (h *Handler) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.cfg.Location).Format("2006-01-02 15:04")
}

func done(w http.ResponseWriter, r *http.Request, path, what string) {
	http.Redirect(w, r, path+"?"+url.Values{"done": {what}}.Encode(), http.StatusSeeOther)
}

// maskPhone keeps the first 3 and last 4 digits after +86.
func maskPhone(p string) string {
	r := []rune(strings.TrimPrefix(strings.TrimSpace(p), "+86"))
	if len(r) == 0 {
		return ""
	}
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// label is the catalog text of prefix+value, or value.
func label(t web.Text, prefix, value string) string {
	if t.Has(prefix + value) {
		return t.T(prefix + value)
	}
	return value
}
