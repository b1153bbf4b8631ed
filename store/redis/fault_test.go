package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	redisstore "github.com/yihao-gov/yihao/store/redis"
)

// hangDetector is far above the ~1 s a call takes against a dead Redis; it
// only tells a fail-fast from a hang. Speed itself is for benchmarks.
const hangDetector = 5 * time.Second

// openAt opens a store on addr without checking that anything answers.
func openAt(t *testing.T, addr string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(t.Context(), redisstore.Config{
		URL:     "redis://" + addr + "/0",
		SealKey: testKey,
		Logger:  discard(t),
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// everyCallIsUnavailable runs one call of each kind against s, all at once,
// and wants ErrUnavailable from each, without a hang.
func everyCallIsUnavailable(t *testing.T, s *redisstore.Store) {
	t.Helper()
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"Session", func() error { _, err := s.Session(ctx, "sid"); return err }},
		{"CreateSession", func() error {
			return s.CreateSession(ctx, &identity.Session{ID: "sid", CitizenID: "c", ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{"PutState", func() error { return s.PutState(ctx, oauth.KindFlow, "k", []byte("v"), time.Minute, "g") }},
		{"UseState", func() error { return s.UseState(ctx, oauth.KindAuthorizeCode, "k") }},
		{"Hit", func() error { _, _, err := s.Hit(ctx, "k", time.Minute); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
	}
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			start := time.Now()
			err := c.call()
			took := time.Since(start)
			if !errors.Is(err, identity.ErrUnavailable) {
				t.Errorf("%s: err = %v, want ErrUnavailable", c.name, err)
			}
			if took > hangDetector {
				t.Errorf("%s took %v: the store hangs on a dead Redis", c.name, took)
			}
			t.Logf("%s failed in %v: %v", c.name, took.Round(time.Millisecond), err)
		})
	}
	wg.Wait()
}

func TestNothingListeningIsUnavailable(t *testing.T) {
	t.Parallel()
	// Port 1 (tcpmux) is closed on any normal machine: connections are refused.
	everyCallIsUnavailable(t, openAt(t, "127.0.0.1:1"))
}

func TestHungRedisIsUnavailable(t *testing.T) {
	t.Parallel()
	// A server that accepts and reads but never answers.
	ln := listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	everyCallIsUnavailable(t, openAt(t, ln.Addr().String()))
}

func TestCallerCancellationIsNotUnavailable(t *testing.T) {
	t.Parallel()
	s := openAt(t, "127.0.0.1:1")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Session(ctx, "sid")
	if !errors.Is(err, context.Canceled) || errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("Session with a cancelled context: %v, want context.Canceled only", err)
	}
}

// The store outlives an outage: it fails while Redis is away and works again
// once it is back, with the same Store.
func TestRecoversAfterOutage(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	opts := rawClient(t, url).Options()
	p := startProxy(t, opts.Addr)
	s, _ := newStore(t, func(c *redisstore.Config) {
		c.URL = "redis://" + p.addr() + "/" + itoa(opts.DB)
		c.Logger = discard(t)
	})
	ctx := t.Context()
	sess := &identity.Session{ID: "sid-outage", CitizenID: "c", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}

	p.pause()
	start := time.Now()
	_, err := s.Session(ctx, sess.ID)
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("Session while Redis is away: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > hangDetector {
		t.Fatalf("Session while Redis is away took %v", took)
	}

	p.resume()
	deadline := time.Now().Add(hangDetector)
	for {
		got, err := s.Session(ctx, sess.ID)
		if err == nil {
			if got.ID != sess.ID {
				t.Fatalf("Session after the outage = %q, want %q", got.ID, sess.ID)
			}
			t.Logf("working again %v after resume", time.Since(deadline.Add(-hangDetector)).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing %v after Redis came back: %v", hangDetector, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// proxy forwards TCP to Redis. Paused, it drops every connection and holds
// new ones open without an answer, like a Redis that hangs.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	paused bool
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{ln: listen(t), target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(p.dropAll)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		paused := p.paused
		p.mu.Unlock()
		if !paused {
			go p.forward(c)
		}
	}
}

func (p *proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *proxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
	p.dropAll()
}

func (p *proxy) resume() {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
	p.dropAll() // the connections held while paused
}

// Redis forgets its scripts on a restart or failover (and on SCRIPT FLUSH);
// the store loads them again instead of failing.
func TestScriptCacheLoss(t *testing.T) {
	s, _ := newStore(t)
	raw := rawClient(t, redisURL(t))
	ctx := t.Context()
	sess := &identity.Session{ID: "sid-flush", CitizenID: "c", ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	if _, err := s.Session(ctx, sess.ID); err != nil {
		t.Fatalf("Session after SCRIPT FLUSH: %v", err)
	}
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	if err := s.CreateSession(ctx, sess); err != nil { // a pipeline of SET and a script
		t.Fatalf("CreateSession after SCRIPT FLUSH: %v", err)
	}
}
