package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type recoveryFixture struct {
	*otpFixture
	r      *Recovery
	ender  *fakeEnder
	audit  *memAudit
	auth   *Authenticator
	hasher *PasswordHasher
}

func newRecoveryFixture(t *testing.T) *recoveryFixture {
	t.Helper()
	of := newOTPFixture(t)
	f := &recoveryFixture{otpFixture: of, ender: &fakeEnder{}, audit: newMemAudit(4), hasher: fastHasher()}
	f.auth = &Authenticator{Citizens: of.o.Citizens, Hasher: f.hasher, Limiter: of.o.Limiter, Now: of.clock.Now,
		Delay: func(int64) time.Duration { return 0 }}
	f.r = &Recovery{Citizens: of.o.Citizens, Codes: of.o, Hasher: f.hasher, Sessions: f.ender,
		Unlock: f.auth, Audit: f.audit, Now: of.clock.Now}
	return f
}

func (f *recoveryFixture) sendCode(t *testing.T, binding string) string {
	t.Helper()
	f.clock.Advance(DefaultOTPCooldown)
	if _, err := f.r.Send(t.Context(), otpNumber, binding, "192.0.2.1"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	return f.sender.lastCode(f.o)
}

func TestRecoverySetsPasswordEndsSessionsAndNotifies(t *testing.T) {
	f := newRecoveryFixture(t)
	ctx := t.Context()
	f.auth.Lockout = Limit{Max: 3, Window: time.Hour}
	for range 3 {
		_, _ = f.auth.Login(ctx, otpNumber, "not the password", "192.0.2.1")
	}
	if _, err := f.auth.Login(ctx, otpNumber, "whatever", "192.0.2.1"); !errors.Is(err, ErrPasswordLocked) {
		t.Fatalf("setup: %v, want locked", err)
	}

	code := f.sendCode(t, "")
	const pw = "a brand new river song"
	c, err := f.r.Reset(ctx, otpNumber, "", code, pw, "192.0.2.1")
	if err != nil || c.ID != f.citizen.ID {
		t.Fatalf("Reset = %v, %v", c, err)
	}
	if len(f.ender.ended) != 1 || f.ender.ended[0] != c.ID {
		t.Errorf("sessions ended for %v, want [%s]", f.ender.ended, c.ID)
	}
	if _, err := f.auth.Login(ctx, otpNumber, pw, "192.0.2.1"); err != nil {
		t.Errorf("login with the new password (lock cleared): %v", err)
	}
	f.o.Wait()
	last := f.sender.sent[len(f.sender.sent)-1]
	if last.phone != f.citizen.Phone || !strings.Contains(last.msg, "password was just changed") || codeRe.MatchString(last.msg) {
		t.Errorf("notice %q to %s: want the change notice, without a code, to the bound phone", last.msg, MaskPhone(last.phone))
	}
	var found *AuditEntry
	for _, chain := range f.audit.chains {
		for _, e := range chain {
			if e.Action == AuditPasswordRecovered {
				found = e
			}
		}
	}
	if found == nil || found.CitizenID != c.ID || found.Detail["method"] != "sms" || found.IP != "192.0.2.0/24" {
		t.Errorf("audit entry = %+v", found)
	}
	// The code was single use.
	if _, err := f.r.Reset(ctx, otpNumber, "", code, pw+"!", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("second use of the code: %v, want ErrNotFound", err)
	}
}

func TestRecoveryCodesAreTheirOwn(t *testing.T) {
	f := newRecoveryFixture(t)
	ctx := t.Context()
	login := f.send(t, "")
	if _, err := f.r.Reset(ctx, otpNumber, "", login, "a brand new river song", ""); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("a login code set a password: %v", err)
	}
	rec := f.sendCode(t, "")
	if _, err := f.o.VerifyLogin(ctx, otpNumber, "", rec); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("a recovery code signed in: %v", err)
	}
	if len(f.ender.ended) != 0 {
		t.Fatal("sessions ended without a recovery")
	}
}

func TestRecoveryPasswordPolicy(t *testing.T) {
	f := newRecoveryFixture(t)
	ctx := t.Context()
	code := f.sendCode(t, "b")
	var pe *PasswordError
	// Checked before the code: the code stays unused.
	if _, err := f.r.Reset(ctx, otpNumber, "b", code, "123456", ""); !errors.As(err, &pe) || pe.Reason != PasswordTooShort {
		t.Fatalf("short password: %v", err)
	}
	// The phone is the account's: checked after the code, which is put back.
	if _, err := f.r.Reset(ctx, otpNumber, "b", code, "call me on 13900139000", ""); !errors.As(err, &pe) || pe.Reason != PasswordPersonal {
		t.Fatalf("password with the name: %v", err)
	}
	if _, err := f.r.Reset(ctx, otpNumber, "b", code, "a brand new river song", ""); err != nil {
		t.Fatalf("same code, acceptable password: %v", err)
	}
}

func TestRecoveryNoEnumeration(t *testing.T) {
	f := newRecoveryFixture(t)
	ctx := t.Context()
	citizens := f.o.Citizens.(*memCitizens)
	noPhone := &Citizen{ID: "c2", Number: mustParse(t, ResidentID, "440524188001010014"), Name: "李四", Status: StatusActive}
	frozen := &Citizen{ID: "c3", Number: mustParse(t, ResidentID, withCheck("11010519800101001")), Name: "赵五", Phone: "+8613700137000", Status: StatusFrozen}
	for _, c := range []*Citizen{noPhone, frozen} {
		if err := citizens.CreateCitizen(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	unknown := withCheck("11010519800101002")
	var shapes []string
	for _, raw := range []string{otpNumber, noPhone.Number.Value(), frozen.Number.Value(), unknown} {
		f.clock.Advance(DefaultOTPCooldown)
		sent, err := f.r.Send(ctx, raw, "", "192.0.2.1")
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		shapes = append(shapes, strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '9'
			}
			return r
		}, sent.MaskedPhone)+sent.TTL.String()+sent.Cooldown.String())
		// Without the code every number fails alike.
		var ref *OTPRefusal
		if _, err := f.r.Reset(ctx, raw, "", "000000", "a brand new river song", ""); !errors.As(err, &ref) || ref.Left != DefaultOTPMaxFailures-1 {
			if code := f.sender.lastCode(f.o); code != "000000" {
				t.Fatalf("Reset without the code for %s: %v", MaskPhone(raw), err)
			}
		}
	}
	for _, s := range shapes[1:] {
		if s != shapes[0] {
			t.Errorf("answers differ in shape: %q", shapes)
		}
	}
	if n := f.sender.count(f.o); n != 1 {
		t.Errorf("%d messages delivered, want 1 (the real account's)", n)
	}
}
