package sqlstore

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		dialect string
		check   func(t *testing.T, tgt target)
		wantErr string
	}{
		{name: "sqlite absolute", url: "sqlite:///var/lib/yihao/yihao.db", dialect: DialectSQLite, check: func(t *testing.T, tgt target) {
			if !strings.HasPrefix(tgt.dsn, "/var/lib/yihao/yihao.db?") {
				t.Errorf("dsn = %q", tgt.dsn)
			}
		}},
		{name: "sqlite relative", url: "sqlite://data/yihao.db", dialect: DialectSQLite, check: func(t *testing.T, tgt target) {
			if !strings.HasPrefix(tgt.dsn, "data/yihao.db?") {
				t.Errorf("dsn = %q", tgt.dsn)
			}
		}},
		{name: "plain path", url: "/tmp/y.db", dialect: DialectSQLite, check: func(t *testing.T, tgt target) {
			for _, p := range []string{"_txlock=immediate", "busy_timeout", "journal_mode(WAL)", "foreign_keys(1)"} {
				if !strings.Contains(tgt.dsn, p) {
					t.Errorf("dsn %q lacks %s", tgt.dsn, p)
				}
			}
		}},
		{name: "file URI keeps its parameters", url: "file:y.db?cache=shared", dialect: DialectSQLite, check: func(t *testing.T, tgt target) {
			if !strings.HasPrefix(tgt.dsn, "file:y.db?cache=shared&_pragma=") {
				t.Errorf("dsn = %q", tgt.dsn)
			}
		}},
		{name: "file URL form", url: "file:///tmp/y.db", dialect: DialectSQLite},
		{name: "in-memory", url: ":memory:", dialect: DialectSQLite, check: func(t *testing.T, tgt target) {
			if !tgt.memory {
				t.Error("not marked in-memory")
			}
		}},
		{name: "postgres", url: "postgres://yihao:secret@db:5432/yihao?sslmode=verify-full", dialect: DialectPostgres, check: func(t *testing.T, tgt target) {
			if tgt.dsn != "postgres://yihao:secret@db:5432/yihao?sslmode=verify-full" {
				t.Errorf("dsn = %q", tgt.dsn)
			}
		}},
		{name: "postgresql scheme", url: "postgresql://db/yihao", dialect: DialectPostgres},
		{name: "postgres without database", url: "postgres://db:5432", wantErr: "names no database"},
		{name: "mysql DSN form", url: "mysql://yihao:s3cr3t@tcp(db:3306)/yihao?timeout=5s", dialect: DialectMySQL, check: func(t *testing.T, tgt target) {
			c := tgt.mysql
			if c.User != "yihao" || c.Passwd != "s3cr3t" || c.Net != "tcp" || c.Addr != "db:3306" || c.DBName != "yihao" {
				t.Errorf("config = %+v", c)
			}
			if c.Timeout != 5*time.Second {
				t.Errorf("Timeout = %v, want the URL's 5s", c.Timeout)
			}
		}},
		{name: "mysql URL form", url: "mysql://yihao:p%40ss@db/yihao?readTimeout=3s", dialect: DialectMySQL, check: func(t *testing.T, tgt target) {
			c := tgt.mysql
			if c.User != "yihao" || c.Passwd != "p@ss" || c.Addr != "db:3306" || c.DBName != "yihao" || c.ReadTimeout != 3*time.Second {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "mysql forces what the store relies on", url: "mysql://root@tcp(127.0.0.1:3306)/test?charset=latin1&parseTime=false", dialect: DialectMySQL, check: func(t *testing.T, tgt target) {
			c := tgt.mysql
			if !c.ParseTime || c.Loc != time.UTC || !c.ClientFoundRows || c.Params["charset"] != "utf8mb4" {
				t.Errorf("config = %+v", c)
			}
			dsn := c.FormatDSN()
			for _, p := range []string{"parseTime=true", "charset=utf8mb4", "clientFoundRows=true"} {
				if !strings.Contains(dsn, p) {
					t.Errorf("DSN %q lacks %s", dsn, p)
				}
			}
		}},
		{name: "mariadb and tidb are mysql", url: "tidb://root@tcp(tidb:4000)/yihao", dialect: DialectMySQL},
		{name: "mysql without database", url: "mysql://root@tcp(db:3306)/", wantErr: "names no database"},
		{name: "empty", url: " ", wantErr: "empty"},
		{name: "sqlite without path", url: "sqlite://", wantErr: "no path"},
		{name: "unknown scheme", url: "redis://localhost:6379/0", wantErr: `unsupported scheme "redis"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tgt, err := parseURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if tgt.dialect != tt.dialect {
				t.Errorf("dialect = %q, want %q", tgt.dialect, tt.dialect)
			}
			if tt.check != nil {
				tt.check(t, tgt)
			}
		})
	}
}

// Errors about a URL never repeat it: it may hold a password.
func TestParseURLErrorsHideThePassword(t *testing.T) {
	for _, u := range []string{
		"postgres://u:hunter2@db:5432",
		"mysql://u:hunter2@tcp(db:3306)/",
		"mysql://u:hunter2@tcp(db:3306/x",
		"ftp://u:hunter2@host/x",
	} {
		_, err := parseURL(u)
		if err == nil {
			t.Errorf("%s: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"sqlite:///tmp/y.db", "file:y.db?mode=memory", ":memory:", "y.db",
		"postgres://u:p@h:5432/d?sslmode=disable", "postgresql://h/d",
		"mysql://u:p@tcp(h:3306)/d?parseTime=false", "mysql://u:p@h/d?x=y", "mysql://(", "tidb://@/",
		"://", "sqlite://", "mysql://u@unix(/tmp/s)/d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tgt, err := parseURL(s)
		if err != nil {
			return
		}
		switch tgt.dialect {
		case DialectSQLite, DialectPostgres:
			if tgt.dsn == "" {
				t.Fatalf("%q: empty DSN", s)
			}
		case DialectMySQL:
			if tgt.mysql == nil || tgt.mysql.DBName == "" || !tgt.mysql.ParseTime {
				t.Fatalf("%q: bad mysql config %+v", s, tgt.mysql)
			}
			_ = tgt.mysql.FormatDSN()
		default:
			t.Fatalf("%q: dialect %q", s, tgt.dialect)
		}
	})
}
