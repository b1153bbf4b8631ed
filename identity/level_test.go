package identity

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// SetLevel completes memCitizens (fakes_test.go) as a CitizenRepository.
func (m *memCitizens) SetLevel(_ context.Context, id string, level Level, method string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	c, ok := m.byID[id]
	if !ok {
		return ErrNotFound
	}
	c.Level, c.LevelMethod, c.LevelAt = level, method, at
	return nil
}

type levelFixture struct {
	*otpFixture
	l        *Leveler
	citizens *memCitizens
	audit    *memAudit
	verifier *DevVerifier
}

func newLevelFixture(t *testing.T) *levelFixture {
	f := &levelFixture{otpFixture: newOTPFixture(t), audit: newMemAudit(4), verifier: &DevVerifier{}}
	f.citizens = f.o.Citizens.(*memCitizens)
	f.l = &Leveler{Citizens: f.citizens, Verifier: f.verifier, VerifierName: "dev", Codes: f.o,
		Limiter: newMemLimiter(f.clock.Now), Audit: f.audit, Now: f.clock.Now}
	return f
}

func (f *levelFixture) code(t *testing.T, c *Citizen, binding string) string {
	t.Helper()
	f.clock.Advance(DefaultOTPCooldown)
	if _, err := f.l.SendPhoneCode(t.Context(), c, binding, "192.0.2.1"); err != nil {
		t.Fatalf("SendPhoneCode: %v", err)
	}
	return f.sender.lastCode(f.o)
}

func (f *levelFixture) actions() []AuditAction {
	var out []AuditAction
	for _, chain := range f.audit.chains {
		for _, e := range chain {
			out = append(out, e.Action)
		}
	}
	return out
}

func TestLevelRaisedToVerifiedWithPhoneCodeAndMatch(t *testing.T) {
	f := newLevelFixture(t)
	ctx := t.Context()
	c := f.citizen
	code := f.code(t, c, "sid-1")
	if err := f.l.RaiseToVerified(ctx, c, "sid-other", code); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("code of another session: %v", err)
	}
	if err := f.l.RaiseToVerified(ctx, c, "sid-1", code); err != nil {
		t.Fatalf("RaiseToVerified: %v", err)
	}
	got, _ := f.citizens.Citizen(ctx, c.ID)
	if got.Level != LevelVerified || got.LevelMethod != LevelMethodIDCheck || !got.LevelAt.Equal(f.clock.Now()) {
		t.Fatalf("citizen after raise: level %d method %q at %v", got.Level, got.LevelMethod, got.LevelAt)
	}
	if c.Level != LevelVerified {
		t.Error("the caller's citizen was not updated")
	}
	if a := f.actions(); len(a) != 1 || a[0] != AuditLevelRaised {
		t.Fatalf("audit = %v", a)
	}
	for _, chain := range f.audit.chains {
		for _, e := range chain {
			d := e.Detail
			if d["from"] != "1" || d["to"] != "2" || d["method"] != LevelMethodIDCheck || d["verifier"] != "dev" {
				t.Errorf("audit detail = %v", d)
			}
			for _, v := range d {
				if strings.Contains(v, otpNumber) || strings.Contains(v, c.Name) {
					t.Errorf("audit detail holds the number or name: %v", d)
				}
			}
		}
	}
	if _, err := f.l.SendPhoneCode(ctx, c, "sid-1", ""); !errors.Is(err, ErrLevelReached) {
		t.Fatalf("send at level 2: %v", err)
	}
	if err := f.l.RaiseToVerified(ctx, c, "sid-1", code); !errors.Is(err, ErrLevelReached) {
		t.Fatalf("raise at level 2: %v", err)
	}
}

func TestLevelCodeIsSingleUseAndPurposeBound(t *testing.T) {
	f := newLevelFixture(t)
	ctx := t.Context()
	// A step-up code for the same binding is not a phone-check code.
	f.clock.Advance(DefaultOTPCooldown)
	if _, err := f.o.SendStepUp(ctx, f.citizen, "sid-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.l.RaiseToVerified(ctx, f.citizen, "sid-1", f.sender.lastCode(f.o)); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("step-up code used for the level: %v", err)
	}
	code := f.code(t, f.citizen, "sid-1")
	f.verifier.Down = true
	if err := f.l.RaiseToVerified(ctx, f.citizen, "sid-1", code); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("verifier down: %v, want ErrUnavailable", err)
	}
	f.verifier.Down = false
	if err := f.l.RaiseToVerified(ctx, f.citizen, "sid-1", code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the code again: %v, want ErrNotFound (spent)", err)
	}
	if f.citizen.Level != LevelSelfAsserted {
		t.Fatal("level raised without a verification")
	}
}

func TestLevelNoMatchIsAuditedAndAttemptsAreLimited(t *testing.T) {
	f := newLevelFixture(t)
	ctx := t.Context()
	f.verifier.NoMatch = []string{otpNumber}
	for i := range DefaultVerifyAttempts.Max {
		code := f.code(t, f.citizen, "sid")
		if err := f.l.RaiseToVerified(ctx, f.citizen, "sid", code); !errors.Is(err, ErrNotConfirmed) {
			t.Fatalf("try %d: %v, want ErrNotConfirmed", i+1, err)
		}
	}
	code := f.code(t, f.citizen, "sid")
	var rl *RateLimitedError
	if err := f.l.RaiseToVerified(ctx, f.citizen, "sid", code); !errors.As(err, &rl) || rl.Scope != "verify" {
		t.Fatalf("attempt beyond the limit: %v", err)
	}
	if a := f.actions(); len(a) != int(DefaultVerifyAttempts.Max) || a[0] != AuditLevelRefused {
		t.Fatalf("audit = %v", a)
	}
}

func TestLevelNeedsAPhone(t *testing.T) {
	f := newLevelFixture(t)
	c := *f.citizen
	c.Phone = ""
	if _, err := f.l.SendPhoneCode(t.Context(), &c, "sid", ""); !errors.Is(err, ErrNoPhone) {
		t.Fatalf("send without phone: %v", err)
	}
	if err := f.l.RaiseToVerified(t.Context(), &c, "sid", "123456"); !errors.Is(err, ErrNoPhone) {
		t.Fatalf("raise without phone: %v", err)
	}
}

func TestLevelRaisedByPasskeyOnlyFromLevel2(t *testing.T) {
	f := newLevelFixture(t)
	ctx := t.Context()
	if raised, err := f.l.RaiseByPasskey(ctx, f.citizen.ID); err != nil || raised {
		t.Fatalf("level 1 + passkey = %v, %v; want unchanged", raised, err)
	}
	_ = f.citizens.SetLevel(ctx, f.citizen.ID, LevelVerified, LevelMethodIDCheck, f.clock.Now())
	f.clock.Advance(time.Hour)
	if raised, err := f.l.RaiseByPasskey(ctx, f.citizen.ID); err != nil || !raised {
		t.Fatalf("level 2 + passkey = %v, %v", raised, err)
	}
	got, _ := f.citizens.Citizen(ctx, f.citizen.ID)
	if got.Level != LevelInPerson || got.LevelMethod != LevelMethodPasskey || !got.LevelAt.Equal(f.clock.Now()) {
		t.Fatalf("after passkey: %d %q %v", got.Level, got.LevelMethod, got.LevelAt)
	}
	if raised, _ := f.l.RaiseByPasskey(ctx, f.citizen.ID); raised {
		t.Fatal("raised again at level 3")
	}
}

func TestDevVerifier(t *testing.T) {
	ctx := t.Context()
	good, _ := Parse(ResidentID, otpNumber)
	never, err := Parse(ResidentID, DevNoMatchNumber)
	if err != nil {
		t.Fatalf("DevNoMatchNumber is not a valid number: %v", err)
	}
	for _, tc := range []struct {
		name string
		d    *DevVerifier
		n    Number
		who  string
		want Verdict
		err  error
	}{
		{"valid number and name", &DevVerifier{}, good, "张三", VerdictMatch, nil},
		{"empty name", &DevVerifier{}, good, "  ", VerdictNoMatch, nil},
		{"the test number", &DevVerifier{}, never, "张三", VerdictNoMatch, nil},
		{"configured numbers", &DevVerifier{NoMatch: []string{otpNumber}}, good, "张三", VerdictNoMatch, nil},
		{"down", &DevVerifier{Down: true}, good, "张三", VerdictNoMatch, ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.d.Verify(ctx, tc.n, tc.who)
			if v != tc.want || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("Verify = %v, %v; want %v, %v", v, err, tc.want, tc.err)
			}
		})
	}
}
