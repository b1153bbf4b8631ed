package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// memTOTP is an in-memory TOTPRepository.
type memTOTP struct {
	mu    sync.Mutex
	creds map[string]TOTPCredential
}

var _ TOTPRepository = (*memTOTP)(nil)

func (m *memTOTP) PutPendingTOTP(_ context.Context, c *TOTPCredential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.creds[c.CitizenID]; ok && old.Confirmed {
		return ErrAlreadyExists
	}
	m.creds[c.CitizenID] = *c
	return nil
}

func (m *memTOTP) CitizenTOTP(_ context.Context, id string) (*TOTPCredential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[id]
	if !ok {
		return nil, ErrNotFound
	}
	return &c, nil
}

func (m *memTOTP) ConfirmTOTP(_ context.Context, citizenID, id string, step int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[citizenID]
	if !ok || c.Confirmed || c.ID != id {
		return ErrConflict
	}
	c.Confirmed, c.LastStep = true, step
	m.creds[citizenID] = c
	return nil
}

func (m *memTOTP) UseCitizenTOTPStep(_ context.Context, citizenID string, step int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[citizenID]
	if !ok || !c.Confirmed {
		return ErrNotFound
	}
	if step <= c.LastStep {
		return ErrConflict
	}
	c.LastStep = step
	m.creds[citizenID] = c
	return nil
}

func (m *memTOTP) DeleteCitizenTOTP(_ context.Context, citizenID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.creds[citizenID]; !ok {
		return ErrNotFound
	}
	delete(m.creds, citizenID)
	return nil
}

type totpFixture struct {
	f     *TOTPFactor
	repo  *memTOTP
	clock *fakeClock
	audit *memAudit
	c     *Citizen
}

func newTOTPFixture(t *testing.T) *totpFixture {
	t.Helper()
	n, err := ParseAt(ResidentID, otpNumber, testNow)
	if err != nil {
		t.Fatal(err)
	}
	x := &totpFixture{repo: &memTOTP{creds: map[string]TOTPCredential{}}, clock: &fakeClock{t: testNow}, audit: newMemAudit(2),
		c: &Citizen{ID: "c1", Number: n, Name: "张三", Status: StatusActive, Level: LevelSelfAsserted}}
	x.f = &TOTPFactor{Repo: x.repo, Limiter: newMemLimiter(x.clock.Now), Audit: x.audit, Now: x.clock.Now}
	return x
}

// enrol begins and confirms, and returns the secret.
func (x *totpFixture) enrol(t *testing.T) TOTPSecret {
	t.Helper()
	e, err := x.f.Begin(t.Context(), x.c)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	secret := x.repo.creds[x.c.ID].Secret
	if err := x.f.Confirm(t.Context(), x.c, e.ID, secret.TOTPCode(x.clock.Now())); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	return secret
}

func TestTOTPEnrolment(t *testing.T) {
	x := newTOTPFixture(t)
	ctx := t.Context()
	first, err := x.f.Begin(ctx, x.c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.URI, "otpauth://totp/") || strings.Contains(first.URI, otpNumber) || len(first.Secret) != 32 {
		t.Fatalf("enrolment = %+v", first)
	}
	if ok, _, _ := x.f.Enrolled(ctx, x.c.ID); ok {
		t.Fatal("enrolled before confirmation")
	}
	// A second Begin (another tab) replaces the pending secret: the first
	// enrolment can no longer be confirmed, even with its right code.
	firstSecret := x.repo.creds[x.c.ID].Secret
	second, err := x.f.Begin(ctx, x.c)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.f.Confirm(ctx, x.c, first.ID, firstSecret.TOTPCode(x.clock.Now())); !errors.Is(err, ErrConflict) {
		t.Fatalf("confirm a replaced enrolment: %v", err)
	}
	if p, err := x.f.Pending(ctx, x.c); err != nil || p.ID != second.ID || p.Secret != second.Secret {
		t.Fatalf("Pending = %+v, %v", p, err)
	}
	secret := x.repo.creds[x.c.ID].Secret
	if err := x.f.Confirm(ctx, x.c, second.ID, wrong(secret.TOTPCode(x.clock.Now()))); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("confirm with a wrong code: %v", err)
	}
	if err := x.f.Confirm(ctx, x.c, second.ID, secret.TOTPCode(x.clock.Now())); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if ok, _, _ := x.f.Enrolled(ctx, x.c.ID); !ok {
		t.Fatal("not enrolled after confirmation")
	}
	if _, err := x.f.Pending(ctx, x.c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Pending after confirmation: %v (the secret must not be shown again)", err)
	}
	if _, err := x.f.Begin(ctx, x.c); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("Begin while enrolled: %v", err)
	}
	// The confirming code was used: it does not work again at a step-up.
	if err := x.f.Verify(ctx, x.c.ID, secret.TOTPCode(x.clock.Now())); !errors.Is(err, ErrTOTPReplayed) {
		t.Fatalf("the confirming code at a step-up: %v", err)
	}
	if err := x.f.Remove(ctx, x.c.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := x.f.Enrolled(ctx, x.c.ID); ok {
		t.Fatal("enrolled after removal")
	}
	var got []AuditAction
	for _, ch := range x.audit.chains {
		for _, e := range ch {
			got = append(got, e.Action)
		}
	}
	if len(got) != 2 || got[0] != AuditTOTPEnrolled || got[1] != AuditTOTPRemoved {
		t.Fatalf("audit = %v", got)
	}
}

func TestTOTPStepUpCodeIsSingleUseWithinItsStep(t *testing.T) {
	x := newTOTPFixture(t)
	ctx := t.Context()
	secret := x.enrol(t)
	x.clock.Advance(TOTPPeriod)
	code := secret.TOTPCode(x.clock.Now())
	if err := x.f.Verify(ctx, x.c.ID, code); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := x.f.Verify(ctx, x.c.ID, code); !errors.Is(err, ErrTOTPReplayed) {
		t.Fatalf("replay in the same step: %v", err)
	}
	// The previous step's code is within the skew but not after the last
	// used step: refused too.
	if err := x.f.Verify(ctx, x.c.ID, secret.TOTPCode(x.clock.Now().Add(-TOTPPeriod))); err == nil {
		t.Fatal("an older code was accepted after a newer one")
	}
	x.clock.Advance(TOTPPeriod)
	if err := x.f.Verify(ctx, x.c.ID, secret.TOTPCode(x.clock.Now())); err != nil {
		t.Fatalf("next step's code: %v", err)
	}
	if err := x.f.Verify(ctx, x.c.ID, "12a456"); err == nil {
		t.Fatal("a malformed code was accepted")
	}
	if err := x.f.Verify(ctx, "nobody", code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no authenticator: %v", err)
	}
}

func TestTOTPFiveWrongCodesLockFor15Minutes(t *testing.T) {
	x := newTOTPFixture(t)
	ctx := t.Context()
	secret := x.enrol(t)
	x.clock.Advance(TOTPPeriod)
	right := secret.TOTPCode(x.clock.Now())
	for i := 1; i <= 5; i++ {
		var r *OTPRefusal
		if err := x.f.Verify(ctx, x.c.ID, wrong(right)); !errors.As(err, &r) || !errors.Is(err, ErrOTPMismatch) || r.Left != 5-i {
			t.Fatalf("wrong try %d: %v", i, err)
		}
	}
	var r *OTPRefusal
	if err := x.f.Verify(ctx, x.c.ID, right); !errors.As(err, &r) || !errors.Is(err, ErrOTPLocked) || r.RetryAfter <= 0 {
		t.Fatalf("right code while locked: %v", err)
	}
	x.clock.Advance(15 * time.Minute)
	right = secret.TOTPCode(x.clock.Now())
	if err := x.f.Verify(ctx, x.c.ID, right); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
