package embedded

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

var (
	_ identity.OTPStore        = (*Store)(nil)
	_ identity.SessionUpgrader = (*Store)(nil)
)

// kindOTP keeps one-time codes among the protocol state entries, so they
// share its expiry and the janitor's sweep. The value is the count of wrong
// tries (one byte) followed by the code's hash (none once killed).
const kindOTP oauth.StateKind = "otp"

func otpArgs(op string, ttl time.Duration, maxFailures int) error {
	if ttl < 0 || maxFailures < 1 || maxFailures > 255 {
		return fmt.Errorf("store: %s: maxFailures must be 1 to 255", op)
	}
	return nil
}

// PutOTP implements identity.OTPStore.
func (s *Store) PutOTP(ctx context.Context, key string, hash []byte, ttl time.Duration, maxFailures int) error {
	if ttl <= 0 {
		return errors.New("store: put otp: ttl must be positive")
	}
	if err := otpArgs("put otp", ttl, maxFailures); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("put otp"); err != nil {
		return err
	}
	now := s.now()
	k := stateKey{kindOTP, key}
	failures := byte(0)
	if e := live(s.states, k, now, stateDeadline); e != nil {
		failures = e.value[0]
		if int(failures) >= maxFailures {
			return &identity.OTPRefusal{Reason: identity.ErrOTPLocked, RetryAfter: e.deadline.Sub(now)}
		}
	}
	s.states[k] = &state{value: append([]byte{failures}, hash...), deadline: now.Add(ttl)}
	return nil
}

// UseOTP implements identity.OTPStore.
func (s *Store) UseOTP(ctx context.Context, key string, hash []byte, maxFailures int) error {
	if err := otpArgs("use otp", 0, maxFailures); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("use otp"); err != nil {
		return err
	}
	now := s.now()
	k := stateKey{kindOTP, key}
	e := live(s.states, k, now, stateDeadline)
	switch {
	case e == nil:
		return fmt.Errorf("store: use otp: %w", identity.ErrNotFound)
	case int(e.value[0]) >= maxFailures:
		return &identity.OTPRefusal{Reason: identity.ErrOTPLocked, RetryAfter: e.deadline.Sub(now)}
	case len(e.value) == 1:
		return fmt.Errorf("store: use otp: %w", identity.ErrNotFound)
	case subtle.ConstantTimeCompare(e.value[1:], hash) == 1:
		delete(s.states, k)
		return nil
	}
	e.value[0]++
	left := maxFailures - int(e.value[0])
	if left <= 0 {
		e.value = e.value[:1]
	}
	return &identity.OTPRefusal{Reason: identity.ErrOTPMismatch, Left: max(left, 0)}
}

// UpgradeSession implements identity.SessionUpgrader: the sealed part is
// sealed again with the new acr, amr and auth_time; the id, clients, idle
// deadline and absolute end are kept.
func (s *Store) UpgradeSession(ctx context.Context, id, acr string, amr []string, authTime time.Time) error {
	name := s.codec.SessionName(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check("upgrade session"); err != nil {
		return err
	}
	e := live(s.sessions, name, s.now(), sessionDeadline)
	if e == nil {
		return fmt.Errorf("store: upgrade session: %w", identity.ErrNotFound)
	}
	sess, err := s.open(name, e)
	if err != nil {
		return err
	}
	sess.ACR, sess.AMR, sess.AuthTime = acr, slices.Clone(amr), authTime
	box, err := s.codec.Seal(name, e.expires, sess)
	if err != nil {
		return fmt.Errorf("store: upgrade session: seal: %w", err)
	}
	e.box = bytes.Clone(box)
	return nil
}
