package identity

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Sender delivers a text message to a phone (E.164, as Citizen.Phone holds
// it). Implementations: DevSender (development), the HTTP webhook sender in
// package smsgateway (a real SMS gateway). Send must not log the message: it
// holds a one-time code.
type Sender interface {
	Send(ctx context.Context, phone, message string) error
}

// SentSMS is one message a DevSender was asked to send.
type SentSMS struct {
	At          time.Time
	MaskedPhone string
	Message     string // holds the code: development only
}

// DevSender is the development sender (`serve --dev`): it writes each message
// to Out (the server console) and keeps the last few for the /dev/sms page.
// It is the one place where a one-time code is printed, deliberately, and
// only in development. The phone is shown masked.
type DevSender struct {
	Out  io.Writer // nil: messages are only kept
	Keep int       // how many to keep (default 20)
	Now  func() time.Time

	log devLog[SentSMS]
}

var _ Sender = (*DevSender)(nil)

// Send implements Sender.
func (d *DevSender) Send(_ context.Context, phone, message string) error {
	m := SentSMS{At: devNow(d.Now), MaskedPhone: MaskPhone(phone), Message: message}
	d.log.add(m, d.Keep, d.Out, fmt.Sprintf("[dev sms] to %s: %s", m.MaskedPhone, strings.ReplaceAll(message, "\n", " ")))
	return nil
}

// Recent returns the kept messages, newest first.
func (d *DevSender) Recent() []SentSMS { return d.log.newestFirst() }

// MaskPhone shows a phone the way pages and logs may (DOMAIN.md §4.3): a
// mainland mobile as its first 3 and last 4 digits ("139****9000"), another
// country's number as "+", its first 2 and last 2 digits. "" stays "".
func MaskPhone(phone string) string {
	if national, ok := strings.CutPrefix(phone, "+86"); ok && len(national) == 11 {
		return national[:3] + "****" + national[7:]
	}
	if digits, ok := strings.CutPrefix(phone, "+"); ok && len(digits) >= 6 {
		return "+" + digits[:2] + strings.Repeat("*", len(digits)-4) + digits[len(digits)-2:]
	}
	return strings.Repeat("*", len(phone))
}
