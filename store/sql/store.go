package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

var (
	_ identity.CitizenRepository = (*Store)(nil)
	_ oauth.ClientStore          = (*Store)(nil)
	_ oauth.GrantStore           = (*Store)(nil)
	_ oauth.ConsentStore         = (*Store)(nil)
	_ oauth.KeyStore             = (*Store)(nil)
)

// Config is what Open needs. Only URL is required; Keys are required for the
// citizen methods (a store opened without them, for migrate or client
// management, refuses those methods).
type Config struct {
	// URL selects the database (see parseURL for every accepted form):
	// sqlite:///path/yihao.db, a plain path or file: URI for SQLite;
	// postgres://user:pass@host:5432/db?sslmode=…;
	// mysql://user:pass@tcp(host:3306)/db for MySQL, MariaDB and TiDB.
	URL string
	// Keys encrypt and index document numbers.
	Keys Keys
	// Logger receives the store's few lines (migrations applied). SQL text
	// and arguments are never logged. Nil discards.
	Logger *slog.Logger
	// Now is the clock for timestamps the store sets itself. Nil: time.Now.
	Now func() time.Time

	// Pool limits; zero picks a default for the dialect (SQLite: 4 open
	// connections; servers: 20, recycled after 30 minutes). An in-memory
	// SQLite database always uses one connection.
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

// Store implements the SQL-backed ports over one database.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	crypto  *numberCrypto
	log     *slog.Logger
	now     func() time.Time
	auditQ  auditQueue // appends waiting for group commit (audit.go)
}

// Default pool sizes. SQLite serialises writers anyway (WAL lets readers run
// beside one writer); a few connections keep reads concurrent while the busy
// timeout queues writers.
const (
	defaultMaxOpenSQLite = 4
	defaultMaxOpenServer = 20

	defaultConnMaxLifetime = 30 * time.Minute
)

// Open connects to the database in cfg.URL and checks that it answers. It
// does not create or change the schema: run Migrate for that.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	tgt, err := parseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	crypto, err := newNumberCrypto(cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}

	var dialector gorm.Dialector
	switch tgt.dialect {
	case DialectSQLite:
		dialector = sqlite.Open(tgt.dsn)
	case DialectPostgres:
		dialector = postgres.New(postgres.Config{DSN: tgt.dsn})
	case DialectMySQL:
		conn, err := mysql.NewConnector(tgt.mysql)
		if err != nil {
			return nil, fmt.Errorf("store: open: mysql: %v", err)
		}
		dialector = gormmysql.New(gormmysql.Config{Conn: sql.OpenDB(conn)})
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, wrap("open", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, wrap("open", err)
	}

	maxOpen := cfg.MaxOpenConns
	switch {
	case tgt.memory:
		maxOpen = 1
	case maxOpen <= 0 && tgt.dialect == DialectSQLite:
		maxOpen = defaultMaxOpenSQLite
	case maxOpen <= 0:
		maxOpen = defaultMaxOpenServer
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	idle := cfg.MaxIdleConns
	if idle <= 0 || idle > maxOpen {
		idle = maxOpen
	}
	sqlDB.SetMaxIdleConns(idle)
	if tgt.memory {
		// An idle in-memory connection must never be closed: it is the data.
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	} else {
		life := cfg.ConnMaxLifetime
		if life == 0 && tgt.dialect != DialectSQLite {
			// Recycle before a server or proxy drops an idle connection.
			life = defaultConnMaxLifetime
		}
		sqlDB.SetConnMaxLifetime(life)
		sqlDB.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	}

	s := &Store{
		db:      db,
		sqlDB:   sqlDB,
		dialect: tgt.dialect,
		crypto:  crypto,
		log:     cfg.Logger,
		now:     cfg.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Dialect names the database family: "sqlite", "postgres" or "mysql".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.sqlDB.PingContext(ctx))
}

// Close closes every connection.
func (s *Store) Close() error {
	return wrap("close", s.sqlDB.Close())
}

// q starts a GORM query bound to ctx.
func (s *Store) q(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx)
}

// ts normalises a timestamp for storage: UTC, at the microsecond precision
// that PostgreSQL and MySQL keep, so what is read back equals what was
// written on every dialect.
func ts(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// nullTS stores the zero time as NULL.
func nullTS(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := ts(t)
	return &v
}

// fromNullTS reads a NULL timestamp as the zero time.
func fromNullTS(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// one finishes a write that must touch a row: ErrNotFound when it touched
// none. (On MySQL the DSN's clientFoundRows makes RowsAffected count matched
// rows, so a write that changes nothing still counts.)
func one(op string, res *gorm.DB) error {
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return nil
}

// convert turns rows into domain values, failing on the first bad row.
func convert[R, T any](op string, rows []R, f func(*R) (T, error)) ([]T, error) {
	out := make([]T, 0, len(rows))
	for i := range rows {
		v, err := f(&rows[i])
		if err != nil {
			return nil, failf(op, nil, "%v", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// nowTS is the store clock's current time, normalised.
func (s *Store) nowTS() time.Time { return ts(s.now()) }
