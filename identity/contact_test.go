package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// memContacts is the ContactStore over memCitizens.
type memContacts struct{ *memCitizens }

func (m memContacts) set(id string, f func(*Citizen)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[id]
	if !ok {
		return ErrNotFound
	}
	f(c)
	return nil
}

func (m memContacts) SetCitizenPhone(_ context.Context, id, phone string) error {
	return m.set(id, func(c *Citizen) { c.Phone = phone })
}

func (m memContacts) SetCitizenEmail(_ context.Context, id, email string) error {
	return m.set(id, func(c *Citizen) { c.Email = email })
}

// recordMailer keeps what it was asked to mail.
type recordMailer struct {
	mu   sync.Mutex
	sent []struct{ to, subject, body string }
}

func (m *recordMailer) Mail(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, struct{ to, subject, body string }{to, subject, body})
	return nil
}

func (m *recordMailer) to(addr string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, s := range m.sent {
		if s.to == addr {
			out = append(out, s.body)
		}
	}
	return out
}

type fakePasskeys int

func (n fakePasskeys) Passkeys(context.Context, string) ([]*Passkey, error) {
	return make([]*Passkey, int(n)), nil
}

type contactFixture struct {
	*otpFixture
	k      *Contact
	mailer *recordMailer
	audit  *memAudit
	who    ContactCaller
}

func newContactFixture(t *testing.T) *contactFixture {
	t.Helper()
	f := newOTPFixture(t)
	cf := &contactFixture{otpFixture: f, mailer: &recordMailer{}, audit: newMemAudit(1)}
	cf.k = &Contact{Citizens: f.o.Citizens, Store: memContacts{f.o.Citizens.(*memCitizens)}, Codes: f.o,
		Mailer: cf.mailer, Audit: cf.audit, Now: f.clock.Now}
	cf.who = ContactCaller{CitizenID: f.citizen.ID, SessionID: "sid-1", AuthTime: testNow, ClientIP: "192.0.2.1"}
	return cf
}

func (cf *contactFixture) citizen(t *testing.T) *Citizen {
	t.Helper()
	c, err := cf.k.Citizens.Citizen(t.Context(), cf.id())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (cf *contactFixture) id() string { return cf.otpFixture.citizen.ID }

func (cf *contactFixture) actions() []AuditAction {
	var out []AuditAction
	for _, e := range cf.audit.all() {
		out = append(out, e.Action)
	}
	return out
}

// sentTo returns the messages texted to phone.
func (cf *contactFixture) sentTo(phone string) []string {
	cf.k.Wait()
	cf.sender.mu.Lock()
	defer cf.sender.mu.Unlock()
	var out []string
	for _, s := range cf.sender.sent {
		if s.phone == phone {
			out = append(out, s.msg)
		}
	}
	return out
}

func TestChangePhoneWithACodeToTheNewPhone(t *testing.T) {
	cf := newContactFixture(t)
	cf.mailer.sent = nil
	if err := cf.k.Store.SetCitizenEmail(t.Context(), cf.id(), "zhang@example.com"); err != nil {
		t.Fatal(err)
	}
	phone, sent, err := cf.k.SendPhoneCode(t.Context(), cf.who, "138 0013 8000")
	if err != nil {
		t.Fatalf("SendPhoneCode: %v", err)
	}
	if phone != "+8613800138000" || sent.To != "138****8000" {
		t.Fatalf("phone %q to %q", phone, sent.To)
	}
	msgs := cf.sentTo(phone)
	if len(msgs) != 1 {
		t.Fatalf("new phone got %d messages", len(msgs))
	}
	code := codeRe.FindString(msgs[0])

	// The code works in its own session and for its own phone only.
	other := cf.who
	other.SessionID = "sid-2"
	if err := cf.k.ChangePhone(t.Context(), other, phone, code); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("other session: %v, want a mismatch", err)
	}
	if err := cf.k.ChangePhone(t.Context(), cf.who, "+8613700137000", code); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("other phone: %v, want a mismatch", err)
	}
	if err := cf.k.ChangePhone(t.Context(), cf.who, phone, code); err != nil {
		t.Fatalf("ChangePhone: %v", err)
	}
	if got := cf.citizen(t).Phone; got != phone {
		t.Fatalf("phone = %q", got)
	}
	// The old phone and the address are told, masked, without a code.
	old := cf.sentTo("+8613900139000")
	if len(old) != 1 || !strings.Contains(old[0], "138****8000") || codeRe.MatchString(old[0]) {
		t.Fatalf("old phone got %q", old)
	}
	if mails := cf.mailer.to("zhang@example.com"); len(mails) != 1 || !strings.Contains(mails[0], "138****8000") {
		t.Fatalf("address got %q", mails)
	}
	if got := cf.actions(); len(got) != 1 || got[0] != AuditContactPhoneChanged {
		t.Fatalf("audit %v", got)
	}
	e := cf.audit.all()[0]
	if e.Detail["previous"] != "replaced" || e.SessionID != "sid-1" || e.Actor != ActorCitizen+cf.id() {
		t.Fatalf("entry %+v", e)
	}
	// A used code is gone.
	if err := cf.k.ChangePhone(t.Context(), cf.who, phone, code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reuse: %v", err)
	}
}

func TestContactChangesNeedAFreshLogin(t *testing.T) {
	cf := newContactFixture(t)
	stale := cf.who
	stale.AuthTime = testNow.Add(-DefaultContactFreshFor - time.Second)
	for name, call := range map[string]func() error{
		"send phone": func() error { _, _, err := cf.k.SendPhoneCode(t.Context(), stale, "13800138000"); return err },
		"phone":      func() error { return cf.k.ChangePhone(t.Context(), stale, "13800138000", "123456") },
		"rm phone":   func() error { return cf.k.RemovePhone(t.Context(), stale) },
		"send email": func() error { _, _, err := cf.k.SendEmailCode(t.Context(), stale, "a@example.com"); return err },
		"email":      func() error { return cf.k.ChangeEmail(t.Context(), stale, "a@example.com", "123456") },
		"rm email":   func() error { return cf.k.RemoveEmail(t.Context(), stale) },
	} {
		if err := call(); !errors.Is(err, ErrReauthenticate) {
			t.Errorf("%s: %v, want ErrReauthenticate", name, err)
		}
	}
	if n := cf.sender.count(cf.o); n != 0 || len(cf.mailer.sent) != 0 || len(cf.audit.all()) != 0 {
		t.Fatalf("stale requests sent %d texts, %d mails, %d entries", n, len(cf.mailer.sent), len(cf.audit.all()))
	}
}

func TestRemovePhoneNeedsAPasskey(t *testing.T) {
	cf := newContactFixture(t)
	if err := cf.k.RemovePhone(t.Context(), cf.who); !errors.Is(err, ErrLastRecoveryFactor) {
		t.Fatalf("without a passkey: %v", err)
	}
	if cf.citizen(t).Phone == "" {
		t.Fatal("phone removed anyway")
	}
	cf.k.Passkeys = fakePasskeys(1)
	if err := cf.k.RemovePhone(t.Context(), cf.who); err != nil {
		t.Fatalf("with a passkey: %v", err)
	}
	if p := cf.citizen(t).Phone; p != "" {
		t.Fatalf("phone = %q", p)
	}
	if old := cf.sentTo("+8613900139000"); len(old) != 1 || !strings.Contains(old[0], "解除绑定") {
		t.Fatalf("old phone got %q", old)
	}
	want := []AuditAction{AuditContactPhoneKept, AuditContactPhoneRemoved}
	if got := cf.actions(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("audit %v, want %v", got, want)
	}
	// Nothing to remove: nothing happens.
	if err := cf.k.RemovePhone(t.Context(), cf.who); err != nil || len(cf.actions()) != 2 {
		t.Fatalf("again: %v, %v", err, cf.actions())
	}
}

func TestEmailAddChangeRemove(t *testing.T) {
	cf := newContactFixture(t)
	mailCodeOf := func(addr string) string {
		t.Helper()
		cf.k.Wait()
		m := cf.mailer.to(addr)
		if len(m) == 0 {
			t.Fatalf("nothing mailed to %s", addr)
		}
		return codeRe.FindString(m[len(m)-1])
	}
	email, sent, err := cf.k.SendEmailCode(t.Context(), cf.who, " Zhang.San@Example.COM ")
	if err != nil {
		t.Fatalf("SendEmailCode: %v", err)
	}
	if email != "Zhang.San@example.com" || sent.To != "Z***@example.com" {
		t.Fatalf("email %q to %q", email, sent.To)
	}
	// Asking again at once is the cool-down.
	var rl *RateLimitedError
	if _, _, err := cf.k.SendEmailCode(t.Context(), cf.who, email); !errors.As(err, &rl) || rl.Scope != "mail-cooldown" {
		t.Fatalf("second request: %v", err)
	}
	// A wrong code counts; the right one binds.
	code := mailCodeOf(email)
	if err := cf.k.ChangeEmail(t.Context(), cf.who, email, wrong(code)); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := cf.k.ChangeEmail(t.Context(), cf.who, email, code); err != nil {
		t.Fatalf("ChangeEmail: %v", err)
	}
	if got := cf.citizen(t).Email; got != email {
		t.Fatalf("email = %q", got)
	}
	// The phone is told about the new address.
	if msgs := cf.sentTo("+8613900139000"); len(msgs) != 1 || !strings.Contains(msgs[0], "Z***@example.com") {
		t.Fatalf("phone got %q", msgs)
	}
	if _, _, err := cf.k.SendEmailCode(t.Context(), cf.who, "Zhang.San@EXAMPLE.com"); !errors.Is(err, ErrContactUnchanged) {
		t.Fatalf("unchanged: %v", err)
	}

	// Change: the old address is told.
	cf.clock.Advance(DefaultOTPCooldown)
	next, _, err := cf.k.SendEmailCode(t.Context(), cf.who, "li@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := cf.k.ChangeEmail(t.Context(), cf.who, next, mailCodeOf(next)); err != nil {
		t.Fatal(err)
	}
	cf.k.Wait()
	if old := cf.mailer.to(email); len(old) != 2 || !strings.Contains(old[1], "l***@example.org") || codeRe.MatchString(old[1]) {
		t.Fatalf("old address got %q", old)
	}

	// Remove: the address and the phone are told.
	if err := cf.k.RemoveEmail(t.Context(), cf.who); err != nil {
		t.Fatal(err)
	}
	cf.k.Wait()
	if got := cf.citizen(t).Email; got != "" {
		t.Fatalf("email = %q", got)
	}
	if len(cf.mailer.to(next)) != 2 {
		t.Fatalf("removed address got %q", cf.mailer.to(next))
	}
	want := []AuditAction{AuditContactEmailChanged, AuditContactEmailChanged, AuditContactEmailRemoved}
	got := cf.actions()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("audit %v, want %v", got, want)
	}
	for _, e := range cf.audit.all() {
		for _, v := range e.Detail {
			if strings.Contains(v, "@") {
				t.Fatalf("audit holds an address: %+v", e)
			}
		}
	}
}

func TestContactWithoutSenders(t *testing.T) {
	cf := newContactFixture(t)
	cf.k.Mailer = nil
	if _, _, err := cf.k.SendEmailCode(t.Context(), cf.who, "a@example.com"); !errors.Is(err, ErrContactOff) {
		t.Fatalf("no mailer: %v", err)
	}
	cf.k.Codes.Sender = nil
	if _, _, err := cf.k.SendPhoneCode(t.Context(), cf.who, "13800138000"); !errors.Is(err, ErrContactOff) {
		t.Fatalf("no SMS: %v", err)
	}
	if _, _, err := newContactFixture(t).k.SendPhoneCode(t.Context(), cf.who, "139 0013 9000"); !errors.Is(err, ErrContactUnchanged) {
		t.Fatalf("same phone: %v", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		reason         FieldReason
	}{
		{"plain", "zhang@example.com", "zhang@example.com", ""},
		{"domain folded, local kept", "Zhang@Mail.Example.CN", "Zhang@mail.example.cn", ""},
		{"spaces around", "\t zhang@example.com \u3000", "zhang@example.com", ""},
		{"full-width from an IME", "ｚｈａｎｇ＠ｅｘａｍｐｌｅ。ｃｏｍ", "zhang@example.com", ""},
		{"atext", "a.b+tag_x!#$%&'*/=?^`{|}~-@example.com", "a.b+tag_x!#$%&'*/=?^`{|}~-@example.com", ""},
		{"empty", "  ", "", FieldRequired},
		{"no at", "zhang.example.com", "", FieldInvalid},
		{"two ats", "a@b@example.com", "", FieldInvalid},
		{"space inside", "zhang san@example.com", "", FieldInvalid},
		{"leading dot", ".zhang@example.com", "", FieldInvalid},
		{"double dot", "zh..ang@example.com", "", FieldInvalid},
		{"quoted", `"zhang"@example.com`, "", FieldInvalid},
		{"one label", "zhang@localhost", "", FieldInvalid},
		{"numeric tld", "zhang@10.0.0.1", "", FieldInvalid},
		{"literal", "zhang@[10.0.0.1]", "", FieldInvalid},
		{"hyphen edge", "zhang@-example.com", "", FieldInvalid},
		{"unicode", "张三@例子.中国", "", FieldInvalid},
		{"long local", strings.Repeat("a", 65) + "@example.com", "", FieldInvalid},
		{"too long", strings.Repeat("a", 60) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".com", "", FieldTooLong},
		{"control", "zhang\x00@example.com", "", FieldInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeEmail(tc.in)
			var fe *FieldError
			switch {
			case tc.reason == "" && (err != nil || got != tc.want):
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			case tc.reason != "" && (!errors.As(err, &fe) || fe.Reason != tc.reason || fe.Field != "email"):
				t.Fatalf("error %v, want %s", err, tc.reason)
			case err != nil && strings.Contains(err.Error(), "@"):
				t.Fatalf("error repeats the input: %v", err)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"zhang@example.com": "z***@example.com",
		"z@example.com":     "z***@example.com",
		"":                  "",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDevMailerKeepsTheLastMessagesMasked(t *testing.T) {
	var out strings.Builder
	d := &DevMailer{Out: &out, Keep: 2}
	for _, to := range []string{"a1@example.com", "b2@example.com", "c3@example.com"} {
		_ = d.Mail(t.Context(), to, "subject", "body\nline")
	}
	r := d.Recent()
	if len(r) != 2 || r[0].MaskedTo != "c***@example.com" || r[1].MaskedTo != "b***@example.com" {
		t.Fatalf("recent %+v", r)
	}
	if strings.Contains(out.String(), "c3@") || !strings.Contains(out.String(), "body line") {
		t.Fatalf("console %q", out.String())
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"zhang@example.com", "Ａ＠Ｂ。ｃｎ", "a@b", " x.y+z@Sub.Example.ORG ", "@", "a@@b.c", "\u3000a@b.cn"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeEmail(raw)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "email" {
				t.Fatalf("error %v is not an email FieldError", err)
			}
			return
		}
		if len(got) > MaxEmailLength || strings.Count(got, "@") != 1 {
			t.Fatalf("%q: bad result %q", raw, got)
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", raw, got, again, err)
		}
		if at := strings.IndexByte(got, '@'); MaskEmail(got) != got[:1]+"***"+got[at:] {
			t.Fatalf("mask %q of %q", MaskEmail(got), got)
		}
	})
}
