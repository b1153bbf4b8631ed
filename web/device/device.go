// Package device is the verification page of the device authorization grant
// (RFC 8628): a citizen signed in on a phone or desktop types the code a kiosk
// or TV shows, sees which site asks for what, and allows or denies.
//
//	GET  /device         the code form (?user_code= pre-fills it, from verification_uri_complete)
//	POST /device         look the code up, show the question
//	POST /device/decide  the answer (user_code, decision=allow|deny)
//
// Without an SSO session the citizen is sent to /login?return=/device… first.
package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/consent"
)

// Devices is what the page needs from the protocol layer (*oauth.Provider).
type Devices interface {
	DeviceLookup(ctx context.Context, userCode string) (*oauth.DeviceInfo, error)
	DeviceDecide(ctx context.Context, userCode string, s *identity.Session, approve bool) error
}

// Config holds the page's collaborators; all are required.
type Config struct {
	UI       *web.UI
	Sessions oauth.SessionReader
	Devices  Devices
}

// Handler serves the verification page.
type Handler struct{ cfg Config }

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.UI == nil || cfg.Sessions == nil || cfg.Devices == nil {
		return nil, errors.New("device: UI, Sessions and Devices are required")
	}
	return &Handler{cfg: cfg}, nil
}

// Mount adds the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle("GET /device", h.cfg.UI.Page(h.form))
	mux.Handle("POST /device", h.cfg.UI.Page(h.lookup))
	mux.Handle("POST /device/decide", h.cfg.UI.Page(h.decide))
}

// session returns the browser's session, or redirects to sign in and returns nil.
func (h *Handler) session(w http.ResponseWriter, r *http.Request, userCode string) (*identity.Session, error) {
	s, err := h.cfg.Sessions.RequestSession(r)
	if errors.Is(err, identity.ErrNotFound) {
		back := "/device"
		if code := oauth.NormalizeUserCode(userCode); code != "" {
			back += "?user_code=" + url.QueryEscape(code)
		}
		http.Redirect(w, r, "/login?return="+url.QueryEscape(back), http.StatusSeeOther)
		return nil, nil
	}
	return s, err
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, d web.DeviceData) error {
	return h.cfg.UI.Render(w, r, web.PageDevice, web.View{Status: status, Data: d})
}

func (h *Handler) form(w http.ResponseWriter, r *http.Request) error {
	code := oauth.NormalizeUserCode(r.URL.Query().Get("user_code"))
	s, err := h.session(w, r, code)
	if s == nil {
		return err
	}
	return h.render(w, r, http.StatusOK, web.DeviceData{Step: "enter", UserCode: code})
}

func (h *Handler) lookup(w http.ResponseWriter, r *http.Request) error {
	raw := r.PostFormValue("user_code")
	s, err := h.session(w, r, raw)
	if s == nil {
		return err
	}
	lang := web.Lang(r, nil)
	info, err := h.cfg.Devices.DeviceLookup(r.Context(), raw)
	if errors.Is(err, oauth.ErrUnknownUserCode) {
		return h.render(w, r, http.StatusBadRequest, web.DeviceData{Step: "enter", Error: web.TextFor(lang).T("device.code.unknown")})
	}
	if err != nil {
		return fmt.Errorf("device: look up code: %w", err)
	}
	return h.render(w, r, http.StatusOK, web.DeviceData{Step: "confirm", UserCode: info.UserCode, ClientName: info.ClientName, Scopes: consent.ScopeLines(lang, info.Scopes)})
}

func (h *Handler) decide(w http.ResponseWriter, r *http.Request) error {
	var approve bool
	switch r.PostFormValue("decision") {
	case "allow":
		approve = true
	case "deny":
	default:
		return web.Error(http.StatusBadRequest, "error.badrequest")
	}
	raw := r.PostFormValue("user_code")
	s, err := h.session(w, r, raw)
	if s == nil {
		return err
	}
	err = h.cfg.Devices.DeviceDecide(r.Context(), raw, s, approve)
	if errors.Is(err, oauth.ErrUnknownUserCode) {
		return h.render(w, r, http.StatusBadRequest, web.DeviceData{Step: "enter", Error: web.TextFor(web.Lang(r, nil)).T("device.code.unknown")})
	}
	if err != nil {
		return fmt.Errorf("device: record answer: %w", err)
	}
	return h.render(w, r, http.StatusOK, web.DeviceData{Step: "done", Approved: approve})
}
