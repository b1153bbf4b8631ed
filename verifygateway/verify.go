// Package verifygateway asks a real-name verification service over HTTP
// whether a name belongs to a document number: the adapter between
// identity.IdentityVerifier and the service (or the small relay an operator
// puts in front of the authority's interface). Like package smsgateway it
// lives outside identity, because the domain does not speak HTTP.
//
// The request is a POST of JSON
//
//	{"document_type": "<identity.DocumentType>", "number": "…", "name": "…"}
//
// signed like the SMS webhook: X-Yihao-Timestamp (unix seconds) and
// X-Yihao-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>.
// The service answers 200 with {"result": "match"} or {"result": "no_match"}.
// Anything else — another status, another body, no answer within the
// timeout, a redirect — is "unavailable" (identity.ErrUnavailable), never a
// "no match". Errors never hold the name, the number or the answer's body.
package verifygateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/smsgateway"
)

// MinSecretLength is the shortest accepted shared secret.
const MinSecretLength = 32

// maxAnswer bounds the answer read (the expected one is a few bytes).
const maxAnswer = 4 << 10

// Config is what New needs.
type Config struct {
	URL     string        // https (http only to a loopback address)
	Secret  []byte        // shared HMAC secret, at least MinSecretLength bytes
	Timeout time.Duration // per request; default 5 s
	Client  *http.Client  // default: a client with Timeout that follows no redirect
	Now     func() time.Time
}

// Verifier is the HTTP identity.IdentityVerifier.
type Verifier struct {
	url     string
	secret  []byte
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
}

var _ identity.IdentityVerifier = (*Verifier)(nil)

// New checks cfg.
func New(cfg Config) (*Verifier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, errors.New("verifygateway: URL must be an absolute https URL without credentials")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, errors.New("verifygateway: URL must use https (http only on a loopback address)")
	}
	if len(cfg.Secret) < MinSecretLength {
		return nil, fmt.Errorf("verifygateway: secret must be at least %d bytes", MinSecretLength)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{url: u.String(), secret: bytes.Clone(cfg.Secret), client: cfg.Client, timeout: cfg.Timeout, now: cfg.Now}, nil
}

func loopback(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// Verify implements identity.IdentityVerifier.
func (v *Verifier) Verify(ctx context.Context, n identity.Number, name string) (identity.Verdict, error) {
	body, err := json.Marshal(struct {
		DocumentType string `json:"document_type"`
		Number       string `json:"number"`
		Name         string `json:"name"`
	}{string(n.Type()), n.Value(), name})
	if err != nil {
		return identity.VerdictNoMatch, unavailable("cannot encode the request")
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url, bytes.NewReader(body))
	if err != nil {
		return identity.VerdictNoMatch, unavailable("cannot build the request")
	}
	ts := strconv.FormatInt(v.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(smsgateway.HeaderTimestamp, ts)
	req.Header.Set(smsgateway.HeaderSignature, "sha256="+smsgateway.Sign(v.secret, ts, body))
	resp, err := v.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return identity.VerdictNoMatch, unavailable(fmt.Sprintf("no answer within %s", v.timeout))
		}
		return identity.VerdictNoMatch, unavailable("request failed") // net errors repeat the URL
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return identity.VerdictNoMatch, unavailable("answer not read")
	}
	if resp.StatusCode != http.StatusOK {
		return identity.VerdictNoMatch, unavailable(fmt.Sprintf("service answered %d", resp.StatusCode))
	}
	return ParseAnswer(answer)
}

// ParseAnswer reads the service's answer: a JSON object whose "result" is
// "match" or "no_match" (other members are ignored). Anything else is an
// error wrapping identity.ErrUnavailable that does not repeat the answer.
func ParseAnswer(body []byte) (identity.Verdict, error) {
	if len(body) > maxAnswer {
		return identity.VerdictNoMatch, unavailable("answer too long")
	}
	// A map, not a struct: encoding/json matches struct fields without
	// regard to case, and only "result" itself is the answer.
	var members map[string]json.RawMessage
	var result string
	if err := json.Unmarshal(body, &members); err != nil || members["result"] == nil || json.Unmarshal(members["result"], &result) != nil {
		return identity.VerdictNoMatch, unavailable("answer is not {\"result\": …}")
	}
	switch result {
	case "match":
		return identity.VerdictMatch, nil
	case "no_match":
		return identity.VerdictNoMatch, nil
	}
	return identity.VerdictNoMatch, unavailable("unknown result")
}

func unavailable(why string) error {
	return fmt.Errorf("verifygateway: %s: %w", why, identity.ErrUnavailable)
}
