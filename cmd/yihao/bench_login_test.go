package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// Login throughput per method: each operation is one whole sign-in of a
// browser without a session, from the site's authorization request to the
// redirect back with a code (consent is skipped: a first-party site). Run
// with a fixed count, because each SMS code needs its own account (the send
// limits are per account and per phone):
//
//	YIHAO_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench Login -benchtime 40x ./cmd/yihao

func benchCitizens(b *testing.B, ts *testServer, n int) []string {
	numbers := make([]string, n)
	for i := range numbers {
		citizenSeq++
		numbers[i] = validNumber("110105", "19850101", citizenSeq)
		num, err := identity.Parse(identity.ResidentID, numbers[i])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ts.app.register(context.Background(), num, "压测", fmt.Sprintf("1370000%04d", citizenSeq%10000), testPassword); err != nil {
			b.Fatal(err)
		}
	}
	return numbers
}

func reportLogins(b *testing.B, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
	reportCPU(b, cpu0)
}

func BenchmarkLoginPassword(b *testing.B) {
	ts := startServer(b)
	site := newRP(b, ts, "bench-pwd", func(c *oauth.Client) { c.SkipConsent = true })
	numbers := benchCitizens(b, ts, 4)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
	for i := 0; i < b.N; i++ {
		br := ts.browser()
		_, resp, body := site.startAuth(br)
		if resp.Request.URL.Path != "/login" {
			b.Fatalf("landed on %s", resp.Request.URL)
		}
		resp, _ = br.post(ts.URL+"/login", url.Values{"csrf_token": {field(b, csrfRe, body)}, "flow": {field(b, flowRe, body)},
			"username": {numbers[i%len(numbers)]}, "password": {testPassword}})
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
			b.Fatalf("password login %d did not end with a code: %d", i, resp.StatusCode)
		}
	}
	reportLogins(b, start, cpu0)
}

func BenchmarkLoginSMS(b *testing.B) {
	console := &smsConsole{}
	ts := startServer(b, func(c *Config) { c.smsOut = console })
	site := newRP(b, ts, "bench-sms", func(c *oauth.Client) { c.SkipConsent = true })
	numbers := benchCitizens(b, ts, b.N)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
	for i := 0; i < b.N; i++ {
		br := ts.browser()
		_, resp, body := site.startAuth(br)
		flow := field(b, flowRe, body)
		_, body = br.get(ts.URL + "/login/sms?flow=" + url.QueryEscape(flow))
		resp, body = br.post(ts.URL+"/login/sms", url.Values{"csrf_token": {field(b, csrfRe, body)}, "flow": {flow}, "username": {numbers[i]}})
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("send %d: status %d", i, resp.StatusCode)
		}
		code := console.next(b, i)
		resp, _ = br.post(ts.URL+"/login/sms/verify", url.Values{"csrf_token": {field(b, csrfRe, body)}, "flow": {flow}, "username": {numbers[i]}, "code": {code}})
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
			b.Fatalf("SMS login %d did not end with a code: %d", i, resp.StatusCode)
		}
	}
	reportLogins(b, start, cpu0)
}

// BenchmarkLoginPasswordParallel is password logins from 8 browsers at once:
// throughput is bounded by argon2id (the hasher admits 2×GOMAXPROCS hashes at
// a time, so memory stays bounded).
func BenchmarkLoginPasswordParallel(b *testing.B) {
	ts := startServer(b)
	site := newRP(b, ts, "bench-pwd-par", func(c *oauth.Client) { c.SkipConsent = true })
	numbers := benchCitizens(b, ts, 8)
	var next atomicCounter
	b.SetParallelism(4)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
	b.RunParallel(func(pb *testing.PB) {
		number := numbers[next.add()%len(numbers)]
		for pb.Next() {
			br := ts.browser()
			_, resp, body := site.startAuth(br)
			if resp.Request.URL.Path != "/login" {
				b.Errorf("landed on %s", resp.Request.URL)
				return
			}
			resp, _ = br.post(ts.URL+"/login", url.Values{"csrf_token": {field(b, csrfRe, body)}, "flow": {field(b, flowRe, body)},
				"username": {number}, "password": {testPassword}})
			if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
				b.Errorf("password login did not end with a code: %d", resp.StatusCode)
				return
			}
		}
	})
	reportLogins(b, start, cpu0)
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add() int { return int(c.n.Add(1)) }
