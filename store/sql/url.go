package sqlstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Dialect names of the supported SQL families.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
	DialectMySQL    = "mysql"
)

// target is a parsed Config.URL: the dialect and what its driver needs.
type target struct {
	dialect string
	dsn     string        // sqlite and postgres
	mysql   *mysql.Config // mysql
	memory  bool          // sqlite in-memory database (one connection only)
}

// sqliteParams are always added to a SQLite DSN: WAL so readers do not block
// the writer, a busy timeout so concurrent writers wait instead of failing
// with "database is locked", foreign keys on, and BEGIN IMMEDIATE so a
// transaction takes the write lock up front (a deferred transaction that
// later upgrades to write can fail with SQLITE_BUSY without waiting).
var sqliteParams = []string{
	"_pragma=busy_timeout(10000)",
	"_pragma=journal_mode(WAL)",
	"_pragma=foreign_keys(1)",
	"_pragma=synchronous(NORMAL)",
	"_txlock=immediate",
}

// parseURL turns Config.URL into a driver target. Accepted forms:
//
//	sqlite:///abs/path/yihao.db   sqlite://relative/yihao.db   file:yihao.db?...
//	/plain/path/yihao.db          yihao.db                      :memory:
//	postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://)
//	mysql://user:pass@tcp(host:3306)/db?param=value     (go-sql-driver form)
//	mysql://user:pass@host:3306/db?param=value          (URL form)
//
// Error messages never repeat the URL, which may hold a password.
func parseURL(raw string) (target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return target{}, errors.New("database URL is empty")
	}
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	if !hasScheme || strings.ContainsAny(scheme, "/?.\\") {
		// A plain path or a file: URI.
		return sqliteTarget(raw)
	}
	switch strings.ToLower(scheme) {
	case "file":
		return sqliteTarget(raw)
	case "sqlite", "sqlite3":
		if rest == "" {
			return target{}, errors.New("database URL: sqlite URL has no path (want sqlite:///path/to/file.db)")
		}
		return sqliteTarget(rest)
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			return target{}, errors.New("database URL: malformed postgres URL")
		}
		if strings.Trim(u.Path, "/") == "" {
			return target{}, errors.New("database URL: postgres URL names no database")
		}
		return target{dialect: DialectPostgres, dsn: raw}, nil
	case "mysql", "mariadb", "tidb":
		cfg, err := mysqlConfig(rest)
		if err != nil {
			return target{}, err
		}
		return target{dialect: DialectMySQL, mysql: cfg}, nil
	default:
		return target{}, fmt.Errorf("database URL: unsupported scheme %q (want sqlite, postgres or mysql)", scheme)
	}
}

func sqliteTarget(dsn string) (target, error) {
	path, _, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:")
	if path == "" {
		return target{}, errors.New("database URL: sqlite path is empty")
	}
	// Each connection to an in-memory database is a database of its own, so
	// Open keeps such a store to one connection.
	memory := path == ":memory:" || strings.Contains(dsn, "mode=memory")
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return target{dialect: DialectSQLite, dsn: dsn + sep + strings.Join(sqliteParams, "&"), memory: memory}, nil
}

// mysqlConfig parses the part after "mysql://" and forces what the store
// relies on: time.Time scanning in UTC, utf8mb4, and RowsAffected counting
// matched rather than changed rows (so an update that changes nothing is
// not mistaken for a missing row).
func mysqlConfig(rest string) (*mysql.Config, error) {
	var cfg *mysql.Config
	if strings.Contains(rest, "(") {
		c, err := mysql.ParseDSN(rest)
		if err != nil {
			return nil, errors.New("database URL: malformed mysql DSN (want mysql://user:pass@tcp(host:port)/db)")
		}
		cfg = c
	} else {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return nil, errors.New("database URL: malformed mysql URL (want mysql://user:pass@tcp(host:port)/db)")
		}
		cfg = mysql.NewConfig()
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" && u.Host != "" {
			cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		// Round-trip the query through the driver's own parser so that its
		// options (tls, timeout, …) mean what they mean in a DSN.
		if u.RawQuery != "" {
			c, err := mysql.ParseDSN("/x?" + u.RawQuery)
			if err != nil {
				return nil, errors.New("database URL: malformed mysql URL parameters")
			}
			c.User, c.Passwd, c.Net, c.Addr, c.DBName = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName
			cfg = c
		}
	}
	if cfg.DBName == "" {
		return nil, errors.New("database URL: mysql URL names no database")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.ClientFoundRows = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["charset"] = "utf8mb4"
	cfg.Logger = &mysql.NopLogger{}
	return cfg, nil
}
