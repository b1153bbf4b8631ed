package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

var (
	_ identity.OTPStore        = (*Store)(nil)
	_ identity.SessionUpgrader = (*Store)(nil)
)

// A one-time code is the hash <prefix>otp:<key> {h: code hash, f: wrong
// tries}; its TTL is the code's life, set again by every PutOTP, so the count
// of wrong tries lives as long as codes keep being asked for.

var (
	// putOTP replaces the code unless the key is locked. KEYS[1] entry;
	// ARGV ttl ms, hash, max failures. Returns {1, 0} stored, {0, pttl} locked.
	putOTP = redis.NewScript(`
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if f >= tonumber(ARGV[3]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'h', ARGV[2], 'f', f)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {1, 0}`)

	// useOTP checks a code. KEYS[1] entry; ARGV hash, max failures.
	// Returns {0, 0} no code, {1, 0} match (entry deleted), {2, pttl}
	// locked, {3, tries left} mismatch (the last one deletes the code).
	useOTP = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local max = tonumber(ARGV[2])
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if f >= max then return {2, redis.call('PTTL', KEYS[1])} end
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return {0, 0} end
if h == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {1, 0}
end
f = redis.call('HINCRBY', KEYS[1], 'f', 1)
if f >= max then redis.call('HDEL', KEYS[1], 'h') end
return {3, max - f}`)

	// replaceBox swaps the sealed part of a session if it is still the one
	// read, keeping the header (expiry, last seen, clients) and the TTL.
	// KEYS[1] session; ARGV old box, new box. 0 none, 1 done, 2 changed.
	replaceBox = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local e = string.find(v, '\n\n', 1, true)
if not e then return 0 end
if string.sub(v, e + 2) ~= ARGV[1] then return 2 end
redis.call('SET', KEYS[1], string.sub(v, 1, e + 1) .. ARGV[2], 'KEEPTTL')
return 1`)
)

func (s *Store) otpKey(key string) string { return s.prefix + "otp:" + key }

func checkMaxFailures(op string, maxFailures int) error {
	if maxFailures < 1 {
		return fmt.Errorf("store: %s: maxFailures must be at least 1", op)
	}
	return nil
}

// PutOTP implements identity.OTPStore in one round trip.
func (s *Store) PutOTP(ctx context.Context, key string, hash []byte, ttl time.Duration, maxFailures int) error {
	if ttl <= 0 {
		return errors.New("store: put otp: ttl must be positive")
	}
	if err := checkMaxFailures("put otp", maxFailures); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, nil, script{putOTP, []string{s.otpKey(key)}, []any{ttlMillis(ttl), hash, maxFailures}})
	if err != nil {
		return s.fail(ctx, "put otp", err)
	}
	v, err := cmds[0].Int64Slice()
	if err != nil || len(v) != 2 {
		return fmt.Errorf("store: put otp: unexpected reply %v", cmds[0].Val())
	}
	if v[0] == 0 {
		return &identity.OTPRefusal{Reason: identity.ErrOTPLocked, RetryAfter: time.Duration(max(v[1], 0)) * time.Millisecond}
	}
	return nil
}

// UseOTP implements identity.OTPStore in one round trip.
func (s *Store) UseOTP(ctx context.Context, key string, hash []byte, maxFailures int) error {
	if err := checkMaxFailures("use otp", maxFailures); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, nil, script{useOTP, []string{s.otpKey(key)}, []any{hash, maxFailures}})
	if err != nil {
		return s.fail(ctx, "use otp", err)
	}
	v, err := cmds[0].Int64Slice()
	if err != nil || len(v) != 2 {
		return fmt.Errorf("store: use otp: unexpected reply %v", cmds[0].Val())
	}
	switch v[0] {
	case 0:
		return fmt.Errorf("store: use otp: %w", identity.ErrNotFound)
	case 1:
		return nil
	case 2:
		return &identity.OTPRefusal{Reason: identity.ErrOTPLocked, RetryAfter: time.Duration(max(v[1], 0)) * time.Millisecond}
	}
	return &identity.OTPRefusal{Reason: identity.ErrOTPMismatch, Left: int(max(v[1], 0))}
}

// UpgradeSession implements identity.SessionUpgrader: it reads the session,
// seals it again with the new acr, amr and auth_time, and swaps the sealed
// part only if nobody changed it meanwhile (retried a few times); the header
// — absolute end, last seen, clients — and the idle TTL are kept.
func (s *Store) UpgradeSession(ctx context.Context, id, acr string, amr []string, authTime time.Time) error {
	digest := s.codec.SessionDigest(id)
	name := sealed.SessionNameOf(digest)
	ctx, cancel := s.call(ctx)
	defer cancel()
	for range 3 {
		v, err := s.rdb.Get(ctx, s.prefix+name).Result()
		if err != nil {
			return s.fail(ctx, "upgrade session", err)
		}
		expires, _, _, box, ok := parseRecord(v)
		if !ok {
			return fmt.Errorf("store: upgrade session: %w", identity.ErrNotFound)
		}
		sess, err := s.codec.Open(name, expires, box)
		if err != nil {
			return fmt.Errorf("store: upgrade session: %w: %w", identity.ErrNotFound, err)
		}
		sess.ACR, sess.AMR, sess.AuthTime = acr, slices.Clone(amr), authTime
		fresh, err := s.codec.Seal(name, expires, sess)
		if err != nil {
			return fmt.Errorf("store: upgrade session: seal: %w", err)
		}
		cmds, err := s.eval(ctx, nil, script{replaceBox, []string{s.prefix + name}, []any{box, fresh}})
		if err != nil {
			return s.fail(ctx, "upgrade session", err)
		}
		switch n, _ := cmds[0].Int64(); n {
		case 0:
			return fmt.Errorf("store: upgrade session: %w", identity.ErrNotFound)
		case 1:
			return nil
		}
	}
	return fmt.Errorf("store: upgrade session: %w", identity.ErrConflict)
}
