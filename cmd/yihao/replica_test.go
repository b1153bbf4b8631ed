package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the test schema only

	"golang.org/x/oauth2"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/storetest"
)

// startReplicas starts two yihao servers that share one Redis, one SQL
// database (a fresh PostgreSQL schema when YIHAO_TEST_POSTGRES_URL is set,
// else one SQLite file) and one data directory (so the same development
// keys). Each has its own address, as two replicas behind a balancer would.
func startReplicas(t *testing.T) (a, b *testServer) {
	t.Helper()
	redisURL := storetest.BackendURL(t, "redis", "YIHAO_TEST_REDIS_URL")
	dir := t.TempDir()
	dbURL := ""
	if pg := os.Getenv("YIHAO_TEST_POSTGRES_URL"); pg != "" {
		dbURL = freshPostgresSchema(t, pg)
	}
	start := func() *testServer {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		cfg := defaultConfig()
		cfg.Dev, cfg.Issuer, cfg.DataDir, cfg.Listen, cfg.LogLevel = true, "http://"+addr, dir, addr, "error"
		cfg.RedisURL, cfg.DatabaseURL = redisURL, dbURL
		return startWith(t, cfg, ln)
	}
	a = start() // creates the keys, migrates and generates the signing keys
	b = start() // reads the same
	return a, b
}

// freshPostgresSchema creates a schema for the test, dropped at cleanup, and
// returns base with its search_path set to it.
func freshPostgresSchema(t *testing.T, base string) string {
	t.Helper()
	r := make([]byte, 6)
	_, _ = rand.Read(r)
	schema := "replica_" + hex.EncodeToString(r)
	exec := func(stmt string) {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatalf("YIHAO_TEST_POSTGRES_URL: %v", err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("YIHAO_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestFreezeOnOneReplicaEndsSessionOnAnother: freezing an account ends a
// live session on a second replica sharing the same Redis. A citizen signs
// in at a site through replica A; an operator freezes them through the
// console of replica B; at A the SSO session is gone (prompt=none answers
// login_required), the access token is inactive at A's introspection and
// the refresh token is refused.
func TestFreezeOnOneReplicaEndsSessionOnAnother(t *testing.T) {
	a, b := startReplicas(t)
	citizen, number := a.citizen()
	site := newRP(t, a, "replica-site")
	cb := a.browser()
	tok, _ := site.exchange(site.login(cb, number))
	if site.introspect(tok.AccessToken)["active"] != true {
		t.Fatal("token not active at A before the freeze")
	}
	promptNone := func(state string) *url.URL {
		resp, _ := cb.get(site.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
		loc, _ := resp.Location()
		if loc == nil {
			t.Fatalf("prompt=none at A: status %d, no redirect", resp.StatusCode)
		}
		return loc
	}
	if loc := promptNone("replica-before-0001"); loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none at A before the freeze: %v", loc)
	}

	// The operator works on replica B only.
	clerk := b.operator("replica.clerk", "110105", identity.RoleRegistrar)
	ob := b.browser()
	ob.consoleLogin(clerk)
	_, home := ob.get(b.URL + "/console")
	resp, page := ob.consolePost("/console/lookup", home, url.Values{"number": {number}, "reason": {"counter visit"}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/citizens/"+citizen.ID {
		t.Fatalf("look-up at B: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, page = ob.consolePost("/console/citizens/"+citizen.ID+"/freeze", page, url.Values{"reason": {"reported stolen"}})
	if resp.StatusCode != http.StatusOK || !contains(page, `id="citizen-status">已冻结`) {
		t.Fatalf("freeze at B: %d\n%.800s", resp.StatusCode, page)
	}

	// Replica A sees it at once.
	if loc := promptNone("replica-after-0001"); loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none at A after the freeze on B: %v", loc)
	}
	if got := site.introspect(tok.AccessToken)["active"]; got != false {
		t.Fatalf("access token at A's introspection after the freeze on B: active=%v", got)
	}
	if _, err := site.refresh(tok.RefreshToken); err == nil {
		t.Fatal("refresh token still works at A after the freeze on B")
	}
}
