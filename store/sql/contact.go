package sqlstore

import (
	"context"

	"github.com/yihao-gov/yihao/identity"
)

var _ identity.ContactStore = (*Store)(nil)

// contactMigration is migration 0011: the citizen's email address
// (citizens.email; "" for none). Not unique: several accounts may share an
// address (see identity.Contact), so no index either — nothing looks an
// account up by it. VARCHAR(254) on every dialect: MySQL's TEXT takes no
// plain DEFAULT.
func contactMigration(dialect string) []string {
	return addColumns(dialect, []newColumn{{"citizens", "email", "VARCHAR(254) NOT NULL DEFAULT ''"}})
}

// SetCitizenEmail binds or unbinds the citizen's email address.
func (s *Store) SetCitizenEmail(ctx context.Context, citizenID, email string) error {
	return one("set citizen email", s.q(ctx).Model(&citizenRow{}).Where("id = ?", citizenID).
		Updates(map[string]any{"email": email, "updated_at": s.nowTS()}))
}
