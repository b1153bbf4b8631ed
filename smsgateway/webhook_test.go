package smsgateway_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/smsgateway"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestWebhookPostsSignedJSON(t *testing.T) {
	var got struct{ Phone, Message string }
	var sig, ts string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig, ts = r.Header.Get(smsgateway.HeaderSignature), r.Header.Get(smsgateway.HeaderTimestamp)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with %s", r.Method, r.Header.Get("Content-Type"))
		}
		if want := "sha256=" + smsgateway.Sign(secret, ts, body); sig != want {
			t.Errorf("signature %s, want %s", sig, want)
		}
		_ = json.Unmarshal(body, &got)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	wh, err := smsgateway.New(smsgateway.Config{URL: srv.URL, Secret: secret, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Send(t.Context(), "+8613900139000", "code 123456"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got.Phone != "+8613900139000" || got.Message != "code 123456" || ts != "1800000000" {
		t.Fatalf("gateway got %+v at %s", got, ts)
	}
}

func TestWebhookErrorsSayNothingSecret(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"refused", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "quota for +8613900139000 exceeded", http.StatusTooManyRequests)
		}, "answered 429"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, "no answer"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		}, "answered 302"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			wh, err := smsgateway.New(smsgateway.Config{URL: srv.URL, Secret: secret, Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = wh.Send(t.Context(), "+8613900139000", "code 123456")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Send: %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), "13900139000") {
				t.Fatalf("error leaks: %v", err)
			}
		})
	}
}

func TestNewChecksTheConfiguration(t *testing.T) {
	for _, tc := range []struct {
		url    string
		secret []byte
	}{
		{"http://sms.example.gov.cn/send", secret},
		{"https://user:pw@sms.example.gov.cn/send", secret},
		{"sms.example.gov.cn/send", secret},
		{"https://sms.example.gov.cn/send", []byte("short")},
	} {
		if _, err := smsgateway.New(smsgateway.Config{URL: tc.url, Secret: tc.secret}); err == nil {
			t.Errorf("New(%q, %d-byte secret) succeeded", tc.url, len(tc.secret))
		}
	}
	if _, err := smsgateway.New(smsgateway.Config{URL: "http://127.0.0.1:9000/send", Secret: secret}); err != nil {
		t.Errorf("loopback http: %v", err)
	}
}
