package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// hit counts one event in a fixed window: the first event of a window sets
// the TTL (also repairing a key that somehow lost it). KEYS[1] counter;
// ARGV[1] window ms. Returns {count, ms left}.
var hit = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {n, t}`)

func (s *Store) rateKey(key string) string { return s.prefix + "rl:" + key }

// Hit adds one event for key in a fixed window and returns the count so far
// and the time until the window ends; one round trip.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, time.Duration, error) {
	if window <= 0 {
		return 0, 0, errors.New("store: rate limit: window must be positive")
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, nil, script{hit, []string{s.rateKey(key)}, []any{ttlMillis(window)}})
	if err != nil {
		return 0, 0, s.fail(ctx, "rate limit", err)
	}
	v, err := cmds[0].Int64Slice()
	if err != nil || len(v) != 2 {
		return 0, 0, fmt.Errorf("store: rate limit: unexpected reply %v", cmds[0].Val())
	}
	return v[0], time.Duration(v[1]) * time.Millisecond, nil
}

// Reset forgets key.
func (s *Store) Reset(ctx context.Context, key string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(ctx, "rate limit reset", s.rdb.Del(ctx, s.rateKey(key)).Err())
}
