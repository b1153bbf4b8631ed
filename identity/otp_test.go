package identity

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// memOTP is an in-memory OTPStore on a fake clock, with the semantics the
// port documents (store/storetest checks the real backends).
type memOTP struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]*memOTPEntry
}

type memOTPEntry struct {
	hash     []byte
	failures int
	end      time.Time
}

var _ OTPStore = (*memOTP)(nil)

func newMemOTP(now func() time.Time) *memOTP {
	return &memOTP{now: now, entries: map[string]*memOTPEntry{}}
}

func (m *memOTP) live(key string) *memOTPEntry {
	e := m.entries[key]
	if e != nil && !m.now().Before(e.end) {
		delete(m.entries, key)
		return nil
	}
	return e
}

func (m *memOTP) PutOTP(_ context.Context, key string, hash []byte, ttl time.Duration, max int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil {
		e = &memOTPEntry{}
		m.entries[key] = e
	}
	if e.failures >= max {
		return &OTPRefusal{Reason: ErrOTPLocked, RetryAfter: e.end.Sub(m.now())}
	}
	e.hash, e.end = bytes.Clone(hash), m.now().Add(ttl)
	return nil
}

func (m *memOTP) UseOTP(_ context.Context, key string, hash []byte, max int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	switch {
	case e == nil:
		return ErrNotFound
	case e.failures >= max:
		return &OTPRefusal{Reason: ErrOTPLocked, RetryAfter: e.end.Sub(m.now())}
	case e.hash == nil:
		return ErrNotFound
	case bytes.Equal(e.hash, hash):
		delete(m.entries, key)
		return nil
	}
	e.failures++
	if e.failures >= max {
		e.hash = nil
	}
	return &OTPRefusal{Reason: ErrOTPMismatch, Left: max - e.failures}
}

// recordSender keeps what it was asked to send.
type recordSender struct {
	mu   sync.Mutex
	sent []struct{ phone, msg string }
}

func (s *recordSender) Send(_ context.Context, phone, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, struct{ phone, msg string }{phone, msg})
	return nil
}

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode returns the code of the last message sent (after waiting for
// delivery), or "".
func (s *recordSender) lastCode(o *OTP) string {
	o.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 {
		return ""
	}
	return codeRe.FindString(s.sent[len(s.sent)-1].msg)
}

func (s *recordSender) count(o *OTP) int {
	o.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

const (
	otpNumber     = "11010519491231002X"
	unknownNumber = "440524188001010014"
)

type otpFixture struct {
	o       *OTP
	clock   *fakeClock
	sender  *recordSender
	store   *memOTP
	citizen *Citizen
}

func newOTPFixture(t *testing.T) *otpFixture {
	t.Helper()
	clock := &fakeClock{t: testNow}
	citizens := newMemCitizens()
	n, err := ParseAt(ResidentID, otpNumber, testNow)
	if err != nil {
		t.Fatal(err)
	}
	c := &Citizen{ID: "c1", Number: n, Name: "张三", Phone: "+8613900139000", Status: StatusActive, Level: LevelSelfAsserted}
	if err := citizens.CreateCitizen(t.Context(), c, ""); err != nil {
		t.Fatal(err)
	}
	f := &otpFixture{clock: clock, sender: &recordSender{}, store: newMemOTP(clock.Now), citizen: c}
	f.o = &OTP{Citizens: citizens, Store: f.store, Sender: f.sender, Limiter: newMemLimiter(clock.Now),
		Secret: []byte("0123456789abcdef0123456789abcdef"), Now: clock.Now}
	return f
}

// send asks for a login code and returns it (after the cool-down).
func (f *otpFixture) send(t *testing.T, binding string) string {
	t.Helper()
	f.clock.Advance(DefaultOTPCooldown)
	if _, err := f.o.SendLogin(t.Context(), otpNumber, binding, "192.0.2.1"); err != nil {
		t.Fatalf("SendLogin: %v", err)
	}
	return f.sender.lastCode(f.o)
}

func wrong(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestOTPLoginSucceedsOnceWithTheRightCode(t *testing.T) {
	f := newOTPFixture(t)
	code := f.send(t, "flow-1")
	if len(code) != 6 {
		t.Fatalf("no 6-digit code in the message")
	}
	if got := f.sender.sent[0].phone; got != f.citizen.Phone {
		t.Fatalf("sent to %s, want the bound phone", MaskPhone(got))
	}
	c, err := f.o.VerifyLogin(t.Context(), otpNumber, "flow-1", code)
	if err != nil || c.ID != f.citizen.ID {
		t.Fatalf("VerifyLogin = %v, %v", c, err)
	}
	// Single use.
	if _, err := f.o.VerifyLogin(t.Context(), otpNumber, "flow-1", code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second VerifyLogin: %v, want ErrNotFound", err)
	}
}

func TestOTPCodeIsStoredHashedAndBoundToTheFlow(t *testing.T) {
	f := newOTPFixture(t)
	code := f.send(t, "flow-1")
	for _, e := range f.store.entries {
		if bytes.Contains(e.hash, []byte(code)) || len(e.hash) != 32 {
			t.Fatalf("stored value is not a 32-byte hash")
		}
	}
	if f.o.hash("a", OTPLogin, "flow-1", code) == nil ||
		bytes.Equal(f.o.hash("a", OTPLogin, "flow-1", code), f.o.hash("a", OTPLogin, "flow-2", code)) ||
		bytes.Equal(f.o.hash("a", OTPLogin, "flow-1", code), f.o.hash("a", OTPStepUp, "flow-1", code)) {
		t.Fatal("hash does not bind the flow and the purpose")
	}
	var r *OTPRefusal
	if _, err := f.o.VerifyLogin(t.Context(), otpNumber, "flow-2", code); !errors.As(err, &r) || !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("code from another flow: %v, want a mismatch", err)
	}
	if err := f.o.VerifyStepUp(t.Context(), f.citizen, "flow-1", code); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("login code used for a step-up: %v, want a mismatch", err)
	}
}

func TestOTPFiveWrongTriesLockAndResendDoesNotReset(t *testing.T) {
	f := newOTPFixture(t)
	ctx := t.Context()
	code := f.send(t, "flow")
	for i := range 3 {
		var r *OTPRefusal
		_, err := f.o.VerifyLogin(ctx, otpNumber, "flow", wrong(code))
		if !errors.As(err, &r) || r.Left != 4-i {
			t.Fatalf("wrong try %d: %v, want %d left", i+1, err, 4-i)
		}
	}
	code = f.send(t, "flow") // a new code keeps the count
	for i := range 2 {
		_, err := f.o.VerifyLogin(ctx, otpNumber, "flow", wrong(code))
		if !errors.Is(err, ErrOTPMismatch) {
			t.Fatalf("wrong try %d after resend: %v", i+4, err)
		}
	}
	if _, err := f.o.VerifyLogin(ctx, otpNumber, "flow", code); !errors.Is(err, ErrOTPLocked) {
		t.Fatalf("right code after 5 wrong tries: %v, want locked", err)
	}
	f.clock.Advance(DefaultOTPCooldown)
	if _, err := f.o.SendLogin(ctx, otpNumber, "flow", "192.0.2.1"); !errors.Is(err, ErrOTPLocked) {
		t.Fatalf("new code while locked: %v, want locked", err)
	}
	f.clock.Advance(DefaultOTPTTL) // the entry ends: codes are taken again
	code = f.send(t, "flow")
	if _, err := f.o.VerifyLogin(ctx, otpNumber, "flow", code); err != nil {
		t.Fatalf("after the lock ended: %v", err)
	}
}

func TestOTPExpires(t *testing.T) {
	f := newOTPFixture(t)
	code := f.send(t, "flow")
	f.clock.Advance(DefaultOTPTTL)
	if _, err := f.o.VerifyLogin(t.Context(), otpNumber, "flow", code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired code: %v, want ErrNotFound", err)
	}
}

func TestOTPSendLimits(t *testing.T) {
	f := newOTPFixture(t)
	ctx := t.Context()
	f.send(t, "flow")
	var rl *RateLimitedError
	_, err := f.o.SendLogin(ctx, otpNumber, "flow", "192.0.2.1")
	if !errors.As(err, &rl) || rl.Scope != "sms-cooldown" || rl.RetryAfter <= 0 || rl.RetryAfter > DefaultOTPCooldown {
		t.Fatalf("resend within the cool-down: %v", err)
	}
	for range DefaultOTPDailySends - 1 {
		f.send(t, "flow")
	}
	f.clock.Advance(DefaultOTPCooldown)
	if _, err := f.o.SendLogin(ctx, otpNumber, "flow", "192.0.2.1"); !errors.As(err, &rl) || rl.Scope != "sms-daily" {
		t.Fatalf("send %d in a day: %v, want sms-daily", DefaultOTPDailySends+1, err)
	}
	if n := f.sender.count(f.o); n != DefaultOTPDailySends {
		t.Fatalf("%d messages sent, want %d", n, DefaultOTPDailySends)
	}
}

// An unknown number, a frozen account and one without a phone get the same
// kind of answer as a real one — a masked mobile, stable across requests,
// the same limits — and nothing is sent.
func TestOTPNoEnumeration(t *testing.T) {
	f := newOTPFixture(t)
	ctx := t.Context()
	real, err := f.o.SendLogin(ctx, otpNumber, "flow", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	fake, err := f.o.SendLogin(ctx, unknownNumber, "flow", "192.0.2.1")
	if err != nil {
		t.Fatalf("unknown number: %v", err)
	}
	if real.MaskedPhone != "139****9000" {
		t.Fatalf("masked phone %q", real.MaskedPhone)
	}
	if !regexp.MustCompile(`^1[3-9]\d\*{4}\d{4}$`).MatchString(fake.MaskedPhone) || fake.TTL != real.TTL || fake.Cooldown != real.Cooldown {
		t.Fatalf("unknown number answered %+v, real %+v", fake, real)
	}
	if _, err := f.o.SendLogin(ctx, unknownNumber, "flow", "192.0.2.1"); !errors.As(err, new(*RateLimitedError)) {
		t.Fatalf("unknown number has no cool-down: %v", err)
	}
	f.clock.Advance(DefaultOTPCooldown)
	again, _ := f.o.SendLogin(ctx, unknownNumber, "flow", "192.0.2.1")
	if again == nil || again.MaskedPhone != fake.MaskedPhone {
		t.Fatalf("masked phone for an unknown number changed: %+v vs %+v", again, fake)
	}
	if n := f.sender.count(f.o); n != 1 {
		t.Fatalf("%d messages sent, want 1 (the real account)", n)
	}
	// Wrong codes count for the unknown number as for a real one.
	var r *OTPRefusal
	if _, err := f.o.VerifyLogin(ctx, unknownNumber, "flow", "123456"); !errors.As(err, &r) || r.Left != DefaultOTPMaxFailures-1 {
		t.Fatalf("unknown number, wrong code: %v", err)
	}
	// Frozen and phoneless accounts get no message either.
	if err := f.o.Citizens.SetStatus(ctx, f.citizen.ID, StatusFrozen); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultOTPCooldown)
	frozen, err := f.o.SendLogin(ctx, otpNumber, "flow", "192.0.2.1")
	if err != nil || frozen.MaskedPhone == "" {
		t.Fatalf("frozen: %+v, %v", frozen, err)
	}
	if n := f.sender.count(f.o); n != 1 {
		t.Fatalf("a code was sent to a frozen account")
	}
}

func TestOTPStepUp(t *testing.T) {
	f := newOTPFixture(t)
	ctx := t.Context()
	sent, err := f.o.SendStepUp(ctx, f.citizen, "flow|sid", "192.0.2.1")
	if err != nil || sent.MaskedPhone != "139****9000" {
		t.Fatalf("SendStepUp = %+v, %v", sent, err)
	}
	code := f.sender.lastCode(f.o)
	if err := f.o.VerifyStepUp(ctx, f.citizen, "flow|other", code); !errors.Is(err, ErrOTPMismatch) {
		t.Fatalf("other binding: %v", err)
	}
	if err := f.o.VerifyStepUp(ctx, f.citizen, "flow|sid", code); err != nil {
		t.Fatalf("VerifyStepUp: %v", err)
	}
	noPhone := *f.citizen
	noPhone.Phone = ""
	if _, err := f.o.SendStepUp(ctx, &noPhone, "b", ""); !errors.Is(err, ErrNoPhone) {
		t.Fatalf("no phone: %v", err)
	}
}

func TestOTPDeliveryFailureIsReportedWithoutTheCode(t *testing.T) {
	f := newOTPFixture(t)
	var got []error
	var mu sync.Mutex
	f.o.Sender = senderFunc(func(context.Context, string, string) error { return errors.New("gateway said no") })
	f.o.OnSendError = func(err error) { mu.Lock(); got = append(got, err); mu.Unlock() }
	if _, err := f.o.SendLogin(t.Context(), otpNumber, "flow", ""); err != nil {
		t.Fatal(err)
	}
	f.o.Wait()
	if len(got) != 1 || strings.Contains(got[0].Error(), "13900139000") || codeRe.MatchString(got[0].Error()) {
		t.Fatalf("OnSendError got %v", got)
	}
}

type senderFunc func(ctx context.Context, phone, msg string) error

func (f senderFunc) Send(ctx context.Context, phone, msg string) error { return f(ctx, phone, msg) }

func TestParseOTPCode(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		reason         FieldReason
	}{
		{name: "digits", in: "012345", want: "012345"},
		{name: "spaces and hyphen", in: " 012 - 345 ", want: "012345"},
		{name: "full-width", in: "０１２３４５", want: "012345"},
		{name: "ideographic space", in: "012　345", want: "012345"},
		{name: "empty", in: "", reason: FieldRequired},
		{name: "blank", in: "  ", reason: FieldRequired},
		{name: "five", in: "01234", reason: FieldInvalid},
		{name: "seven", in: "0123456", reason: FieldInvalid},
		{name: "letter", in: "01234a", reason: FieldInvalid},
		{name: "arabic-indic digits", in: "٠١٢٣٤٥", reason: FieldInvalid},
		{name: "long", in: strings.Repeat("1", 65), reason: FieldTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOTPCode(tc.in)
			var fe *FieldError
			switch {
			case tc.reason == "" && (err != nil || got != tc.want):
				t.Fatalf("ParseOTPCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			case tc.reason != "" && (!errors.As(err, &fe) || fe.Reason != tc.reason || fe.Field != "code"):
				t.Fatalf("ParseOTPCode(%q) error %v, want %s", tc.in, err, tc.reason)
			}
		})
	}
}

func FuzzParseOTPCode(f *testing.F) {
	for _, s := range []string{"123456", " 12 34 56", "０１２３４５", "", "12345a", "\xff\xfe", "1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ParseOTPCode(raw)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "code" {
				t.Fatalf("error %T %v", err, err)
			}
			if len(raw) >= 4 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error repeats the input")
			}
			return
		}
		if len(got) != OTPDigits || strings.Trim(got, "0123456789") != "" {
			t.Fatalf("ParseOTPCode(%q) = %q", raw, got)
		}
		if again, err := ParseOTPCode(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestNewOTPCodeIsSixDigits(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := newOTPCode()
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+8613900139000": "139****9000",
		"+447911123456":  "+44********56",
		"+1234":          "*****",
		"":               "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDevSenderKeepsTheLastMessagesAndMasksThePhone(t *testing.T) {
	var out bytes.Buffer
	d := &DevSender{Out: &out, Keep: 2}
	for _, m := range []string{"one 111111", "two 222222", "three 333333"} {
		if err := d.Send(t.Context(), "+8613900139000", m); err != nil {
			t.Fatal(err)
		}
	}
	r := d.Recent()
	if len(r) != 2 || r[0].Message != "three 333333" || r[1].Message != "two 222222" || r[0].MaskedPhone != "139****9000" {
		t.Fatalf("Recent = %+v", r)
	}
	if strings.Contains(out.String(), "13900139000") || !strings.Contains(out.String(), "333333") {
		t.Fatalf("console output %q", out.String())
	}
}
