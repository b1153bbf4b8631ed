package assurance

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// Citizens loads the signed-in citizen (identity.CitizenRepository).
type Citizens interface {
	Citizen(ctx context.Context, id string) (*identity.Citizen, error)
}

// Levels raises the real-name level (*identity.Leveler). Errors are those
// of identity.Leveler.
type Levels interface {
	SendPhoneCode(ctx context.Context, c *identity.Citizen, binding, clientIP string) (*identity.OTPSent, error)
	RaiseToVerified(ctx context.Context, c *identity.Citizen, binding, code string) error
}

// Authenticators enrols and removes the authenticator app
// (*identity.TOTPFactor). Errors are those of identity.TOTPFactor.
type Authenticators interface {
	Begin(ctx context.Context, c *identity.Citizen) (*identity.TOTPEnrolment, error)
	Pending(ctx context.Context, c *identity.Citizen) (*identity.TOTPEnrolment, error)
	Enrolled(ctx context.Context, citizenID string) (bool, time.Time, error)
	Confirm(ctx context.Context, c *identity.Citizen, id, code string) error
	Remove(ctx context.Context, citizenID string) error
}

// DefaultFreshFor is how recent a login must be before a change (as in the
// account centre).
const DefaultFreshFor = 10 * time.Minute

// Config holds what the pages use. UI, Sessions and Citizens are required.
// Without Levels the level page shows the level and says online
// verification is not offered; without TOTP the /account/totp routes are
// not mounted.
type Config struct {
	UI       *web.UI
	Sessions oauth.SessionReader // *web.Sessions
	Citizens Citizens
	Levels   Levels
	TOTP     Authenticators
	// PasskeysURL, when set, is offered to a level-2 citizen as the way to level 3.
	PasskeysURL string
	FreshFor    time.Duration // default DefaultFreshFor
	// ClientIP returns the address code requests are counted against
	// (default: the host of RemoteAddr).
	ClientIP func(*http.Request) string
	Location *time.Location // times shown; China Standard Time when nil
	Now      func() time.Time
}

// Handler serves the pages.
type Handler struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.UI == nil || cfg.Sessions == nil || cfg.Citizens == nil {
		return nil, errors.New("assurance: UI, Sessions and Citizens are required")
	}
	if cfg.FreshFor <= 0 {
		cfg.FreshFor = DefaultFreshFor
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}, nil
}

// Paths of the pages.
const (
	PathLevel = "/account/level"
	PathTOTP  = "/account/totp"
)

// Mount adds the routes listed in the package documentation.
func (h *Handler) Mount(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET "+PathLevel, ui.Page(h.levelPage))
	if h.cfg.Levels != nil {
		mux.Handle("POST "+PathLevel+"/send", ui.Page(h.levelSend))
		mux.Handle("POST "+PathLevel+"/verify", ui.Page(h.levelVerify))
	}
	if h.cfg.TOTP != nil {
		mux.Handle("GET "+PathTOTP, ui.Page(h.totpPage))
		mux.Handle("POST "+PathTOTP+"/begin", ui.Page(h.totpBegin))
		mux.Handle("POST "+PathTOTP+"/confirm", ui.Page(h.totpConfirm))
		mux.Handle("POST "+PathTOTP+"/remove", ui.Page(h.totpRemove))
	}
}

// signedIn returns the browser's session and citizen. Without a session it
// answers 303 to the login page (coming back to back) and returns nils.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, back string) (*identity.Session, *identity.Citizen, error) {
	s, err := h.cfg.Sessions.RequestSession(r)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		http.Redirect(w, r, loginURL(back), http.StatusSeeOther)
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	c, err := h.cfg.Citizens.Citizen(r.Context(), s.CitizenID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil, &web.StatusError{Status: http.StatusForbidden, Key: "error.session", Err: err}
	}
	if err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

// fresh reports whether s authenticated recently enough for a change.
func (h *Handler) fresh(s *identity.Session) bool {
	age := h.cfg.Now().Sub(s.AuthTime)
	return age >= 0 && age <= h.cfg.FreshFor
}

// change is signedIn plus the fresh-login rule of a POST: a stale session
// is sent to sign in again and nothing changes.
func (h *Handler) change(w http.ResponseWriter, r *http.Request, back string) (*identity.Session, *identity.Citizen, error) {
	s, c, err := h.signedIn(w, r, back)
	if s == nil || err != nil {
		return nil, nil, err
	}
	if !h.fresh(s) {
		http.Redirect(w, r, loginURL(back), http.StatusSeeOther)
		return nil, nil, nil
	}
	return s, c, nil
}

func loginURL(back string) string { return "/login?" + url.Values{"return": {back}}.Encode() }

func done(w http.ResponseWriter, r *http.Request, path, what string) {
	http.Redirect(w, r, path+"?"+url.Values{"done": {what}}.Encode(), http.StatusSeeOther)
}

func (h *Handler) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.cfg.Location).Format("2006-01-02 15:04")
}

// codeError maps the errors of checking a code (SMS or authenticator) to a
// status and a localized message; other errors are returned for the edge.
func codeError(w http.ResponseWriter, t web.Text, err error) (int, string, error) {
	var (
		fe     *identity.FieldError
		refuse *identity.OTPRefusal
		rl     *identity.RateLimitedError
	)
	switch {
	case errors.As(err, &fe):
		return http.StatusBadRequest, t.T("sms.code.invalid"), nil
	case errors.As(err, &refuse) && errors.Is(err, identity.ErrOTPLocked):
		retryAfter(w, refuse.RetryAfter)
		return http.StatusTooManyRequests, t.T("sms.locked", minutes(refuse.RetryAfter)), nil
	case errors.Is(err, identity.ErrTOTPReplayed):
		return http.StatusBadRequest, t.T("totp.replayed"), nil
	case errors.As(err, &refuse) && refuse.Left <= 0:
		return http.StatusBadRequest, t.T("sms.code.wrong.last"), nil
	case errors.As(err, &refuse):
		return http.StatusBadRequest, t.T("sms.code.wrong", refuse.Left), nil
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusBadRequest, t.T("sms.code.expired"), nil
	case errors.As(err, &rl):
		retryAfter(w, rl.RetryAfter)
		return http.StatusTooManyRequests, rl.Localize(t.Lang), nil
	}
	return 0, "", err
}

func minutes(d time.Duration) int { return max(int((d+time.Minute-1)/time.Minute), 1) }

func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(int(d.Seconds()+0.999), 1)))
}
