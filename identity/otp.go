package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// OTP defaults (issue 3): 6 digits, 5-minute life, 5 wrong tries, one send
// per 60 s and 10 per day per account and per phone.
const (
	OTPDigits             = 6
	DefaultOTPTTL         = 5 * time.Minute
	DefaultOTPMaxFailures = 5
	DefaultOTPCooldown    = 60 * time.Second
	DefaultOTPDailySends  = 10
)

// DefaultOTPIPLimit bounds code requests from one address (many numbers).
var DefaultOTPIPLimit = Limit{Max: 50, Window: 15 * time.Minute}

// Purposes a code is bound to, besides the login flow.
const (
	OTPLogin  = "login"  // SMS as the only factor: amr [sms]
	OTPStepUp = "stepup" // SMS as the second factor after a password
)

// ErrNoPhone: the citizen has no bound phone, so no code can be sent for a
// step-up. (Login never says so: it answers as if a code was sent.)
var ErrNoPhone = errors.New("identity: no phone bound to the account")

// OTP is the SMS one-time-code use case: sending a code to the citizen's
// bound phone and checking it, for a login (SMS as the one factor) or a
// step-up (SMS as the second factor).
//
// No enumeration: SendLogin for an unknown number, a frozen account or one
// without a phone does the same work and gives the same answer as for a real
// one — the same rate limits, a code stored under the same kind of key (one
// that is never delivered), and a masked phone derived from the number —
// and delivery runs after the answer, so its latency shows nowhere.
//
// Codes are stored as HMAC-SHA256 under Secret, bound to the account, the
// purpose and the caller's binding (the login flow id), and never logged.
//
// Set the fields before first use and do not copy an OTP after.
type OTP struct {
	Citizens CitizenRepository
	Store    OTPStore
	Sender   Sender
	// Limiter counts sends; nil disables the send limits (tests only).
	Limiter RateLimiter
	// Secret keys the code hashes and the account and phone keys (at least
	// 16 bytes; cmd derives it from the master key).
	Secret []byte
	Now    func() time.Time // nil means time.Now

	TTL         time.Duration // zero means DefaultOTPTTL
	MaxFailures int           // zero means DefaultOTPMaxFailures
	Cooldown    time.Duration // zero means DefaultOTPCooldown
	DailySends  int64         // zero means DefaultOTPDailySends
	IPLimit     Limit         // zero means DefaultOTPIPLimit
	// Message builds the text; nil means a bilingual default. It receives
	// the code and the validity in minutes.
	Message func(code string, minutes int) string
	// OnSendError is told about failed deliveries (which happen after the
	// answer); nil drops them. The error never holds the code or the phone.
	OnSendError func(error)
	// SendTimeout bounds one delivery (default 10 s).
	SendTimeout time.Duration

	wg sync.WaitGroup
}

// OTPSent is the answer to a code request.
type OTPSent struct {
	MaskedPhone string        // where the code went, as the page may show it
	TTL         time.Duration // how long the code is valid
	Cooldown    time.Duration // how long before another code may be asked for
}

// SendLogin sends a login code to the bound phone of the account with
// document number raw. It returns a *NumberError for a malformed number, a
// *RateLimitedError (Scope "sms-cooldown", "sms-daily" or "ip") when too many
// codes were asked for, an *OTPRefusal (ErrOTPLocked) while the account is
// locked by wrong codes, or a wrapped port error; otherwise the same answer
// whether or not the number has an account with a phone.
func (o *OTP) SendLogin(ctx context.Context, raw, binding, clientIP string) (*OTPSent, error) {
	return o.sendToNumber(ctx, raw, OTPLogin, binding, clientIP)
}

// sendToNumber is SendLogin for any purpose that starts from a typed
// number (login, password recovery).
func (o *OTP) sendToNumber(ctx context.Context, raw, purpose, binding, clientIP string) (*OTPSent, error) {
	n, err := ParseAnyAt(raw, o.now())
	if err != nil {
		return nil, err
	}
	acct := o.accountKey(n)
	if err := o.limit(ctx, "ip", otpIPKey(clientIP), o.IPLimit, DefaultOTPIPLimit); err != nil {
		return nil, err
	}
	c, err := o.Citizens.CitizenByNumber(ctx, n)
	switch {
	case errors.Is(err, ErrNotFound):
		c = nil
	case err != nil:
		return nil, fmt.Errorf("identity: sms %s: %w", purpose, err)
	}
	phone, deliver := o.fakePhone(acct), false
	if c != nil && c.Phone != "" && c.Status == StatusActive {
		phone, deliver = c.Phone, true
	}
	return o.send(ctx, acct, phone, purpose, binding, deliver)
}

// VerifyLogin checks a login code for the account with document number raw.
// On success it returns the citizen. Errors: *NumberError, a *FieldError
// (Field "code") for a code that is not 6 digits, an *OTPRefusal for a wrong
// code or a locked account, ErrNotFound (wrapped) when no code is live
// (expired, used, never sent), or a wrapped port error. A code that matches
// for an account that cannot log in (none, frozen, no phone) cannot happen
// — such codes are never delivered — and is refused as a wrong code.
func (o *OTP) VerifyLogin(ctx context.Context, raw, binding, code string) (*Citizen, error) {
	n, err := ParseAnyAt(raw, o.now())
	if err != nil {
		return nil, err
	}
	code, err = ParseOTPCode(code)
	if err != nil {
		return nil, err
	}
	return o.verifyNumber(ctx, n, OTPLogin, binding, code)
}

// verifyNumber checks (and consumes) a parsed code sent by sendToNumber and
// returns the citizen it was delivered to.
func (o *OTP) verifyNumber(ctx context.Context, n Number, purpose, binding, code string) (*Citizen, error) {
	if err := o.use(ctx, o.accountKey(n), purpose, binding, code); err != nil {
		return nil, err
	}
	c, err := o.Citizens.CitizenByNumber(ctx, n)
	if err == nil && c.Status == StatusActive && c.Phone != "" {
		return c, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("identity: sms %s: %w", purpose, err)
	}
	return nil, &OTPRefusal{Reason: ErrOTPMismatch}
}

// SendStepUp sends a second-factor code to c's bound phone. ErrNoPhone when
// it has none; otherwise as SendLogin.
func (o *OTP) SendStepUp(ctx context.Context, c *Citizen, binding, clientIP string) (*OTPSent, error) {
	if c.Phone == "" {
		return nil, ErrNoPhone
	}
	if err := o.limit(ctx, "ip", otpIPKey(clientIP), o.IPLimit, DefaultOTPIPLimit); err != nil {
		return nil, err
	}
	return o.send(ctx, o.accountKey(c.Number), c.Phone, OTPStepUp, binding, c.Status == StatusActive)
}

// VerifyStepUp checks a second-factor code for c. Errors as VerifyLogin.
func (o *OTP) VerifyStepUp(ctx context.Context, c *Citizen, binding, code string) error {
	code, err := ParseOTPCode(code)
	if err != nil {
		return err
	}
	return o.use(ctx, o.accountKey(c.Number), OTPStepUp, binding, code)
}

// Wait blocks until every delivery started so far has finished (tests,
// shutdown).
func (o *OTP) Wait() { o.wg.Wait() }

func (o *OTP) send(ctx context.Context, acct, phone, purpose, binding string, deliver bool) (*OTPSent, error) {
	cooldown := o.cooldown()
	if err := o.sendLimits(ctx, "sms", acct, o.key("phone", phone)); err != nil {
		return nil, err
	}
	code := newOTPCode()
	ttl := o.ttl()
	if err := o.Store.PutOTP(ctx, acct, o.hash(acct, purpose, binding, code), ttl, o.maxFailures()); err != nil {
		return nil, fmt.Errorf("identity: send code: %w", err)
	}
	if deliver {
		o.deliver(ctx, phone, o.message(code, ttl))
	}
	return &OTPSent{MaskedPhone: MaskPhone(phone), TTL: ttl, Cooldown: cooldown}, nil
}

// sendLimits applies the cool-down and then the daily quota of channel
// ("sms", "mail") to each key — cool-downs first, so a refused request does
// not spend the daily quota. Refusals are *RateLimitedError with Scope
// channel+"-cooldown" or channel+"-daily".
func (o *OTP) sendLimits(ctx context.Context, channel string, keys ...string) error {
	for _, k := range keys {
		if err := o.limit(ctx, channel+"-cooldown", channel+":cool:"+k, Limit{Max: 1, Window: o.cooldown()}, Limit{}); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if err := o.limit(ctx, channel+"-daily", channel+":day:"+k, Limit{Max: o.dailySends(), Window: 24 * time.Hour}, Limit{}); err != nil {
			return err
		}
	}
	return nil
}

func (o *OTP) use(ctx context.Context, acct, purpose, binding, code string) error {
	if err := o.Store.UseOTP(ctx, acct, o.hash(acct, purpose, binding, code), o.maxFailures()); err != nil {
		return fmt.Errorf("identity: check code: %w", err)
	}
	return nil
}

// deliver sends in the background: the page's answer must not wait for (or
// reveal the latency of) the gateway.
func (o *OTP) deliver(ctx context.Context, phone, msg string) {
	timeout := o.SendTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	o.wg.Go(func() {
		defer cancel()
		if err := o.Sender.Send(ctx, phone, msg); err != nil && o.OnSendError != nil {
			o.OnSendError(fmt.Errorf("identity: deliver code to %s: %w", MaskPhone(phone), err))
		}
	})
}

func (o *OTP) message(code string, ttl time.Duration) string {
	mins := int((ttl + time.Minute - 1) / time.Minute)
	if o.Message != nil {
		return o.Message(code, mins)
	}
	return fmt.Sprintf("【一号】验证码 %s，%d 分钟内有效，请勿告诉他人。Yihao code %s, valid %d minutes. Do not share it.", code, mins, code, mins)
}

// hash binds a code to the account, the purpose and the binding (flow).
func (o *OTP) hash(acct, purpose, binding, code string) []byte {
	m := hmac.New(sha256.New, o.Secret)
	for _, s := range []string{"yihao-otp", acct, purpose, binding, code} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// key is a stable keyed hash: what Redis keys hold instead of a number or a
// phone.
func (o *OTP) key(kind, value string) string {
	m := hmac.New(sha256.New, o.Secret)
	m.Write([]byte("yihao-otp-key\x00" + kind + "\x00" + value))
	return hex.EncodeToString(m.Sum(nil)[:20])
}

func (o *OTP) accountKey(n Number) string { return o.key("account", string(n.Type())+"\x00"+n.Value()) }

// fakePhone is the phone shown for a number that will get no code: a
// plausible mainland mobile derived from the account key, the same every
// time, so asking twice does not tell a real phone from a made-up one.
func (o *OTP) fakePhone(acct string) string {
	m := hmac.New(sha256.New, o.Secret)
	m.Write([]byte("yihao-otp-fake-phone\x00" + acct))
	sum := m.Sum(nil)
	var b strings.Builder
	b.WriteString("+861")
	b.WriteByte("3456789"[sum[0]%7])
	for _, x := range sum[1:10] {
		b.WriteByte('0' + x%10)
	}
	return b.String()
}

func (o *OTP) limit(ctx context.Context, scope, key string, l, def Limit) error {
	if o.Limiter == nil || key == "" {
		return nil
	}
	if l.Max <= 0 || l.Window <= 0 {
		l = def
	}
	count, retry, err := o.Limiter.Hit(ctx, key, l.Window)
	if err != nil {
		return fmt.Errorf("identity: send code: rate limit: %w", err)
	}
	if count > l.Max {
		return &RateLimitedError{Scope: scope, RetryAfter: retry}
	}
	return nil
}

func otpIPKey(clientIP string) string {
	if k := ipKey(clientIP); k != "" {
		return "sms:" + k
	}
	return ""
}

func (o *OTP) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *OTP) ttl() time.Duration      { return orDefault(o.TTL, DefaultOTPTTL) }
func (o *OTP) maxFailures() int        { return orDefault(o.MaxFailures, DefaultOTPMaxFailures) }
func (o *OTP) cooldown() time.Duration { return orDefault(o.Cooldown, DefaultOTPCooldown) }
func (o *OTP) dailySends() int64       { return orDefault(o.DailySends, DefaultOTPDailySends) }

// orDefault is v when it is positive, def otherwise.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// newOTPCode returns 6 uniformly random decimal digits.
func newOTPCode() string {
	const space = 1_000_000
	const limit = (1 << 32) / space * space // reject the biased tail
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%06d", v%space)
		}
	}
}

// ParseOTPCode reads a code as typed: ASCII or full-width digits, with
// spaces and hyphens ignored, exactly 6 digits. It returns the ASCII digits,
// or a *FieldError (Field "code") that does not repeat the input.
func ParseOTPCode(raw string) (string, error) {
	if len(raw) > 64 {
		return "", &FieldError{Field: "code", Reason: FieldTooLong}
	}
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == ' ' || r == '-' || r == '\t' || r == '　':
		default:
			return "", &FieldError{Field: "code", Reason: FieldInvalid}
		}
	}
	switch s := b.String(); {
	case s == "":
		return "", &FieldError{Field: "code", Reason: FieldRequired}
	case len(s) != OTPDigits:
		return "", &FieldError{Field: "code", Reason: FieldInvalid}
	default:
		return s, nil
	}
}
