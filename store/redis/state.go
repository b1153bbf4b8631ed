package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// A state entry is the hash <prefix>st:<kind>:<key> {v: value, u: "1" once
// used} with the entry's TTL. The set <prefix>gr:<kind>:<grant> holds the keys
// of one kind put under a grant; its TTL reaches the longest of theirs.

var (
	// putState replaces an entry (clearing its used mark) and sets its TTL.
	// KEYS[1] entry; ARGV ttl ms, value.
	putState = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)

	// useState marks an entry used: 0 none, 1 marked now, 2 already used.
	// HSETNX keeps the TTL.
	useState = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'u', '1') == 0 then return 2 end
return 1`)

	// popSet deletes a set and returns its members.
	popSet = redis.NewScript(`
local m = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return m`)
)

func (s *Store) stateKey(kind oauth.StateKind, key string) string {
	return s.prefix + "st:" + string(kind) + ":" + key
}

func (s *Store) grantKey(kind oauth.StateKind, grant string) string {
	return s.prefix + "gr:" + string(kind) + ":" + grant
}

// ttlMillis rounds a positive TTL up to whole milliseconds.
func ttlMillis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// PutState stores value under (kind, key) for ttl, replacing any entry there,
// and indexes it under grant when grant is not empty; one round trip.
func (s *Store) PutState(ctx context.Context, kind oauth.StateKind, key string, value []byte, ttl time.Duration, grant string) error {
	if ttl <= 0 {
		return errors.New("store: put state: ttl must be positive")
	}
	ms := ttlMillis(ttl)
	calls := []script{{putState, []string{s.stateKey(kind, key)}, []any{ms, value}}}
	if grant != "" {
		calls = append(calls, script{indexAdd, []string{s.grantKey(kind, grant)}, []any{key, ms}})
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.eval(ctx, nil, calls...)
	return s.fail(ctx, "put state", err)
}

// State returns the value of (kind, key) and whether it was used.
func (s *Store) State(ctx context.Context, kind oauth.StateKind, key string) ([]byte, bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	vals, err := s.rdb.HMGet(ctx, s.stateKey(kind, key), "v", "u").Result()
	if err != nil {
		return nil, false, s.fail(ctx, "load state", err)
	}
	v, ok := vals[0].(string)
	if !ok {
		return nil, false, fmt.Errorf("store: load state: %w", identity.ErrNotFound)
	}
	return []byte(v), vals[1] != nil, nil
}

// UseState marks (kind, key) used, atomically: of concurrent calls exactly
// one succeeds, the others get ErrConflict. The entry stays until its TTL.
func (s *Store) UseState(ctx context.Context, kind oauth.StateKind, key string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, nil, script{useState, []string{s.stateKey(kind, key)}, nil})
	if err != nil {
		return s.fail(ctx, "use state", err)
	}
	switch n, _ := cmds[0].Int64(); n {
	case 0:
		return fmt.Errorf("store: use state: %w", identity.ErrNotFound)
	case 2:
		return fmt.Errorf("store: use state: %w", identity.ErrConflict)
	}
	return nil
}

// DeleteState removes (kind, key); removing a missing entry is not an error.
// A grant index that still names the key is harmless: DeleteGrantState skips
// keys that are gone.
func (s *Store) DeleteState(ctx context.Context, kind oauth.StateKind, key string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.fail(ctx, "delete state", s.rdb.Del(ctx, s.stateKey(kind, key)).Err())
}

// DeleteGrantState removes the entries of kind indexed under grant and
// returns the keys of those that were still there, sorted. Two round trips:
// the index is taken and deleted atomically, then its entries are deleted in
// one pipeline (they live in other Cluster slots).
func (s *Store) DeleteGrantState(ctx context.Context, kind oauth.StateKind, grant string) ([]string, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, nil, script{popSet, []string{s.grantKey(kind, grant)}, nil})
	if err != nil {
		return nil, s.fail(ctx, "delete grant state", err)
	}
	keys, err := cmds[0].StringSlice()
	if err != nil {
		return nil, s.fail(ctx, "delete grant state", err)
	}
	if len(keys) == 0 {
		return []string{}, nil
	}
	dels := make([]*redis.IntCmd, len(keys))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			dels[i] = p.Del(ctx, s.stateKey(kind, k))
		}
		return nil
	}); err != nil {
		return nil, s.fail(ctx, "delete grant state", err)
	}
	removed := make([]string, 0, len(keys))
	for i, k := range keys {
		if dels[i].Val() > 0 {
			removed = append(removed, k)
		}
	}
	slices.Sort(removed)
	return removed, nil
}
