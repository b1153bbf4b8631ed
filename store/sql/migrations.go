package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// A migration is one versioned schema step. Steps run in order, each once
// per database; their ids are recorded in schema_migrations. A step is never
// edited after it has shipped: a change is a new step.
type migration struct {
	id string
	// stmts returns the step's statements for a dialect.
	stmts func(dialect string) []string
}

// migrations is the schema, oldest first.
var migrations = []migration{
	{id: "0001_citizens", stmts: tables(
		table{
			name: "citizens",
			columns: []string{
				"id {id} NOT NULL",
				"doc_type {short} NOT NULL",
				"number_ct {bytes} NOT NULL",
				"number_key_id {short} NOT NULL",
				"number_index {digest} NOT NULL",
				"name {text} NOT NULL",
				"phone {short} NOT NULL",
				"status {short} NOT NULL",
				"level {int} NOT NULL",
				"created_at {time} NOT NULL",
				"updated_at {time} NOT NULL",
			},
			constraints: []string{
				"PRIMARY KEY (id)",
				"CONSTRAINT citizens_number_uq UNIQUE (doc_type, number_index)",
			},
			indexes: []index{{"citizens_number_key_idx", "number_key_id"}},
		},
		table{
			name: "passwords",
			columns: []string{
				"citizen_id {id} NOT NULL",
				"hash {text} NOT NULL",
				"updated_at {time} NOT NULL",
			},
			constraints: []string{
				"PRIMARY KEY (citizen_id)",
				"CONSTRAINT passwords_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizens (id) ON DELETE CASCADE",
			},
		},
	)},
	{id: "0002_clients", stmts: tables(table{
		name: "clients",
		columns: []string{
			"id {id} NOT NULL",
			"secret_hash {bytes}",
			"name {text} NOT NULL",
			"redirect_uris {text} NOT NULL",
			"post_logout_redirect_uris {text} NOT NULL",
			"backchannel_logout_uri {text} NOT NULL",
			"grant_types {text} NOT NULL",
			"response_types {text} NOT NULL",
			"scopes {text} NOT NULL",
			"audience {text} NOT NULL",
			"public {bool} NOT NULL",
			"token_endpoint_auth_method {short} NOT NULL",
			"subject_type {short} NOT NULL",
			"sector_identifier {text} NOT NULL",
			"allow_id_card {bool} NOT NULL",
			"skip_consent {bool} NOT NULL",
			"id_token_signed_response_alg {short} NOT NULL",
			"min_level {int} NOT NULL",
			"disabled {bool} NOT NULL",
			"created_at {time} NOT NULL",
			"updated_at {time} NOT NULL",
		},
		constraints: []string{"PRIMARY KEY (id)"},
	})},
	{id: "0003_grants", stmts: tables(
		table{
			name: "grants",
			columns: []string{
				"id {id} NOT NULL",
				"client_id {id} NOT NULL",
				"citizen_id {id} NOT NULL",
				"session_id {id} NOT NULL",
				"scopes {text} NOT NULL",
				"created_at {time} NOT NULL",
				"revoked_at {time}",
			},
			constraints: []string{"PRIMARY KEY (id)"},
			indexes: []index{
				{"grants_session_idx", "session_id"},
				{"grants_citizen_idx", "citizen_id"},
				{"grants_client_idx", "client_id"},
			},
		},
		// No foreign key to grants: the port does not promise that a grant
		// row exists before its tokens, and the lineage is kept by grant_id.
		table{
			name: "refresh_tokens",
			columns: []string{
				"signature {id} NOT NULL",
				"grant_id {id} NOT NULL",
				"access_signature {id} NOT NULL",
				"active {bool} NOT NULL",
				"request {bytes} NOT NULL",
				"created_at {time} NOT NULL",
				"expires_at {time}",
			},
			constraints: []string{"PRIMARY KEY (signature)"},
			indexes:     []index{{"refresh_tokens_grant_idx", "grant_id"}},
		},
	)},
	{id: "0004_consents", stmts: tables(table{
		name: "consents",
		columns: []string{
			"citizen_id {id} NOT NULL",
			"client_id {id} NOT NULL",
			"scopes {text} NOT NULL",
			"granted_at {time} NOT NULL",
		},
		constraints: []string{"PRIMARY KEY (citizen_id, client_id)"},
		indexes:     []index{{"consents_client_idx", "client_id"}},
	})},
	{id: "0005_signing_keys", stmts: tables(table{
		name: "signing_keys",
		columns: []string{
			"id {id} NOT NULL",
			"algorithm {short} NOT NULL",
			"sealed {bytes} NOT NULL",
			"created_at {time} NOT NULL",
			"retired_at {time}",
		},
		constraints: []string{"PRIMARY KEY (id)"},
		indexes:     []index{{"signing_keys_algorithm_idx", "algorithm"}},
	})},
	// Passkeys are keyed by the SHA-256 of the credential id (MySQL cannot
	// key a long blob); the counter is BIGINT because it is a uint32.
	{id: "0006_passkeys", stmts: tables(
		table{
			name: "webauthn_users",
			columns: []string{
				"citizen_id {id} NOT NULL",
				"user_handle {digest} NOT NULL",
				"created_at {time} NOT NULL",
			},
			constraints: []string{
				"PRIMARY KEY (citizen_id)",
				"CONSTRAINT webauthn_users_handle_uq UNIQUE (user_handle)",
				"CONSTRAINT webauthn_users_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizens (id) ON DELETE CASCADE",
			},
		},
		table{
			name: "passkeys",
			columns: []string{
				"id_hash {digest} NOT NULL",
				"credential_id {bytes} NOT NULL",
				"citizen_id {id} NOT NULL",
				"public_key {bytes} NOT NULL",
				"attestation_type {short} NOT NULL",
				"attestation_format {short} NOT NULL",
				"transports {text} NOT NULL",
				"aaguid {bytes} NOT NULL",
				"attachment {short} NOT NULL",
				"sign_count BIGINT NOT NULL",
				"user_present {bool} NOT NULL",
				"user_verified {bool} NOT NULL",
				"backup_eligible {bool} NOT NULL",
				"backup_state {bool} NOT NULL",
				"name {text} NOT NULL",
				"created_at {time} NOT NULL",
				"last_used_at {time}",
			},
			constraints: []string{
				"PRIMARY KEY (id_hash)",
				"CONSTRAINT passkeys_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizens (id) ON DELETE CASCADE",
			},
			indexes: []index{{"passkeys_citizen_idx", "citizen_id"}},
		},
	)},
	{id: "0007_audit_chain", stmts: auditMigration},     // see audit.go
	{id: "0008_operators", stmts: operatorsMigration},   // see operators.go
	{id: "0009_citizen_merges", stmts: mergesMigration}, // see merges.go
	{id: "0010_assurance", stmts: assuranceMigration},   // see assurance.go
	{id: "0011_citizen_email", stmts: contactMigration}, // see contact.go
	{id: "0012_client_channel", stmts: clientChannelMigration},
}

// columnTypes maps the placeholders of column definitions to each
// dialect's type. MySQL cannot index TEXT without a prefix length, so
// indexed strings are VARCHAR there; timestamps are stored in UTC (MySQL's
// DATETIME has no zone, and the driver is set to loc=UTC).
var columnTypes = map[string]map[string]string{
	DialectSQLite: {
		"{id}": "TEXT", "{short}": "TEXT", "{text}": "TEXT", "{bytes}": "BLOB",
		"{digest}": "BLOB", "{time}": "DATETIME", "{bool}": "BOOLEAN", "{int}": "INTEGER",
	},
	DialectPostgres: {
		"{id}": "TEXT", "{short}": "TEXT", "{text}": "TEXT", "{bytes}": "BYTEA",
		"{digest}": "BYTEA", "{time}": "TIMESTAMPTZ", "{bool}": "BOOLEAN", "{int}": "INTEGER",
	},
	DialectMySQL: {
		"{id}": "VARCHAR(255)", "{short}": "VARCHAR(64)", "{text}": "TEXT", "{bytes}": "LONGBLOB",
		"{digest}": "VARBINARY(32)", "{time}": "DATETIME(6)", "{bool}": "BOOLEAN", "{int}": "INT",
	},
}

// mysqlTableOptions: InnoDB for transactions and foreign keys, and a binary
// collation, because ids and token signatures are case-sensitive.
const mysqlTableOptions = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

type table struct {
	name        string
	columns     []string
	constraints []string
	indexes     []index
}

type index struct{ name, columns string }

// tables renders CREATE TABLE (and index) statements for each dialect. They
// are written with IF NOT EXISTS so that a MySQL step, whose DDL cannot be
// rolled back, can be retried after a partial failure.
func tables(ts ...table) func(dialect string) []string {
	return func(dialect string) []string {
		var out []string
		for _, t := range ts {
			defs := append(slices.Clone(t.columns), t.constraints...)
			if dialect == DialectMySQL {
				for _, ix := range t.indexes {
					defs = append(defs, fmt.Sprintf("INDEX %s (%s)", ix.name, ix.columns))
				}
			}
			stmt := "CREATE TABLE IF NOT EXISTS " + t.name + " (\n\t" + strings.Join(defs, ",\n\t") + "\n)"
			if dialect == DialectMySQL {
				stmt += mysqlTableOptions
			}
			out = append(out, renderTypes(dialect, stmt))
			if dialect != DialectMySQL {
				for _, ix := range t.indexes {
					out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", ix.name, t.name, ix.columns))
				}
			}
		}
		return out
	}
}

func renderTypes(dialect, stmt string) string {
	for k, v := range columnTypes[dialect] {
		stmt = strings.ReplaceAll(stmt, k, v)
	}
	return stmt
}

// MigrationIDs lists every migration the binary knows, in order.
func MigrationIDs() []string {
	ids := make([]string, len(migrations))
	for i, m := range migrations {
		ids[i] = m.id
	}
	return ids
}

// Pending returns the ids of the migrations Migrate would apply, in order.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	applied, err := s.applied(s.q(ctx))
	if err != nil {
		return nil, wrap("pending migrations", err)
	}
	var ids []string
	for _, m := range migrations {
		if !applied[m.id] {
			ids = append(ids, m.id)
		}
	}
	return ids, nil
}

// Migrate brings the schema up to date. It is safe to call again (it then
// does nothing) and from several processes at once: it holds a lock while
// it works — pg_advisory_lock on PostgreSQL, GET_LOCK on MySQL, and on SQLite
// the write transaction of each step, inside which the step re-checks that
// it has not been applied. Each step runs in one transaction where the
// dialect allows DDL in transactions (SQLite, PostgreSQL); on MySQL a failed
// step can leave part of its tables, which a re-run completes.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, "")
}

// migrateTo applies pending steps up to and including id last ("" for all).
func (s *Store) migrateTo(ctx context.Context, last string) error {
	if last != "" && !slices.Contains(MigrationIDs(), last) {
		return fmt.Errorf("store: migrate: unknown migration %q", last)
	}
	err := s.q(ctx).Connection(func(conn *gorm.DB) (err error) {
		unlock, err := s.lockMigrations(conn)
		if err != nil {
			return err
		}
		defer func() {
			if uerr := unlock(); err == nil {
				err = uerr
			}
		}()
		if err := s.createMigrationsTable(conn); err != nil {
			return err
		}
		for _, m := range migrations {
			if err := s.apply(conn, m); err != nil {
				return err
			}
			if m.id == last {
				break
			}
		}
		return nil
	})
	return wrap("migrate", err)
}

// migrationLockKey is the PostgreSQL advisory lock key ("yihao" + 1).
const migrationLockKey = 0x7969_6861_6f00_0001

func (s *Store) lockMigrations(conn *gorm.DB) (unlock func() error, err error) {
	switch s.dialect {
	case DialectPostgres:
		if err := conn.Exec("SELECT pg_advisory_lock(?)", migrationLockKey).Error; err != nil {
			return nil, err
		}
		return func() error {
			return conn.WithContext(context.WithoutCancel(conn.Statement.Context)).
				Exec("SELECT pg_advisory_unlock(?)", migrationLockKey).Error
		}, nil
	case DialectMySQL:
		var got *int
		if err := conn.Raw("SELECT GET_LOCK('yihao_migrate', 120)").Scan(&got).Error; err != nil {
			return nil, err
		}
		if got == nil || *got != 1 {
			return nil, fmt.Errorf("timed out waiting for the migration lock")
		}
		return func() error {
			return conn.WithContext(context.WithoutCancel(conn.Statement.Context)).
				Exec("SELECT RELEASE_LOCK('yihao_migrate')").Error
		}, nil
	default:
		// SQLite: each step's BEGIN IMMEDIATE transaction is the lock.
		return func() error { return nil }, nil
	}
}

func (s *Store) createMigrationsTable(conn *gorm.DB) error {
	stmt := renderTypes(s.dialect, "CREATE TABLE IF NOT EXISTS schema_migrations (id {id} NOT NULL, applied_at {time} NOT NULL, PRIMARY KEY (id))")
	if s.dialect == DialectMySQL {
		stmt += mysqlTableOptions
	}
	return conn.Exec(stmt).Error
}

// applied returns the ids recorded in schema_migrations (none if the table
// does not exist yet).
func (s *Store) applied(db *gorm.DB) (map[string]bool, error) {
	var ids []string
	if err := db.Raw("SELECT id FROM schema_migrations").Scan(&ids).Error; err != nil {
		// A missing table means a fresh database; anything else (the
		// server not answering, say) is an error, not "everything pending".
		if s.sqlDB.PingContext(db.Statement.Context) != nil || db.Migrator().HasTable("schema_migrations") {
			return nil, err
		}
		return map[string]bool{}, nil
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

func (s *Store) isApplied(db *gorm.DB, id string) (bool, error) {
	var n int64
	err := db.Raw("SELECT COUNT(*) FROM schema_migrations WHERE id = ?", id).Scan(&n).Error
	return n > 0, err
}

// apply runs one step unless it is already recorded.
func (s *Store) apply(conn *gorm.DB, m migration) error {
	run := func(db *gorm.DB) error {
		done, err := s.isApplied(db, m.id)
		if err != nil || done {
			return err
		}
		for _, stmt := range m.stmts(s.dialect) {
			if err := db.Exec(stmt).Error; err != nil {
				return fmt.Errorf("migration %s: %w", m.id, err)
			}
		}
		if err := db.Exec("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)", m.id, s.nowTS()).Error; err != nil {
			return fmt.Errorf("migration %s: record: %w", m.id, err)
		}
		s.log.Info("store: applied migration", "id", m.id, "dialect", s.dialect)
		return nil
	}
	if s.dialect == DialectMySQL {
		// MySQL commits DDL implicitly; a transaction would promise nothing.
		return run(conn)
	}
	return conn.Transaction(run)
}
