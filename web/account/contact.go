package account

// The phone and email page, /account/contact (identity.Contact):
//
//	GET  /account/contact               what is bound (masked), the forms
//	POST /account/contact/phone         phone=<new>: a code to the new phone, then the code form
//	POST /account/contact/phone/verify  phone, code: bind it (the old phone and the address are told)
//	POST /account/contact/phone/remove  unbind it (refused while it is the only way to recover and there is no passkey)
//	POST /account/contact/email         email=<new>: a code to the new address, then the code form
//	POST /account/contact/email/verify  email, code: bind it (the old address and the phone are told)
//	POST /account/contact/email/remove  unbind it
//
// Every POST needs a login at most FreshFor old, like the other changes of
// the account centre: a stale session changes nothing and is sent to sign
// in again, coming back here. The new value travels in the form body only
// (a hidden field of the code form); the code is bound to it and to the
// session, so editing the field only makes the code wrong.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/web"
)

// Contacts changes the citizen's phone and email (*identity.Contact).
// Errors are those of identity.Contact.
type Contacts interface {
	PhoneOn() bool
	EmailOn() bool
	SendPhoneCode(ctx context.Context, who identity.ContactCaller, raw string) (string, *identity.ContactCodeSent, error)
	ChangePhone(ctx context.Context, who identity.ContactCaller, phone, code string) error
	RemovePhone(ctx context.Context, who identity.ContactCaller) error
	SendEmailCode(ctx context.Context, who identity.ContactCaller, raw string) (string, *identity.ContactCodeSent, error)
	ChangeEmail(ctx context.Context, who identity.ContactCaller, email, code string) error
	RemoveEmail(ctx context.Context, who identity.ContactCaller) error
}

const pathContact = "/account/contact"

func init() {
	notices["phone-changed"] = "contact.done.phone"
	notices["phone-removed"] = "contact.done.phoneremoved"
	notices["email-changed"] = "contact.done.email"
	notices["email-removed"] = "contact.done.emailremoved"
}

// contactKind is what differs between the phone and the email forms.
type contactKind struct {
	name   string // "phone" or "email": the form field and the path
	send   func(Contacts, context.Context, identity.ContactCaller, string) (string, *identity.ContactCodeSent, error)
	change func(Contacts, context.Context, identity.ContactCaller, string, string) error
	remove func(Contacts, context.Context, identity.ContactCaller) error
}

var (
	phoneKind = contactKind{"phone", Contacts.SendPhoneCode, Contacts.ChangePhone, Contacts.RemovePhone}
	emailKind = contactKind{"email", Contacts.SendEmailCode, Contacts.ChangeEmail, Contacts.RemoveEmail}
)

// mountContact adds the routes above. Without Contacts the page only shows
// what is bound.
func (h *Handler) mountContact(mux *http.ServeMux) {
	ui := h.cfg.UI
	mux.Handle("GET "+pathContact, ui.Page(h.contactPage))
	if h.cfg.Contact == nil {
		return
	}
	for _, k := range []contactKind{phoneKind, emailKind} {
		base := pathContact + "/" + k.name
		mux.Handle("POST "+base, ui.Page(h.contactSend(k)))
		mux.Handle("POST "+base+"/verify", ui.Page(h.contactVerify(k)))
		mux.Handle("POST "+base+"/remove", ui.Page(h.contactRemove(k)))
	}
}

// contactData is the page for the signed-in citizen.
func (h *Handler) contactData(r *http.Request, s *identity.Session) (web.AccountContactData, error) {
	c, err := h.cfg.Citizens.Citizen(r.Context(), s.CitizenID)
	if err != nil {
		return web.AccountContactData{}, err
	}
	d := web.AccountContactData{
		AccountPage: h.page(r, pathContact),
		MaskedPhone: MaskPhone(c.Phone), // as the profile shows it
		MaskedEmail: identity.MaskEmail(c.Email),
		NeedsReauth: !h.isFresh(s),
		ReauthURL:   "/login?return=" + pathContact,
	}
	if h.cfg.Contact != nil {
		d.PhoneOn, d.EmailOn = h.cfg.Contact.PhoneOn(), h.cfg.Contact.EmailOn()
	}
	return d, nil
}

func (h *Handler) contactPage(w http.ResponseWriter, r *http.Request) error {
	s, err := h.session(w, r, pathContact)
	if s == nil {
		return err
	}
	d, err := h.contactData(r, s)
	if err != nil {
		return err
	}
	return h.cfg.UI.Render(w, r, web.PageAccountContact, web.View{Data: d})
}

// changer is the session of a change: live and fresh, or nil after the
// answer (303 to the login page).
func (h *Handler) changer(w http.ResponseWriter, r *http.Request) (*identity.Session, identity.ContactCaller, error) {
	s, err := h.session(w, r, pathContact)
	if s == nil || !h.fresh(w, r, s, pathContact) {
		return nil, identity.ContactCaller{}, err
	}
	return s, identity.ContactCaller{CitizenID: s.CitizenID, SessionID: s.ID, AuthTime: s.AuthTime, ClientIP: clientIP(r)}, nil
}

// contactSend sends a code to the new value and shows the code form.
func (h *Handler) contactSend(k contactKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, who, err := h.changer(w, r)
		if s == nil {
			return err
		}
		t := web.TextFor(web.Lang(r, nil))
		raw := r.PostFormValue(k.name)
		value, sent, err := k.send(h.cfg.Contact, r.Context(), who, raw)
		var rl *identity.RateLimitedError
		switch {
		case err == nil:
			return h.cfg.UI.Render(w, r, web.PageAccountContactCode, web.View{Data: web.AccountContactCodeData{
				AccountPage: h.page(r, pathContact), Kind: k.name, Value: value, MaskedTo: sent.To, Minutes: minutes(sent.TTL)}})
		case errors.As(err, &rl) && (rl.Scope == "sms-cooldown" || rl.Scope == "mail-cooldown"):
			// A code went out a moment ago: let the citizen enter it.
			d := web.AccountContactCodeData{AccountPage: h.page(r, pathContact), Kind: k.name, Minutes: minutes(identity.DefaultOTPTTL)}
			if d.Value, d.MaskedTo = normalized(k, raw); d.Value == "" {
				break
			}
			d.Notice = t.T("sms.cooldown", max(int(rl.RetryAfter.Seconds()+0.999), 1))
			return h.cfg.UI.Render(w, r, web.PageAccountContactCode, web.View{Data: d})
		case errors.Is(err, identity.ErrReauthenticate):
			toLogin(w, r, pathContact)
			return nil
		}
		d, derr := h.contactData(r, s)
		if derr != nil {
			return derr
		}
		status, msg, ferr := h.contactError(w, t, k, err)
		if ferr != nil {
			return ferr
		}
		if k.name == "phone" {
			d.Phone, d.PhoneError = limit(raw), msg
		} else {
			d.Email, d.EmailError = limit(raw), msg
		}
		return h.cfg.UI.Render(w, r, web.PageAccountContact, web.View{Status: status, Data: d})
	}
}

// contactVerify checks the code and binds the new value.
func (h *Handler) contactVerify(k contactKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, who, err := h.changer(w, r)
		if s == nil {
			return err
		}
		raw := r.PostFormValue(k.name)
		err = k.change(h.cfg.Contact, r.Context(), who, raw, r.PostFormValue("code"))
		var fe *identity.FieldError
		switch {
		case err == nil:
			done(w, r, pathContact, k.name+"-changed")
			return nil
		case errors.Is(err, identity.ErrReauthenticate):
			toLogin(w, r, pathContact)
			return nil
		case errors.As(err, &fe) && fe.Field == k.name:
			return web.Error(http.StatusBadRequest, "error.badrequest") // the hidden field was edited
		}
		t := web.TextFor(web.Lang(r, nil))
		status, msg, err := codeError(w, t, err)
		if err != nil {
			return err
		}
		d := web.AccountContactCodeData{AccountPage: h.page(r, pathContact), Kind: k.name, Minutes: minutes(identity.DefaultOTPTTL), Error: msg}
		d.Value, d.MaskedTo = normalized(k, raw)
		return h.cfg.UI.Render(w, r, web.PageAccountContactCode, web.View{Status: status, Data: d})
	}
}

// contactRemove unbinds the phone or the address.
func (h *Handler) contactRemove(k contactKind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, who, err := h.changer(w, r)
		if s == nil {
			return err
		}
		err = k.remove(h.cfg.Contact, r.Context(), who)
		switch {
		case err == nil:
			done(w, r, pathContact, k.name+"-removed")
			return nil
		case errors.Is(err, identity.ErrReauthenticate):
			toLogin(w, r, pathContact)
			return nil
		case !errors.Is(err, identity.ErrLastRecoveryFactor):
			return err
		}
		d, err := h.contactData(r, s)
		if err != nil {
			return err
		}
		d.Error, d.PasskeysURL = web.TextFor(web.Lang(r, nil)).T("contact.error.lastfactor"), h.cfg.PasskeysURL
		return h.cfg.UI.Render(w, r, web.PageAccountContact, web.View{Status: http.StatusConflict, Data: d})
	}
}

// contactError maps the errors of asking for a code to the form's status
// and message; other errors are returned for the edge.
func (h *Handler) contactError(w http.ResponseWriter, t web.Text, k contactKind, err error) (int, string, error) {
	var (
		fe     *identity.FieldError
		rl     *identity.RateLimitedError
		refuse *identity.OTPRefusal
	)
	switch {
	case errors.As(err, &fe) && fe.Reason == identity.FieldRequired:
		return http.StatusBadRequest, t.T("contact.error.required"), nil
	case errors.As(err, &fe) && fe.Reason == identity.FieldTooLong:
		return http.StatusBadRequest, t.T("contact.error.toolong"), nil
	case errors.As(err, &fe):
		return http.StatusBadRequest, t.T("contact.error." + k.name), nil
	case errors.Is(err, identity.ErrContactUnchanged):
		return http.StatusBadRequest, t.T("contact.error.same." + k.name), nil
	case errors.Is(err, identity.ErrContactOff):
		return http.StatusNotFound, t.T("contact." + k.name + ".off"), nil
	case errors.As(err, &refuse):
		retryAfter(w, refuse.RetryAfter)
		return http.StatusTooManyRequests, t.T("sms.locked", minutes(refuse.RetryAfter)), nil
	case errors.As(err, &rl):
		retryAfter(w, rl.RetryAfter)
		return http.StatusTooManyRequests, rl.Localize(t.Lang), nil
	}
	return 0, "", err
}

// codeError maps the errors of checking a code to the code form's status
// and message; other errors are returned for the edge.
func codeError(w http.ResponseWriter, t web.Text, err error) (int, string, error) {
	var (
		fe     *identity.FieldError
		refuse *identity.OTPRefusal
	)
	switch {
	case errors.As(err, &fe):
		return http.StatusBadRequest, t.T("contact.code.invalid"), nil
	case errors.As(err, &refuse) && errors.Is(err, identity.ErrOTPLocked):
		retryAfter(w, refuse.RetryAfter)
		return http.StatusTooManyRequests, t.T("sms.locked", minutes(refuse.RetryAfter)), nil
	case errors.As(err, &refuse) && refuse.Left <= 0:
		return http.StatusBadRequest, t.T("sms.code.wrong.last"), nil
	case errors.As(err, &refuse):
		return http.StatusBadRequest, t.T("sms.code.wrong", refuse.Left), nil
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusBadRequest, t.T("sms.code.expired"), nil
	}
	return 0, "", err
}

// normalized is the value of the code form and its masked form, or "" for
// a value that does not parse.
func normalized(k contactKind, raw string) (string, string) {
	if k.name == "phone" {
		if p, err := identity.NormalizePhone(raw); err == nil {
			return p, identity.MaskPhone(p)
		}
		return "", ""
	}
	if e, err := identity.NormalizeEmail(raw); err == nil {
		return e, identity.MaskEmail(e)
	}
	return "", ""
}

// isFresh is fresh without the answer: whether the page should ask the
// citizen to sign in again before they try.
func (h *Handler) isFresh(s *identity.Session) bool {
	age := h.cfg.Now().Sub(s.AuthTime)
	return age >= 0 && age <= h.cfg.FreshFor
}

// limit keeps what is shown again in a form to a sane length.
func limit(s string) string {
	if len(s) > 256 {
		return ""
	}
	return s
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func minutes(d time.Duration) int { return max(int((d+time.Minute-1)/time.Minute), 1) }

func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(int(d.Seconds()+0.999), 1)))
}
