package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// memSessions is a fake identity.SessionStore.
type memSessions struct {
	identity.SessionStore // unused methods panic
	mu                    sync.Mutex
	m                     map[string]*identity.Session
	err                   error // returned by every call when set
}

func (s *memSessions) CreateSession(_ context.Context, x *identity.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.m == nil {
		s.m = map[string]*identity.Session{}
	}
	c := *x
	s.m[x.ID] = &c
	return nil
}

func (s *memSessions) Session(_ context.Context, id string) (*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	x, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("mem: %w", identity.ErrNotFound)
	}
	c := *x
	return &c, nil
}

func (s *memSessions) DeleteSession(_ context.Context, id string) (*identity.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("mem: %w", identity.ErrNotFound)
	}
	delete(s.m, id)
	return x, nil
}

func TestSessionsStartReadEnd(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, secure := range []bool{true, false} {
		t.Run(fmt.Sprint("secure=", secure), func(t *testing.T) {
			store := &memSessions{}
			s := &Sessions{Store: store, Secure: secure, Lifetime: 8 * time.Hour, IdleTimeout: time.Hour,
				Now: func() time.Time { return now }}

			r := httptest.NewRequest("GET", "/", nil)
			if _, err := s.RequestSession(r); !errors.Is(err, identity.ErrNotFound) {
				t.Fatalf("no cookie: err = %v, want ErrNotFound", err)
			}

			var ids []string
			var cookie *http.Cookie
			for range 2 {
				w := httptest.NewRecorder()
				sess, err := s.Start(w, r, "c1", "urn:yihao:acr:pwd", []string{"pwd"}, "web")
				if err != nil {
					t.Fatal(err)
				}
				cs := w.Result().Cookies()
				if len(cs) != 1 {
					t.Fatalf("cookies = %v", cs)
				}
				cookie = cs[0]
				wantName := map[bool]string{true: "__Host-yihao-session", false: "yihao-session"}[secure]
				if cookie.Name != wantName || cookie.Value != sess.ID || !cookie.HttpOnly || cookie.Secure != secure ||
					cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Domain != "" {
					t.Errorf("cookie = %+v", cookie)
				}
				if len(sess.ID) != 43 || !sess.ExpiresAt.Equal(now.Add(8*time.Hour)) || !sess.AuthTime.Equal(now) ||
					sess.ACR != "urn:yihao:acr:pwd" || sess.Channel != "web" {
					t.Errorf("session = %+v", sess)
				}
				ids = append(ids, sess.ID)
			}
			if ids[0] == ids[1] {
				t.Error("the same session id twice")
			}

			r = httptest.NewRequest("GET", "/", nil)
			r.AddCookie(cookie)
			got, err := s.RequestSession(r)
			if err != nil || got.ID != ids[1] || got.CitizenID != "c1" {
				t.Fatalf("RequestSession = %+v, %v", got, err)
			}

			now = now.Add(9 * time.Hour) // past the lifetime
			if _, err := s.RequestSession(r); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("after lifetime: err = %v", err)
			}
			now = now.Add(-9 * time.Hour)

			store.err = fmt.Errorf("redis: %w", identity.ErrUnavailable)
			if _, err := s.RequestSession(r); !errors.Is(err, identity.ErrUnavailable) {
				t.Errorf("unavailable: err = %v", err)
			}
			store.err = nil

			w := httptest.NewRecorder()
			ended, err := s.End(w, r)
			if err != nil || ended.ID != ids[1] {
				t.Fatalf("End = %+v, %v", ended, err)
			}
			if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 || cs[0].Name != cookie.Name {
				t.Errorf("End cookies = %v", cs)
			}
			if _, err := s.RequestSession(r); !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("after End: err = %v", err)
			}
		})
	}
}

func TestSessionsIgnoreMalformedCookie(t *testing.T) {
	s := &Sessions{Store: &memSessions{err: errors.New("store must not be asked")}}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookieDev, Value: "not-a-session-id"})
	if _, err := s.RequestSession(r); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
}
