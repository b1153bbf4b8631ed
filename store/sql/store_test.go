package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/store/storetest"
)

// backend makes fresh, migrated stores of one SQL family. Stores on a shared
// server each get their own schema (PostgreSQL) or database (MySQL), dropped
// when the test ends.
type backend struct {
	name    string
	dialect string
	// url returns the URL of a fresh, empty database for t.
	url func(t *testing.T) string
}

func backends() []backend {
	return []backend{
		{"sqlite", DialectSQLite, func(t *testing.T) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "yihao.db")
		}},
		{"postgres", DialectPostgres, func(t *testing.T) string {
			return freshPostgres(t, storetest.BackendURL(t, "postgres", "YIHAO_TEST_POSTGRES_URL"))
		}},
		{"mariadb", DialectMySQL, func(t *testing.T) string {
			return freshMySQL(t, storetest.BackendURL(t, "mariadb", "YIHAO_TEST_MYSQL_URL"))
		}},
	}
}

// testKeys are fresh random keys with two encryption keys, "k2" active.
func testKeys(t testing.TB) Keys {
	t.Helper()
	return Keys{
		ActiveID:   "k2",
		Encryption: map[string][]byte{"k1": randBytes(t, 32), "k2": randBytes(t, 32)},
		Index:      randBytes(t, 32),
	}
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func randName(t testing.TB) string {
	return "yihao_test_" + hex.EncodeToString(randBytes(t, 6))
}

// testLogger writes to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openStore opens u with keys and closes it when the test ends.
func openStore(t *testing.T, u string, keys Keys) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{URL: u, Keys: keys, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newStore is a migrated store on a fresh database of b.
func newStore(t *testing.T, b backend) *Store {
	t.Helper()
	s := openStore(t, b.url(t), testKeys(t))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// adminExec runs statements on the server behind base (the test's
// database), for creating and dropping per-test schemas.
func adminExec(t *testing.T, base string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{URL: base})
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	defer s.Close()
	for _, stmt := range stmts {
		if err := s.db.WithContext(ctx).Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// freshPostgres creates a schema for the test and returns base with its
// search_path set to it.
func freshPostgres(t *testing.T, base string) string {
	t.Helper()
	schema := randName(t)
	adminExec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { adminExec(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("YIHAO_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// freshMySQL creates a database for the test and returns base pointing at it.
func freshMySQL(t *testing.T, base string) string {
	t.Helper()
	name := randName(t)
	adminExec(t, base, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	t.Cleanup(func() { adminExec(t, base, "DROP DATABASE IF EXISTS "+name) })
	tgt, err := parseURL(base)
	if err != nil {
		t.Fatalf("YIHAO_TEST_MYSQL_URL: %v", err)
	}
	cfg := tgt.mysql.Clone()
	cfg.DBName = name
	return "mysql://" + cfg.FormatDSN()
}

// eachBackend runs f as a subtest per backend.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func TestConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Run("CitizenRepository", func(t *testing.T) {
			storetest.RunCitizenRepository(t, func(t *testing.T) identity.CitizenRepository { return newStore(t, b) })
		})
		t.Run("ClientStore", func(t *testing.T) {
			storetest.RunClientStore(t, func(t *testing.T) oauth.ClientStore { return newStore(t, b) })
		})
		t.Run("GrantStore", func(t *testing.T) {
			storetest.RunGrantStore(t, func(t *testing.T) oauth.GrantStore { return newStore(t, b) })
		})
		t.Run("ConsentStore", func(t *testing.T) {
			storetest.RunConsentStore(t, func(t *testing.T) oauth.ConsentStore { return newStore(t, b) })
		})
		t.Run("KeyStore", func(t *testing.T) {
			storetest.RunKeyStore(t, func(t *testing.T) oauth.KeyStore { return newStore(t, b) })
		})
		t.Run("PasskeyRepository", func(t *testing.T) {
			storetest.RunPasskeyRepository(t, func(t *testing.T) storetest.PasskeyStore { return newStore(t, b) })
		})
		t.Run("OperatorRepository", func(t *testing.T) {
			storetest.RunOperatorRepository(t, func(t *testing.T) storetest.OperatorStore { return newStore(t, b) })
		})
		t.Run("MergeRepository", func(t *testing.T) {
			storetest.RunMergeRepository(t, func(t *testing.T) storetest.MergeStore { return newStore(t, b) })
		})
		t.Run("TOTPRepository", func(t *testing.T) {
			storetest.RunTOTPRepository(t, func(t *testing.T) storetest.TOTPStore { return newStore(t, b) })
		})
		t.Run("ContactStore", func(t *testing.T) {
			storetest.RunContactStore(t, func(t *testing.T) storetest.ContactStore { return newStore(t, b) })
		})
	})
}

func TestPing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.url(t), Keys{})
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if s.Dialect() != b.dialect {
			t.Errorf("Dialect = %q, want %q", s.Dialect(), b.dialect)
		}
	})
}
