// Package smsgateway delivers text messages through an HTTP webhook: the
// adapter between identity.Sender and a real SMS gateway (or the small
// relay an operator puts in front of one). It lives outside identity because
// the domain does not speak HTTP (see docs/architecture.md, "SMS codes").
// The signed POST itself is internal/signedhook, shared with mailgateway.
package smsgateway

import (
	"context"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/internal/signedhook"
)

// Signature headers. The signature is hex HMAC-SHA256 under the shared
// secret of "<timestamp>.<body>", so a receiver can check both that the
// request came from Yihao and that it is fresh.
const (
	HeaderSignature = signedhook.HeaderSignature // "sha256=<hex>"
	HeaderTimestamp = signedhook.HeaderTimestamp // unix seconds
)

// MinSecretLength is the shortest accepted shared secret.
const MinSecretLength = signedhook.MinSecretLength

// Webhook POSTs {"phone": "+86…", "message": "…"} as JSON to URL. Any 2xx
// answer is a delivery; anything else, or no answer within Timeout, is an
// error (which never holds the message, the phone or the answer's body).
type Webhook struct {
	hook *signedhook.Hook
}

var _ identity.Sender = (*Webhook)(nil)

// Config is what New needs: URL (https; http only to a loopback address),
// Secret (at least MinSecretLength bytes), Timeout per message (default
// 5 s), Client and Now.
type Config = signedhook.Config

// New checks cfg.
func New(cfg Config) (*Webhook, error) {
	h, err := signedhook.New("smsgateway", cfg)
	if err != nil {
		return nil, err
	}
	return &Webhook{hook: h}, nil
}

// Send implements identity.Sender.
func (w *Webhook) Send(ctx context.Context, phone, message string) error {
	return w.hook.Post(ctx, struct {
		Phone   string `json:"phone"`
		Message string `json:"message"`
	}{phone, message})
}

// Sign is the hex HMAC-SHA256 of "<timestamp>.<body>" under secret, as
// receivers compute it to check HeaderSignature.
func Sign(secret []byte, timestamp string, body []byte) string {
	return signedhook.Sign(secret, timestamp, body)
}
