package login

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// Authenticator checks a document number and password. Errors: a
// *identity.NumberError for a malformed number, identity.ErrInvalidCredentials
// for a wrong number or password or a frozen account, a
// *identity.RateLimitedError, or a wrapped identity.ErrUnavailable.
type Authenticator interface {
	Login(ctx context.Context, number, password, clientIP string) (*identity.Citizen, error)
}

// Registrar creates an account. Errors: *identity.NumberError,
// *identity.PasswordError, *identity.FieldError, identity.ErrAlreadyRegistered,
// *identity.RateLimitedError, or a wrapped identity.ErrUnavailable. phone may
// be empty.
type Registrar interface {
	Register(ctx context.Context, number, name, phone, password string) (*identity.Citizen, error)
}

// RegistrarFunc adapts a function to Registrar; cmd uses it to call
// identity.Registrar.Register with an identity.RegisterInput.
type RegistrarFunc func(ctx context.Context, number, name, phone, password string) (*identity.Citizen, error)

// Register calls f.
func (f RegistrarFunc) Register(ctx context.Context, number, name, phone, password string) (*identity.Citizen, error) {
	return f(ctx, number, name, phone, password)
}

// Citizens loads an account for the home page (identity.CitizenRepository
// satisfies it).
type Citizens interface {
	Citizen(ctx context.Context, id string) (*identity.Citizen, error)
}

// Sessions starts SSO sessions and finds the browser's one (*web.Sessions).
type Sessions interface {
	oauth.SessionReader
	Start(w http.ResponseWriter, r *http.Request, citizenID, acr string, amr []string, channel string) (*identity.Session, error)
}

// The authentication context of a password login.
const (
	ACRPassword = oauth.ACRPassword // one factor; oauth advertises it in acr_values_supported
	ChannelWeb  = "web"
)

// Config holds what the pages use. UI, Sessions, Flows and Authenticator are
// required; without Registrar the registration routes are not mounted;
// without Citizens the home page shows no name.
type Config struct {
	UI            *web.UI
	Sessions      Sessions
	Flows         oauth.Flows
	Authenticator Authenticator
	Registrar     Registrar
	Citizens      Citizens
	// ClientIP returns the address rate limits count against. Default: the
	// host of RemoteAddr. Behind a proxy cmd passes one that trusts only the
	// proxy's header.
	ClientIP func(*http.Request) string
	// SMS, when set, offers login with an SMS code (sms.go); with Upgrader
	// and Citizens too, the step-up page asks for a missing second factor.
	SMS      SMSCodes
	Upgrader SessionUpgrader
	// Recovery, when set, offers "forgot your password?" (recover.go).
	Recovery Recovery
	Now      func() time.Time // nil means time.Now

	// TOTP, when set (with Upgrader and Citizens), lets a password session
	// step up with an authenticator-app code instead of an SMS code (totp.go).
	TOTP TOTPCodes
}

// Handler serves the login, registration and home pages.
type Handler struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.UI == nil:
		return nil, errors.New("login: UI is required")
	case cfg.Sessions == nil:
		return nil, errors.New("login: Sessions is required")
	case cfg.Flows == nil:
		return nil, errors.New("login: Flows is required")
	case cfg.Authenticator == nil:
		return nil, errors.New("login: Authenticator is required")
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteHost
	}
	return &Handler{cfg: cfg}, nil
}

// Mount adds the routes:
//
//	GET  /login          the sign-in form (?flow=<id>, or ?return=<local path> to sign in again)
//	POST /login          sign in
//	GET  /register       the registration form (?flow=<id>)
//	POST /register       register
//	GET  /register/done  the same answer for a new and an existing number
//	GET  /{$}            the home page
//
// and, with SMS set (sms.go):
//
//	GET  /login/sms            ask for the ID number (?flow=<id>)
//	POST /login/sms            send a code; show the code form (same page for every number)
//	POST /login/sms/verify     check the code; start the session (amr [sms])
//	GET  /login/stepup         the missing second factor (?flow=<id>; needs Upgrader and Citizens)
//	POST /login/stepup/send    send a code to the bound phone
//	POST /login/stepup/verify  check it; raise the session to acr 2, amr [pwd sms]
//
// and, with Recovery set (recover.go):
//
//	GET  /login/recover        ask for the ID number (?flow=<id>)
//	POST /login/recover        send a code; show the code and new-password form (same page for every number)
//	POST /login/recover/reset  check the code, set the password; 303 to /login/recover/done
//	GET  /login/recover/done   "your password was changed; you were signed out everywhere"
//
// and, with TOTP set (totp.go; the step-up page also without SMS):
//
//	POST /login/stepup/totp    check an authenticator code; acr 2, amr [pwd otp]
func (h *Handler) Mount(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET /login", ui.Page(h.loginPage))
	mux.Handle("POST /login", ui.Page(h.login))
	if h.cfg.Registrar != nil {
		mux.Handle("GET /register", ui.Page(h.registerPage))
		mux.Handle("POST /register", ui.Page(h.register))
		mux.Handle("GET /register/done", ui.Page(h.registerDone))
	}
	mux.Handle("GET /{$}", ui.Page(h.home))
	if h.cfg.SMS != nil {
		h.mountSMS(mux)
	}
	if h.cfg.Recovery != nil {
		h.mountRecovery(mux)
	}
	h.mountStepUp(mux)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loadFlow returns the flow named by id, nil for "", or web.ErrFlowExpired.
func (h *Handler) loadFlow(ctx context.Context, id string) (*oauth.Flow, error) {
	if id == "" {
		return nil, nil
	}
	f, err := h.cfg.Flows.Flow(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("login: load flow: %w", web.FlowError(err))
	}
	return f, nil
}

// flowView is the View of a page belonging to flow f (nil: none).
func flowView(f *oauth.Flow, status int, data any) web.View {
	v := web.View{Status: status, Data: data}
	if f != nil {
		v.UILocales = f.UILocales
		v.FormAction = web.FormActionOrigin(redirectURI(f))
		v.SwitchQuery = url.Values{"flow": {f.ID}}
	}
	return v
}

// redirectURI is the redirect_uri of the flow's authorization request; oauth
// validated it against the client before storing the flow.
func redirectURI(f *oauth.Flow) string {
	q, err := url.ParseQuery(f.Query)
	if err != nil {
		return ""
	}
	return q.Get("redirect_uri")
}

func withFlow(path string, f *oauth.Flow) string {
	if f == nil {
		return path
	}
	return path + "?" + url.Values{"flow": {f.ID}}.Encode()
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	f, err := h.loadFlow(r.Context(), r.URL.Query().Get("flow"))
	if err != nil {
		return err
	}
	d := web.LoginData{RegisterURL: withFlow("/register", f), SMSURL: h.smsURL(f), RecoverURL: h.recoverURL(f)}
	if f != nil {
		d.FlowID, d.ClientName, d.Username = f.ID, f.ClientName, f.LoginHint
	} else {
		d.Return = SafeReturn(r.URL.Query().Get("return"))
	}
	if h.cfg.Registrar == nil {
		d.RegisterURL = ""
	}
	return h.cfg.UI.Render(w, r, web.PageLogin, flowView(f, http.StatusOK, d))
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := h.loadFlow(ctx, r.PostFormValue("flow"))
	if err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	c, err := h.cfg.Authenticator.Login(ctx, username, password, h.cfg.ClientIP(r))
	if err != nil {
		lang := web.Lang(r, flowLocales(f))
		ue, ok := web.Describe(err, lang)
		if errors.Is(err, identity.ErrPasswordLocked) {
			// Known and unknown numbers lock alike; the way out is another factor.
			ue, ok = web.UserError{Kind: web.KindRateLimited, Message: web.TextFor(lang).T("login.locked"), Status: http.StatusTooManyRequests}, true
		}
		if !ok || ue.Kind == web.KindAlreadyRegistered {
			return err // 503 / 500 at the edge
		}
		if ue.Kind == web.KindRateLimited && ue.RetryAfter > 0 {
			// The form's own message, and Retry-After for machines.
			w.Header().Set("Retry-After", fmt.Sprint(int(ue.RetryAfter.Seconds())))
		}
		if ue.Kind != web.KindNumber && ue.Kind != web.KindRateLimited {
			// Anything else about the credentials gets the uniform message.
			ue.Message, ue.Status = web.TextFor(lang).T("login.invalid"), http.StatusOK
		}
		d := web.LoginData{Username: username, Error: ue.Message, RegisterURL: withFlow("/register", f), SMSURL: h.smsURL(f), RecoverURL: h.recoverURL(f)}
		if f != nil {
			d.FlowID, d.ClientName = f.ID, f.ClientName
		} else {
			d.Return = SafeReturn(r.PostFormValue("return"))
		}
		if h.cfg.Registrar == nil {
			d.RegisterURL = ""
		}
		return h.cfg.UI.Render(w, r, web.PageLogin, flowView(f, ue.Status, d))
	}
	s, err := h.cfg.Sessions.Start(w, r, c.ID, ACRPassword, []string{"pwd"}, ChannelWeb)
	if err != nil {
		return err
	}
	next := "/"
	if ret := SafeReturn(r.PostFormValue("return")); ret != "" {
		next = ret
	}
	if f != nil {
		if next, err = h.cfg.Flows.LoginDone(ctx, f.ID, s); err != nil {
			return fmt.Errorf("login: finish login step: %w", web.FlowError(err))
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// SafeReturn accepts a place to go back to after signing in (?return=, used
// by the account centre to ask for a fresh login) only when it is a path on
// this site: it starts with a single '/', has no scheme, host, backslash or
// control character, and is at most 512 bytes. Anything else is "" (go home).
func SafeReturn(raw string) string {
	if len(raw) > 512 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") ||
		strings.ContainsAny(raw, "\\") {
		return ""
	}
	for _, c := range raw {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return u.RequestURI()
}

func flowLocales(f *oauth.Flow) []string {
	if f == nil {
		return nil
	}
	return f.UILocales
}

// home shows who is signed in.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) error {
	d := web.HomeData{}
	s, err := h.cfg.Sessions.RequestSession(r)
	switch {
	case errors.Is(err, identity.ErrNotFound):
	case err != nil:
		return err
	default:
		d.SignedIn = true
		d.MaskedName = "***"
		if h.cfg.Citizens != nil {
			c, err := h.cfg.Citizens.Citizen(r.Context(), s.CitizenID)
			switch {
			case errors.Is(err, identity.ErrNotFound):
				d.SignedIn = false
			case err != nil:
				return err
			default:
				d.MaskedName = MaskName(c.Name)
			}
		}
	}
	return h.cfg.UI.Render(w, r, web.PageHome, web.View{Data: d})
}

// MaskName shows only the last character of a name ("**明"); a one-character
// name shows as "*".
func MaskName(name string) string {
	rs := []rune(strings.TrimSpace(name))
	if len(rs) <= 1 {
		return "*"
	}
	return strings.Repeat("*", len(rs)-1) + string(rs[len(rs)-1])
}
