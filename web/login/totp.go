package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
)

// TOTPCodes checks a citizen's authenticator-app codes
// (*identity.TOTPFactor). Verify's errors: *identity.FieldError,
// *identity.OTPRefusal (identity.ErrOTPMismatch, identity.ErrTOTPReplayed,
// identity.ErrOTPLocked), identity.ErrNotFound without an authenticator, or
// a wrapped identity.ErrUnavailable.
type TOTPCodes interface {
	Enrolled(ctx context.Context, citizenID string) (bool, time.Time, error)
	Verify(ctx context.Context, citizenID, code string) error
}

// AMROTP is the amr of an authenticator-app code (RFC 8176 "otp").
const AMROTP = "otp"

// mountStepUp adds the step-up page when there is a second factor to ask
// for: SMS (whose send and verify routes mountSMS adds) or an
// authenticator app.
func (h *Handler) mountStepUp(mux *http.ServeMux) {
	if h.cfg.Upgrader == nil || h.cfg.Citizens == nil || (h.cfg.SMS == nil && h.cfg.TOTP == nil) {
		return
	}
	ui := h.cfg.UI
	mux.Handle("GET "+oauth.StepUpPath, ui.Page(h.stepUpPage))
	if h.cfg.TOTP != nil {
		mux.Handle("POST "+oauth.StepUpPath+"/totp", ui.Page(h.stepUpTOTP))
	}
}

// totpOffered reports whether c can step up with an authenticator code.
// A failed look-up offers nothing (the SMS code stays on offer).
func (h *Handler) totpOffered(ctx context.Context, c *identity.Citizen) bool {
	if h.cfg.TOTP == nil {
		return false
	}
	on, _, err := h.cfg.TOTP.Enrolled(ctx, c.ID)
	return err == nil && on
}

// stepUpTOTP checks an authenticator code as the second factor of a
// password session: acr 2, amr [pwd otp], same sid.
func (h *Handler) stepUpTOTP(w http.ResponseWriter, r *http.Request) error {
	f, s, c, err := h.stepUpContext(r, r.PostFormValue("flow"))
	if err != nil {
		return err
	}
	t := web.TextFor(web.Lang(r, flowLocales(f)))
	d := h.stepUpData(r.Context(), f, s, c)
	if d.PasswordURL != "" || !d.TOTP {
		return h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, http.StatusOK, d))
	}
	if err := h.cfg.TOTP.Verify(r.Context(), c.ID, r.PostFormValue("totp")); err != nil {
		status, msg, cerr := codeError(w, t, err)
		if cerr != nil {
			return cerr
		}
		if errors.Is(err, identity.ErrTOTPReplayed) {
			msg = t.T("totp.replayed")
		}
		d.TOTPError = msg
		return h.cfg.UI.Render(w, r, web.PageLoginStepUp, flowView(f, status, d))
	}
	return h.finishStepUp(w, r, f, s, AMROTP)
}
