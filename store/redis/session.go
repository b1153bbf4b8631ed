package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

// A session is one hash, <prefix>sess:{<digest of the id>}, whose TTL is the
// idle timeout capped at the absolute end:
//
//	d      the sealed session (see package sealed)
//	x      absolute end, unix seconds (bound into the seal)
//	l      last seen, unix seconds
//	c:<id> one field per client that joined
//
// The set <prefix>cit:<digest of the citizen id> lists the digests of a
// citizen's sessions; its TTL reaches the latest absolute end among them, and
// CitizenSessions drops the ids whose session is gone.
const (
	fieldSealed   = "d"
	fieldExpires  = "x"
	fieldLastSeen = "l"
	clientPrefix  = "c:"
)

var (
	// createSession replaces the session hash and sets its TTL.
	// KEYS[1] session; ARGV ttl ms, sealed, expires, last seen, clients...
	createSession = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'x', ARGV[3], 'l', ARGV[4])
for i = 5, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], '') end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)

	// touchSession slides the idle TTL, capped at the absolute end, records
	// the visit and returns the whole hash; nil when there is no session.
	// KEYS[1] session; ARGV now ms, now s, idle ms.
	touchSession = redis.NewScript(`
local x = redis.call('HGET', KEYS[1], 'x')
if not x then return false end
local ttl = tonumber(x) * 1000 - tonumber(ARGV[1])
if ttl > tonumber(ARGV[3]) then ttl = tonumber(ARGV[3]) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('HSET', KEYS[1], 'l', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
return redis.call('HGETALL', KEYS[1])`)

	// addClient adds a client field to a live session; 0 when there is none.
	// KEYS[1] session; ARGV[1] field.
	addClient = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], '')
return 1`)

	// takeHash deletes a hash and returns what it held; nil when none.
	takeHash = redis.NewScript(`
local v = redis.call('HGETALL', KEYS[1])
if #v == 0 then return false end
redis.call('DEL', KEYS[1])
return v`)

	// indexAdd adds a member to a set and extends the set's TTL to at least
	// ARGV[2] ms. KEYS[1] set; ARGV member, ttl ms.
	indexAdd = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`)
)

func (s *Store) sessionKey(digest string) string { return s.prefix + sealed.SessionNameOf(digest) }

// CreateSession stores sess with a TTL of the idle timeout, capped at
// sess.ExpiresAt, and indexes it under its citizen. A session whose
// ExpiresAt has passed is not stored.
func (s *Store) CreateSession(ctx context.Context, sess *identity.Session) error {
	if sess.ID == "" || sess.CitizenID == "" {
		return errors.New("store: create session: ID and CitizenID are required")
	}
	if sess.ExpiresAt.IsZero() {
		return errors.New("store: create session: ExpiresAt is required")
	}
	now := s.now()
	expires := sess.ExpiresAt.Unix()
	left := time.Unix(expires, 0).Sub(now)
	ttl := min(s.idle, left)
	if ttl < time.Millisecond {
		return nil
	}
	digest := s.codec.SessionDigest(sess.ID)
	name := sealed.SessionNameOf(digest)
	box, err := s.codec.Seal(name, expires, sess)
	if err != nil {
		return fmt.Errorf("store: create session: seal: %w", err)
	}
	args := make([]any, 0, 4+len(sess.Clients))
	args = append(args, ttl.Milliseconds(), box, expires, sealed.Unix(sess.LastSeen))
	for _, c := range sess.Clients {
		args = append(args, clientPrefix+c)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err = s.eval(ctx,
		script{createSession, []string{s.prefix + name}, args},
		script{indexAdd, []string{s.prefix + s.codec.CitizenName(sess.CitizenID)}, []any{digest, left.Milliseconds()}},
	)
	return s.fail(ctx, "create session", err)
}

// Session loads a live session, slides its idle TTL (never past ExpiresAt)
// and sets LastSeen to now, in one round trip.
func (s *Store) Session(ctx context.Context, id string) (*identity.Session, error) {
	digest := s.codec.SessionDigest(id)
	now := s.now()
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, script{touchSession, []string{s.sessionKey(digest)},
		[]any{now.UnixMilli(), now.Unix(), s.idle.Milliseconds()}})
	if err != nil {
		return nil, s.fail(ctx, "load session", err)
	}
	return s.decode(digest, cmds[0].Val())
}

// AddSessionClient records that clientID joined the session. Adding the same
// client again changes nothing; concurrent adds are each kept.
func (s *Store) AddSessionClient(ctx context.Context, id, clientID string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, script{addClient, []string{s.sessionKey(s.codec.SessionDigest(id))},
		[]any{clientPrefix + clientID}})
	if err != nil {
		return s.fail(ctx, "add session client", err)
	}
	if n, _ := cmds[0].Int64(); n == 0 {
		return fmt.Errorf("store: add session client: %w", identity.ErrNotFound)
	}
	return nil
}

// DeleteSession removes the session atomically (of two concurrent deletes one
// gets the session, the other ErrNotFound) and then drops it from the
// citizen's index.
func (s *Store) DeleteSession(ctx context.Context, id string) (*identity.Session, error) {
	digest := s.codec.SessionDigest(id)
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, script{takeHash, []string{s.sessionKey(digest)}, nil})
	if err != nil {
		return nil, s.fail(ctx, "delete session", err)
	}
	sess, err := s.decode(digest, cmds[0].Val())
	if err != nil {
		return nil, err
	}
	err = s.rdb.SRem(ctx, s.prefix+s.codec.CitizenName(sess.CitizenID), digest).Err()
	return sess, s.fail(ctx, "delete session: index", err)
}

// CitizenSessions lists a citizen's live sessions, oldest first, and drops
// the ids of ended ones from the index.
func (s *Store) CitizenSessions(ctx context.Context, citizenID string) ([]*identity.Session, error) {
	index := s.prefix + s.codec.CitizenName(citizenID)
	ctx, cancel := s.call(ctx)
	defer cancel()
	digests, err := s.rdb.SMembers(ctx, index).Result()
	if err != nil {
		return nil, s.fail(ctx, "citizen sessions", err)
	}
	if len(digests) == 0 {
		return []*identity.Session{}, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(digests))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range digests {
			cmds[i] = p.HGetAll(ctx, s.sessionKey(d))
		}
		return nil
	}); err != nil {
		return nil, s.fail(ctx, "citizen sessions", err)
	}
	out := make([]*identity.Session, 0, len(digests))
	var gone []any
	for i, d := range digests {
		sess, err := s.decodeMap(d, cmds[i].Val())
		if err != nil || sess.CitizenID != citizenID {
			gone = append(gone, d)
			continue
		}
		out = append(out, sess)
	}
	if len(gone) > 0 {
		if err := s.rdb.SRem(ctx, index, gone...).Err(); err != nil {
			return nil, s.fail(ctx, "citizen sessions: prune", err)
		}
	}
	slices.SortFunc(out, func(a, b *identity.Session) int {
		return cmpSession(a, b)
	})
	return out, nil
}

func cmpSession(a, b *identity.Session) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// decode reads a script's HGETALL reply: a flat list of fields and values.
func (s *Store) decode(digest string, reply any) (*identity.Session, error) {
	list, _ := reply.([]any)
	m := make(map[string]string, len(list)/2)
	for i := 0; i+1 < len(list); i += 2 {
		k, _ := list[i].(string)
		v, _ := list[i+1].(string)
		m[k] = v
	}
	return s.decodeMap(digest, m)
}

// decodeMap opens a session hash. A hash that does not open (tampered,
// moved, or sealed under another key) is treated as no session, and logged.
func (s *Store) decodeMap(digest string, m map[string]string) (*identity.Session, error) {
	box, ok := m[fieldSealed]
	if !ok {
		return nil, fmt.Errorf("store: session: %w", identity.ErrNotFound)
	}
	expires, err := strconv.ParseInt(m[fieldExpires], 10, 64)
	if err != nil {
		expires = -1 // fails to open below
	}
	sess, err := s.codec.Open(sealed.SessionNameOf(digest), expires, []byte(box))
	if err != nil {
		s.log.Warn("redis store: session does not open; treating it as absent", "session", digest, "err", err)
		return nil, fmt.Errorf("store: session: %w: %w", identity.ErrNotFound, err)
	}
	if l, err := strconv.ParseInt(m[fieldLastSeen], 10, 64); err == nil {
		sess.LastSeen = sealed.Time(l)
	}
	for k := range m {
		if c, ok := strings.CutPrefix(k, clientPrefix); ok {
			sess.Clients = append(sess.Clients, c)
		}
	}
	slices.Sort(sess.Clients)
	return sess, nil
}
