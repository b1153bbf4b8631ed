package verifygateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/smsgateway"
)

var secret = []byte(strings.Repeat("k", 32))

const number = "11010519491231002X"

func service(t *testing.T, h http.HandlerFunc) *Verifier {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	v, err := New(Config{URL: srv.URL, Secret: secret, Timeout: 300 * time.Millisecond,
		Now: func() time.Time { return time.Unix(1770000000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifySignsAndReadsTheAnswer(t *testing.T) {
	n, _ := identity.Parse(identity.ResidentID, number)
	v := service(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get(smsgateway.HeaderTimestamp)
		if ts != "1770000000" || r.Header.Get(smsgateway.HeaderSignature) != "sha256="+smsgateway.Sign(secret, ts, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var req struct {
			DocumentType string `json:"document_type"`
			Number, Name string
		}
		_ = json.Unmarshal(body, &req)
		if req.Number == number && req.Name == "张三" && req.DocumentType == string(identity.ResidentID) {
			io.WriteString(w, `{"result":"match","trace":"x"}`)
			return
		}
		io.WriteString(w, `{"result":"no_match"}`)
	})
	if got, err := v.Verify(t.Context(), n, "张三"); err != nil || got != identity.VerdictMatch {
		t.Fatalf("Verify = %v, %v; want match", got, err)
	}
	if got, err := v.Verify(t.Context(), n, "李四"); err != nil || got != identity.VerdictNoMatch {
		t.Fatalf("Verify other name = %v, %v; want no_match", got, err)
	}
}

func TestVerifyUnavailable(t *testing.T) {
	n, _ := identity.Parse(identity.ResidentID, number)
	for name, h := range map[string]http.HandlerFunc{
		"5xx":      func(w http.ResponseWriter, r *http.Request) { http.Error(w, number, http.StatusBadGateway) },
		"garbage":  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>"+number) },
		"unknown":  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"result":"maybe"}`) },
		"redirect": func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
		"slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			v := service(t, h)
			got, err := v.Verify(t.Context(), n, "张三")
			if got != identity.VerdictNoMatch || !errors.Is(err, identity.ErrUnavailable) {
				t.Fatalf("Verify = %v, %v; want unavailable", got, err)
			}
			if strings.Contains(err.Error(), number) || strings.Contains(err.Error(), "张三") {
				t.Fatalf("the error repeats the number or name: %v", err)
			}
		})
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, c := range []Config{
		{URL: "http://verify.example.gov.cn/check", Secret: secret},
		{URL: "https://user:pw@verify.example.gov.cn/check", Secret: secret},
		{URL: "https://verify.example.gov.cn/check", Secret: []byte("short")},
		{URL: "/relative", Secret: secret},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%q) accepted", c.URL)
		}
	}
	if _, err := New(Config{URL: "http://127.0.0.1:9/check", Secret: secret}); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		body string
		want identity.Verdict
		ok   bool
	}{
		{`{"result":"match"}`, identity.VerdictMatch, true},
		{`{"result":"no_match"}`, identity.VerdictNoMatch, true},
		{` {"result":"match","extra":[1,2]} `, identity.VerdictMatch, true},
		{`{"result":"MATCH"}`, identity.VerdictNoMatch, false},
		{`{"result":true}`, identity.VerdictNoMatch, false},
		{`{"Result":"match"}`, identity.VerdictNoMatch, false},
		{`{}`, identity.VerdictNoMatch, false},
		{`null`, identity.VerdictNoMatch, false},
		{`["match"]`, identity.VerdictNoMatch, false},
		{``, identity.VerdictNoMatch, false},
		{`{"result":"match"}x`, identity.VerdictNoMatch, false},
	} {
		got, err := ParseAnswer([]byte(tc.body))
		if got != tc.want || (err == nil) != tc.ok || (err != nil && !errors.Is(err, identity.ErrUnavailable)) {
			t.Errorf("ParseAnswer(%q) = %v, %v", tc.body, got, err)
		}
	}
}

// FuzzParseAnswer: nothing panics, an error is always "unavailable" with no
// match, and a match needs "result" to be exactly "match".
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{`{"result":"match"}`, `{"result":"no_match"}`, `{"result":"match","result":"no_match"}`, `{`, "\x00", `{"Result":"match"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseAnswer(body)
		if err != nil {
			if got != identity.VerdictNoMatch || !errors.Is(err, identity.ErrUnavailable) {
				t.Fatalf("ParseAnswer(%q) = %v, %v", body, got, err)
			}
			if !strings.HasPrefix(err.Error(), "verifygateway: ") || len(err.Error()) > 120 {
				t.Fatalf("error %q is not one of the fixed messages", err)
			}
			return
		}
		if got == identity.VerdictMatch && !strings.Contains(string(body), "match") {
			t.Fatalf("match from %q", body)
		}
	})
}
