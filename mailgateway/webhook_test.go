package mailgateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/mailgateway"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestWebhookPostsSignedJSON(t *testing.T) {
	var got struct{ To, Subject, Body string }
	var sig, ts string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig, ts = r.Header.Get(mailgateway.HeaderSignature), r.Header.Get(mailgateway.HeaderTimestamp)
		if want := "sha256=" + mailgateway.Sign(secret, ts, body); sig != want {
			t.Errorf("signature %s, want %s", sig, want)
		}
		_ = json.Unmarshal(body, &got)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	wh, err := mailgateway.New(mailgateway.Config{URL: srv.URL, Secret: secret, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Mail(t.Context(), "zhang@example.com", "subject", "code 123456"); err != nil {
		t.Fatalf("Mail: %v", err)
	}
	if got.To != "zhang@example.com" || got.Subject != "subject" || got.Body != "code 123456" || ts != "1800000000" {
		t.Fatalf("relay got %+v at %s", got, ts)
	}
}

func TestWebhookErrorsSayNothingSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "mailbox zhang@example.com full", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	wh, err := mailgateway.New(mailgateway.Config{URL: srv.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	err = wh.Mail(t.Context(), "zhang@example.com", "subject", "code 123456")
	if err == nil || !strings.Contains(err.Error(), "mailgateway: gateway answered 503") {
		t.Fatalf("Mail: %v", err)
	}
	if strings.Contains(err.Error(), "zhang") || strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("error leaks: %v", err)
	}
	if _, err := mailgateway.New(mailgateway.Config{URL: "http://mail.example.gov.cn/send", Secret: secret}); err == nil {
		t.Error("plain http to a remote host accepted")
	}
}
