package main

import (
	"net"
	"net/http"
	"os"
	"testing"

	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/store/storetest"
)

// TestSessionSurvivesRestart: with Redis configured, a citizen's SSO session
// outlives a restart of yihao serve (same data dir, keys and Redis).
func TestSessionSurvivesRestart(t *testing.T) {
	redisURL := storetest.BackendURL(t, "redis", "YIHAO_TEST_REDIS_URL")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg := defaultConfig()
	cfg.Dev, cfg.Issuer, cfg.DataDir, cfg.Listen, cfg.LogLevel, cfg.RedisURL = true, "http://"+addr, t.TempDir(), addr, "error", redisURL
	if pg := os.Getenv("YIHAO_TEST_E2E_DATABASE_URL"); pg != "" {
		cfg.DatabaseURL = pg
	}
	ts := startWith(t, cfg, ln)
	site := newRP(t, ts, "restart")
	_, number := ts.citizen()
	br := ts.browser()
	site.exchange(site.login(br, number))
	ts.Close()

	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	ts2 := startWith(t, cfg, ln2)
	br.ts = ts2
	resp, _ := br.get(site.conf.AuthCodeURL("after-restart-001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("after restart: status %d location %v — the session did not survive", resp.StatusCode, loc)
	}
}
