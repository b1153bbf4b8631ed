package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// testServer is the real yihao server on loopback: SQLite (or PostgreSQL when
// YIHAO_TEST_POSTGRES_URL is set) and the embedded session store (or Redis
// when YIHAO_TEST_REDIS_URL is set).
type testServer struct {
	t    testing.TB
	app  *app
	srv  *server
	http *httptest.Server
	URL  string
}

type serverOpt func(*Config)

func startServer(t testing.TB, opts ...serverOpt) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	dir := t.TempDir()
	cfg := defaultConfig()
	cfg.Dev = true
	cfg.Issuer = issuer
	cfg.DataDir = dir
	cfg.Listen = ln.Addr().String()
	cfg.LogLevel = "error"
	cfg.RedisURL = os.Getenv("YIHAO_TEST_REDIS_URL")
	if pg := os.Getenv("YIHAO_TEST_E2E_DATABASE_URL"); pg != "" {
		cfg.DatabaseURL = pg
	}
	for _, o := range opts {
		o(&cfg)
	}
	return startWith(t, cfg, ln)
}

func startWith(t testing.TB, cfg Config, ln net.Listener) *testServer {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, cfg, io.Discard, true)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := a.migrateIfAsked(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.loadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := a.buildServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.handler)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	ts := &testServer{t: t, app: a, srv: srv, http: hs, URL: cfg.Issuer}
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) Close() {
	if ts.http == nil {
		return
	}
	ts.http.Close()
	ts.srv.provider.Wait()
	ts.app.Close()
	ts.http = nil
}

// client registers a service site.
func (ts *testServer) client(id string, mutate ...func(*oauth.Client)) (*oauth.Client, string) {
	ts.t.Helper()
	secret := "secret-" + id + "-0123456789abcdefghijklmnopqrstuvwxyz"
	c := &oauth.Client{
		ID: id, Name: "Site " + id, SecretHash: oauth.HashSecret(secret),
		RedirectURIs:           []string{"https://" + id + ".example/callback"},
		PostLogoutRedirectURIs: []string{"https://" + id + ".example/bye"},
		GrantTypes:             []string{"authorization_code", "refresh_token", "client_credentials"},
		Scopes:                 []string{"openid", "profile", "phone", "offline_access", "api.read"},
		SubjectType:            "pairwise", IDTokenSignedResponseAlg: "RS256",
		CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(),
	}
	for _, m := range mutate {
		m(c)
	}
	if c.Public {
		c.SecretHash = nil
		secret = ""
	}
	if err := ts.app.sql.CreateClient(context.Background(), c); err != nil {
		ts.t.Fatal(err)
	}
	return c, secret
}

const testPassword = "correct horse battery staple"

var citizenSeq = 100

// citizen registers a citizen with a fresh valid ID number.
func (ts *testServer) citizen() (*identity.Citizen, string) {
	ts.t.Helper()
	citizenSeq++
	number := validNumber("110105", "19800101", citizenSeq)
	n, err := identity.Parse(identity.ResidentID, number)
	if err != nil {
		ts.t.Fatal(err)
	}
	c, err := ts.app.register(context.Background(), n, "李四", "13900139000", testPassword)
	if err != nil {
		ts.t.Fatal(err)
	}
	return c, number
}

// validNumber builds an 18-digit ID with a correct MOD 11-2 check character.
func validNumber(region, birth string, seq int) string {
	body := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

// browser is a citizen's browser: a cookie jar that does not follow
// redirects to other hosts, so the test sees where it would be sent.
type browser struct {
	t      testing.TB
	ts     *testServer
	client *http.Client
}

func (ts *testServer) browser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: ts.t, ts: ts}
	b.client = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != strings.TrimPrefix(ts.URL, "http://") {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	return b
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.ts.URL)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var (
	csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	flowRe = regexp.MustCompile(`name="flow" value="([^"]+)"`)
)

func field(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%.2000s", re, body)
	}
	return m[1]
}

// authorize follows the browser through login and consent as needed and
// returns the final redirect to the client.
func (b *browser) authorize(authURL, number, password string) *url.URL {
	b.t.Helper()
	resp, body := b.get(authURL)
	for i := 0; i < 4; i++ {
		if resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound {
			loc, _ := resp.Location()
			return loc
		}
		if resp.StatusCode != http.StatusOK {
			b.t.Fatalf("authorize: status %d at %s:\n%.1500s", resp.StatusCode, resp.Request.URL, body)
		}
		page := resp.Request.URL.Path
		switch page {
		case "/login":
			resp, body = b.post(b.ts.URL+"/login", url.Values{
				"csrf_token": {field(b.t, csrfRe, body)}, "flow": {field(b.t, flowRe, body)},
				"username": {number}, "password": {password},
			})
		case "/consent":
			resp, body = b.post(b.ts.URL+"/consent", url.Values{
				"csrf_token": {field(b.t, csrfRe, body)}, "flow": {field(b.t, flowRe, body)}, "decision": {"allow"},
			})
		default:
			b.t.Fatalf("authorize: unexpected page %s:\n%.1500s", page, body)
		}
	}
	b.t.Fatalf("authorize: did not finish; last status %d body %.1000s", resp.StatusCode, body)
	return nil
}

func contains(body, s string) bool { return bytes.Contains([]byte(body), []byte(s)) }

func tempFile(t testing.TB, name string) string { return filepath.Join(t.TempDir(), name) }

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
