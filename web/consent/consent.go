package consent

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// Config holds what the consent page uses; all fields are required.
type Config struct {
	UI       *web.UI
	Sessions oauth.SessionReader // *web.Sessions
	Flows    oauth.Flows
}

// Handler serves the consent page.
type Handler struct {
	cfg Config
}

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.UI == nil || cfg.Sessions == nil || cfg.Flows == nil {
		return nil, errors.New("consent: UI, Sessions and Flows are required")
	}
	return &Handler{cfg: cfg}, nil
}

// Mount adds the routes:
//
//	GET  /consent  the question (?flow=<id>)
//	POST /consent  the answer (flow, decision=allow|deny)
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("GET /consent", h.cfg.UI.Page(h.page))
	mux.Handle("POST /consent", h.cfg.UI.Page(h.decide))
}

var errSession = &web.StatusError{Status: http.StatusForbidden, Key: "error.session", Code: "access_denied"}

// flowAndSession loads the flow and checks that the browser's session is the
// one that logged in for it.
func (h *Handler) flowAndSession(r *http.Request, flowID string) (*oauth.Flow, *identity.Session, error) {
	if flowID == "" {
		return nil, nil, fmt.Errorf("consent: no flow id: %w", web.ErrFlowExpired)
	}
	f, err := h.cfg.Flows.Flow(r.Context(), flowID)
	if err != nil {
		return nil, nil, fmt.Errorf("consent: load flow: %w", web.FlowError(err))
	}
	s, err := h.cfg.Sessions.RequestSession(r)
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return nil, nil, errSession
	case err != nil:
		return nil, nil, err
	}
	if f.SessionID == "" || f.SessionID != s.ID {
		return nil, nil, errSession
	}
	return f, s, nil
}

func view(f *oauth.Flow, data any) web.View {
	v := web.View{UILocales: f.UILocales, Data: data, SwitchQuery: url.Values{"flow": {f.ID}}}
	if q, err := url.ParseQuery(f.Query); err == nil {
		v.FormAction = web.FormActionOrigin(q.Get("redirect_uri"))
	}
	return v
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	f, _, err := h.flowAndSession(r, r.URL.Query().Get("flow"))
	if err != nil {
		return err
	}
	lang := web.Lang(r, f.UILocales)
	d := web.ConsentData{FlowID: f.ID, ClientName: f.ClientName, Scopes: ScopeLines(lang, f.Scopes)}
	return h.cfg.UI.Render(w, r, web.PageConsent, view(f, d))
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request) error {
	var approved bool
	switch r.PostFormValue("decision") {
	case "allow":
		approved = true
	case "deny":
	default:
		return web.Error(http.StatusBadRequest, "error.badrequest")
	}
	f, s, err := h.flowAndSession(r, r.PostFormValue("flow"))
	if err != nil {
		return err
	}
	next, err := h.cfg.Flows.ConsentDone(r.Context(), f.ID, s.CitizenID, approved)
	if err != nil {
		return fmt.Errorf("consent: record answer: %w", web.FlowError(err))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// sensitive scopes need the citizen's separate consent (PIPL art. 29).
var sensitive = map[string]bool{"idcard": true}

// known scopes have a plain-language line in the catalog.
var known = map[string]bool{"openid": true, "profile": true, "phone": true, "email": true, "idcard": true, "offline_access": true}

// ScopeLines says in plain words, in lang, what each scope gives the site.
func ScopeLines(lang string, scopes []string) []web.ScopeLine {
	t := web.TextFor(lang)
	lines := make([]web.ScopeLine, 0, len(scopes))
	seen := map[string]bool{}
	for _, s := range scopes {
		if seen[s] {
			continue
		}
		seen[s] = true
		text := t.T("consent.scope.other", s)
		if known[s] {
			text = t.T("consent.scope." + s)
		}
		lines = append(lines, web.ScopeLine{Scope: s, Text: text, Sensitive: sensitive[s]})
	}
	return lines
}
