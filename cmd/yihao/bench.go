package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// cmdBench is the load tool behind the performance targets. It starts
// `yihao serve` as a child process (so the server's CPU is measured apart
// from the load generator's, from /proc), prepares a client and a citizen,
// runs each scenario for a fixed time at a fixed concurrency against
// loopback, and prints ops/s, p50/p99 latency and server CPU per operation.
// It stops by itself, and ends only the server it started.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := newFlags("yihao bench", stderr)
	duration := fs.Duration("duration", 5*time.Second, "time per scenario")
	concurrency := fs.Int("concurrency", 16, "concurrent clients")
	cpuProfile := fs.String("cpuprofile", "", "write the server's CPU profile over all scenarios to this file")
	scenarios := fs.String("scenarios", "client_credentials,introspect,jwks,sso_rs256,sso_es256,refresh", "comma-separated scenarios")
	if err := loadConfig(fs, args, &cfg); err != nil {
		return err
	}
	if *duration <= 0 || *duration > 5*time.Minute || *concurrency < 1 || *concurrency > 256 {
		return errors.New("--duration must be in (0, 5m] and --concurrency in [1, 256]")
	}
	dir, err := os.MkdirTemp("", "yihao-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg.Dev, cfg.DataDir, cfg.Listen = true, dir, "127.0.0.1:"+strconv.Itoa(port)
	cfg.Issuer = "http://" + cfg.Listen
	cfg.LogLevel = "error"

	// Prepare the clients and the citizen with the same storage the server will use.
	secret, number, password, err := benchPrepare(ctx, cfg, stderr)
	if err != nil {
		return err
	}

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	srvArgs := []string{"serve", "--dev", "--listen", cfg.Listen, "--issuer", cfg.Issuer, "--data-dir", dir, "--log-level", "error", "--login-ip-limit", "1000000"}
	if cfg.DatabaseURL != "" {
		srvArgs = append(srvArgs, "--database-url", cfg.DatabaseURL)
	}
	if cfg.RedisURL != "" {
		srvArgs = append(srvArgs, "--redis-url", cfg.RedisURL)
	}
	if *cpuProfile != "" {
		abs, err := filepath.Abs(*cpuProfile)
		if err != nil {
			return err
		}
		srvArgs = append(srvArgs, "--cpuprofile", abs)
	}
	srv := exec.Command(exe, srvArgs...)
	srv.Stdout, srv.Stderr = io.Discard, stderr
	started := time.Now()
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
		}
	}()
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
	ready := time.Duration(0)
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := hc.Get(cfg.Issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ready = time.Since(started)
				break
			}
		}
		if time.Now().After(deadline) {
			return errors.New("server did not become ready in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pid := srv.Process.Pid
	time.Sleep(300 * time.Millisecond)
	idle := procStatus(pid, "VmRSS")
	fmt.Fprintf(stdout, "yihao bench: server pid %d, ready %s after exec (includes process start and migrations), idle RSS %s\n", pid, ready.Round(time.Millisecond), idle)
	fmt.Fprintf(stdout, "backends: sql=%s redis=%s; %d concurrent clients, %s per scenario\n\n", orDefault(cfg.DatabaseURL, "sqlite (embedded)"), orDefault(redacted(cfg.RedisURL), "embedded"), *concurrency, *duration)
	fmt.Fprintf(stdout, "%-20s %9s %10s %9s %9s %14s\n", "scenario", "ops", "ops/s", "p50", "p99", "server CPU/op")

	b := &bencher{hc: hc, issuer: cfg.Issuer, secret: secret, number: number, password: password}
	for _, name := range strings.Split(*scenarios, ",") {
		run, ok := b.scenario(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("--scenarios: unknown scenario %q", name)
		}
		setup, op, err := run()
		if err != nil {
			return fmt.Errorf("%s: setup: %w", name, err)
		}
		res, err := b.measure(ctx, pid, *duration, *concurrency, setup, op)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%-20s %9d %10.0f %9s %9s %11.0f µs\n", name, res.ops, res.rate, res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.cpuPerOp)
	}
	fmt.Fprintf(stdout, "\npeak RSS %s\n", procStatus(pid, "VmHWM"))
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = url.User("…")
		return u.String()
	}
	return raw
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

const (
	benchClientRS = "bench-rs256"
	benchClientES = "bench-es256"
	benchRedirect = "https://bench.example/callback"
)

func benchPrepare(ctx context.Context, cfg Config, stderr io.Writer) (secret, number, password string, err error) {
	a, err := openApp(ctx, cfg, io.Discard, false)
	if err != nil {
		return "", "", "", err
	}
	defer a.Close()
	if err := a.sql.Migrate(ctx); err != nil {
		return "", "", "", err
	}
	secret, _ = oauth.GenerateSecret()
	now := time.Now().UTC()
	for id, alg := range map[string]string{benchClientRS: "RS256", benchClientES: "ES256"} {
		err := a.sql.CreateClient(ctx, &oauth.Client{
			ID: id, Name: "bench " + alg, SecretHash: oauth.HashSecret(secret), RedirectURIs: []string{benchRedirect},
			GrantTypes:  []string{"authorization_code", "refresh_token", "client_credentials"},
			Scopes:      []string{"openid", "profile", "offline_access", "api.read"},
			SubjectType: "pairwise", SkipConsent: true, IDTokenSignedResponseAlg: alg, CreatedAt: now, UpdatedAt: now,
		})
		if err != nil {
			return "", "", "", err
		}
	}
	number, password = "11010519491231002X", "bench-password-2026"
	n, _ := identity.Parse(identity.ResidentID, number)
	if _, err := a.register(ctx, n, "压测", "13800138000", password); err != nil {
		return "", "", "", err
	}
	return secret, number, password, nil
}

type bencher struct {
	hc                       *http.Client
	issuer                   string
	secret, number, password string
	cookies                  []*http.Cookie
}

type benchOp func(ctx context.Context, worker int) error

func (b *bencher) scenario(name string) (func() (func(workers int) error, benchOp, error), bool) {
	switch name {
	case "client_credentials":
		return func() (func(int) error, benchOp, error) {
			return nil, func(ctx context.Context, _ int) error { _, err := b.clientCredentials(ctx); return err }, nil
		}, true
	case "introspect":
		return func() (func(int) error, benchOp, error) {
			tok, err := b.clientCredentials(context.Background())
			if err != nil {
				return nil, nil, err
			}
			form := url.Values{"token": {tok}}.Encode()
			return nil, func(ctx context.Context, _ int) error {
				var out struct {
					Active bool `json:"active"`
				}
				if err := b.post(ctx, "/oauth2/introspect", benchClientES, form, &out); err != nil {
					return err
				}
				if !out.Active {
					return errors.New("token inactive")
				}
				return nil
			}, nil
		}, true
	case "jwks":
		return func() (func(int) error, benchOp, error) {
			return nil, func(ctx context.Context, _ int) error {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.issuer+"/.well-known/jwks.json", nil)
				return b.do(req, nil)
			}, nil
		}, true
	case "sso_rs256", "sso_es256":
		client := benchClientRS
		if name == "sso_es256" {
			client = benchClientES
		}
		return func() (func(int) error, benchOp, error) {
			if err := b.login(); err != nil {
				return nil, nil, err
			}
			return nil, func(ctx context.Context, _ int) error { _, err := b.ssoRoundTrip(ctx, client, "openid"); return err }, nil
		}, true
	case "refresh":
		return func() (func(int) error, benchOp, error) {
			if err := b.login(); err != nil {
				return nil, nil, err
			}
			var mu sync.Mutex
			tokens := map[int]string{}
			setup := func(workers int) error {
				for w := 0; w < workers; w++ {
					rt, err := b.ssoRoundTrip(context.Background(), benchClientES, "openid offline_access")
					if err != nil {
						return err
					}
					tokens[w] = rt
				}
				return nil
			}
			return setup, func(ctx context.Context, w int) error {
				mu.Lock()
				rt := tokens[w]
				mu.Unlock()
				var out struct {
					RefreshToken string `json:"refresh_token"`
				}
				if err := b.post(ctx, "/oauth2/token", benchClientES, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(), &out); err != nil {
					return err
				}
				mu.Lock()
				tokens[w] = out.RefreshToken
				mu.Unlock()
				return nil
			}, nil
		}, true
	}
	return nil, false
}

func (b *bencher) do(req *http.Request, out any) error {
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (b *bencher) post(ctx context.Context, path, client, form string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.issuer+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client, url.QueryEscape(b.secret))
	return b.do(req, out)
}

func (b *bencher) clientCredentials(ctx context.Context) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	err := b.post(ctx, "/oauth2/token", benchClientES, "grant_type=client_credentials&scope=api.read", &out)
	return out.AccessToken, err
}

var benchHidden = regexp.MustCompile(`name="(csrf_token|flow)" value="([^"]+)"`)

// login signs the bench citizen in once, keeping the SSO cookie.
func (b *bencher) login() error {
	if b.cookies != nil {
		return nil
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), b.issuer) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	v := verifier()
	resp, err := c.Get(b.authURL(benchClientES, "openid", v))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {b.number}, "password": {b.password}}
	for _, m := range benchHidden.FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], m[2])
	}
	req, _ := http.NewRequest(http.MethodPost, b.issuer+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.issuer)
	resp, err = c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		return fmt.Errorf("login did not end at the client with a code (status %d)", resp.StatusCode)
	}
	u, _ := url.Parse(b.issuer)
	b.cookies = jar.Cookies(u)
	return nil
}

func verifier() string {
	buf := make([]byte, 32)
	_, _ = rand.Read(buf)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func (b *bencher) authURL(client, scope, v string) string {
	sum := sha256.Sum256([]byte(v))
	return b.issuer + "/oauth2/auth?" + url.Values{
		"client_id": {client}, "response_type": {"code"}, "scope": {scope}, "redirect_uri": {benchRedirect},
		"state": {v[:16]}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()
}

// ssoRoundTrip is two HTTP requests: authorize with the session cookie (303
// with a code), then the code exchange. It returns the refresh token, if any.
func (b *bencher) ssoRoundTrip(ctx context.Context, client, scope string) (string, error) {
	v := verifier()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.authURL(client, scope, v), nil)
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	resp, err := b.hc.Transport.RoundTrip(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("authorize: status %d", resp.StatusCode)
	}
	var out struct {
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {benchRedirect}, "code_verifier": {v}}
	if err := b.post(ctx, "/oauth2/token", client, form.Encode(), &out); err != nil {
		return "", err
	}
	if out.IDToken == "" {
		return "", errors.New("no id_token")
	}
	return out.RefreshToken, nil
}

type benchResult struct {
	ops      int
	rate     float64
	p50, p99 time.Duration
	cpuPerOp float64 // µs
}

func (b *bencher) measure(ctx context.Context, pid int, d time.Duration, workers int, setup func(int) error, op benchOp) (benchResult, error) {
	if setup != nil {
		if err := setup(workers); err != nil {
			return benchResult{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cpu0 := procCPU(pid)
	start := time.Now()
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				t := time.Now()
				if err := op(ctx, w); err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						cancel()
					}
					break
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := procCPU(pid) - cpu0
	if firstErr != nil {
		return benchResult{}, firstErr
	}
	if len(lat) == 0 {
		return benchResult{}, errors.New("no operation completed")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return benchResult{
		ops: len(lat), rate: float64(len(lat)) / elapsed.Seconds(),
		p50: lat[len(lat)/2], p99: lat[len(lat)*99/100],
		cpuPerOp: float64(cpu.Microseconds()) / float64(len(lat)),
	}, nil
}

// procCPU is the user+system CPU time of a process, from /proc (Linux).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

func procStatus(pid int, key string) string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, key+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, key+":"))
		}
	}
	return "?"
}
