package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/login"
)

// Citizens loads the signed-in citizen (identity.CitizenRepository).
type Citizens interface {
	Citizen(ctx context.Context, id string) (*identity.Citizen, error)
}

// SessionLister lists a citizen's live SSO sessions (identity.SessionStore).
type SessionLister interface {
	CitizenSessions(ctx context.Context, citizenID string) ([]*identity.Session, error)
}

// Protocol is what the page needs from the protocol layer (*oauth.Provider):
// the sites a citizen uses and the kill paths. Each revokes on every replica
// and notifies the sites by back-channel logout.
type Protocol interface {
	CitizenSites(ctx context.Context, citizenID string) ([]oauth.SiteUse, error)
	RevokeClient(ctx context.Context, citizenID, clientID string) error
	EndSession(ctx context.Context, sid string) error
	EndOtherSessions(ctx context.Context, citizenID, keepSID string) (int, error)
}

// Clients names the sites in the activity record, including ones the citizen
// no longer uses (oauth.ClientStore). identity.ErrNotFound for a deleted one.
type Clients interface {
	Client(ctx context.Context, id string) (*oauth.Client, error)
}

// DefaultFreshFor is how recent a login must be before a change.
const DefaultFreshFor = 10 * time.Minute

// Config holds what the pages use. UI, Sessions, SessionList, Citizens and
// Protocol are required; without Activity the history pages say the record
// is not available; without Clients they name sites by id.
type Config struct {
	UI          *web.UI
	Sessions    oauth.SessionReader // *web.Sessions
	SessionList SessionLister
	Citizens    Citizens
	Protocol    Protocol
	Clients     Clients
	Activity    Activity
	// Contact changes the phone and email (/account/contact); without it
	// the page only shows them.
	Contact Contacts
	// FreshFor: a revoke or end needs a login at most this old (DefaultFreshFor).
	FreshFor time.Duration
	// PasskeysURL, when set, is linked from the profile as a way to raise the level.
	PasskeysURL string
	// LevelURL and TOTPURL, when set, link the level page and the
	// authenticator-app page (web/assurance) from the profile.
	LevelURL, TOTPURL string
	// Location of the times shown (China Standard Time, UTC+8, when nil).
	Location *time.Location
	Now      func() time.Time
}

// Handler serves the account centre.
type Handler struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.UI == nil || cfg.Sessions == nil || cfg.SessionList == nil || cfg.Citizens == nil || cfg.Protocol == nil {
		return nil, errors.New("account: UI, Sessions, SessionList, Citizens and Protocol are required")
	}
	if cfg.FreshFor <= 0 {
		cfg.FreshFor = DefaultFreshFor
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}, nil
}

// The sections, in the order of the navigation.
const (
	pathProfile  = "/account"
	pathSites    = "/account/sites"
	pathSessions = "/account/sessions"
	pathLogins   = "/account/logins"
	pathDataUse  = "/account/data-use"
)

var sections = []struct{ path, key string }{
	{pathProfile, "account.nav.profile"},
	{pathSites, "account.nav.sites"},
	{pathSessions, "account.nav.sessions"},
	{pathLogins, "account.nav.logins"},
	{pathDataUse, "account.nav.datause"},
}

// Mount adds the routes listed in the package documentation.
func (h *Handler) Mount(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET "+pathProfile, ui.Page(h.profile))
	mux.Handle("GET "+pathSites, ui.Page(h.sites))
	mux.Handle("POST "+pathSites+"/revoke", ui.Page(h.revoke))
	mux.Handle("GET "+pathSessions, ui.Page(h.sessions))
	mux.Handle("POST "+pathSessions+"/end", ui.Page(h.endOne))
	mux.Handle("POST "+pathSessions+"/end-others", ui.Page(h.endOthers))
	h.mountContact(mux)
	for _, v := range []activityView{loginsView, dataUseView} {
		mux.Handle("GET "+v.path, ui.Page(h.activityPage(v)))
		mux.Handle("POST "+v.path, ui.Page(h.activityFilter(v)))
		mux.Handle("GET "+v.path+"/export", ui.Page(h.activityExport(v)))
	}
}

// session returns the browser's live session. Without one it answers 303 to
// the login page, which comes back to back, and returns nil, nil.
func (h *Handler) session(w http.ResponseWriter, r *http.Request, back string) (*identity.Session, error) {
	s, err := h.cfg.Sessions.RequestSession(r)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		toLogin(w, r, back)
		return nil, nil
	case err != nil:
		return nil, err
	}
	return s, nil
}

// fresh reports whether s authenticated recently enough for a change. When
// not, it answers 303 to the login page (coming back to back).
func (h *Handler) fresh(w http.ResponseWriter, r *http.Request, s *identity.Session, back string) bool {
	age := h.cfg.Now().Sub(s.AuthTime)
	if age >= 0 && age <= h.cfg.FreshFor {
		return true
	}
	toLogin(w, r, back)
	return false
}

func toLogin(w http.ResponseWriter, r *http.Request, back string) {
	http.Redirect(w, r, "/login?"+url.Values{"return": {back}}.Encode(), http.StatusSeeOther)
}

// done answers 303 to a section with a confirmation key.
func done(w http.ResponseWriter, r *http.Request, path, what string) {
	http.Redirect(w, r, path+"?"+url.Values{"done": {what}}.Encode(), http.StatusSeeOther)
}

// notices are the confirmations ?done= may ask for; anything else shows none.
var notices = map[string]string{
	"revoked":      "account.done.revoked",
	"ended":        "account.done.ended",
	"ended-others": "account.done.endedothers",
	"gone":         "account.done.gone",
}

func (h *Handler) page(r *http.Request, current string) web.AccountPage {
	t := web.TextFor(web.Lang(r, nil))
	p := web.AccountPage{}
	for _, s := range sections {
		p.Nav = append(p.Nav, web.AccountLink{Href: s.path, Label: t.T(s.key), Current: s.path == current})
	}
	if key, ok := notices[r.URL.Query().Get("done")]; ok {
		p.Notice = t.T(key)
	}
	return p
}

func (h *Handler) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.cfg.Location).Format("2006-01-02 15:04")
}

func (h *Handler) profile(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathProfile)
	if s == nil {
		return err
	}
	c, err := h.cfg.Citizens.Citizen(r.Context(), s.CitizenID)
	if err != nil {
		return fmt.Errorf("account: load citizen: %w", err)
	}
	t := web.TextFor(web.Lang(r, nil))
	d := web.AccountData{
		AccountPage:  h.page(r, pathProfile),
		MaskedName:   login.MaskName(c.Name),
		DocumentType: label(t, "account.doc.", string(c.Number.Type())),
		MaskedNumber: c.Number.Masked(),
		MaskedPhone:  MaskPhone(c.Phone),
		Level:        label(t, "account.level.", fmt.Sprint(int(c.Level))),
		LevelURL:     h.cfg.LevelURL,
		TOTPURL:      h.cfg.TOTPURL,
	}
	if c.Level < identity.LevelInPerson {
		d.Raise = label(t, "account.raise.", fmt.Sprint(int(c.Level)))
		d.PasskeysURL = h.cfg.PasskeysURL
	}
	return h.cfg.UI.Render(w, r, web.PageAccount, web.View{Data: d})
}

// label is the catalog text of prefix+value, or value when there is none.
func label(t web.Text, prefix, value string) string {
	if t.Has(prefix + value) {
		return t.T(prefix + value)
	}
	return value
}

// MaskPhone keeps the first 3 and last 4 digits ("138****1234"), after the
// mainland country code; a number too short for that is hidden completely.
func MaskPhone(p string) string {
	r := []rune(strings.TrimPrefix(strings.TrimSpace(p), "+86"))
	if len(r) == 0 {
		return ""
	}
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}
