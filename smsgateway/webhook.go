// Package smsgateway delivers text messages through an HTTP webhook: the
// adapter between identity.Sender and a real SMS gateway (or the small
// relay an operator puts in front of one). It lives outside identity because
// the domain does not speak HTTP (see docs/architecture.md, "SMS codes").
package smsgateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// Signature headers. The signature is hex HMAC-SHA256 under the shared
// secret of "<timestamp>.<body>", so a receiver can check both that the
// request came from Yihao and that it is fresh.
const (
	HeaderSignature = "X-Yihao-Signature" // "sha256=<hex>"
	HeaderTimestamp = "X-Yihao-Timestamp" // unix seconds
)

// MinSecretLength is the shortest accepted shared secret.
const MinSecretLength = 32

// Webhook POSTs {"phone": "+86…", "message": "…"} as JSON to URL. Any 2xx
// answer is a delivery; anything else, or no answer within Timeout, is an
// error (which never holds the message, the phone or the answer's body).
type Webhook struct {
	url     string
	secret  []byte
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

var _ identity.Sender = (*Webhook)(nil)

// Config is what New needs.
type Config struct {
	URL     string        // https (http only to a loopback address)
	Secret  []byte        // shared HMAC secret, at least MinSecretLength bytes
	Timeout time.Duration // per message; default 5 s
	Client  *http.Client  // default: a client with Timeout
	Now     func() time.Time
}

// New checks cfg.
func New(cfg Config) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, errors.New("smsgateway: URL must be an absolute https URL without credentials")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, errors.New("smsgateway: URL must use https (http only on a loopback address)")
	}
	if len(cfg.Secret) < MinSecretLength {
		return nil, fmt.Errorf("smsgateway: secret must be at least %d bytes", MinSecretLength)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a gateway that redirects is misconfigured
		}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Webhook{url: u.String(), secret: bytes.Clone(cfg.Secret), client: cfg.Client, timeout: cfg.Timeout, now: cfg.Now}, nil
}

func loopback(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// Send implements identity.Sender.
func (w *Webhook) Send(ctx context.Context, phone, message string) error {
	body, err := json.Marshal(struct {
		Phone   string `json:"phone"`
		Message string `json:"message"`
	}{phone, message})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("smsgateway: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, "sha256="+Sign(w.secret, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("smsgateway: no answer within %s", w.timeout)
		}
		return errors.New("smsgateway: request failed") // net errors are not wrapped: they repeat the URL
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("smsgateway: gateway answered %d", resp.StatusCode)
	}
	return nil
}

// Sign is the hex HMAC-SHA256 of "<timestamp>.<body>" under secret, as
// receivers compute it to check HeaderSignature.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
