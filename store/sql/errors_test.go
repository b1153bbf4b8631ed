package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// driverTypeVisible reports whether a driver or gorm error can be reached
// through err's chain.
func driverTypeVisible(err error) bool {
	var pg *pgconn.PgError
	var my *mysql.MySQLError
	var lite *gosqlite.Error
	return errors.As(err, &pg) || errors.As(err, &my) || errors.As(err, &lite) ||
		errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, gorm.ErrDuplicatedKey)
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		sentinel error // nil: none of identity's
		also     error // another error the result must match
		text     string
		hidden   string
	}{
		{name: "gorm not found", err: gorm.ErrRecordNotFound, sentinel: identity.ErrNotFound, text: "store: op: not found"},
		{name: "postgres unique", err: &pgconn.PgError{Code: "23505", Message: "duplicate key value", Detail: "Key (id)=(secret) already exists."}, sentinel: identity.ErrAlreadyExists, hidden: "secret"},
		{name: "mysql duplicate repeats the value, which is dropped", err: &mysql.MySQLError{Number: 1062, Message: "Duplicate entry '13800138000' for key 'phone'"}, sentinel: identity.ErrAlreadyExists, hidden: "13800138000"},
		{name: "wrapped unique", err: fmt.Errorf("in tx: %w", &pgconn.PgError{Code: "23505"}), sentinel: identity.ErrAlreadyExists},
		{name: "deadline", err: context.DeadlineExceeded, sentinel: identity.ErrUnavailable, also: context.DeadlineExceeded},
		{name: "canceled", err: fmt.Errorf("query: %w", context.Canceled), sentinel: identity.ErrUnavailable, also: context.Canceled},
		{name: "bad connection", err: driver.ErrBadConn, sentinel: identity.ErrUnavailable},
		{name: "mysql invalid connection", err: mysql.ErrInvalidConn, sentinel: identity.ErrUnavailable},
		{name: "connection refused", err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, sentinel: identity.ErrUnavailable},
		{name: "postgres shutting down", err: &pgconn.PgError{Code: "57P01", Message: "terminating connection"}, sentinel: identity.ErrUnavailable},
		{name: "mysql lock wait timeout", err: &mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}, sentinel: identity.ErrUnavailable},
		{name: "other postgres error keeps its text only", err: &pgconn.PgError{Code: "42P01", Message: `relation "citizens" does not exist`}, text: `store: op: relation "citizens" does not exist (SQLSTATE 42P01)`},
		{name: "other mysql error", err: &mysql.MySQLError{Number: 1146, Message: "Table 'x' doesn't exist"}, text: "store: op: Table 'x' doesn't exist (mysql 1146)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap("op", tt.err)
			for _, s := range []error{identity.ErrNotFound, identity.ErrAlreadyExists, identity.ErrConflict, identity.ErrUnavailable} {
				if errors.Is(got, s) != (s == tt.sentinel) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, errors.Is(got, s))
				}
			}
			if tt.also != nil && !errors.Is(got, tt.also) {
				t.Errorf("%v does not match %v", got, tt.also)
			}
			if driverTypeVisible(got) {
				t.Errorf("%v exposes the driver error", got)
			}
			if !strings.HasPrefix(got.Error(), "store: op: ") {
				t.Errorf("message %q lacks the store prefix", got)
			}
			if tt.text != "" && got.Error() != tt.text {
				t.Errorf("message = %q, want %q", got, tt.text)
			}
			if tt.hidden != "" && strings.Contains(got.Error(), tt.hidden) {
				t.Errorf("message %q repeats %q", got, tt.hidden)
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) is not nil")
	}
}

// Real errors from every backend come out translated.
func TestErrorsFromTheDatabase(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newStore(t, b)
		ctx := t.Context()
		if err := s.AddSigningKey(ctx, &oauth.SigningKey{ID: "k", Algorithm: "ES256", Sealed: []byte{1}}); err != nil {
			t.Fatal(err)
		}
		err := s.AddSigningKey(ctx, &oauth.SigningKey{ID: "k", Algorithm: "ES256", Sealed: []byte{1}})
		if !errors.Is(err, identity.ErrAlreadyExists) || driverTypeVisible(err) {
			t.Errorf("duplicate key = %v (driver visible %v)", err, driverTypeVisible(err))
		}
		_, err = s.Grant(ctx, "nope")
		if !errors.Is(err, identity.ErrNotFound) || driverTypeVisible(err) {
			t.Errorf("missing grant = %v", err)
		}

		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.Client(canceled, "x")
		if !errors.Is(err, identity.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("canceled query = %v, want ErrUnavailable and context.Canceled", err)
		}
		if err := s.db.WithContext(ctx).Exec("DROP TABLE consents").Error; err != nil {
			t.Fatal(err)
		}
		_, err = s.Consent(ctx, "a", "b")
		if err == nil || driverTypeVisible(err) || errors.Is(err, identity.ErrNotFound) {
			t.Errorf("missing table = %v, want an opaque error", err)
		}
	})
}

// A server that does not answer is ErrUnavailable, and Open says so.
func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, u := range []string{
		"postgres://u@" + addr + "/d?sslmode=disable&connect_timeout=2",
		"mysql://u@tcp(" + addr + ")/d?timeout=2s",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		s, err := Open(ctx, Config{URL: u})
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", u)
			continue
		}
		if !errors.Is(err, identity.ErrUnavailable) || driverTypeVisible(err) {
			t.Errorf("%s: Open = %v, want ErrUnavailable", u, err)
		}
	}
}
