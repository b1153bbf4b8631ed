package identity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The purposes of contact-change codes: a code sent to confirm a new phone
// confirms nothing else (no login, no step-up, no other address).
const (
	OTPContactPhone = "contact-phone"
	OTPContactEmail = "contact-email"
)

// DefaultContactFreshFor is how recent the login behind a contact change
// must be (the account centre's rule for every sensitive change).
const DefaultContactFreshFor = 10 * time.Minute

// Errors of the contact use case.
var (
	// ErrReauthenticate: the login behind the request is older than
	// FreshFor; the citizen signs in again and repeats the change.
	ErrReauthenticate = errors.New("identity: sign in again before this change")
	// ErrContactUnchanged: the new phone or address is the one bound already.
	ErrContactUnchanged = errors.New("identity: that phone or email address is already bound")
	// ErrLastRecoveryFactor: the phone may not be removed: it is the only
	// way to recover the account (password recovery goes by SMS) and the
	// citizen has no passkey to sign in without a password.
	ErrLastRecoveryFactor = errors.New("identity: the phone is the account's only way to recover; add a passkey before removing it")
	// ErrContactOff: no sender for this kind of contact is configured.
	ErrContactOff = errors.New("identity: this kind of contact cannot be changed here")
)

// ContactStore changes a citizen's contact details (SQL). ErrNotFound for
// no such citizen.
type ContactStore interface {
	// SetCitizenPhone binds a phone (E.164) or unbinds it ("").
	SetCitizenPhone(ctx context.Context, citizenID, phone string) error
	// SetCitizenEmail binds an address (as NormalizeEmail leaves it) or
	// unbinds it ("").
	SetCitizenEmail(ctx context.Context, citizenID, email string) error
}

// ContactCaller is who asks for a contact change: the signed-in citizen,
// their SSO session (a code works only in the session that asked for it)
// and when that session last authenticated.
type ContactCaller struct {
	CitizenID string
	SessionID string
	AuthTime  time.Time
	ClientIP  string
}

// ContactCodeSent is the answer to a request for a confirmation code.
type ContactCodeSent struct {
	To       string        // the new phone or address, masked
	TTL      time.Duration // how long the code is valid
	Cooldown time.Duration // how long before another code may be asked for
}

// Contact is the citizen's own management of their phone and email address
// (the account centre's "Phone and email").
//
//   - A new phone or address is bound only after a code sent to it is
//     entered; the code is bound to the session and to the new value, and
//     goes through OTP's store and limits (its own entry per account and
//     channel, so a login code asked for by someone who knows the number
//     does not replace it).
//   - The phone that was replaced or removed gets a text, and the address
//     that was replaced or removed an email, saying what changed (masked);
//     the other channel, when bound, is told too. Notices hold no code.
//   - The phone cannot be removed while it is the account's only way to
//     recover and the citizen has no passkey (ErrLastRecoveryFactor).
//   - Every change needs a login at most FreshFor old (ErrReauthenticate);
//     the page checks it first, this is the rule's second line.
//   - Every change is audited (audit_contact.go), without the values.
//
// Several accounts may share a phone or an address (a family's): login and
// recovery start from the document number, never from a phone or address,
// so neither identifies an account.
//
// Set the fields before first use and do not copy a Contact after.
type Contact struct {
	Citizens CitizenRepository
	Store    ContactStore
	// Codes holds the code machinery (store, limits, secret) and the SMS
	// sender; with a nil Sender phones cannot be changed (ErrContactOff).
	Codes *OTP
	// Mailer sends email; nil: addresses cannot be added (ErrContactOff).
	Mailer   Mailer
	Passkeys PasskeyLister // nil counts as no passkey
	Audit    AuditRecorder
	FreshFor time.Duration    // zero means DefaultContactFreshFor
	Now      func() time.Time // nil means time.Now
	// OnMailError is told about failed email deliveries (after the answer);
	// the error holds no address or body. SMS failures go to
	// Codes.OnSendError.
	OnMailError func(error)

	wg sync.WaitGroup
}

// PhoneOn reports whether phones can be changed (an SMS sender exists).
func (k *Contact) PhoneOn() bool { return k.Codes != nil && k.Codes.Sender != nil }

// EmailOn reports whether addresses can be added (a mailer exists).
func (k *Contact) EmailOn() bool { return k.Codes != nil && k.Mailer != nil }

// SendPhoneCode sends a code to a new phone, typed as raw. It returns the
// phone normalised (the page carries it to ChangePhone in the form body).
// Errors: ErrReauthenticate, ErrContactOff, *FieldError (Field "phone"),
// ErrContactUnchanged, *RateLimitedError (Scope "ip", "sms-cooldown" or
// "sms-daily"), *OTPRefusal (ErrOTPLocked), or a wrapped port error.
func (k *Contact) SendPhoneCode(ctx context.Context, who ContactCaller, raw string) (string, *ContactCodeSent, error) {
	c, err := k.begin(ctx, who, k.PhoneOn())
	if err != nil {
		return "", nil, err
	}
	phone, err := NormalizePhone(raw)
	if err != nil {
		return "", nil, err
	}
	if phone == c.Phone {
		return "", nil, ErrContactUnchanged
	}
	o := k.Codes
	if err := o.limit(ctx, "ip", otpIPKey(who.ClientIP), o.IPLimit, DefaultOTPIPLimit); err != nil {
		return "", nil, err
	}
	sent, err := o.send(ctx, k.entry(c, "phone"), phone, OTPContactPhone, contactBinding(who.SessionID, phone), true)
	if err != nil {
		return "", nil, err
	}
	return phone, &ContactCodeSent{To: sent.MaskedPhone, TTL: sent.TTL, Cooldown: sent.Cooldown}, nil
}

// ChangePhone binds the phone SendPhoneCode sent code to, replacing the
// bound one, which is told. Errors: ErrReauthenticate, ErrContactOff,
// *FieldError (Field "phone" or "code"), *OTPRefusal, ErrNotFound (wrapped:
// no live code), or a wrapped port error.
func (k *Contact) ChangePhone(ctx context.Context, who ContactCaller, rawPhone, code string) error {
	c, err := k.begin(ctx, who, k.PhoneOn())
	if err != nil {
		return err
	}
	phone, err := NormalizePhone(rawPhone)
	if err != nil {
		return err
	}
	if code, err = ParseOTPCode(code); err != nil {
		return err
	}
	if err := k.Codes.use(ctx, k.entry(c, "phone"), OTPContactPhone, contactBinding(who.SessionID, phone), code); err != nil {
		return err
	}
	if phone == c.Phone {
		return nil
	}
	if err := k.Store.SetCitizenPhone(ctx, c.ID, phone); err != nil {
		return fmt.Errorf("identity: change phone: %w", err)
	}
	if err := k.audit(ctx, who, AuditContactPhoneChanged, map[string]string{"previous": previous(c.Phone)}); err != nil {
		return err
	}
	k.notify(ctx, c.Phone, c.Email, noticePhoneChanged(MaskPhone(phone)))
	return nil
}

// RemovePhone unbinds the citizen's phone, which is told. Removing no phone
// does nothing. Errors: ErrReauthenticate, ErrLastRecoveryFactor (audited
// as a refusal), or a wrapped port error.
func (k *Contact) RemovePhone(ctx context.Context, who ContactCaller) error {
	c, err := k.begin(ctx, who, true)
	if err != nil || c.Phone == "" {
		return err
	}
	has, err := k.hasPasskey(ctx, c.ID)
	if err != nil {
		return err
	}
	if !has {
		if err := k.audit(ctx, who, AuditContactPhoneKept, map[string]string{"reason": "last_recovery_factor"}); err != nil {
			return err
		}
		return ErrLastRecoveryFactor
	}
	if err := k.Store.SetCitizenPhone(ctx, c.ID, ""); err != nil {
		return fmt.Errorf("identity: remove phone: %w", err)
	}
	if err := k.audit(ctx, who, AuditContactPhoneRemoved, nil); err != nil {
		return err
	}
	k.notify(ctx, c.Phone, c.Email, noticePhoneRemoved())
	return nil
}

// SendEmailCode mails a code to a new address, typed as raw, and returns
// the address normalised. Errors as SendPhoneCode, with Field "email" and
// Scope "mail-cooldown" or "mail-daily".
func (k *Contact) SendEmailCode(ctx context.Context, who ContactCaller, raw string) (string, *ContactCodeSent, error) {
	c, err := k.begin(ctx, who, k.EmailOn())
	if err != nil {
		return "", nil, err
	}
	email, err := NormalizeEmail(raw)
	if err != nil {
		return "", nil, err
	}
	if email == c.Email {
		return "", nil, ErrContactUnchanged
	}
	o := k.Codes
	if err := o.limit(ctx, "ip", otpIPKey(who.ClientIP), o.IPLimit, DefaultOTPIPLimit); err != nil {
		return "", nil, err
	}
	acct := k.entry(c, "email")
	if err := o.sendLimits(ctx, "mail", acct, o.key("email", email)); err != nil {
		return "", nil, err
	}
	code, ttl := newOTPCode(), o.ttl()
	if err := o.Store.PutOTP(ctx, acct, o.hash(acct, OTPContactEmail, contactBinding(who.SessionID, email), code), ttl, o.maxFailures()); err != nil {
		return "", nil, fmt.Errorf("identity: send email code: %w", err)
	}
	subject, body := mailCode(code, int((ttl+time.Minute-1)/time.Minute))
	k.mail(ctx, email, subject, body)
	return email, &ContactCodeSent{To: MaskEmail(email), TTL: ttl, Cooldown: o.cooldown()}, nil
}

// ChangeEmail binds the address SendEmailCode mailed code to, replacing
// the bound one, which is told (and so is the phone). Errors as
// ChangePhone, with Field "email".
func (k *Contact) ChangeEmail(ctx context.Context, who ContactCaller, rawEmail, code string) error {
	c, err := k.begin(ctx, who, k.EmailOn())
	if err != nil {
		return err
	}
	email, err := NormalizeEmail(rawEmail)
	if err != nil {
		return err
	}
	if code, err = ParseOTPCode(code); err != nil {
		return err
	}
	if err := k.Codes.use(ctx, k.entry(c, "email"), OTPContactEmail, contactBinding(who.SessionID, email), code); err != nil {
		return err
	}
	if email == c.Email {
		return nil
	}
	if err := k.Store.SetCitizenEmail(ctx, c.ID, email); err != nil {
		return fmt.Errorf("identity: change email: %w", err)
	}
	if err := k.audit(ctx, who, AuditContactEmailChanged, map[string]string{"previous": previous(c.Email)}); err != nil {
		return err
	}
	k.notify(ctx, c.Phone, c.Email, noticeEmailChanged(MaskEmail(email)))
	return nil
}

// RemoveEmail unbinds the citizen's address, which is told (and so is the
// phone). Removing no address does nothing. Errors: ErrReauthenticate or a
// wrapped port error.
func (k *Contact) RemoveEmail(ctx context.Context, who ContactCaller) error {
	c, err := k.begin(ctx, who, true)
	if err != nil || c.Email == "" {
		return err
	}
	if err := k.Store.SetCitizenEmail(ctx, c.ID, ""); err != nil {
		return fmt.Errorf("identity: remove email: %w", err)
	}
	if err := k.audit(ctx, who, AuditContactEmailRemoved, nil); err != nil {
		return err
	}
	k.notify(ctx, c.Phone, c.Email, noticeEmailRemoved())
	return nil
}

// Wait blocks until every delivery started so far has finished (tests,
// shutdown).
func (k *Contact) Wait() {
	if k.Codes != nil {
		k.Codes.Wait()
	}
	k.wg.Wait()
}

// begin checks the freshness rule and loads the citizen.
func (k *Contact) begin(ctx context.Context, who ContactCaller, on bool) (*Citizen, error) {
	fresh := k.FreshFor
	if fresh <= 0 {
		fresh = DefaultContactFreshFor
	}
	if age := k.now().Sub(who.AuthTime); who.AuthTime.IsZero() || age < -time.Minute || age > fresh {
		return nil, ErrReauthenticate
	}
	if !on {
		return nil, ErrContactOff
	}
	c, err := k.Citizens.Citizen(ctx, who.CitizenID)
	if err != nil {
		return nil, fmt.Errorf("identity: contact: %w", err)
	}
	if c.Status != StatusActive {
		return nil, ErrReauthenticate // a frozen account has no live session to ask with
	}
	return c, nil
}

// entry is the OTP store key of a citizen's contact codes on one channel:
// apart from login and recovery codes, which anyone who knows the number
// can ask for.
func (k *Contact) entry(c *Citizen, channel string) string {
	return k.Codes.key("contact-"+channel, k.Codes.accountKey(c.Number))
}

func contactBinding(sessionID, value string) string { return sessionID + "\x00" + value }

func (k *Contact) hasPasskey(ctx context.Context, citizenID string) (bool, error) {
	if k.Passkeys == nil {
		return false, nil
	}
	keys, err := k.Passkeys.Passkeys(ctx, citizenID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("identity: contact: passkeys: %w", err)
	}
	return len(keys) > 0, nil
}

func (k *Contact) audit(ctx context.Context, who ContactCaller, action AuditAction, detail map[string]string) error {
	return recordAudit(ctx, k.Audit, &AuditEntry{
		Action: action, CitizenID: who.CitizenID, Actor: ActorCitizen + who.CitizenID, SessionID: who.SessionID,
		IP: AuditIP(who.ClientIP), At: k.now(), Detail: detail,
	})
}

// notify tells the phone and the address that were bound before a change
// (either may be ""), each through its own channel when it is configured.
func (k *Contact) notify(ctx context.Context, phone, email string, n notice) {
	if phone != "" && k.PhoneOn() {
		k.Codes.deliver(ctx, phone, n.sms)
	}
	if email != "" && k.Mailer != nil {
		k.mail(ctx, email, noticeSubject, n.mail)
	}
}

// mail sends in the background, like OTP.deliver: the page's answer must
// not wait for the relay.
func (k *Contact) mail(ctx context.Context, to, subject, body string) {
	timeout := 10 * time.Second
	if k.Codes != nil && k.Codes.SendTimeout > 0 {
		timeout = k.Codes.SendTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	k.wg.Go(func() {
		defer cancel()
		if err := k.Mailer.Mail(ctx, to, subject, body); err != nil && k.OnMailError != nil {
			k.OnMailError(fmt.Errorf("identity: deliver email to %s: %w", MaskEmail(to), err))
		}
	})
}

func (k *Contact) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func previous(old string) string {
	if old == "" {
		return "none"
	}
	return "replaced"
}

// The messages, bilingual like every text Yihao sends (the citizen's
// language is not known outside a page).

type notice struct{ sms, mail string }

const noticeSubject = "【一号】账号安全通知 Yihao account notice"

const noticeHelp = "如非本人操作，请立即登录一号修改密码并联系政务服务热线。" +
	"If this was not you, sign in to Yihao, change your password and call the service hotline now."

func noticePhoneChanged(masked string) notice {
	zh := fmt.Sprintf("您一号账号绑定的手机号码已改为 %s。", masked)
	en := fmt.Sprintf("The phone bound to your Yihao account was changed to %s.", masked)
	return notice{sms: "【一号】" + zh + en + noticeHelp, mail: zh + "\n" + en + "\n\n" + noticeHelp}
}

func noticePhoneRemoved() notice {
	zh, en := "您一号账号绑定的手机号码已解除绑定。", "The phone was removed from your Yihao account."
	return notice{sms: "【一号】" + zh + en + noticeHelp, mail: zh + "\n" + en + "\n\n" + noticeHelp}
}

func noticeEmailChanged(masked string) notice {
	zh := fmt.Sprintf("您一号账号绑定的电子邮箱已改为 %s。", masked)
	en := fmt.Sprintf("The email address of your Yihao account was changed to %s.", masked)
	return notice{sms: "【一号】" + zh + en + noticeHelp, mail: zh + "\n" + en + "\n\n" + noticeHelp}
}

func noticeEmailRemoved() notice {
	zh, en := "您一号账号绑定的电子邮箱已解除绑定。", "The email address was removed from your Yihao account."
	return notice{sms: "【一号】" + zh + en + noticeHelp, mail: zh + "\n" + en + "\n\n" + noticeHelp}
}

func mailCode(code string, minutes int) (subject, body string) {
	return "【一号】邮箱验证码 Yihao email code", fmt.Sprintf(
		"验证码 %s，%d 分钟内有效，用于将此邮箱绑定到您的一号账号。如非本人操作，请忽略本邮件。\n\n"+
			"Yihao code %s, valid %d minutes, to add this address to your Yihao account. If this was not you, ignore this email.",
		code, minutes, code, minutes)
}
