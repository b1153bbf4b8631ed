package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/yihao-gov/yihao/oauth"
)

type signingKeyRow struct {
	ID        string     `gorm:"column:id;primaryKey"`
	Algorithm string     `gorm:"column:algorithm"`
	Sealed    []byte     `gorm:"column:sealed"`
	CreatedAt time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	RetiredAt *time.Time `gorm:"column:retired_at"`
}

func (signingKeyRow) TableName() string { return "signing_keys" }

// AddSigningKey stores k and, in the same transaction, retires (at
// k.CreatedAt) every unretired key of the same algorithm. A zero CreatedAt
// is set from the store's clock (and on k). ErrAlreadyExists for a kid
// already stored; nothing is retired then.
func (s *Store) AddSigningKey(ctx context.Context, k *oauth.SigningKey) error {
	const op = "add signing key"
	switch {
	case k == nil || k.ID == "":
		return failf(op, nil, "key id is empty")
	case k.Algorithm == "":
		return failf(op, nil, "key %s has no algorithm", k.ID)
	case len(k.Sealed) == 0:
		return failf(op, nil, "key %s has no key material", k.ID)
	}
	created := ts(k.CreatedAt)
	if k.CreatedAt.IsZero() {
		created = s.nowTS()
	}
	row := signingKeyRow{ID: k.ID, Algorithm: k.Algorithm, Sealed: k.Sealed, CreatedAt: created, RetiredAt: nullTS(k.RetiredAt)}
	err := s.q(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Model(&signingKeyRow{}).
			Where("algorithm = ? AND retired_at IS NULL", k.Algorithm).
			Update("retired_at", created).Error
		if err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return wrap(op, err)
	}
	k.CreatedAt = created
	return nil
}

// SigningKeys lists every key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]*oauth.SigningKey, error) {
	var rows []signingKeyRow
	if err := s.q(ctx).Order("created_at").Order("id").Find(&rows).Error; err != nil {
		return nil, wrap("list signing keys", err)
	}
	out := make([]*oauth.SigningKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, &oauth.SigningKey{
			ID:        r.ID,
			Algorithm: r.Algorithm,
			Sealed:    r.Sealed,
			CreatedAt: r.CreatedAt.UTC(),
			RetiredAt: fromNullTS(r.RetiredAt),
		})
	}
	return out, nil
}

// DeleteSigningKey removes a key.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return one("delete signing key", s.q(ctx).Where("id = ?", id).Delete(&signingKeyRow{}))
}
