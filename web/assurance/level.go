package assurance

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// levelBinding binds a phone code to the SSO session it was asked in.
func levelBinding(s *identity.Session) string { return s.ID }

// levelData is the page for c, before any form was sent.
func (h *Handler) levelData(r *http.Request, s *identity.Session, c *identity.Citizen) web.AccountLevelData {
	t := web.TextFor(web.Lang(r, nil))
	d := web.AccountLevelData{
		Level:        label(t, "account.level.", fmt.Sprint(int(c.Level))),
		VerifiedAt:   h.when(c.LevelAt),
		MaskedName:   maskName(c.Name),
		MaskedNumber: c.Number.Masked(),
		MaskedPhone:  identity.MaskPhone(c.Phone),
		CanVerify:    h.cfg.Levels != nil && c.Level < identity.LevelVerified,
		NoPhone:      c.Phone == "",
		NeedsReauth:  !h.fresh(s),
		ReauthURL:    loginURL(PathLevel),
	}
	if c.LevelMethod != "" {
		d.Method = label(t, "level.method.", c.LevelMethod)
	}
	if c.Level == identity.LevelVerified {
		d.PasskeysURL = h.cfg.PasskeysURL
	}
	switch r.URL.Query().Get("done") {
	case "raised":
		d.Notice = t.T("level.done")
	}
	if c.Level >= identity.LevelInPerson {
		d.Notice = t.T("level.top")
	}
	return d
}

func (h *Handler) levelPage(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.signedIn(w, r, PathLevel)
	if s == nil {
		return err
	}
	return h.cfg.UI.Render(w, r, web.PageAccountLevel, web.View{Data: h.levelData(r, s, c)})
}

// levelSend sends the phone code and shows the code form.
func (h *Handler) levelSend(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.change(w, r, PathLevel)
	if s == nil {
		return err
	}
	t := web.TextFor(web.Lang(r, nil))
	d := h.levelData(r, s, c)
	sent, err := h.cfg.Levels.SendPhoneCode(r.Context(), c, levelBinding(s), h.cfg.ClientIP(r))
	var rl *identity.RateLimitedError
	switch {
	case err == nil:
		d.CodeSent, d.MaskedPhone, d.Minutes = true, sent.MaskedPhone, minutes(sent.TTL)
	case errors.As(err, &rl) && rl.Scope == "sms-cooldown":
		d.CodeSent, d.Minutes = true, minutes(identity.DefaultOTPTTL)
		d.Notice = t.T("sms.cooldown", max(int(rl.RetryAfter.Seconds()+0.999), 1))
	case errors.Is(err, identity.ErrLevelReached):
		http.Redirect(w, r, PathLevel, http.StatusSeeOther)
		return nil
	case errors.Is(err, identity.ErrNoPhone):
		d.NoPhone = true
	default:
		status, msg, cerr := codeError(w, t, err)
		if cerr != nil {
			return cerr
		}
		d.Error = msg
		return h.cfg.UI.Render(w, r, web.PageAccountLevel, web.View{Status: status, Data: d})
	}
	return h.cfg.UI.Render(w, r, web.PageAccountLevel, web.View{Data: d})
}

// levelVerify checks the code, asks the verification service and raises
// the level.
func (h *Handler) levelVerify(w http.ResponseWriter, r *http.Request) error {
	s, c, err := h.change(w, r, PathLevel)
	if s == nil {
		return err
	}
	err = h.cfg.Levels.RaiseToVerified(r.Context(), c, levelBinding(s), r.PostFormValue("code"))
	if err == nil {
		done(w, r, PathLevel, "raised")
		return nil
	}
	t := web.TextFor(web.Lang(r, nil))
	d := h.levelData(r, s, c)
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, identity.ErrLevelReached):
		http.Redirect(w, r, PathLevel, http.StatusSeeOther)
		return nil
	case errors.Is(err, identity.ErrNoPhone):
		d.NoPhone = true
	case errors.Is(err, identity.ErrNotConfirmed):
		d.Error = t.T("level.notconfirmed")
	case errors.Is(err, identity.ErrUnavailable):
		status, d.Error = http.StatusServiceUnavailable, t.T("level.unavailable")
	default:
		var msg string
		status, msg, err = codeError(w, t, err)
		if err != nil {
			return err
		}
		d.CodeSent, d.Minutes, d.Error = true, minutes(identity.DefaultOTPTTL), msg
	}
	return h.cfg.UI.Render(w, r, web.PageAccountLevel, web.View{Status: status, Data: d})
}

// label is the catalog text of prefix+value, or value when there is none.
func label(t web.Text, prefix, value string) string {
	if t.Has(prefix + value) {
		return t.T(prefix + value)
	}
	return value
}

// maskName keeps the first character (the surname, usually) and stars the
// rest (DOMAIN §4.3).
func maskName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return ""
	}
	out := string(r[0])
	for range r[1:] {
		out += "*"
	}
	return out
}
