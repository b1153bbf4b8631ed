// Package mailgateway delivers email through an HTTP webhook: the adapter
// between identity.Mailer and an operator's mail relay. It mirrors
// smsgateway (same signature headers, same rules for the URL and secret),
// and like it lives outside identity because the domain does not speak HTTP.
package mailgateway

import (
	"context"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/internal/signedhook"
)

// Signature headers, as smsgateway's: hex HMAC-SHA256 under the shared
// secret of "<timestamp>.<body>".
const (
	HeaderSignature = signedhook.HeaderSignature // "sha256=<hex>"
	HeaderTimestamp = signedhook.HeaderTimestamp // unix seconds
)

// MinSecretLength is the shortest accepted shared secret.
const MinSecretLength = signedhook.MinSecretLength

// Webhook POSTs {"to": "…", "subject": "…", "body": "…"} as JSON. Any 2xx
// answer is a delivery; anything else, or no answer within Timeout, is an
// error (which never holds the address, the message or the answer's body).
type Webhook struct {
	hook *signedhook.Hook
}

var _ identity.Mailer = (*Webhook)(nil)

// Config is what New needs: URL (https; http only to a loopback address),
// Secret (at least MinSecretLength bytes), Timeout per message (default
// 5 s), Client and Now.
type Config = signedhook.Config

// New checks cfg.
func New(cfg Config) (*Webhook, error) {
	h, err := signedhook.New("mailgateway", cfg)
	if err != nil {
		return nil, err
	}
	return &Webhook{hook: h}, nil
}

// Mail implements identity.Mailer.
func (w *Webhook) Mail(ctx context.Context, to, subject, body string) error {
	return w.hook.Post(ctx, struct {
		To      string `json:"to"`
		Subject string `json:"subject"`
		Body    string `json:"body"`
	}{to, subject, body})
}

// Sign is the hex HMAC-SHA256 of "<timestamp>.<body>" under secret, as
// receivers compute it to check HeaderSignature.
func Sign(secret []byte, timestamp string, body []byte) string {
	return signedhook.Sign(secret, timestamp, body)
}
