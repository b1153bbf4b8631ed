package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/yihao-gov/yihao/identity"
)

// SQLite result codes the store cares about (sqlite3.h).
const (
	sqliteBusy             = 5
	sqliteLocked           = 6
	sqliteConstraint       = 19
	sqliteConstraintPK     = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// wrap translates err into the store's error for operation op
// ("load citizen", …). It returns nil for nil. The result wraps one of
// identity's sentinels where one applies; otherwise it is opaque: it
// carries the driver's message but not its type, so nothing above store/
// can come to depend on gorm or driver errors. Unique-violation messages are
// dropped entirely: MySQL's repeats the duplicate value.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *storeError
	if errors.As(err, &se) {
		// Already translated (an error returned from inside a transaction).
		return err
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return &storeError{op: op, sentinel: identity.ErrNotFound}
	case isUniqueViolation(err):
		return &storeError{op: op, sentinel: identity.ErrAlreadyExists}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Keep the context error visible beside the sentinel.
		return &storeError{op: op, sentinel: identity.ErrUnavailable, cause: err, keep: true}
	case isUnavailable(err):
		return &storeError{op: op, sentinel: identity.ErrUnavailable, cause: err}
	default:
		return &storeError{op: op, cause: err}
	}
}

// storeError is what every method returns on failure.
type storeError struct {
	op       string
	sentinel error // identity.Err…, or nil
	cause    error // driver error: its text is shown, its type is not reachable unless keep
	keep     bool  // unwrap to cause too (context errors only)
}

func (e *storeError) Error() string {
	var b strings.Builder
	b.WriteString("store: ")
	b.WriteString(e.op)
	if e.sentinel != nil {
		b.WriteString(": ")
		b.WriteString(e.sentinel.Error())
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(causeText(e.cause))
	}
	return b.String()
}

func (e *storeError) Unwrap() []error {
	var errs []error
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.keep && e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// failf builds a store error for op from the store's own checks.
func failf(op string, sentinel error, format string, args ...any) error {
	return &storeError{op: op, sentinel: sentinel, cause: fmt.Errorf(format, args...)}
}

// causeText is the driver message, without the codes' noise where the
// driver offers a cleaner one.
func causeText(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Message + " (SQLSTATE " + pg.Code + ")"
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return fmt.Sprintf("%s (mysql %d)", my.Message, my.Number)
	}
	return err.Error()
}

func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		return my.Number == 1062
	}
	var lite *gosqlite.Error
	if errors.As(err, &lite) {
		c := lite.Code()
		if c == sqliteConstraintUnique || c == sqliteConstraintPK {
			return true
		}
		if c&0xff == sqliteConstraint {
			m := lite.Error()
			return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "PRIMARY KEY")
		}
		return false
	}
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

func isUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"), // connection exception
			strings.HasPrefix(pg.Code, "53"), // insufficient resources
			strings.HasPrefix(pg.Code, "57"): // operator intervention: cancel, shutdown
			return true
		}
		return false
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1040, // too many connections
			1205, // lock wait timeout
			1213, // deadlock
			2006, // server has gone away
			2013: // lost connection
			return true
		}
		return false
	}
	var lite *gosqlite.Error
	if errors.As(err, &lite) {
		c := lite.Code() & 0xff
		return c == sqliteBusy || c == sqliteLocked
	}
	return false
}
