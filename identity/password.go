package identity

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// PasswordPolicy is the NIST SP 800-63B-4 password rule: a length range
// counted in characters (runes), no composition rules, and a blocklist of
// common, repetitive or sequential passwords and of the holder's own
// document number.
type PasswordPolicy struct {
	MinLength int // characters; 0 means 8
	MaxLength int // characters; 0 means 128 (NIST: allow at least 64)
}

// DefaultPasswordPolicy is the zero PasswordPolicy with its defaults spelled out.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 8, MaxLength: 128}

// PasswordReason says why a password was refused.
type PasswordReason string

const (
	PasswordTooShort       PasswordReason = "too_short"
	PasswordTooLong        PasswordReason = "too_long"
	PasswordInvalid        PasswordReason = "invalid"         // not UTF-8, or control characters
	PasswordCommon         PasswordReason = "common"          // on the blocklist, or a date
	PasswordRepetitive     PasswordReason = "repetitive"      // "aaaaaaaa", "abcabcabc"
	PasswordSequential     PasswordReason = "sequential"      // "abcdefgh", "98765432"
	PasswordContainsNumber PasswordReason = "contains_number" // the document number, or a part of it
	PasswordPersonal       PasswordReason = "personal"        // the phone number or the name
)

// PasswordError says why a password was refused. It never holds the password.
type PasswordError struct {
	Reason   PasswordReason
	Min, Max int // the policy's length range, for the messages
}

func (e *PasswordError) Error() string {
	switch e.Reason {
	case PasswordTooShort:
		return fmt.Sprintf("password: at least %d characters, please", e.Min)
	case PasswordTooLong:
		return fmt.Sprintf("password: at most %d characters, please", e.Max)
	case PasswordInvalid:
		return "password: contains characters that cannot be typed (control characters)"
	case PasswordCommon:
		return "password: too common, easy to guess"
	case PasswordRepetitive:
		return "password: repeats the same characters"
	case PasswordSequential:
		return "password: is a simple sequence"
	case PasswordContainsNumber:
		return "password: must not contain your document number"
	case PasswordPersonal:
		return "password: must not contain your phone number or name"
	}
	return "password: not allowed"
}

// Localize returns the message in the citizen's language ("en…" or zh-CN,
// the default).
func (e *PasswordError) Localize(lang string) string {
	if isEnglish(lang) {
		return e.Error()
	}
	switch e.Reason {
	case PasswordTooShort:
		return fmt.Sprintf("密码至少需要 %d 个字符", e.Min)
	case PasswordTooLong:
		return fmt.Sprintf("密码最多 %d 个字符", e.Max)
	case PasswordInvalid:
		return "密码含有无法输入的控制字符"
	case PasswordCommon:
		return "密码过于常见，容易被猜中"
	case PasswordRepetitive:
		return "密码不能是重复的字符"
	case PasswordSequential:
		return "密码不能是连续的字符序列"
	case PasswordContainsNumber:
		return "密码不能包含您的证件号码"
	case PasswordPersonal:
		return "密码不能包含您的手机号码或姓名"
	}
	return "密码不符合要求"
}

// CheckPassword checks password against DefaultPasswordPolicy.
func CheckPassword(password string, n Number, personal ...string) error {
	return DefaultPasswordPolicy.Check(password, n, personal...)
}

// Check returns a *PasswordError when password breaks the policy, or nil.
// n is the holder's document number (the zero Number when unknown);
// personal are other values the password must not equal or contain (the
// phone number, the name). Spaces count; nothing is trimmed.
func (p PasswordPolicy) Check(password string, n Number, personal ...string) error {
	minLen, maxLen := p.MinLength, p.MaxLength
	if minLen <= 0 {
		minLen = DefaultPasswordPolicy.MinLength
	}
	if maxLen <= 0 {
		maxLen = DefaultPasswordPolicy.MaxLength
	}
	fail := func(r PasswordReason) error { return &PasswordError{Reason: r, Min: minLen, Max: maxLen} }

	if !utf8.ValidString(password) {
		return fail(PasswordInvalid)
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return fail(PasswordInvalid)
		}
	}
	switch l := utf8.RuneCountInString(password); {
	case l < minLen:
		return fail(PasswordTooShort)
	case l > maxLen:
		return fail(PasswordTooLong)
	}
	lower := strings.ToLower(password)
	if isCommonPassword(lower) || isDate(lower) {
		return fail(PasswordCommon)
	}
	if isRepetitive([]rune(lower)) {
		return fail(PasswordRepetitive)
	}
	if isSequential([]rune(lower)) {
		return fail(PasswordSequential)
	}
	if containsNumber(lower, n) {
		return fail(PasswordContainsNumber)
	}
	for _, v := range personal {
		v = strings.ToLower(strings.TrimSpace(v))
		v = strings.TrimPrefix(strings.TrimPrefix(v, "+86"), "+")
		if v == "" {
			continue
		}
		if lower == v || utf8.RuneCountInString(v) >= 6 && strings.Contains(lower, v) {
			return fail(PasswordPersonal)
		}
	}
	return nil
}

//go:embed commonpasswords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 16384)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
})

func isCommonPassword(lower string) bool {
	_, ok := commonPasswords()[lower]
	return ok
}

// isDate reports whether s is an 8-digit YYYYMMDD date between 1900 and
// 2099, the most common shape of a birthday password.
func isDate(s string) bool {
	d, ok := parseYMD(s)
	return ok && d.Year() >= 1900 && d.Year() <= 2099
}

// isRepetitive reports whether r is one unit of 1 to 4 characters repeated
// ("aaaaaaaa", "abcabcabc", "woaiwoai").
func isRepetitive(r []rune) bool {
	for unit := 1; unit <= 4 && unit*2 <= len(r); unit++ {
		if len(r)%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < len(r) && same; i++ {
			same = r[i] == r[i-unit]
		}
		if same {
			return true
		}
	}
	return false
}

// isSequential reports whether every character is the one before plus one,
// or minus one, all the way ("abcdefgh", "98765432").
func isSequential(r []rune) bool {
	if len(r) < 3 {
		return false
	}
	step := r[1] - r[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(r); i++ {
		if r[i]-r[i-1] != step {
			return false
		}
	}
	return true
}

// containsNumber reports whether the (lower-case) password contains the
// document number, or for GB 11643 numbers is its last 8 characters
// (a common default password).
func containsNumber(lower string, n Number) bool {
	v := strings.ToLower(n.Value())
	if v == "" {
		return false
	}
	if n.Type() == Passport {
		if _, number, ok := strings.Cut(v, ":"); ok {
			v = number
		}
	}
	if strings.Contains(lower, v) {
		return true
	}
	if n.hasGB11643Layout() {
		return lower == v[len(v)-8:] || strings.Contains(lower, v[:17])
	}
	return false
}
