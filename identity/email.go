package identity

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Mailer delivers an email (the port of the contact use case). Implementations:
// DevMailer (development), the HTTP webhook mailer in package mailgateway.
// Mail must not log the body: it may hold a one-time code.
type Mailer interface {
	Mail(ctx context.Context, to, subject, body string) error
}

// SentMail is one message a DevMailer was asked to send.
type SentMail struct {
	At       time.Time
	MaskedTo string
	Subject  string
	Body     string // may hold a code: development only
}

// DevMailer is the development mailer (`serve --dev`): it writes each
// message to Out (the server console) and keeps the last few for the
// /dev/mail page. Like DevSender it is a deliberate place where a code is
// printed, only in development; the address is shown masked.
type DevMailer struct {
	Out  io.Writer // nil: messages are only kept
	Keep int       // how many to keep (default 20)
	Now  func() time.Time

	log devLog[SentMail]
}

var _ Mailer = (*DevMailer)(nil)

// Mail implements Mailer.
func (d *DevMailer) Mail(_ context.Context, to, subject, body string) error {
	m := SentMail{At: devNow(d.Now), MaskedTo: MaskEmail(to), Subject: subject, Body: body}
	d.log.add(m, d.Keep, d.Out, fmt.Sprintf("[dev mail] to %s: %s | %s", m.MaskedTo, subject, strings.ReplaceAll(body, "\n", " ")))
	return nil
}

// Recent returns the kept messages, newest first.
func (d *DevMailer) Recent() []SentMail { return d.log.newestFirst() }

// MaxEmailLength is the longest address accepted (RFC 5321's path limit
// less the angle brackets).
const MaxEmailLength = 254

// NormalizeEmail checks an email address as typed and returns it in the
// form Yihao stores: surrounding spaces dropped, full-width characters (an
// IME's "＠" and "．", and "。") turned into ASCII, the domain in lower case;
// the local part keeps its case (RFC 5321 lets a server tell cases apart).
// Only ASCII addresses are accepted: a dot-atom local part of at most 64
// characters and a domain of at least two labels of letters, digits and
// hyphens, whose last label is not all digits. Quoted local parts, address
// literals and internationalised addresses are refused. The error is a
// *FieldError (Field "email") that does not repeat the input.
func NormalizeEmail(raw string) (string, error) {
	if len(raw) > 4*MaxEmailLength {
		return "", &FieldError{Field: "email", Reason: FieldTooLong}
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(raw) {
		switch {
		case r >= '！' && r <= '～': // full-width ASCII forms
			r = r - '！' + '!'
		case r == '。':
			r = '.'
		}
		if r <= ' ' || r > '~' {
			return "", &FieldError{Field: "email", Reason: FieldInvalid}
		}
		b.WriteRune(r)
	}
	s := b.String()
	if s == "" {
		return "", &FieldError{Field: "email", Reason: FieldRequired}
	}
	if len(s) > MaxEmailLength {
		return "", &FieldError{Field: "email", Reason: FieldTooLong}
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", &FieldError{Field: "email", Reason: FieldInvalid}
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if !emailLocalOK(local) || !emailDomainOK(domain) {
		return "", &FieldError{Field: "email", Reason: FieldInvalid}
	}
	return local + "@" + domain, nil
}

// emailLocalOK: a dot-atom (RFC 5322 atext, single dots between atoms).
func emailLocalOK(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && !strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", rune(c)) {
			return false
		}
	}
	return true
}

// emailDomainOK: lower-case LDH labels, at least two, the last not numeric.
func emailDomainOK(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return !allDigits(labels[len(labels)-1])
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// MaskEmail shows an address the way pages and logs may: the first
// character of the local part, three stars, and the domain
// ("z***@example.com"). "" stays "".
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return strings.Repeat("*", len([]rune(email)))
	}
	r := []rune(local)
	return string(r[:1]) + "***@" + domain
}
