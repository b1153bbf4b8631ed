package embedded

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/redis/sealed"
)

func sessionDeadline(e *session) time.Time { return e.deadline }

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// CreateSession stores sess until the idle timeout, capped at ExpiresAt
// (kept to the second, as in Redis), replacing any session with that id.
func (s *Store) CreateSession(ctx context.Context, sess *identity.Session) error {
	if sess.ID == "" || sess.CitizenID == "" {
		return errors.New("store: create session: ID and CitizenID are required")
	}
	if sess.ExpiresAt.IsZero() {
		return errors.New("store: create session: ExpiresAt is required")
	}
	for _, c := range sess.Clients {
		if err := sealed.CheckClientID(c); err != nil {
			return fmt.Errorf("store: create session: %w", err)
		}
	}
	expires := sess.ExpiresAt.Unix()
	digest := s.codec.SessionDigest(sess.ID)
	name := sealed.SessionNameOf(digest)
	box, err := s.codec.Seal(name, expires, sess)
	if err != nil {
		return fmt.Errorf("store: create session: seal: %w", err)
	}
	e := &session{
		box:      box,
		expires:  expires,
		lastSeen: sealed.Unix(sess.LastSeen),
		clients:  make(map[string]struct{}, len(sess.Clients)),
	}
	for _, c := range sess.Clients {
		e.clients[c] = struct{}{}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("create session"); err != nil {
		return err
	}
	now := s.now()
	end := time.Unix(expires, 0)
	e.deadline = earlier(now.Add(s.idle), end)
	if !now.Before(e.deadline) {
		return nil // already over: not stored
	}
	s.sessions[name] = e
	indexAdd(s.citizens, s.codec.CitizenName(sess.CitizenID), digest, now, end)
	return nil
}

// Session loads a live session, slides its idle deadline (never past
// ExpiresAt) and sets LastSeen to now.
func (s *Store) Session(ctx context.Context, id string) (*identity.Session, error) {
	digest := s.codec.SessionDigest(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("load session"); err != nil {
		return nil, err
	}
	now := s.now()
	name := sealed.SessionNameOf(digest)
	e := live(s.sessions, name, now, sessionDeadline)
	if e == nil {
		return nil, fmt.Errorf("store: load session: %w", identity.ErrNotFound)
	}
	e.deadline = earlier(now.Add(s.idle), time.Unix(e.expires, 0))
	e.lastSeen = now.Unix()
	return s.open(name, e)
}

// AddSessionClient records that clientID joined a live session.
func (s *Store) AddSessionClient(ctx context.Context, id, clientID string) error {
	if err := sealed.CheckClientID(clientID); err != nil {
		return fmt.Errorf("store: add session client: %w", err)
	}
	name := s.codec.SessionName(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("add session client"); err != nil {
		return err
	}
	e := live(s.sessions, name, s.now(), sessionDeadline)
	if e == nil {
		return fmt.Errorf("store: add session client: %w", identity.ErrNotFound)
	}
	e.clients[clientID] = struct{}{}
	return nil
}

// DeleteSession removes a session and returns what it held.
func (s *Store) DeleteSession(ctx context.Context, id string) (*identity.Session, error) {
	digest := s.codec.SessionDigest(id)
	name := sealed.SessionNameOf(digest)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("delete session"); err != nil {
		return nil, err
	}
	e := live(s.sessions, name, s.now(), sessionDeadline)
	if e == nil {
		return nil, fmt.Errorf("store: delete session: %w", identity.ErrNotFound)
	}
	delete(s.sessions, name)
	sess, err := s.open(name, e)
	if err != nil {
		return nil, err
	}
	if ix := s.citizens[s.codec.CitizenName(sess.CitizenID)]; ix != nil {
		delete(ix.members, digest)
	}
	return sess, nil
}

// CitizenSessions lists a citizen's live sessions, oldest first, and drops
// ended ones from the citizen's index.
func (s *Store) CitizenSessions(ctx context.Context, citizenID string) ([]*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("citizen sessions"); err != nil {
		return nil, err
	}
	now := s.now()
	out := []*identity.Session{}
	ix := live(s.citizens, s.codec.CitizenName(citizenID), now, indexDeadline)
	if ix == nil {
		return out, nil
	}
	for digest := range ix.members {
		name := sealed.SessionNameOf(digest)
		e := live(s.sessions, name, now, sessionDeadline)
		if e == nil {
			delete(ix.members, digest)
			continue
		}
		sess, err := s.open(name, e)
		if err != nil || sess.CitizenID != citizenID {
			delete(ix.members, digest)
			continue
		}
		out = append(out, sess)
	}
	slices.SortFunc(out, func(a, b *identity.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// open unseals e, as store/redis does: a value that does not open is no
// session.
func (s *Store) open(name string, e *session) (*identity.Session, error) {
	sess, err := s.codec.Open(name, e.expires, e.box)
	if err != nil {
		return nil, fmt.Errorf("store: session: %w: %w", identity.ErrNotFound, err)
	}
	sess.LastSeen = sealed.Time(e.lastSeen)
	if len(e.clients) > 0 {
		sess.Clients = slices.Sorted(maps.Keys(e.clients))
	}
	return sess, nil
}
