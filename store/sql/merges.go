package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yihao-gov/yihao/identity"
)

var _ identity.MergeRepository = (*Store)(nil)

// mergesMigration is migration 0009: the merge records of citizens. What a
// merge moved is kept on its row, so that an unmerge restores exactly that.
var mergesMigration = tables(table{
	name: "citizen_merges",
	columns: []string{
		"id {id} NOT NULL",
		"merged_id {id} NOT NULL",
		"survivor_id {id} NOT NULL",
		"prev_status {short} NOT NULL",
		"moved_consents {text} NOT NULL",
		"dropped_consents {text} NOT NULL",
		"passkeys_moved {bool} NOT NULL",
		"phone {short} NOT NULL",
		"approval_id {id} NOT NULL",
		"requested_by {id} NOT NULL",
		"approved_by {id} NOT NULL",
		"merged_at {time} NOT NULL",
		"unmerged_at {time}",
		"unmerged_by {id} NOT NULL",
	},
	constraints: []string{
		"PRIMARY KEY (id)",
		"CONSTRAINT citizen_merges_merged_fk FOREIGN KEY (merged_id) REFERENCES citizens (id) ON DELETE CASCADE",
		"CONSTRAINT citizen_merges_survivor_fk FOREIGN KEY (survivor_id) REFERENCES citizens (id) ON DELETE CASCADE",
	},
	indexes: []index{
		{"citizen_merges_merged_idx", "merged_id"},
		{"citizen_merges_survivor_idx", "survivor_id"},
	},
})

type mergeRow struct {
	ID              string     `gorm:"column:id;primaryKey"`
	MergedID        string     `gorm:"column:merged_id"`
	SurvivorID      string     `gorm:"column:survivor_id"`
	PrevStatus      string     `gorm:"column:prev_status"`
	MovedConsents   string     `gorm:"column:moved_consents"`
	DroppedConsents string     `gorm:"column:dropped_consents"`
	PasskeysMoved   bool       `gorm:"column:passkeys_moved"`
	Phone           string     `gorm:"column:phone"`
	ApprovalID      string     `gorm:"column:approval_id"`
	RequestedBy     string     `gorm:"column:requested_by"`
	ApprovedBy      string     `gorm:"column:approved_by"`
	MergedAt        time.Time  `gorm:"column:merged_at"`
	UnmergedAt      *time.Time `gorm:"column:unmerged_at"`
	UnmergedBy      string     `gorm:"column:unmerged_by"`
}

func (mergeRow) TableName() string { return "citizen_merges" }

func (r *mergeRow) merge() (*identity.Merge, error) {
	moved, err := decodeList("moved_consents", r.MovedConsents)
	if err != nil {
		return nil, err
	}
	var dropped []identity.MergedConsent
	if err := json.Unmarshal([]byte(r.DroppedConsents), &dropped); err != nil {
		return nil, fmt.Errorf("merge %s: column dropped_consents is not a JSON list", r.ID)
	}
	return &identity.Merge{
		ID: r.ID, MergedID: r.MergedID, SurvivorID: r.SurvivorID, PrevStatus: identity.Status(r.PrevStatus),
		MovedConsents: moved, DroppedConsents: dropped, PasskeysMoved: r.PasskeysMoved, PhoneMoved: r.Phone != "",
		Approval: r.ApprovalID, RequestedBy: r.RequestedBy, ApprovedBy: r.ApprovedBy, MergedAt: r.MergedAt.UTC(),
		UnmergedAt: fromNullTS(r.UnmergedAt), UnmergedBy: r.UnmergedBy,
	}, nil
}

// MergeCitizens applies a merge in one transaction (see identity.Merge).
func (s *Store) MergeCitizens(ctx context.Context, m *identity.Merge) error {
	const op = "merge citizens"
	if m == nil || m.ID == "" || m.MergedID == "" || m.SurvivorID == "" || m.MergedID == m.SurvivorID {
		return failf(op, nil, "merge needs an id and two different citizens")
	}
	at := ts(m.MergedAt)
	if at.IsZero() {
		at = s.nowTS()
	}
	row := mergeRow{ID: m.ID, MergedID: m.MergedID, SurvivorID: m.SurvivorID, ApprovalID: m.Approval,
		RequestedBy: m.RequestedBy, ApprovedBy: m.ApprovedBy, MergedAt: at}
	var moved []string
	var dropped []identity.MergedConsent
	err := s.q(ctx).Transaction(func(tx *gorm.DB) error {
		var merged, survivor citizenRow
		if err := tx.Where("id = ?", m.MergedID).Take(&merged).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", m.SurvivorID).Take(&survivor).Error; err != nil {
			return err
		}
		if merged.Status == string(identity.StatusMerged) || survivor.Status == string(identity.StatusMerged) {
			return failf(op, identity.ErrConflict, "an account is already merged")
		}
		// The status first, conditionally: of two merges racing, one wins.
		res := tx.Model(&citizenRow{}).Where("id = ? AND status = ?", merged.ID, merged.Status).
			Updates(map[string]any{"status": string(identity.StatusMerged), "updated_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return failf(op, identity.ErrConflict, "the account changed meanwhile")
		}
		row.PrevStatus = merged.Status

		// Consents: move, unless the survivor has one for the site.
		var consents []consentRow
		if err := tx.Where("citizen_id = ?", merged.ID).Order("client_id").Find(&consents).Error; err != nil {
			return err
		}
		for _, c := range consents {
			var n int64
			if err := tx.Model(&consentRow{}).Where("citizen_id = ? AND client_id = ?", survivor.ID, c.ClientID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				scopes, err := decodeList("scopes", c.Scopes)
				if err != nil {
					return failf(op, nil, "%v", err)
				}
				dropped = append(dropped, identity.MergedConsent{ClientID: c.ClientID, Scopes: scopes, GrantedAt: c.GrantedAt.UTC()})
				if err := tx.Where("citizen_id = ? AND client_id = ?", merged.ID, c.ClientID).Delete(&consentRow{}).Error; err != nil {
					return err
				}
				continue
			}
			if err := tx.Model(&consentRow{}).Where("citizen_id = ? AND client_id = ?", merged.ID, c.ClientID).
				Update("citizen_id", survivor.ID).Error; err != nil {
				return err
			}
			moved = append(moved, c.ClientID)
		}

		// Passkeys move with their user handle when the survivor has none.
		var keys, survivorKeys int64
		if err := tx.Model(&passkeyRow{}).Where("citizen_id = ?", merged.ID).Count(&keys).Error; err != nil {
			return err
		}
		if err := tx.Model(&passkeyRow{}).Where("citizen_id = ?", survivor.ID).Count(&survivorKeys).Error; err != nil {
			return err
		}
		if keys > 0 && survivorKeys == 0 {
			if err := tx.Where("citizen_id = ?", survivor.ID).Delete(&webauthnUserRow{}).Error; err != nil {
				return err
			}
			if err := tx.Model(&webauthnUserRow{}).Where("citizen_id = ?", merged.ID).Update("citizen_id", survivor.ID).Error; err != nil {
				return err
			}
			if err := tx.Model(&passkeyRow{}).Where("citizen_id = ?", merged.ID).Update("citizen_id", survivor.ID).Error; err != nil {
				return err
			}
			row.PasskeysMoved = true
		}

		// The phone moves when the survivor has none.
		if merged.Phone != "" && survivor.Phone == "" {
			if err := tx.Model(&citizenRow{}).Where("id = ?", survivor.ID).Updates(map[string]any{"phone": merged.Phone, "updated_at": at}).Error; err != nil {
				return err
			}
			if err := tx.Model(&citizenRow{}).Where("id = ?", merged.ID).Update("phone", "").Error; err != nil {
				return err
			}
			row.Phone = merged.Phone
		}

		row.MovedConsents = encodeList(moved)
		d, _ := json.Marshal(dropped)
		if dropped == nil {
			d = []byte("[]")
		}
		row.DroppedConsents = string(d)
		return tx.Create(&row).Error
	})
	if err != nil {
		return wrap(op, err)
	}
	m.PrevStatus, m.MovedConsents, m.DroppedConsents = identity.Status(row.PrevStatus), moved, dropped
	m.PasskeysMoved, m.PhoneMoved, m.MergedAt = row.PasskeysMoved, row.Phone != "", at
	return nil
}

// ActiveMerge returns the merge in effect of a merged citizen.
func (s *Store) ActiveMerge(ctx context.Context, mergedID string) (*identity.Merge, error) {
	const op = "load merge"
	var row mergeRow
	if err := s.q(ctx).Where("merged_id = ? AND unmerged_at IS NULL", mergedID).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	m, err := row.merge()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return m, nil
}

// MergesInto lists the merges in effect into a survivor, oldest first.
func (s *Store) MergesInto(ctx context.Context, survivorID string) ([]*identity.Merge, error) {
	const op = "list merges into citizen"
	var rows []mergeRow
	if err := s.q(ctx).Where("survivor_id = ? AND unmerged_at IS NULL", survivorID).Order("merged_at, id").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, (*mergeRow).merge)
}

// UnmergeCitizens reverses a merge in one transaction.
func (s *Store) UnmergeCitizens(ctx context.Context, mergeID, by string, at time.Time) (*identity.Merge, error) {
	const op = "unmerge citizens"
	at = ts(at)
	if at.IsZero() {
		at = s.nowTS()
	}
	var row mergeRow
	err := s.q(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", mergeID).Take(&row).Error; err != nil {
			return err
		}
		// Mark it first, conditionally: of two unmerges racing, one wins.
		res := tx.Model(&mergeRow{}).Where("id = ? AND unmerged_at IS NULL", mergeID).
			Updates(map[string]any{"unmerged_at": at, "unmerged_by": by})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return failf(op, identity.ErrConflict, "the merge was already reversed")
		}
		row.UnmergedAt, row.UnmergedBy = &at, by
		m, err := row.merge()
		if err != nil {
			return failf(op, nil, "%v", err)
		}
		if len(m.MovedConsents) > 0 {
			if err := tx.Model(&consentRow{}).Where("citizen_id = ? AND client_id IN ?", m.SurvivorID, m.MovedConsents).
				Update("citizen_id", m.MergedID).Error; err != nil {
				return err
			}
		}
		for _, c := range m.DroppedConsents {
			var n int64
			if err := tx.Model(&consentRow{}).Where("citizen_id = ? AND client_id = ?", m.MergedID, c.ClientID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				if err := tx.Create(&consentRow{CitizenID: m.MergedID, ClientID: c.ClientID, Scopes: encodeList(c.Scopes), GrantedAt: ts(c.GrantedAt)}).Error; err != nil {
					return err
				}
			}
		}
		if m.PasskeysMoved {
			// The handle goes back, and with it every passkey under it
			// (the survivor had none before the merge).
			if err := tx.Model(&passkeyRow{}).Where("citizen_id = ?", m.SurvivorID).Update("citizen_id", m.MergedID).Error; err != nil {
				return err
			}
			if err := tx.Model(&webauthnUserRow{}).Where("citizen_id = ?", m.SurvivorID).Update("citizen_id", m.MergedID).Error; err != nil {
				return err
			}
		}
		if row.Phone != "" {
			res := tx.Model(&citizenRow{}).Where("id = ? AND phone = ?", m.SurvivorID, row.Phone).Updates(map[string]any{"phone": "", "updated_at": at})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				if err := tx.Model(&citizenRow{}).Where("id = ? AND phone = ?", m.MergedID, "").Update("phone", row.Phone).Error; err != nil {
					return err
				}
			}
		}
		return tx.Model(&citizenRow{}).Where("id = ? AND status = ?", m.MergedID, string(identity.StatusMerged)).
			Updates(map[string]any{"status": string(m.PrevStatus), "updated_at": at}).Error
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	m, err := row.merge()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return m, nil
}
