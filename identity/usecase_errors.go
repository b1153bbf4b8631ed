package identity

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the login and registration use cases.
var (
	// ErrInvalidCredentials: unknown number, wrong password or frozen account.
	// The three are deliberately one error, returned after the same work, so
	// that a login attempt tells nothing about which numbers are registered.
	ErrInvalidCredentials = errors.New("identity: invalid credentials")
	// ErrAlreadyRegistered: the document number already has an account. Pages
	// answer it exactly as they answer success (no enumeration); an operator
	// console may say it.
	ErrAlreadyRegistered = errors.New("identity: number already registered")
)

// RateLimitedError: too many login attempts for this account or from this
// address in the current window.
type RateLimitedError struct {
	Scope      string        // "account" or "ip"
	RetryAfter time.Duration // time left in the window
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("identity: too many login attempts (%s); retry after %s", e.Scope, e.RetryAfter.Round(time.Second))
}

// Localize returns the message in the citizen's language ("en…" or zh-CN).
// The scope is not shown: it would tell whether the number was the reason.
func (e *RateLimitedError) Localize(lang string) string {
	mins := int((e.RetryAfter + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	if isEnglish(lang) {
		if mins == 1 {
			return "Too many attempts. Please try again in a minute."
		}
		return fmt.Sprintf("Too many attempts. Please try again in %d minutes.", mins)
	}
	return fmt.Sprintf("尝试次数过多，请 %d 分钟后再试。", mins)
}

// FieldReason says what is wrong with a form field.
type FieldReason string

const (
	FieldRequired    FieldReason = "required"
	FieldTooLong     FieldReason = "too_long"
	FieldControl     FieldReason = "control_characters" // control or invisible formatting characters
	FieldInvalid     FieldReason = "invalid"            // e.g. not a phone number
	FieldNotPersonal FieldReason = "not_personal"       // a credit code where a person's document is needed
)

// FieldError is an input error in a named form field ("name", "phone",
// "number"). It never holds the value.
type FieldError struct {
	Field  string
	Reason FieldReason
}

func (e *FieldError) Error() string {
	switch e.Reason {
	case FieldRequired:
		return e.Field + ": required"
	case FieldTooLong:
		return e.Field + ": too long"
	case FieldControl:
		return e.Field + ": contains control or invisible characters"
	case FieldNotPersonal:
		return e.Field + ": a unified social credit code identifies an organisation; use a personal document"
	}
	switch e.Field {
	case "phone":
		return "phone: not a mobile number (11 digits starting with 1, or + and the country code)"
	}
	return e.Field + ": invalid"
}

// Localize returns the message in the citizen's language ("en…" or zh-CN).
func (e *FieldError) Localize(lang string) string {
	if isEnglish(lang) {
		return e.Error()
	}
	label, ok := map[string]string{"name": "姓名", "phone": "手机号码", "number": "证件号码", "password": "密码"}[e.Field]
	if !ok {
		label = e.Field
	}
	switch e.Reason {
	case FieldRequired:
		return label + "：必填"
	case FieldTooLong:
		return label + "：过长"
	case FieldControl:
		return label + "：含有控制字符或不可见字符"
	case FieldNotPersonal:
		return label + "：统一社会信用代码属于组织机构，请使用个人证件"
	}
	if e.Field == "phone" {
		return "手机号码：格式不正确（以 1 开头的 11 位数字，或 + 加国家代码）"
	}
	return label + "：格式不正确"
}
