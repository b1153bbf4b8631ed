package identity

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
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

	mu     sync.Mutex
	recent []SentSMS
}

var _ Sender = (*DevSender)(nil)

// Send implements Sender.
func (d *DevSender) Send(_ context.Context, phone, message string) error {
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	m := SentSMS{At: now, MaskedPhone: MaskPhone(phone), Message: message}
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := d.Keep
	if keep <= 0 {
		keep = 20
	}
	d.recent = append(d.recent, m)
	if len(d.recent) > keep {
		d.recent = append([]SentSMS(nil), d.recent[len(d.recent)-keep:]...)
	}
	if d.Out != nil {
		fmt.Fprintf(d.Out, "[dev sms] to %s: %s\n", m.MaskedPhone, strings.ReplaceAll(message, "\n", " "))
	}
	return nil
}

// Recent returns the kept messages, newest first.
func (d *DevSender) Recent() []SentSMS {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]SentSMS, len(d.recent))
	for i, m := range d.recent {
		out[len(d.recent)-1-i] = m
	}
	return out
}

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
