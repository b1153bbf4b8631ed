package sqlstore

import "testing"

// Migration 0010 adds columns to existing tables. A step that failed
// halfway on MySQL (whose DDL commits at once) must complete on a re-run:
// here the whole step ran but was not recorded, and runs again.
func TestAssuranceMigrationReruns(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := newStore(t, b)
		if err := s.db.WithContext(t.Context()).Exec("DELETE FROM schema_migrations WHERE id = ?", "0010_assurance").Error; err != nil {
			t.Fatal(err)
		}
		wantPending(t, s, []string{"0010_assurance"})
		if b.dialect != DialectMySQL {
			// Elsewhere a step is one transaction and never half-applied;
			// drop what it added so that the re-run is a real one.
			for _, stmt := range []string{"DROP TABLE citizen_totp", "ALTER TABLE citizens DROP COLUMN level_method",
				"ALTER TABLE citizens DROP COLUMN level_at", "ALTER TABLE clients DROP COLUMN min_acr"} {
				if err := s.db.WithContext(t.Context()).Exec(stmt).Error; err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
		}
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		wantPending(t, s, nil)
	})
}
