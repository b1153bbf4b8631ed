// Package signedhook POSTs JSON to an operator's webhook with an HMAC
// signature: the one implementation behind smsgateway (text messages) and
// mailgateway (email), which differ only in the JSON they send.
package signedhook

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

// Config is what New needs.
type Config struct {
	URL     string        // https (http only to a loopback address)
	Secret  []byte        // shared HMAC secret, at least MinSecretLength bytes
	Timeout time.Duration // per request; default 5 s
	Client  *http.Client  // default: a client with Timeout that follows no redirect
	Now     func() time.Time
}

// Hook is a checked webhook. Any 2xx answer is a delivery; anything else, or
// no answer within the timeout, is an error that never holds the body sent,
// the URL or the answer's body.
type Hook struct {
	name    string // the package the errors are named for
	url     string
	secret  []byte
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

// New checks cfg; name prefixes every error ("smsgateway").
func New(name string, cfg Config) (*Hook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, fmt.Errorf("%s: URL must be an absolute https URL without credentials", name)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: URL must use https (http only on a loopback address)", name)
	}
	if len(cfg.Secret) < MinSecretLength {
		return nil, fmt.Errorf("%s: secret must be at least %d bytes", name, MinSecretLength)
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
	return &Hook{name: name, url: u.String(), secret: bytes.Clone(cfg.Secret), client: cfg.Client, timeout: cfg.Timeout, now: cfg.Now}, nil
}

func loopback(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// Post sends v as JSON, signed.
func (h *Hook) Post(ctx context.Context, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", h.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", h.name, err)
	}
	ts := strconv.FormatInt(h.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, "sha256="+Sign(h.secret, ts, body))
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: no answer within %s", h.name, h.timeout)
		}
		return errors.New(h.name + ": request failed") // net errors are not wrapped: they repeat the URL
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: gateway answered %d", h.name, resp.StatusCode)
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
