// Package qrlogin is sign-in by QR code: a desktop browser shows a QR code
// holding a one-time ticket; the citizen, already signed in on their phone,
// scans it, sees which site asks and from which browser and network, and
// confirms or refuses; the desktop then gets its own session.
//
//	GET  /login/qr?flow=…           the desktop page: a new ticket, its QR code, the
//	                                desktop secret in an HttpOnly cookie
//	GET  /login/qr/status?ticket=…  the desktop's poll (JSON {"status": …}), rate-limited per ticket
//	POST /login/qr/continue         the desktop redeems the approved ticket (also the no-JS button)
//	GET  /qr/{ticket}               the phone: which site, which browser, which network
//	POST /qr/{ticket}               the phone's answer (decision=allow|deny)
//
// A ticket lives two minutes and is decided once and redeemed once, by the
// browser holding its secret (the cookie). Without an SSO session the phone
// is sent to /login?return=/qr/… first. Tickets of purpose "counter" are
// scanned the same way; their confirmation goes to the counter request
// (Counter) instead of to a desktop.
package qrlogin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/qr"
)

// Sessions finds the browser's SSO session and starts the desktop's
// (*web.Sessions).
type Sessions interface {
	oauth.SessionReader
	StartCarried(w http.ResponseWriter, r *http.Request, from *identity.Session, acr string, amr []string, channel string) (*identity.Session, error)
}

// Citizens loads an account (identity.CitizenRepository).
type Citizens interface {
	Citizen(ctx context.Context, id string) (*identity.Citizen, error)
}

// Counter is the counter-session side of a ticket (*oauth.Provider).
type Counter interface {
	CounterInfo(ctx context.Context, key string) (*oauth.CounterInfo, error)
	CounterConfirm(ctx context.Context, key string, s *identity.Session, method string, approve bool) error
}

// SessionStore loads the phone's session again at redemption
// (identity.SessionStore).
type SessionStore interface {
	Session(ctx context.Context, id string) (*identity.Session, error)
}

// Audit appends to the audit chain (identity.AuditLog).
type Audit interface {
	AppendAudit(ctx context.Context, e *identity.AuditEntry) error
}

// AMRQR is the amr value of a login carried over by QR code.
const AMRQR = "qr"

// Config holds the pages' collaborators. UI, Sessions, Flows, Tickets,
// Citizens, Store, Limiter and Issuer are required.
type Config struct {
	UI       *web.UI
	Sessions Sessions
	Flows    oauth.Flows
	Tickets  *Tickets
	Citizens Citizens
	Store    SessionStore
	Limiter  identity.RateLimiter
	Counter  Counter // optional: without it counter tickets are unknown
	Audit    Audit   // optional
	// Issuer is the absolute URL the QR code points at (https://id.example.gov.cn).
	Issuer string
	// Secure selects the __Host- cookie (false only in --dev).
	Secure   bool
	ClientIP func(*http.Request) string
	// PollLimit is the polls allowed per ticket in its lifetime (default 150:
	// about one a second).
	PollLimit int64
}

// Handler serves the QR pages.
type Handler struct{ cfg Config }

// New checks the configuration.
func New(cfg Config) (*Handler, error) {
	if cfg.UI == nil || cfg.Sessions == nil || cfg.Flows == nil || cfg.Tickets == nil || cfg.Citizens == nil || cfg.Store == nil || cfg.Limiter == nil || cfg.Issuer == "" {
		return nil, errors.New("qrlogin: UI, Sessions, Flows, Tickets, Citizens, Store, Limiter and Issuer are required")
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) string {
			h, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return h
		}
	}
	if cfg.PollLimit <= 0 {
		cfg.PollLimit = 150
	}
	return &Handler{cfg: cfg}, nil
}

// Mount adds the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET /login/qr", ui.Page(h.desktop))
	mux.Handle("GET /login/qr/status", ui.Page(h.status))
	mux.Handle("POST /login/qr/continue", ui.Page(h.redeem))
	mux.Handle("GET /qr/{ticket}", ui.Page(h.phone))
	mux.Handle("POST /qr/{ticket}", ui.Page(h.decide))
}

func (h *Handler) cookieName() string {
	if h.cfg.Secure {
		return "__Host-yihao-qr"
	}
	return "yihao-qr"
}

// TicketURL is what the QR code holds.
func (h *Handler) TicketURL(id string) string { return h.cfg.Issuer + "/qr/" + id }

// QRCode draws a ticket's URL as inline SVG for a page.
func (h *Handler) QRCode(id, label string) (template.HTML, error) {
	c, err := qr.Encode(h.TicketURL(id))
	if err != nil {
		return "", err
	}
	return template.HTML(c.SVG(label)), nil // our own markup: numbers and escaped label only
}

func flowView(f *oauth.Flow, status int, data any) web.View {
	v := web.View{Status: status, Data: data}
	if f != nil {
		v.UILocales = f.UILocales
		v.SwitchQuery = url.Values{"flow": {f.ID}}
		if q, err := url.ParseQuery(f.Query); err == nil {
			v.FormAction = web.FormActionOrigin(q.Get("redirect_uri"))
		}
	}
	return v
}

// desktop starts a ticket for the flow and shows its QR code.
func (h *Handler) desktop(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	flowID := r.URL.Query().Get("flow")
	if flowID == "" {
		return web.FlowError(identity.ErrNotFound)
	}
	f, err := h.cfg.Flows.Flow(ctx, flowID)
	if err != nil {
		return fmt.Errorf("qrlogin: load flow: %w", web.FlowError(err))
	}
	// New tickets per network are limited, so the page cannot be used to
	// fill the state store.
	n, retry, err := h.cfg.Limiter.Hit(ctx, "qrnew:"+identity.AuditIP(h.cfg.ClientIP(r)), 10*time.Minute)
	if err != nil {
		return err
	}
	if n > 300 {
		return &identity.RateLimitedError{Scope: "ip", RetryAfter: retry}
	}
	browser := web.ShortUserAgent(r.UserAgent())
	network := identity.AuditIP(h.cfg.ClientIP(r))
	id, secret, err := h.cfg.Tickets.NewLogin(ctx, f.ID, browser, network)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: secret, Path: "/", MaxAge: int(TicketTTL.Seconds()),
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode})
	t := web.TextFor(web.Lang(r, f.UILocales))
	svg, err := h.QRCode(id, t.T("qr.code.label"))
	if err != nil {
		return err
	}
	d := web.QRLoginData{Step: "desktop", FlowID: f.ID, ClientName: f.ClientName, Ticket: id, QR: svg,
		TicketURL: h.TicketURL(id), LoginURL: "/login?" + url.Values{"flow": {f.ID}}.Encode(), Seconds: int(TicketTTL.Seconds())}
	return h.cfg.UI.Render(w, r, web.PageQRLogin, flowView(f, http.StatusOK, d))
}

func (h *Handler) secret(r *http.Request) string {
	c, err := r.Cookie(h.cookieName())
	if err != nil {
		return ""
	}
	return c.Value
}

// status answers the desktop's poll.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := ParseTicket(r.URL.Query().Get("ticket"))
	st := StatusExpired
	if id != "" {
		n, retry, err := h.cfg.Limiter.Hit(ctx, "qrpoll:"+key(id), TicketTTL)
		if err != nil {
			return err
		}
		if n > h.cfg.PollLimit {
			w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
			return writeJSON(w, http.StatusTooManyRequests, map[string]string{"status": "slow_down"})
		}
		if st, err = h.cfg.Tickets.Status(ctx, id, h.secret(r)); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": st})
}

func writeJSON(w http.ResponseWriter, status int, v map[string]string) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := fmt.Fprintf(w, `{"status":%q}`, v["status"])
	return err
}

// carried is the acr and amr of a login carried over by QR from session s:
// amr "qr" then the phone's methods; acr the phone's, but never above
// urn:yihao:acr:2, because a QR code can be relayed from an attacker's
// screen, so the carried login is not phishing-resistant the way a passkey
// (acr 3) is.
func carried(s *identity.Session) (string, []string) {
	acr := s.ACR
	if oauth.ACRRank(acr) > oauth.ACRRank(oauth.ACRMulti) {
		acr = oauth.ACRMulti
	}
	amr := []string{AMRQR}
	for _, m := range s.AMR {
		if !slices.Contains(amr, m) {
			amr = append(amr, m)
		}
	}
	return acr, amr
}

// redeem turns an approved ticket into the desktop's own session.
func (h *Handler) redeem(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, err := h.cfg.Flows.Flow(ctx, r.PostFormValue("flow"))
	if err != nil {
		return fmt.Errorf("qrlogin: load flow: %w", web.FlowError(err))
	}
	rec, err := h.cfg.Tickets.Redeem(ctx, r.PostFormValue("ticket"), h.secret(r))
	if errors.Is(err, ErrUnknownTicket) {
		// Not approved (yet), refused, expired or used: back to the page,
		// which starts a new ticket and says why.
		http.Redirect(w, r, "/login/qr?"+url.Values{"flow": {f.ID}, "again": {"1"}}.Encode(), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Ref != f.ID {
		return web.Error(http.StatusBadRequest, "error.badrequest")
	}
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode})
	// The phone's session as it is now: ended since (or the account
	// frozen), no login here.
	phone, err := h.phoneSession(ctx, rec)
	if err != nil {
		return err
	}
	if phone == nil {
		http.Redirect(w, r, "/login/qr?"+url.Values{"flow": {f.ID}, "again": {"1"}}.Encode(), http.StatusSeeOther)
		return nil
	}
	acr, amr := carried(phone)
	s, err := h.cfg.Sessions.StartCarried(w, r, phone, acr, amr, "web")
	if err != nil {
		return err
	}
	if h.cfg.Audit != nil {
		if err := h.cfg.Audit.AppendAudit(ctx, &identity.AuditEntry{Action: identity.AuditLoginSuccess, CitizenID: s.CitizenID,
			Actor: identity.ActorCitizen + s.CitizenID, SessionID: s.ID, IP: identity.AuditIP(h.cfg.ClientIP(r)),
			Detail: map[string]string{"method": AMRQR, "confirmed_by_session": rec.SessionID}}); err != nil {
			return err
		}
	}
	next, err := h.cfg.Flows.LoginDone(ctx, f.ID, s)
	if err != nil {
		return fmt.Errorf("qrlogin: finish login step: %w", web.FlowError(err))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// phoneSession reloads the approving session through the citizen's live
// sessions: nil when it ended or the account is no longer active.
func (h *Handler) phoneSession(ctx context.Context, rec *Ticket) (*identity.Session, error) {
	c, err := h.cfg.Citizens.Citizen(ctx, rec.CitizenID)
	if errors.Is(err, identity.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Status != identity.StatusActive {
		return nil, nil
	}
	s, err := h.cfg.Store.Session(ctx, rec.SessionID)
	if errors.Is(err, identity.ErrNotFound) || (err == nil && s.CitizenID != rec.CitizenID) {
		return nil, nil
	}
	return s, err
}

// ---- the phone ----

func (h *Handler) phoneSessionOf(w http.ResponseWriter, r *http.Request, id string) (*identity.Session, error) {
	s, err := h.cfg.Sessions.RequestSession(r)
	if errors.Is(err, identity.ErrNotFound) {
		back := "/qr/"
		if ParseTicket(id) != "" {
			back += id
		}
		http.Redirect(w, r, "/login?"+url.Values{"return": {back}}.Encode(), http.StatusSeeOther)
		return nil, nil
	}
	return s, err
}

func (h *Handler) renderPhone(w http.ResponseWriter, r *http.Request, status int, d web.QRLoginData) error {
	return h.cfg.UI.Render(w, r, web.PageQRLogin, web.View{Status: status, Data: d})
}

func (h *Handler) unknown(w http.ResponseWriter, r *http.Request) error {
	return h.renderPhone(w, r, http.StatusNotFound, web.QRLoginData{Step: "unknown"})
}

// phone shows what the ticket asks.
func (h *Handler) phone(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("ticket")
	s, err := h.phoneSessionOf(w, r, id)
	if s == nil {
		return err
	}
	rec, err := h.cfg.Tickets.Pending(r.Context(), id)
	if errors.Is(err, ErrUnknownTicket) {
		return h.unknown(w, r)
	}
	if err != nil {
		return err
	}
	d := web.QRLoginData{Step: "confirm", Ticket: ParseTicket(id), Purpose: rec.Purpose, Browser: rec.Browser, Network: rec.Network}
	switch rec.Purpose {
	case PurposeLogin:
		f, err := h.cfg.Flows.Flow(r.Context(), rec.Ref)
		if err != nil {
			return h.unknown(w, r)
		}
		d.ClientName = f.ClientName
	case PurposeCounter:
		if h.cfg.Counter == nil {
			return h.unknown(w, r)
		}
		info, err := h.cfg.Counter.CounterInfo(r.Context(), rec.Ref)
		if err != nil {
			return h.unknown(w, r)
		}
		if info.CitizenID != s.CitizenID {
			return h.renderPhone(w, r, http.StatusForbidden, web.QRLoginData{Step: "other"})
		}
		d.ClientName, d.Operator = info.ClientName, info.OperatorName
	}
	return h.renderPhone(w, r, http.StatusOK, d)
}

// decide records the phone's answer.
func (h *Handler) decide(w http.ResponseWriter, r *http.Request) error {
	var approve bool
	switch r.PostFormValue("decision") {
	case "allow":
		approve = true
	case "deny":
	default:
		return web.Error(http.StatusBadRequest, "error.badrequest")
	}
	id := r.PathValue("ticket")
	s, err := h.phoneSessionOf(w, r, id)
	if s == nil {
		return err
	}
	ctx := r.Context()
	pending, err := h.cfg.Tickets.Pending(ctx, id)
	if errors.Is(err, ErrUnknownTicket) {
		return h.unknown(w, r)
	}
	if err != nil {
		return err
	}
	var before func(*Ticket, bool) error
	if pending.Purpose == PurposeCounter {
		if h.cfg.Counter == nil {
			return h.unknown(w, r)
		}
		// Only the citizen the operator identified may answer; another
		// phone is turned away without using up the ticket.
		info, err := h.cfg.Counter.CounterInfo(ctx, pending.Ref)
		if err != nil {
			return h.unknown(w, r)
		}
		if info.CitizenID != s.CitizenID {
			return h.renderPhone(w, r, http.StatusForbidden, web.QRLoginData{Step: "other"})
		}
		before = func(rec *Ticket, approve bool) error {
			return h.cfg.Counter.CounterConfirm(ctx, rec.Ref, s, AMRQR, approve)
		}
	}
	rec, err := h.cfg.Tickets.Decide(ctx, id, s, approve, before)
	switch {
	case errors.Is(err, ErrUnknownTicket):
		return h.unknown(w, r)
	case errors.Is(err, oauth.ErrCounterOtherCitizen):
		return h.renderPhone(w, r, http.StatusForbidden, web.QRLoginData{Step: "other"})
	case errors.Is(err, oauth.ErrUnknownUserCode):
		return h.unknown(w, r)
	case err != nil:
		return err
	}
	return h.renderPhone(w, r, http.StatusOK, web.QRLoginData{Step: "done", Approved: approve, Purpose: rec.Purpose})
}
