package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yihao-gov/yihao/identity"
)

// citizenRow is a row of citizens. The document number is only ever held
// here as ciphertext and blind index.
type citizenRow struct {
	ID          string    `gorm:"column:id;primaryKey"`
	DocType     string    `gorm:"column:doc_type"`
	NumberCT    []byte    `gorm:"column:number_ct"`
	NumberKeyID string    `gorm:"column:number_key_id"`
	NumberIndex []byte    `gorm:"column:number_index"`
	Name        string    `gorm:"column:name"`
	Phone       string    `gorm:"column:phone"`
	Status      string    `gorm:"column:status"`
	Level       int       `gorm:"column:level"`
	CreatedAt   time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"column:updated_at;autoUpdateTime:false;autoCreateTime:false"`

	LevelMethod string     `gorm:"column:level_method"`
	LevelAt     *time.Time `gorm:"column:level_at"`
	Email       string     `gorm:"column:email"`
}

func (citizenRow) TableName() string { return "citizens" }

type passwordRow struct {
	CitizenID string    `gorm:"column:citizen_id;primaryKey"`
	Hash      string    `gorm:"column:hash"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false;autoCreateTime:false"`
}

func (passwordRow) TableName() string { return "passwords" }

// CreateCitizen stores c and, when passwordHash is not empty, its password,
// in one transaction. Zero CreatedAt/UpdatedAt are set from the store's
// clock, and an empty Status becomes active; c is updated to match what was
// stored.
func (s *Store) CreateCitizen(ctx context.Context, c *identity.Citizen, passwordHash string) error {
	const op = "create citizen"
	switch {
	case c == nil || c.ID == "":
		return failf(op, nil, "citizen id is empty")
	case c.Number.IsZero():
		return failf(op, nil, "citizen has no document number")
	}
	ct, keyID, err := s.crypto.seal(c.Number, c.ID)
	if err != nil {
		return failf(op, nil, "%v", err)
	}
	idx, err := s.crypto.blindIndex(c.Number)
	if err != nil {
		return failf(op, nil, "%v", err)
	}
	now := s.nowTS()
	created, updated := ts(c.CreatedAt), ts(c.UpdatedAt)
	if c.CreatedAt.IsZero() {
		created = now
	}
	if c.UpdatedAt.IsZero() {
		updated = created
	}
	status := c.Status
	if status == "" {
		status = identity.StatusActive
	}
	row := citizenRow{
		ID:          c.ID,
		DocType:     string(c.Number.Type()),
		NumberCT:    ct,
		NumberKeyID: keyID,
		NumberIndex: idx,
		Name:        c.Name,
		Phone:       c.Phone,
		Status:      string(status),
		Level:       int(c.Level),
		CreatedAt:   created,
		UpdatedAt:   updated,
		LevelMethod: c.LevelMethod,
		LevelAt:     nullTS(c.LevelAt),
		Email:       c.Email,
	}
	err = s.q(ctx).Transaction(func(tx *gorm.DB) error {
		omit := append(unsetColumns(row.LevelMethod == "" && row.LevelAt == nil, "level_method", "level_at"), unsetColumns(row.Email == "", "email")...)
		if err := tx.Omit(omit...).Create(&row).Error; err != nil {
			return err
		}
		if passwordHash == "" {
			return nil
		}
		return tx.Create(&passwordRow{CitizenID: c.ID, Hash: passwordHash, UpdatedAt: created}).Error
	})
	if err != nil {
		return wrap(op, err)
	}
	c.CreatedAt, c.UpdatedAt, c.Status = created, updated, status
	return nil
}

// Citizen loads a citizen by id.
func (s *Store) Citizen(ctx context.Context, id string) (*identity.Citizen, error) {
	const op = "load citizen"
	var row citizenRow
	if err := s.q(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	return s.citizen(op, &row)
}

// CitizenByNumber finds a citizen through the blind index of n.
func (s *Store) CitizenByNumber(ctx context.Context, n identity.Number) (*identity.Citizen, error) {
	const op = "find citizen by number"
	if n.IsZero() {
		return nil, &storeError{op: op, sentinel: identity.ErrNotFound}
	}
	idx, err := s.crypto.blindIndex(n)
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	var row citizenRow
	err = s.q(ctx).Where("doc_type = ? AND number_index = ?", string(n.Type()), idx).Take(&row).Error
	if err != nil {
		return nil, wrap(op, err)
	}
	return s.citizen(op, &row)
}

// citizen decrypts a row into the domain type.
func (s *Store) citizen(op string, row *citizenRow) (*identity.Citizen, error) {
	t := identity.DocumentType(row.DocType)
	n, err := s.crypto.open(t, row.ID, row.NumberKeyID, row.NumberCT)
	if err != nil {
		return nil, failf(op, nil, "citizen %s: %v", row.ID, err)
	}
	return &identity.Citizen{
		ID:        row.ID,
		Number:    n,
		Name:      row.Name,
		Phone:     row.Phone,
		Status:    identity.Status(row.Status),
		Level:     identity.Level(row.Level),
		CreatedAt: row.CreatedAt.UTC(),
		UpdatedAt: row.UpdatedAt.UTC(),

		LevelMethod: row.LevelMethod,
		LevelAt:     fromNullTS(row.LevelAt),
		Email:       row.Email,
	}, nil
}

// PasswordHash returns the citizen's password hash; ErrNotFound when the
// citizen does not exist or has no password.
func (s *Store) PasswordHash(ctx context.Context, citizenID string) (string, error) {
	var row passwordRow
	if err := s.q(ctx).Where("citizen_id = ?", citizenID).Take(&row).Error; err != nil {
		return "", wrap("load password", err)
	}
	return row.Hash, nil
}

// SetPasswordHash creates or replaces the citizen's password hash and
// touches the citizen's updated_at.
func (s *Store) SetPasswordHash(ctx context.Context, citizenID, hash string) error {
	const op = "set password"
	if hash == "" {
		return failf(op, nil, "password hash is empty")
	}
	now := s.nowTS()
	err := s.q(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&citizenRow{}).Where("id = ?", citizenID).Update("updated_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "citizen_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"hash", "updated_at"}),
		}).Create(&passwordRow{CitizenID: citizenID, Hash: hash, UpdatedAt: now}).Error
	})
	return wrap(op, err)
}

// SetStatus freezes or unfreezes a citizen.
func (s *Store) SetStatus(ctx context.Context, citizenID string, st identity.Status) error {
	const op = "set citizen status"
	if st == "" {
		return failf(op, nil, "status is empty")
	}
	return one(op, s.q(ctx).Model(&citizenRow{}).Where("id = ?", citizenID).
		Updates(map[string]any{"status": string(st), "updated_at": s.nowTS()}))
}
