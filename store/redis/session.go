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

// A session is one string, <prefix>sess:{<digest of the id>}, whose TTL is the
// idle timeout capped at the absolute end. Its value is a few lines, then the
// sealed session:
//
//	<absolute end, unix s>\n<last seen, unix s>\n<client id>\n…\n\n<sealed>
//
// One string keeps a session near 400 bytes in Redis; a hash holding the
// sealed value would exceed hash-max-listpack-value and cost twice that.
// Client ids cannot hold a newline (RFC 6749 A.1 allows printable ASCII only).
//
// The set <prefix>cit:<digest of the citizen id> lists the digests of a
// citizen's sessions; its TTL reaches the latest absolute end among them, and
// CitizenSessions drops the ids whose session is gone.

var (
	// touchSession slides the idle TTL, capped at the absolute end, records
	// the visit and returns the value; nil when there is no session.
	// KEYS[1] session; ARGV now ms, now s, idle ms.
	touchSession = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local x = string.match(v, '^(%d+)\n')
if not x then return v end
local ttl = tonumber(x) * 1000 - tonumber(ARGV[1])
if ttl > tonumber(ARGV[3]) then ttl = tonumber(ARGV[3]) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
local rest = string.find(v, '\n', #x + 2, true)
if not rest then return v end
v = x .. '\n' .. ARGV[2] .. string.sub(v, rest)
redis.call('SET', KEYS[1], v, 'PX', ttl)
return v`)

	// addClient adds a client line to a live session unless it is there;
	// 0 when there is no session. KEYS[1] session; ARGV[1] client id.
	addClient = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local e = string.find(v, '\n\n', 1, true)
local l = string.find(v, '\n', 1, true)
if not e or not l then return 0 end
local clients = string.sub(v, l, e)
if string.find(string.sub(clients, 2), '\n' .. ARGV[1] .. '\n', 1, true) then return 1 end
redis.call('SET', KEYS[1], string.sub(v, 1, e) .. ARGV[1] .. '\n' .. string.sub(v, e + 1), 'KEEPTTL')
return 1`)

	// indexAdd adds a member to a set and extends the set's TTL to at least
	// ARGV[2] ms. KEYS[1] set; ARGV member, ttl ms.
	indexAdd = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`)
)

// record is the value of a session key.
func record(expires, lastSeen int64, clients []string, box []byte) []byte {
	b := make([]byte, 0, 24+len(box)+16*len(clients))
	b = strconv.AppendInt(b, expires, 10)
	b = append(b, '\n')
	b = strconv.AppendInt(b, lastSeen, 10)
	b = append(b, '\n')
	for _, c := range clients {
		b = append(append(b, c...), '\n')
	}
	b = append(b, '\n')
	return append(b, box...)
}

// parseRecord reverses record; ok is false for a value it did not write.
func parseRecord(v string) (expires, lastSeen int64, clients []string, box []byte, ok bool) {
	head, rest, ok := strings.Cut(v, "\n\n")
	if !ok {
		return 0, 0, nil, nil, false
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 2 {
		return 0, 0, nil, nil, false
	}
	expires, err1 := strconv.ParseInt(lines[0], 10, 64)
	lastSeen, err2 := strconv.ParseInt(lines[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, nil, nil, false
	}
	if len(lines) > 2 {
		clients = lines[2:]
		slices.Sort(clients)
		clients = slices.Compact(clients)
	}
	return expires, lastSeen, clients, []byte(rest), true
}

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
	for _, c := range sess.Clients {
		if err := sealed.CheckClientID(c); err != nil {
			return fmt.Errorf("store: create session: %w", err)
		}
	}
	value := record(expires, sealed.Unix(sess.LastSeen), sess.Clients, box)
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err = s.eval(ctx,
		func(p redis.Pipeliner) { p.Set(ctx, s.prefix+name, value, ttl) },
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
	cmds, err := s.eval(ctx, nil, script{touchSession, []string{s.sessionKey(digest)},
		[]any{now.UnixMilli(), now.Unix(), s.idle.Milliseconds()}})
	if err != nil {
		return nil, s.fail(ctx, "load session", err)
	}
	v, _ := cmds[0].Val().(string)
	return s.decode(digest, v)
}

// AddSessionClient records that clientID joined the session. Adding the same
// client again changes nothing; concurrent adds are each kept.
func (s *Store) AddSessionClient(ctx context.Context, id, clientID string) error {
	if err := sealed.CheckClientID(clientID); err != nil {
		return fmt.Errorf("store: add session client: %w", err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cmds, err := s.eval(ctx, nil, script{addClient, []string{s.sessionKey(s.codec.SessionDigest(id))},
		[]any{clientID}})
	if err != nil {
		return s.fail(ctx, "add session client", err)
	}
	if n, _ := cmds[0].Int64(); n == 0 {
		return fmt.Errorf("store: add session client: %w", identity.ErrNotFound)
	}
	return nil
}

// DeleteSession removes the session atomically with GETDEL (of two concurrent
// deletes one gets the session, the other ErrNotFound), then drops it from the
// citizen's index.
func (s *Store) DeleteSession(ctx context.Context, id string) (*identity.Session, error) {
	digest := s.codec.SessionDigest(id)
	ctx, cancel := s.call(ctx)
	defer cancel()
	v, err := s.rdb.GetDel(ctx, s.sessionKey(digest)).Result()
	if err != nil {
		return nil, s.fail(ctx, "delete session", err)
	}
	sess, err := s.decode(digest, v)
	if err != nil {
		return nil, err
	}
	// The session is gone; an index entry left behind is pruned by the next
	// CitizenSessions, so a failure here does not fail the delete.
	if err := s.rdb.SRem(ctx, s.prefix+s.codec.CitizenName(sess.CitizenID), digest).Err(); err != nil {
		s.log.Warn("redis store: session deleted but left in its citizen index", "session", digest, "err", err)
	}
	return sess, nil
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
	cmds := make([]*redis.StringCmd, len(digests))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range digests {
			cmds[i] = p.Get(ctx, s.sessionKey(d))
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.fail(ctx, "citizen sessions", err)
	}
	for _, c := range cmds { // redis.Nil (an ended session) may hide another error
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, s.fail(ctx, "citizen sessions", err)
		}
	}
	out := make([]*identity.Session, 0, len(digests))
	var gone []any
	for i, d := range digests {
		sess, err := s.decode(d, cmds[i].Val())
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
	slices.SortFunc(out, cmpSession)
	return out, nil
}

func cmpSession(a, b *identity.Session) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// decode opens a session value. A value that does not open (tampered,
// moved, or sealed under another key) is treated as no session, and logged.
func (s *Store) decode(digest string, v string) (*identity.Session, error) {
	if v == "" {
		return nil, fmt.Errorf("store: session: %w", identity.ErrNotFound)
	}
	expires, lastSeen, clients, box, ok := parseRecord(v)
	if !ok {
		expires = -1 // fails to open below
	}
	sess, err := s.codec.Open(sealed.SessionNameOf(digest), expires, box)
	if err != nil {
		s.log.Warn("redis store: session does not open; treating it as absent", "session", digest, "err", err)
		return nil, fmt.Errorf("store: session: %w: %w", identity.ErrNotFound, err)
	}
	sess.LastSeen = sealed.Time(lastSeen)
	sess.Clients = clients
	return sess, nil
}
