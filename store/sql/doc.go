// Package sqlstore is Yihao's SQL storage adapter (GORM over SQLite,
// PostgreSQL and MySQL/MariaDB/TiDB). One *Store implements the SQL-backed
// ports of package identity (CitizenRepository) and package oauth
// (ClientStore, GrantStore, ConsentStore, KeyStore).
//
// What it guarantees:
//
//   - Driver errors never leave the package: every error is wrapped as
//     "store: <operation>: ..." around one of identity's sentinels
//     (ErrNotFound, ErrAlreadyExists, ErrConflict, ErrUnavailable) or, for an
//     unexpected failure, an opaque error carrying only the driver's text.
//   - Document numbers are stored encrypted (AES-256-GCM, the key id in its
//     own column for rotation, the ciphertext bound to the document type and
//     citizen id) and found through a blind index (HMAC-SHA256 with a separate
//     key). The plaintext is never written to the database or to a log.
//   - The schema is created and changed only by versioned migrations
//     (Migrate, Pending), recorded in schema_migrations. Open never migrates.
//   - Refresh-token rotation is one conditional UPDATE, so of many concurrent
//     refreshes of one token exactly one wins.
package sqlstore
