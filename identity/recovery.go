package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OTPRecover binds a code to password recovery: a login code does not set
// a password, nor a recovery code sign anyone in.
const OTPRecover = "recover"

// PasswordUnlocker forgets an account's password failure counts
// (*Authenticator).
type PasswordUnlocker interface {
	Unlock(ctx context.Context, n Number) error
}

// Recovery is the "forgot my password" use case: a code to the bound phone,
// then a new password. It is also the way back for a citizen whose password
// an operator cleared (Console.ResetCredentials) and for one whose password
// sign-in is locked (ErrPasswordLocked).
//
// No enumeration: Send answers an unknown number, a frozen account and one
// without a phone exactly as a real one (OTP.SendLogin's rules: a code that
// is never delivered, a made-up masked phone, the same limits). Reset checks
// the code before anything about the account, so without the code every
// number fails the same way.
//
// A successful Reset stores the new password (argon2id), ends every SSO
// session of the citizen and revokes their tokens (Sessions), unlocks
// password sign-in, records password.recovered and texts the phone that
// the password was changed.
//
// Set the fields before first use and do not copy a Recovery after.
type Recovery struct {
	Citizens CitizenRepository
	Codes    *OTP
	Hasher   *PasswordHasher
	Policy   PasswordPolicy // zero means DefaultPasswordPolicy
	Sessions SessionEnder
	// Unlock, when set, clears the lockout (the Authenticator).
	Unlock PasswordUnlocker
	// Resets, when set, tells whether an operator had cleared the password
	// (recorded in the audit entry).
	Resets interface {
		CitizenCredentialsReset(ctx context.Context, citizenID string) (time.Time, error)
	}
	Audit AuditRecorder
	// Notice is the text sent after a change; nil means a bilingual default.
	Notice func() string
	Now    func() time.Time // nil means time.Now
}

// Send sends a recovery code to the bound phone of the account with
// document number raw. Errors and answers as OTP.SendLogin.
func (r *Recovery) Send(ctx context.Context, raw, binding, clientIP string) (*OTPSent, error) {
	return r.Codes.sendToNumber(ctx, raw, OTPRecover, binding, clientIP)
}

// Reset sets a new password with a recovery code. Errors: *NumberError,
// *FieldError (Field "code"), *PasswordError, *OTPRefusal, ErrNotFound
// (wrapped: no live code), or a wrapped port error.
//
// The password is checked against the policy with the number before the
// code is used, and against the phone and name only after (they are the
// account's, and must not be revealed to someone without the code); when
// that second check fails the same code is put back, so the citizen may try
// another password with it.
func (r *Recovery) Reset(ctx context.Context, raw, binding, code, password, clientIP string) (*Citizen, error) {
	n, err := ParseAnyAt(raw, r.now())
	if err != nil {
		return nil, err
	}
	if code, err = ParseOTPCode(code); err != nil {
		return nil, err
	}
	if err := r.Policy.Check(password, n); err != nil {
		return nil, err
	}
	c, err := r.Codes.verifyNumber(ctx, n, OTPRecover, binding, code)
	if err != nil {
		return nil, err
	}
	if err := r.Policy.Check(password, n, c.Phone, c.Name); err != nil {
		o := r.Codes
		acct := o.accountKey(n)
		if perr := o.Store.PutOTP(ctx, acct, o.hash(acct, OTPRecover, binding, code), o.ttl(), o.maxFailures()); perr != nil {
			return nil, errors.Join(err, fmt.Errorf("identity: recovery: keep code: %w", perr))
		}
		return nil, err
	}
	hash, err := r.Hasher.Hash(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("identity: recovery: %w", err)
	}
	afterReset := false
	if r.Resets != nil {
		_, rerr := r.Resets.CitizenCredentialsReset(ctx, c.ID)
		afterReset = rerr == nil
	}
	if err := r.Citizens.SetPasswordHash(ctx, c.ID, hash); err != nil {
		return nil, fmt.Errorf("identity: recovery: %w", err)
	}
	// Whoever knew the old password may hold a session or tokens: end them
	// all before anything else can fail.
	if err := r.Sessions.EndCitizenSessions(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("identity: recovery: end sessions: %w", err)
	}
	detail := map[string]string{"method": "sms"}
	if afterReset {
		detail["after_reset"] = "true"
	}
	err = recordAudit(ctx, r.Audit, &AuditEntry{
		Action: AuditPasswordRecovered, CitizenID: c.ID, Actor: ActorCitizen + c.ID,
		IP: AuditIP(clientIP), At: r.now(), Detail: detail,
	})
	if err != nil {
		return nil, err
	}
	if r.Unlock != nil {
		if err := r.Unlock.Unlock(ctx, n); err != nil {
			return nil, fmt.Errorf("identity: recovery: %w", err)
		}
	}
	r.Codes.deliver(ctx, c.Phone, r.notice())
	return c, nil
}

func (r *Recovery) notice() string {
	if r.Notice != nil {
		return r.Notice()
	}
	return "【一号】您的登录密码刚刚通过短信验证码重置，所有已登录的设备均已退出。如非本人操作，请立即联系政务服务热线。" +
		"Yihao: your password was just changed with an SMS code and every signed-in device was signed out. If this was not you, call the service hotline now."
}

func (r *Recovery) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
