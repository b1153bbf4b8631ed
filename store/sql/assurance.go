package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yihao-gov/yihao/identity"
)

var _ identity.TOTPRepository = (*Store)(nil)

// assuranceMigration is migration 0010: how and when a citizen's level was
// raised (citizens.level_method, level_at), a client's minimum acr
// (clients.min_acr), and citizens' TOTP second factor (citizen_totp).
func assuranceMigration(dialect string) []string {
	out := addColumns(dialect, []newColumn{
		{"citizens", "level_method", "{short} NOT NULL DEFAULT ''"},
		{"citizens", "level_at", "{time}"},
		{"clients", "min_acr", "{short} NOT NULL DEFAULT ''"},
	})
	return append(out, tables(table{
		name: "citizen_totp",
		columns: []string{
			"citizen_id {id} NOT NULL",
			"id {id} NOT NULL",
			"secret_ct {bytes} NOT NULL",
			"secret_key_id {short} NOT NULL",
			"confirmed {bool} NOT NULL",
			"last_step BIGINT NOT NULL",
			"created_at {time} NOT NULL",
		},
		constraints: []string{
			"PRIMARY KEY (citizen_id)",
			"CONSTRAINT citizen_totp_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizens (id) ON DELETE CASCADE",
		},
	})(dialect)...)
}

type newColumn struct{ table, name, def string }

// addColumns renders ALTER TABLE … ADD COLUMN for each column. SQLite and
// PostgreSQL run a step in one transaction, so a failed step leaves
// nothing behind. MySQL commits each DDL statement, so there the column is
// added only when information_schema does not list it yet — a re-run after
// a partial failure completes the step (MySQL 8 has no ADD COLUMN IF NOT
// EXISTS; MariaDB and TiDB would accept it, this works on all three).
func addColumns(dialect string, cols []newColumn) []string {
	var out []string
	for _, c := range cols {
		alter := renderTypes(dialect, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", c.table, c.name, c.def))
		if dialect != DialectMySQL {
			out = append(out, alter)
			continue
		}
		out = append(out,
			fmt.Sprintf("SET @yihao_ddl = IF(EXISTS(SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() "+
				"AND table_name = '%s' AND column_name = '%s'), 'DO 0', '%s')", c.table, c.name, sqlQuote(alter)),
			"PREPARE yihao_ddl FROM @yihao_ddl",
			"EXECUTE yihao_ddl",
			"DEALLOCATE PREPARE yihao_ddl",
		)
	}
	return out
}

// unsetColumns names columns an insert leaves to their defaults when unset
// is true: columns that later migrations added to existing tables, so a
// row without them is written the same way before and after those steps.
func unsetColumns(unset bool, cols ...string) []string {
	if !unset {
		return nil
	}
	return cols
}

// sqlQuote doubles the single quotes of s for a string literal (s is our
// own constant DDL, never input).
func sqlQuote(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// SetLevel sets a citizen's real-name level and records how and when.
func (s *Store) SetLevel(ctx context.Context, citizenID string, level identity.Level, method string, at time.Time) error {
	const op = "set citizen level"
	if level < identity.LevelSelfAsserted || level > identity.LevelInPerson {
		return failf(op, nil, "level %d is not 1, 2 or 3", level)
	}
	if at.IsZero() {
		at = s.now()
	}
	return one(op, s.q(ctx).Model(&citizenRow{}).Where("id = ?", citizenID).Updates(map[string]any{
		"level": int(level), "level_method": method, "level_at": ts(at), "updated_at": ts(at),
	}))
}

type citizenTOTPRow struct {
	CitizenID   string    `gorm:"column:citizen_id;primaryKey"`
	ID          string    `gorm:"column:id"`
	SecretCT    []byte    `gorm:"column:secret_ct"`
	SecretKeyID string    `gorm:"column:secret_key_id"`
	Confirmed   bool      `gorm:"column:confirmed"`
	LastStep    int64     `gorm:"column:last_step"`
	CreatedAt   time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (citizenTOTPRow) TableName() string { return "citizen_totp" }

// citizenTOTPOwner is what a citizen's TOTP secret is sealed to. It goes
// through the operators' sealing (sealTOTP: the active number key, AES-GCM),
// whose additional data then names "citizen/<id>": operator ids start with
// "o_", so neither kind of ciphertext opens as the other.
func citizenTOTPOwner(citizenID string) string { return "citizen/" + citizenID }

// PutPendingTOTP stores an unconfirmed TOTP credential, replacing an
// unconfirmed one; a confirmed one makes the insert a unique violation.
func (s *Store) PutPendingTOTP(ctx context.Context, c *identity.TOTPCredential) error {
	const op = "put pending totp"
	if c == nil || c.CitizenID == "" || c.ID == "" || c.Secret.IsZero() {
		return failf(op, nil, "credential needs a citizen, an id and a secret")
	}
	ct, keyID, err := s.sealTOTP(citizenTOTPOwner(c.CitizenID), c.Secret)
	if err != nil {
		return failf(op, nil, "%v", err)
	}
	created := ts(c.CreatedAt)
	if c.CreatedAt.IsZero() {
		created = s.nowTS()
	}
	row := citizenTOTPRow{CitizenID: c.CitizenID, ID: c.ID, SecretCT: ct, SecretKeyID: keyID, CreatedAt: created}
	return wrap(op, s.q(ctx).Transaction(func(tx *gorm.DB) error {
		if err := citizenExists(tx, op, c.CitizenID); err != nil {
			return err
		}
		if err := tx.Where("citizen_id = ? AND confirmed = ?", c.CitizenID, false).Delete(&citizenTOTPRow{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	}))
}

// CitizenTOTP loads a citizen's TOTP credential.
func (s *Store) CitizenTOTP(ctx context.Context, citizenID string) (*identity.TOTPCredential, error) {
	const op = "load citizen totp"
	var row citizenTOTPRow
	if err := s.q(ctx).Where("citizen_id = ?", citizenID).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	secret, err := s.openTOTP(citizenTOTPOwner(row.CitizenID), row.SecretKeyID, row.SecretCT)
	if err != nil {
		return nil, failf(op, nil, "citizen %s: %v", row.CitizenID, err)
	}
	return &identity.TOTPCredential{CitizenID: row.CitizenID, ID: row.ID, Secret: secret, Confirmed: row.Confirmed,
		LastStep: row.LastStep, CreatedAt: row.CreatedAt.UTC()}, nil
}

// ConfirmTOTP confirms the pending enrolment id with one conditional update.
func (s *Store) ConfirmTOTP(ctx context.Context, citizenID, id string, step int64) error {
	const op = "confirm totp"
	res := s.q(ctx).Model(&citizenTOTPRow{}).Where("citizen_id = ? AND id = ? AND confirmed = ?", citizenID, id, false).
		Updates(map[string]any{"confirmed": true, "last_step": step})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return failf(op, identity.ErrConflict, "no such pending enrolment")
	}
	return nil
}

// UseCitizenTOTPStep moves last_step forward with one conditional update:
// of two step-ups with the same code, exactly one wins.
func (s *Store) UseCitizenTOTPStep(ctx context.Context, citizenID string, step int64) error {
	const op = "use citizen totp step"
	res := s.q(ctx).Model(&citizenTOTPRow{}).Where("citizen_id = ? AND confirmed = ? AND last_step < ?", citizenID, true, step).
		Update("last_step", step)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.q(ctx).Model(&citizenTOTPRow{}).Where("citizen_id = ? AND confirmed = ?", citizenID, true).Count(&n).Error; err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return failf(op, identity.ErrConflict, "code already used")
}

// DeleteCitizenTOTP removes a citizen's TOTP credential.
func (s *Store) DeleteCitizenTOTP(ctx context.Context, citizenID string) error {
	return one("delete citizen totp", s.q(ctx).Where("citizen_id = ?", citizenID).Delete(&citizenTOTPRow{}))
}
