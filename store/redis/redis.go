// Package redisstore keeps Yihao's short-lived, shared state in Redis: SSO
// sessions (identity.SessionStore), protocol state such as authorization codes
// and flow state (oauth.StateStore) and rate-limit counters
// (identity.RateLimiter). It works with one server, Sentinel or Cluster
// through go-redis's universal client.
//
// Every key has a TTL. Every call is one round trip (a Lua script or a
// pipeline of them) except DeleteSession, CitizenSessions and
// DeleteGrantState, which need the answer of a first trip to know which keys
// to touch next; every script touches keys of one Cluster slot only.
//
// Timeouts are tight so that a Redis that is down or hung fails a request
// within about a second with identity.ErrUnavailable instead of holding it.
// go-redis errors never leave this package: redis.Nil becomes
// identity.ErrNotFound, network, timeout and pool errors (and Redis replies
// such as LOADING or READONLY during a failover) become
// identity.ErrUnavailable, with the driver's message as text only.
//
// It needs Redis 6.2 or later (GETDEL, SET KEEPTTL) or a compatible server
// with Lua scripting.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

var (
	_ identity.SessionStore = (*Store)(nil)
	_ identity.RateLimiter  = (*Store)(nil)
	_ oauth.StateStore      = (*Store)(nil)
)

// Config is what Open needs.
type Config struct {
	// URL of the Redis deployment; see the package's URL forms in Open.
	URL string
	// SealKey is 32 random bytes. Session payloads are sealed with AES-256-GCM
	// under a key derived from it; key names are keyed hashes under another.
	SealKey []byte
	// IdleTimeout ends a session that has not been used for this long
	// (default 30 minutes). Its absolute end is Session.ExpiresAt.
	IdleTimeout time.Duration
	// Prefix is put before every key (default "yihao:"). It must not contain
	// '{' or '}', which Redis Cluster reads as a hash tag.
	Prefix string
	// CallTimeout bounds one call of the store, retries included (default 1s).
	CallTimeout time.Duration
	// Logger gets the start-up line and sessions that fail to open
	// (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now). Expiry itself runs on Redis's clock.
	Now func() time.Time
}

// Store implements identity.SessionStore, identity.RateLimiter and
// oauth.StateStore on Redis.
type Store struct {
	rdb     redis.UniversalClient
	codec   *sealed.Codec
	prefix  string
	idle    time.Duration
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
}

// Open checks cfg and builds the client. It does not contact Redis (go-redis
// connects on first use); call Ping to check that Redis answers.
//
// URL forms:
//
//	redis://[user:pass@]host[:port][/db]              one server (rediss:// for TLS)
//	unix://[user:pass@]/path/to/redis.sock[?db=N]     a local socket
//	redis://host:port,host:port[,…]                   Cluster, from seed nodes
//	redis-cluster://host:port                         Cluster, from one seed
//	redis-sentinel://host:port,host:port/master[/db]  Sentinel (rediss-sentinel for TLS)
//	redis://host:26379?master_name=m&addr=host:26379  Sentinel, go-redis style
//
// with optional query parameters db, addr, master_name, client_name,
// sentinel_username, sentinel_password, pool_size, max_retries, protocol,
// dial_timeout, read_timeout, write_timeout and pool_timeout.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	_ = ctx // reserved: Open does no I/O today
	codec, err := sealed.New(cfg.SealKey)
	if err != nil {
		return nil, fmt.Errorf("store: redis: %w", err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "yihao:"
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("store: redis: prefix %q must not contain braces", cfg.Prefix)
	}
	if cfg.IdleTimeout < 0 {
		return nil, fmt.Errorf("store: redis: idle timeout must be positive")
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts, err := parseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("store: redis: %w", err)
	}
	failFast(opts)
	quietDriver.Do(func() { redis.SetLogger(driverLog{}) })
	s := &Store{
		rdb:     redis.NewUniversalClient(opts),
		codec:   codec,
		prefix:  cfg.Prefix,
		idle:    cfg.IdleTimeout,
		timeout: cfg.CallTimeout,
		log:     cfg.Logger,
		now:     cfg.Now,
	}
	s.log.Info("redis store", "mode", mode(opts), "addrs", opts.Addrs, "db", opts.DB,
		"tls", opts.TLSConfig != nil, "prefix", s.prefix, "idle_timeout", s.idle)
	return s, nil
}

// quietDriver routes go-redis's own log lines (a line per failed dial during
// an outage) to slog's default logger at debug level: the errors reach the
// callers, which log them once, at the edge. go-redis's logger is global.
var quietDriver sync.Once

type driverLog struct{}

func (driverLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// failFast sets the timeouts the URL did not: a request against a Redis that
// is down or hung fails within about a second (one dial or read of 300ms, one
// retry), rather than the go-redis defaults of several seconds.
func failFast(o *redis.UniversalOptions) {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, 300*time.Millisecond)
	def(&o.ReadTimeout, 300*time.Millisecond)
	def(&o.WriteTimeout, 300*time.Millisecond)
	def(&o.PoolTimeout, 400*time.Millisecond)
	def(&o.MaxRetryBackoff, 100*time.Millisecond)
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	o.DialerRetries = 1 // one dial per attempt; MaxRetries already retries
	o.ContextTimeoutEnabled = true
}

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(ctx, "ping", s.rdb.Ping(ctx).Err())
}

// Close releases the connections. Calls after Close fail with ErrUnavailable.
func (s *Store) Close() error { return s.rdb.Close() }

// call bounds one call of the store.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// fail translates a go-redis error (C4): redis.Nil is ErrNotFound; the
// caller's own cancellation is returned as such; a Redis reply that is not
// about availability is an internal error; everything else — network,
// timeout, pool, closed client, LOADING, READONLY, … — is ErrUnavailable.
// Driver errors are kept as text, never wrapped.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("store: %s: %w", op, identity.ErrNotFound)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("store: %s: %w", op, ctx.Err())
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("store: %s: redis did not answer in time: %w: %w", op, identity.ErrUnavailable, ctx.Err())
	}
	var reply redis.Error
	if errors.As(err, &reply) && !transient(err) {
		return fmt.Errorf("store: %s: redis: %s", op, err.Error())
	}
	return fmt.Errorf("store: %s: %w: %s", op, identity.ErrUnavailable, err.Error())
}

// transient reports Redis replies that mean "not now" rather than "wrong".
func transient(err error) bool {
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsOOMError(err) || redis.IsNoReplicasError(err) ||
		redis.HasErrorPrefix(err, "BUSY")
}

// script is one call of a Lua script in a pipeline.
type script struct {
	s    *redis.Script
	keys []string
	args []any
}

// eval runs plain commands (plain may be nil) and scripts in one pipelined
// round trip, the scripts with EVALSHA. When Redis has lost its script cache
// (a restart or failover) it runs them all again with EVAL, which loads the
// scripts. Everything sent here may run twice without harm.
func (s *Store) eval(ctx context.Context, plain func(redis.Pipeliner), calls ...script) ([]*redis.Cmd, error) {
	run := func(sha bool) ([]*redis.Cmd, error) {
		cmds := make([]*redis.Cmd, len(calls))
		do := func(c script, r redis.Scripter) *redis.Cmd {
			if sha {
				return c.s.EvalSha(ctx, r, c.keys, c.args...)
			}
			return c.s.Eval(ctx, r, c.keys, c.args...)
		}
		if plain == nil && len(calls) == 1 {
			cmds[0] = do(calls[0], s.rdb)
			return cmds, cmds[0].Err()
		}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			if plain != nil {
				plain(p)
			}
			for i, c := range calls {
				cmds[i] = do(c, p)
			}
			return nil
		})
		return cmds, err
	}
	cmds, err := run(true)
	if err != nil && noScript(cmds) {
		cmds, err = run(false)
	}
	return cmds, err
}

func noScript(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if c != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}
