package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// fakeContacts accepts the code "123456" and records the changes.
type fakeContacts struct {
	removeErr error
	callers   []identity.ContactCaller
	changed   []string // kind=value
}

func (f *fakeContacts) PhoneOn() bool { return true }
func (f *fakeContacts) EmailOn() bool { return true }

func (f *fakeContacts) send(who identity.ContactCaller, value string, err error, mask func(string) string) (string, *identity.ContactCodeSent, error) {
	f.callers = append(f.callers, who)
	if err != nil {
		return "", nil, err
	}
	return value, &identity.ContactCodeSent{To: mask(value), TTL: 5 * time.Minute, Cooldown: time.Minute}, nil
}

func (f *fakeContacts) SendPhoneCode(_ context.Context, who identity.ContactCaller, raw string) (string, *identity.ContactCodeSent, error) {
	p, err := identity.NormalizePhone(raw)
	return f.send(who, p, err, identity.MaskPhone)
}

func (f *fakeContacts) SendEmailCode(_ context.Context, who identity.ContactCaller, raw string) (string, *identity.ContactCodeSent, error) {
	e, err := identity.NormalizeEmail(raw)
	return f.send(who, e, err, identity.MaskEmail)
}

func (f *fakeContacts) change(kind, value, code string) error {
	if code != "123456" {
		return &identity.OTPRefusal{Reason: identity.ErrOTPMismatch, Left: 4}
	}
	f.changed = append(f.changed, kind+"="+value)
	return nil
}

func (f *fakeContacts) ChangePhone(_ context.Context, _ identity.ContactCaller, phone, code string) error {
	return f.change("phone", phone, code)
}

func (f *fakeContacts) ChangeEmail(_ context.Context, _ identity.ContactCaller, email, code string) error {
	return f.change("email", email, code)
}

func (f *fakeContacts) RemovePhone(context.Context, identity.ContactCaller) error {
	if f.removeErr != nil {
		return f.removeErr
	}
	f.changed = append(f.changed, "phone=")
	return nil
}

func (f *fakeContacts) RemoveEmail(context.Context, identity.ContactCaller) error {
	f.changed = append(f.changed, "email=")
	return nil
}

func newContactEnv(t *testing.T) (*env, *fakeContacts) {
	f := &fakeContacts{}
	return newEnv(t, false, func(c *Config) { c.Contact = f }), f
}

func TestContactPageShowsMaskedValues(t *testing.T) {
	e, _ := newContactEnv(t)
	b := e.browser(e.signIn("cit-1", time.Minute, ""))
	w := b.get("/account/contact")
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "139****9000") || strings.Contains(body, "13900139000") {
		t.Fatalf("status %d:\n%.2000s", w.Code, body)
	}
	for _, action := range []string{"/account/contact/phone", "/account/contact/email", "/account/contact/phone/remove"} {
		if !strings.Contains(body, `action="`+action+`"`) {
			t.Errorf("no form to %s", action)
		}
	}
	if strings.Contains(body, `id="contact-reauth"`) {
		t.Error("a fresh login is asked to sign in again")
	}
	// The profile links here.
	if !strings.Contains(b.get("/account").Body.String(), `href="/account/contact"`) {
		t.Error("no link from the profile")
	}
}

func TestContactChangeWithACode(t *testing.T) {
	e, f := newContactEnv(t)
	s := e.signIn("cit-1", time.Minute, "")
	b := e.browser(s)
	b.get("/account/contact")
	w := b.post("/account/contact/email", url.Values{"email": {"Zhang@Example.com"}})
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "Z***@example.com") || !strings.Contains(body, `name="email" value="Zhang@example.com"`) {
		t.Fatalf("code page: %d\n%.2000s", w.Code, body)
	}
	if who := f.callers[0]; who.CitizenID != "cit-1" || who.SessionID != s.ID || !who.AuthTime.Equal(s.AuthTime) || who.ClientIP == "" {
		t.Fatalf("caller %+v", who)
	}
	w = b.post("/account/contact/email/verify", url.Values{"email": {"Zhang@example.com"}, "code": {"000000"}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "4") {
		t.Fatalf("wrong code: %d\n%.1500s", w.Code, w.Body.String())
	}
	wantRedirect(t, b.post("/account/contact/email/verify", url.Values{"email": {"Zhang@example.com"}, "code": {"123456"}}),
		"/account/contact?done=email-changed")
	if len(f.changed) != 1 || f.changed[0] != "email=Zhang@example.com" {
		t.Fatalf("changed %v", f.changed)
	}
	if !strings.Contains(b.get("/account/contact?done=email-changed").Body.String(), "电子邮箱已绑定") {
		t.Error("no confirmation")
	}
	// A malformed phone is shown again with its message.
	w = b.post("/account/contact/phone", url.Values{"phone": {"12345"}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="phone-error"`) {
		t.Fatalf("bad phone: %d\n%.1500s", w.Code, w.Body.String())
	}
}

func TestContactChangesNeedAFreshLogin(t *testing.T) {
	e, f := newContactEnv(t)
	b := e.browser(e.signIn("cit-1", DefaultFreshFor+time.Minute, ""))
	if body := b.get("/account/contact").Body.String(); !strings.Contains(body, `id="contact-reauth"`) {
		t.Fatalf("stale session not told to sign in again:\n%.1500s", body)
	}
	for _, path := range []string{"/account/contact/phone", "/account/contact/phone/verify", "/account/contact/phone/remove",
		"/account/contact/email", "/account/contact/email/verify", "/account/contact/email/remove"} {
		wantRedirect(t, b.post(path, url.Values{"phone": {"13800138000"}, "email": {"a@example.com"}, "code": {"123456"}}),
			"/login?return=%2Faccount%2Fcontact")
	}
	if len(f.callers) != 0 || len(f.changed) != 0 {
		t.Fatalf("a stale session reached the use case: %v %v", f.callers, f.changed)
	}
}

func TestContactRemovePhoneRefusedExplains(t *testing.T) {
	e, f := newContactEnv(t)
	f.removeErr = identity.ErrLastRecoveryFactor
	b := e.browser(e.signIn("cit-1", time.Minute, ""))
	b.get("/account/contact")
	w := b.post("/account/contact/phone/remove", url.Values{})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "通行密钥") || !strings.Contains(w.Body.String(), `href="/account/passkeys"`) {
		t.Fatalf("refusal: %d\n%.2000s", w.Code, w.Body.String())
	}
	f.removeErr = errors.New("boom")
	if w := b.post("/account/contact/phone/remove", url.Values{}); w.Code != http.StatusInternalServerError {
		t.Fatalf("other error: %d", w.Code)
	}
}
