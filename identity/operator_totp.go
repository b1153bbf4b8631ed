package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP parameters (RFC 6238 defaults, which every authenticator app reads):
// HMAC-SHA1, 30-second steps, 6 digits; a code is accepted one step early
// or late to allow for clock drift.
const (
	TOTPDigits   = 6
	TOTPPeriod   = 30 * time.Second
	TOTPSkew     = 1
	totpKeyBytes = 20 // 160 bits, as RFC 4226 recommends
)

// TOTPSecret is an operator's TOTP shared secret. It cannot be compared with
// == (compare codes, not secrets), and its String and GoString never show it.
type TOTPSecret struct {
	key []byte
}

// NewTOTPSecret returns a fresh random 160-bit secret.
func NewTOTPSecret() (TOTPSecret, error) {
	b := make([]byte, totpKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return TOTPSecret{}, err
	}
	return TOTPSecret{key: b}, nil
}

// TOTPSecretFromBytes wraps stored key bytes (storage adapters only).
func TOTPSecretFromBytes(b []byte) TOTPSecret { return TOTPSecret{key: append([]byte(nil), b...)} }

// Bytes returns the key for storage (sealed by the adapter).
func (s TOTPSecret) Bytes() []byte { return append([]byte(nil), s.key...) }

// IsZero reports whether there is no secret.
func (s TOTPSecret) IsZero() bool { return len(s.key) == 0 }

func (s TOTPSecret) String() string   { return "TOTPSecret(redacted)" }
func (s TOTPSecret) GoString() string { return "identity.TOTPSecret(redacted)" }

var totpBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// URI is the otpauth:// URI an authenticator app enrols from (shown once,
// when the operator is created).
func (s TOTPSecret) URI(issuer, account string) string {
	q := url.Values{}
	q.Set("secret", totpBase32.EncodeToString(s.key))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(int(TOTPPeriod/time.Second)))
	label := url.PathEscape(issuer + ":" + account)
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// totpAt is the RFC 4226 HOTP value of the secret at counter step.
func (s TOTPSecret) totpAt(step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, s.key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", TOTPDigits, v%1_000_000)
}

// TOTPCode is the code of the secret at time t.
func (s TOTPSecret) TOTPCode(t time.Time) string { return s.totpAt(totpStep(t)) }

// VerifyTOTP checks a code (already parsed by ParseTOTPCode) against the
// steps around t, in constant time per step, and returns the matching step
// (to be recorded with OperatorRepository.UseTOTPStep, so that the same code
// cannot be used twice).
func (s TOTPSecret) VerifyTOTP(code string, t time.Time) (step int64, ok bool) {
	if len(s.key) == 0 || len(code) != TOTPDigits {
		return 0, false
	}
	now := totpStep(t)
	for d := int64(-TOTPSkew); d <= TOTPSkew; d++ {
		if subtle.ConstantTimeCompare([]byte(s.totpAt(now+d)), []byte(code)) == 1 {
			step, ok = now+d, true
		}
	}
	return step, ok
}

// ParseTOTPCode reads a code as typed: 6 digits, spaces and hyphens ignored
// ("123 456"). Anything else is a *FieldError on "code".
func ParseTOTPCode(raw string) (string, error) {
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() >= TOTPDigits {
				return "", &FieldError{Field: "code", Reason: FieldInvalid}
			}
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t':
		default:
			return "", &FieldError{Field: "code", Reason: FieldInvalid}
		}
	}
	switch b.Len() {
	case 0:
		return "", &FieldError{Field: "code", Reason: FieldRequired}
	case TOTPDigits:
		return b.String(), nil
	}
	return "", &FieldError{Field: "code", Reason: FieldInvalid}
}
