package redisstore

import (
	"github.com/redis/go-redis/v9"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url      string
		mode     string
		addrs    []string
		db       int
		master   string
		user     string
		password string
		tls      bool
		check    func(t *testing.T, o *redis.UniversalOptions)
	}{
		{url: "redis://127.0.0.1:6379/0", mode: "standalone", addrs: []string{"127.0.0.1:6379"}},
		{url: "redis://localhost", mode: "standalone", addrs: []string{"localhost:6379"}},
		{url: "rediss://u:p%40ss@redis.example:6380/2", mode: "standalone", addrs: []string{"redis.example:6380"},
			db: 2, user: "u", password: "p@ss", tls: true},
		{url: "redis://:secret@h/3?db=4", mode: "standalone", addrs: []string{"h:6379"}, db: 4, password: "secret"},
		{url: "redis://[::1]:7000/1", mode: "standalone", addrs: []string{"[::1]:7000"}, db: 1},
		{url: "unix:///run/redis.sock?db=5", mode: "standalone", addrs: []string{"/run/redis.sock"}, db: 5},
		{url: "unix://:pw@/run/redis.sock", mode: "standalone", addrs: []string{"/run/redis.sock"}, password: "pw"},
		{url: "redis://a:7000,b:7001,c", mode: "cluster", addrs: []string{"a:7000", "b:7001", "c:6379"}},
		{url: "redis://u:p@[::1]:7000,[::2]:7001/", mode: "cluster", addrs: []string{"[::1]:7000", "[::2]:7001"},
			user: "u", password: "p"},
		{url: "redis://a:7000?addr=b:7001&addr=c:7002", mode: "cluster", addrs: []string{"a:7000", "b:7001", "c:7002"}},
		{url: "redis-cluster://cfg.example:6379", mode: "cluster", addrs: []string{"cfg.example:6379"}},
		{url: "rediss-cluster://cfg.example", mode: "cluster", addrs: []string{"cfg.example:6379"}, tls: true},
		{url: "redis-sentinel://s1:26379,s2,s3:26380/mymaster", mode: "sentinel",
			addrs: []string{"s1:26379", "s2:26379", "s3:26380"}, master: "mymaster"},
		{url: "rediss-sentinel://:pw@s1/mymaster/3?sentinel_password=spw", mode: "sentinel",
			addrs: []string{"s1:26379"}, master: "mymaster", db: 3, password: "pw", tls: true,
			check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.SentinelPassword != "spw" {
					t.Errorf("SentinelPassword = %q", o.SentinelPassword)
				}
			}},
		{url: "redis://s1:26379?master_name=m&addr=s2:26379", mode: "sentinel",
			addrs: []string{"s1:26379", "s2:26379"}, master: "m"},
		{url: "redis://h?dial_timeout=1s&read_timeout=2s&pool_size=7&max_retries=3", mode: "standalone",
			addrs: []string{"h:6379"}, check: func(t *testing.T, o *redis.UniversalOptions) {
				if o.DialTimeout != time.Second || o.ReadTimeout != 2*time.Second || o.PoolSize != 7 || o.MaxRetries != 3 {
					t.Errorf("query options not applied: %+v", o)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			o, err := parseURL(tc.url)
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if got := mode(o); got != tc.mode {
				t.Errorf("mode = %s, want %s", got, tc.mode)
			}
			if !slices.Equal(o.Addrs, tc.addrs) {
				t.Errorf("Addrs = %q, want %q", o.Addrs, tc.addrs)
			}
			if o.DB != tc.db || o.MasterName != tc.master || o.Username != tc.user || o.Password != tc.password {
				t.Errorf("DB %d master %q user %q password %q; want %d %q %q %q",
					o.DB, o.MasterName, o.Username, o.Password, tc.db, tc.master, tc.user, tc.password)
			}
			if (o.TLSConfig != nil) != tc.tls {
				t.Errorf("TLS = %v, want %v", o.TLSConfig != nil, tc.tls)
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func TestParseURLRefuses(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://h", "scheme"},
		{"redis://h/x", "database"},
		{"redis://h?dial_timout=1s", "unknown query parameter"},
		{"redis://h?read_timeout=soon", "read_timeout"},
		{"redis-sentinel://s1", "master name"},
		{"unix://", "socket path"},
		{"redis://h:0", "port"},
		{"redis://:pw@h:bad/0", "URL does not parse"},
		{"redis-cluster://h?master_name=m", "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := parseURL(tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseURL(%q) = %v, want an error about %q", tc.url, err, tc.want)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// Unset timeouts become fail-fast ones; those the URL sets are kept.
func TestFailFastDefaults(t *testing.T) {
	o, _ := parseURL("redis://h?read_timeout=2s")
	failFast(o)
	if o.DialTimeout != 300*time.Millisecond || o.ReadTimeout != 2*time.Second ||
		o.PoolTimeout != 400*time.Millisecond || o.MaxRetries != 1 || !o.ContextTimeoutEnabled {
		t.Fatalf("failFast = %+v", o)
	}
}
