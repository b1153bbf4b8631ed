package sqlstore

import (
	"context"
	"crypto/sha256"
	"time"

	"gorm.io/gorm"

	"github.com/yihao-gov/yihao/identity"
)

var _ identity.PasskeyRepository = (*Store)(nil)

// webauthnUserRow is a row of webauthn_users: the random user handle of a
// citizen, unique, found from either side.
type webauthnUserRow struct {
	CitizenID  string    `gorm:"column:citizen_id;primaryKey"`
	UserHandle []byte    `gorm:"column:user_handle"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (webauthnUserRow) TableName() string { return "webauthn_users" }

// passkeyRow is a row of passkeys. A credential id can be up to 1023 bytes,
// which MySQL cannot index as a key, so rows are keyed by its SHA-256
// (id_hash) and the id itself is kept beside it.
type passkeyRow struct {
	IDHash            []byte     `gorm:"column:id_hash;primaryKey"`
	CredentialID      []byte     `gorm:"column:credential_id"`
	CitizenID         string     `gorm:"column:citizen_id"`
	PublicKey         []byte     `gorm:"column:public_key"`
	AttestationType   string     `gorm:"column:attestation_type"`
	AttestationFormat string     `gorm:"column:attestation_format"`
	Transports        string     `gorm:"column:transports"`
	AAGUID            []byte     `gorm:"column:aaguid"`
	Attachment        string     `gorm:"column:attachment"`
	SignCount         int64      `gorm:"column:sign_count"`
	UserPresent       bool       `gorm:"column:user_present"`
	UserVerified      bool       `gorm:"column:user_verified"`
	BackupEligible    bool       `gorm:"column:backup_eligible"`
	BackupState       bool       `gorm:"column:backup_state"`
	Name              string     `gorm:"column:name"`
	CreatedAt         time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	LastUsedAt        *time.Time `gorm:"column:last_used_at"`
}

func (passkeyRow) TableName() string { return "passkeys" }

func credentialHash(id []byte) []byte {
	h := sha256.Sum256(id)
	return h[:]
}

func (r *passkeyRow) passkey() (*identity.Passkey, error) {
	transports, err := decodeList("transports", r.Transports)
	if err != nil {
		return nil, err
	}
	return &identity.Passkey{
		ID:                r.CredentialID,
		CitizenID:         r.CitizenID,
		PublicKey:         r.PublicKey,
		AttestationType:   r.AttestationType,
		AttestationFormat: r.AttestationFormat,
		Transports:        transports,
		AAGUID:            nilIfEmpty(r.AAGUID),
		Attachment:        r.Attachment,
		SignCount:         uint32(r.SignCount),
		UserPresent:       r.UserPresent,
		UserVerified:      r.UserVerified,
		BackupEligible:    r.BackupEligible,
		BackupState:       r.BackupState,
		Name:              r.Name,
		CreatedAt:         r.CreatedAt.UTC(),
		LastUsedAt:        fromNullTS(r.LastUsedAt),
	}, nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// maxUserHandle is the column's size (VARBINARY(32) on MySQL).
const maxUserHandle = 32

// CreateUserHandle records a citizen's user handle.
func (s *Store) CreateUserHandle(ctx context.Context, citizenID string, handle []byte) error {
	const op = "create webauthn user handle"
	if citizenID == "" || len(handle) == 0 || len(handle) > maxUserHandle {
		return failf(op, nil, "need a citizen id and a handle of 1 to %d bytes", maxUserHandle)
	}
	return wrap(op, s.q(ctx).Transaction(func(tx *gorm.DB) error {
		if err := citizenExists(tx, op, citizenID); err != nil {
			return err
		}
		return tx.Create(&webauthnUserRow{CitizenID: citizenID, UserHandle: handle, CreatedAt: s.nowTS()}).Error
	}))
}

// citizenExists answers ErrNotFound (translated) when there is no such
// citizen, so callers need not decode each driver's foreign-key error.
func citizenExists(tx *gorm.DB, op, citizenID string) error {
	var n int64
	if err := tx.Model(&citizenRow{}).Where("id = ?", citizenID).Count(&n).Error; err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return nil
}

// UserHandle returns a citizen's user handle.
func (s *Store) UserHandle(ctx context.Context, citizenID string) ([]byte, error) {
	var row webauthnUserRow
	if err := s.q(ctx).Where("citizen_id = ?", citizenID).Take(&row).Error; err != nil {
		return nil, wrap("load webauthn user handle", err)
	}
	return row.UserHandle, nil
}

// CitizenByUserHandle finds the citizen of a user handle.
func (s *Store) CitizenByUserHandle(ctx context.Context, handle []byte) (string, error) {
	const op = "find citizen by user handle"
	if len(handle) == 0 || len(handle) > maxUserHandle {
		return "", wrap(op, gorm.ErrRecordNotFound)
	}
	var row webauthnUserRow
	if err := s.q(ctx).Where("user_handle = ?", handle).Take(&row).Error; err != nil {
		return "", wrap(op, err)
	}
	return row.CitizenID, nil
}

// AddPasskey stores a new passkey. A zero CreatedAt is set from the store's
// clock (and on p).
func (s *Store) AddPasskey(ctx context.Context, p *identity.Passkey) error {
	const op = "add passkey"
	if p == nil || len(p.ID) == 0 || p.CitizenID == "" || len(p.PublicKey) == 0 {
		return failf(op, nil, "passkey needs a credential id, a citizen id and a public key")
	}
	created := ts(p.CreatedAt)
	if p.CreatedAt.IsZero() {
		created = s.nowTS()
	}
	row := passkeyRow{
		IDHash:            credentialHash(p.ID),
		CredentialID:      p.ID,
		CitizenID:         p.CitizenID,
		PublicKey:         p.PublicKey,
		AttestationType:   p.AttestationType,
		AttestationFormat: p.AttestationFormat,
		Transports:        encodeList(p.Transports),
		AAGUID:            append([]byte{}, p.AAGUID...),
		Attachment:        p.Attachment,
		SignCount:         int64(p.SignCount),
		UserPresent:       p.UserPresent,
		UserVerified:      p.UserVerified,
		BackupEligible:    p.BackupEligible,
		BackupState:       p.BackupState,
		Name:              p.Name,
		CreatedAt:         created,
		LastUsedAt:        nullTS(p.LastUsedAt),
	}
	err := s.q(ctx).Transaction(func(tx *gorm.DB) error {
		if err := citizenExists(tx, op, p.CitizenID); err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return wrap(op, err)
	}
	p.CreatedAt = created
	return nil
}

// Passkeys lists a citizen's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, citizenID string) ([]*identity.Passkey, error) {
	const op = "list passkeys"
	var rows []passkeyRow
	if err := s.q(ctx).Where("citizen_id = ?", citizenID).Order("created_at").Order("id_hash").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, (*passkeyRow).passkey)
}

// Passkey loads one passkey by credential id.
func (s *Store) Passkey(ctx context.Context, credentialID []byte) (*identity.Passkey, error) {
	const op = "load passkey"
	var row passkeyRow
	if err := s.q(ctx).Where("id_hash = ?", credentialHash(credentialID)).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	p, err := row.passkey()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return p, nil
}

// UpdatePasskeyUse advances the signature counter in one conditional
// UPDATE; when it matches no row, a second look tells a regression
// (ErrConflict) from a missing passkey (ErrNotFound).
func (s *Store) UpdatePasskeyUse(ctx context.Context, credentialID []byte, signCount uint32, backupState bool, at time.Time) error {
	const op = "record passkey use"
	hash := credentialHash(credentialID)
	n := int64(signCount)
	cond := s.q(ctx).Model(&passkeyRow{}).Where("id_hash = ? AND sign_count < ?", hash, n)
	if n == 0 {
		cond = s.q(ctx).Model(&passkeyRow{}).Where("id_hash = ? AND sign_count = 0", hash)
	}
	res := cond.Updates(map[string]any{"sign_count": n, "backup_state": backupState, "last_used_at": ts(at)})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var count int64
	if err := s.q(ctx).Model(&passkeyRow{}).Where("id_hash = ?", hash).Count(&count).Error; err != nil {
		return wrap(op, err)
	}
	if count == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return failf(op, identity.ErrConflict, "stored signature counter is not below %d", signCount)
}

// RenamePasskey names one of a citizen's passkeys.
func (s *Store) RenamePasskey(ctx context.Context, citizenID string, credentialID []byte, name string) error {
	return one("rename passkey", s.q(ctx).Model(&passkeyRow{}).
		Where("id_hash = ? AND citizen_id = ?", credentialHash(credentialID), citizenID).
		Update("name", name))
}

// DeletePasskey removes one of a citizen's passkeys.
func (s *Store) DeletePasskey(ctx context.Context, citizenID string, credentialID []byte) error {
	return one("delete passkey", s.q(ctx).
		Where("id_hash = ? AND citizen_id = ?", credentialHash(credentialID), citizenID).
		Delete(&passkeyRow{}))
}
