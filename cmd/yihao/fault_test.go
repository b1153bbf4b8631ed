package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/yihao-gov/yihao/store/storetest"
)

// faultProxy sits between yihao and Redis. Hang makes it stop forwarding
// (connections stay open, nothing answers); Refuse closes every connection
// and refuses new ones; Heal restores normal service.
type faultProxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  string // "", "hang", "refuse"
	conns []net.Conn
	wake  chan struct{}
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, target: target, wake: make(chan struct{})}
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		if mode == "refuse" {
			c.Close()
			continue
		}
		go p.serve(c)
	}
}

func (p *faultProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.waitWhileHung()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go pipe(up, c)
	pipe(c, up)
}

func (p *faultProxy) waitWhileHung() {
	for {
		p.mu.Lock()
		mode, wake := p.mode, p.wake
		p.mu.Unlock()
		if mode != "hang" {
			return
		}
		<-wake
	}
}

func (p *faultProxy) set(mode string) {
	p.mu.Lock()
	p.mode = mode
	if mode != "hang" {
		close(p.wake)
		p.wake = make(chan struct{})
	}
	p.mu.Unlock()
	if mode == "refuse" {
		p.closeAll()
	}
}

func (p *faultProxy) closeAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// TestRedisFaults: with Redis hung or gone, requests fail fast with 503 /
// temporarily_unavailable, no token is minted and no "no session, carry on"
// happens; when Redis returns, the same server recovers without a restart.
func TestRedisFaults(t *testing.T) {
	redisURL := storetest.BackendURL(t, "redis", "YIHAO_TEST_REDIS_URL")
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFaultProxy(t, u.Host)
	proxied := *u
	proxied.Host = proxy.addr()
	ts := startServer(t, func(c *Config) { c.RedisURL = proxied.String() })
	site := newRP(t, ts, "faulty")
	_, number := ts.citizen()
	br := ts.browser()
	site.exchange(site.login(br, number))
	cc := clientcredentials.Config{ClientID: site.conf.ClientID, ClientSecret: site.conf.ClientSecret, TokenURL: ts.URL + "/oauth2/token", Scopes: []string{"api.read"}, AuthStyle: oauth2.AuthStyleInHeader}

	check := func(mode string) {
		t.Helper()
		proxy.set(mode)
		defer proxy.set("")

		start := time.Now()
		_, err := cc.Token(context.Background())
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" {
			t.Fatalf("%s: client_credentials: %v, want 503 temporarily_unavailable", mode, err)
		}
		// A hang detector, not a performance assertion: the target (about a
		// second) is watched by the store's fault tests and benchmarks.
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: token request took %s", mode, d)
		}

		// The browser's session cannot be read: the authorization endpoint
		// answers temporarily_unavailable, never a login page or a code.
		resp, body := br.get(site.conf.AuthCodeURL("state-fault-00001", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("error") != "temporarily_unavailable" || loc.Query().Get("code") != "" {
			t.Fatalf("%s: authorize: status %d location %v body %.300s", mode, resp.StatusCode, loc, body)
		}

		resp, _ = br.get(ts.URL + "/readyz")
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s: readyz status %d", mode, resp.StatusCode)
		}
		resp, _ = br.get(ts.URL + "/healthz")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: healthz status %d", mode, resp.StatusCode)
		}
	}
	check("hang")
	check("refuse")

	// Recovery without a restart: the same session works again.
	var lastErr error
	for i := 0; i < 30; i++ {
		if _, lastErr = cc.Token(context.Background()); lastErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("no recovery after Redis returned: %v", lastErr)
	}
	resp, _ := br.get(site.conf.AuthCodeURL("state-recovered-01", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("after recovery the SSO session is gone: %v", loc)
	}
}
