package assurance

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// totpData is the page for c: enrolled, a pending set-up (shown only to a
// fresh login), or nothing yet.
func (h *Handler) totpData(r *http.Request, s *identity.Session, c *identity.Citizen) (web.AccountTOTPData, error) {
	ctx := r.Context()
	t := web.TextFor(web.Lang(r, nil))
	d := web.AccountTOTPData{NeedsReauth: !h.fresh(s), ReauthURL: loginURL(PathTOTP)}
	on, since, err := h.cfg.TOTP.Enrolled(ctx, c.ID)
	if err != nil {
		return d, err
	}
	d.Enrolled, d.Since = on, h.when(since)
	if !on && !d.NeedsReauth {
		e, err := h.cfg.TOTP.Pending(ctx, c)
		switch {
		case err == nil:
			d.Pending, d.EnrolmentID, d.Secret = true, e.ID, groups(e.Secret)
			d.URI = template.URL(e.URI) // otpauth:, built by identity from our own values
		case !errors.Is(err, identity.ErrNotFound):
			return d, err
		}
	}
	switch r.URL.Query().Get("done") {
	case "enrolled":
		d.Notice = t.T("totp.done.enrolled")
	case "removed":
		d.Notice = t.T("totp.done.removed")
	}
	return d, nil
}

// groups writes a base32 secret in groups of four, for reading aloud or
// typing; authenticator apps ignore the spaces.
func groups(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (h *Handler) totpPage(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.signedIn(w, r, PathTOTP)
	if s == nil {
		return err
	}
	d, err := h.totpData(r, s, c)
	if err != nil {
		return err
	}
	return h.cfg.UI.Render(w, r, web.PageAccountTOTP, web.View{Data: d})
}

// totpBegin starts a set-up; the page then shows the new secret.
func (h *Handler) totpBegin(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.change(w, r, PathTOTP)
	if s == nil {
		return err
	}
	if _, err := h.cfg.TOTP.Begin(r.Context(), c); err != nil && !errors.Is(err, identity.ErrAlreadyExists) {
		return err
	}
	http.Redirect(w, r, PathTOTP, http.StatusSeeOther)
	return nil
}

// totpConfirm checks the first code of the pending set-up.
func (h *Handler) totpConfirm(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.change(w, r, PathTOTP)
	if s == nil {
		return err
	}
	err = h.cfg.TOTP.Confirm(r.Context(), c, r.PostFormValue("enrolment"), r.PostFormValue("code"))
	if err == nil {
		done(w, r, PathTOTP, "enrolled")
		return nil
	}
	t := web.TextFor(web.Lang(r, nil))
	status, msg := http.StatusConflict, t.T("totp.replaced")
	if !errors.Is(err, identity.ErrConflict) {
		var cerr error
		if status, msg, cerr = codeError(w, t, err); cerr != nil {
			return cerr
		}
	}
	d, err := h.totpData(r, s, c)
	if err != nil {
		return err
	}
	d.Error = msg
	return h.cfg.UI.Render(w, r, web.PageAccountTOTP, web.View{Status: status, Data: d})
}

// totpRemove turns the authenticator off.
func (h *Handler) totpRemove(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.change(w, r, PathTOTP)
	if s == nil {
		return err
	}
	if err := h.cfg.TOTP.Remove(r.Context(), c.ID); err != nil && !errors.Is(err, identity.ErrNotFound) {
		return err
	}
	done(w, r, PathTOTP, "removed")
	return nil
}
