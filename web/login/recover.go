package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// Recovery sets a new password through an SMS code (*identity.Recovery
// satisfies it; it ends the citizen's sessions and revokes their tokens
// through the provider's EndCitizenSessions). Errors: those of SMSCodes
// plus *identity.PasswordError from Reset.
type Recovery interface {
	Send(ctx context.Context, number, binding, clientIP string) (*identity.OTPSent, error)
	Reset(ctx context.Context, number, binding, code, password, clientIP string) (*identity.Citizen, error)
}

// Routes of password recovery.
const recoverPath = "/login/recover"

// mountRecovery adds the recovery routes (see Mount).
func (h *Handler) mountRecovery(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET "+recoverPath, ui.Page(h.recoverPage))
	mux.Handle("POST "+recoverPath, ui.Page(h.recoverSend))
	mux.Handle("POST "+recoverPath+"/reset", ui.Page(h.recoverReset))
	mux.Handle("GET "+recoverPath+"/done", ui.Page(h.recoverDone))
}

// recoverURL is the "forgot your password?" link ("" without recovery).
func (h *Handler) recoverURL(f *oauth.Flow) string {
	if h.cfg.Recovery == nil {
		return ""
	}
	return withFlow(recoverPath, f)
}

func recoverData(f *oauth.Flow, username string) web.RecoverData {
	d := web.RecoverData{Username: username, LoginURL: withFlow("/login", f)}
	if f != nil {
		d.FlowID, d.ClientName = f.ID, f.ClientName
	}
	return d
}

func (h *Handler) recoverPage(w http.ResponseWriter, r *http.Request) error {
	f, err := h.loadFlow(r.Context(), r.URL.Query().Get("flow"))
	if err != nil {
		return err
	}
	d := recoverData(f, "")
	if f != nil {
		d.Username = f.LoginHint
	}
	return h.cfg.UI.Render(w, r, web.PageRecover, flowView(f, http.StatusOK, d))
}

// recoverForm reads what the recovery forms post: the flow and the number.
func (h *Handler) recoverForm(r *http.Request) (*oauth.Flow, web.Text, web.RecoverData, error) {
	f, err := h.loadFlow(r.Context(), r.PostFormValue("flow"))
	if err != nil {
		return nil, web.Text{}, web.RecoverData{}, err
	}
	return f, web.TextFor(web.Lang(r, flowLocales(f))), recoverData(f, trimField(r.PostFormValue("username"))), nil
}

// recoverSend asks for a code and shows the code and new-password form.
// Every well-formed number gets the same page (see SMS login).
func (h *Handler) recoverSend(w http.ResponseWriter, r *http.Request) error {
	f, t, d, err := h.recoverForm(r)
	if err != nil {
		return err
	}
	sent, err := h.cfg.Recovery.Send(r.Context(), d.Username, loginBinding(f), h.cfg.ClientIP(r))
	a, err := answerSend(w, t, sent, err)
	if err != nil {
		return err
	}
	a.fill(&d.MaskedPhone, &d.Minutes, &d.Notice, &d.Error)
	page := web.PageRecover
	if a.codePage {
		page = web.PageRecoverCode
	}
	return h.cfg.UI.Render(w, r, page, flowView(f, a.status, d))
}

// recoverReset checks the code and sets the new password; the citizen is
// then signed out everywhere and sent to sign in with it.
func (h *Handler) recoverReset(w http.ResponseWriter, r *http.Request) error {
	f, t, d, err := h.recoverForm(r)
	if err != nil {
		return err
	}
	_, err = h.cfg.Recovery.Reset(r.Context(), d.Username, loginBinding(f), r.PostFormValue("code"),
		r.PostFormValue("password"), h.cfg.ClientIP(r))
	if err == nil {
		done := recoverPath + "/done"
		if f != nil {
			done += "?" + url.Values{"flow": {f.ID}}.Encode()
		}
		http.Redirect(w, r, done, http.StatusSeeOther)
		return nil
	}
	var (
		ne *identity.NumberError
		pe *identity.PasswordError
	)
	switch {
	case errors.As(err, &ne): // the hidden field was changed: start again
		d.Error = ne.Localize(t.Lang)
		return h.cfg.UI.Render(w, r, web.PageRecover, flowView(f, http.StatusBadRequest, d))
	case errors.As(err, &pe):
		d.Error = pe.Localize(t.Lang)
		return h.cfg.UI.Render(w, r, web.PageRecoverCode, flowView(f, http.StatusBadRequest, d))
	}
	status, msg, cerr := codeError(w, t, err)
	if cerr != nil {
		return cerr
	}
	d.Error = msg
	return h.cfg.UI.Render(w, r, web.PageRecoverCode, flowView(f, status, d))
}

// recoverDone says the password was changed. The flow may have expired
// meanwhile; the link then goes to the plain sign-in page.
func (h *Handler) recoverDone(w http.ResponseWriter, r *http.Request) error {
	f, err := h.loadFlow(r.Context(), r.URL.Query().Get("flow"))
	if err != nil {
		f = nil
	}
	return h.cfg.UI.Render(w, r, web.PageRecoverDone, flowView(f, http.StatusOK, web.RecoverDoneData{LoginURL: withFlow("/login", f)}))
}
