package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

type grantRow struct {
	ID        string     `gorm:"column:id;primaryKey"`
	ClientID  string     `gorm:"column:client_id"`
	CitizenID string     `gorm:"column:citizen_id"`
	SessionID string     `gorm:"column:session_id"`
	Scopes    string     `gorm:"column:scopes"`
	CreatedAt time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	RevokedAt *time.Time `gorm:"column:revoked_at"`
}

func (grantRow) TableName() string { return "grants" }

func (r *grantRow) grant() (*oauth.Grant, error) {
	scopes, err := decodeList("scopes", r.Scopes)
	if err != nil {
		return nil, fmt.Errorf("grant %s: %w", r.ID, err)
	}
	return &oauth.Grant{
		ID:        r.ID,
		ClientID:  r.ClientID,
		CitizenID: r.CitizenID,
		SessionID: r.SessionID,
		Scopes:    scopes,
		CreatedAt: r.CreatedAt.UTC(),
		RevokedAt: fromNullTS(r.RevokedAt),
	}, nil
}

type refreshTokenRow struct {
	Signature       string     `gorm:"column:signature;primaryKey"`
	GrantID         string     `gorm:"column:grant_id"`
	AccessSignature string     `gorm:"column:access_signature"`
	Active          bool       `gorm:"column:active"`
	Request         []byte     `gorm:"column:request"`
	CreatedAt       time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	ExpiresAt       *time.Time `gorm:"column:expires_at"`
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

// CreateGrant records a grant; an existing id is left as it is. A zero
// CreatedAt is set from the store's clock (and on g).
func (s *Store) CreateGrant(ctx context.Context, g *oauth.Grant) error {
	const op = "create grant"
	if g == nil || g.ID == "" {
		return failf(op, nil, "grant id is empty")
	}
	row := grantRow{
		ID:        g.ID,
		ClientID:  g.ClientID,
		CitizenID: g.CitizenID,
		SessionID: g.SessionID,
		Scopes:    encodeList(g.Scopes),
		CreatedAt: ts(g.CreatedAt),
		RevokedAt: nullTS(g.RevokedAt),
	}
	if g.CreatedAt.IsZero() {
		row.CreatedAt = s.nowTS()
	}
	err := s.q(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}).Create(&row).Error
	if err != nil {
		return wrap(op, err)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = row.CreatedAt
	}
	return nil
}

// Grant loads one grant, revoked or not.
func (s *Store) Grant(ctx context.Context, id string) (*oauth.Grant, error) {
	const op = "load grant"
	var row grantRow
	if err := s.q(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	g, err := row.grant()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return g, nil
}

// SessionGrants lists the live grants of an SSO session, oldest first.
func (s *Store) SessionGrants(ctx context.Context, sessionID string) ([]*oauth.Grant, error) {
	return s.liveGrants(ctx, "list session grants", "session_id", sessionID)
}

// CitizenGrants lists the live grants of a citizen, oldest first.
func (s *Store) CitizenGrants(ctx context.Context, citizenID string) ([]*oauth.Grant, error) {
	return s.liveGrants(ctx, "list citizen grants", "citizen_id", citizenID)
}

func (s *Store) liveGrants(ctx context.Context, op, col, val string) ([]*oauth.Grant, error) {
	if val == "" {
		// "" means "none" (client_credentials grants), never "all of them".
		return []*oauth.Grant{}, nil
	}
	var rows []grantRow
	err := s.q(ctx).Where(col+" = ? AND revoked_at IS NULL", val).
		Order("created_at").Order("id").Find(&rows).Error
	if err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, (*grantRow).grant)
}

// RevokeGrant marks the grant revoked at at (the first revocation's time
// is kept) and deactivates all its refresh tokens, in one transaction.
func (s *Store) RevokeGrant(ctx context.Context, id string, at time.Time) error {
	const op = "revoke grant"
	if at.IsZero() {
		at = s.now()
	}
	err := s.q(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&grantRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", ts(at))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&grantRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return gorm.ErrRecordNotFound
			}
		}
		return tx.Model(&refreshTokenRow{}).Where("grant_id = ? AND active = ?", id, true).Update("active", false).Error
	})
	return wrap(op, err)
}

// CreateRefreshToken stores an active refresh token. A zero CreatedAt is
// set from the store's clock (and on t). ErrAlreadyExists for a signature
// already stored.
func (s *Store) CreateRefreshToken(ctx context.Context, t *oauth.RefreshToken) error {
	const op = "create refresh token"
	if t == nil || t.Signature == "" {
		return failf(op, nil, "refresh token signature is empty")
	}
	if t.GrantID == "" {
		return failf(op, nil, "refresh token has no grant")
	}
	row := refreshTokenRow{
		Signature:       t.Signature,
		GrantID:         t.GrantID,
		AccessSignature: t.AccessSignature,
		Active:          true,
		Request:         t.Request,
		CreatedAt:       ts(t.CreatedAt),
		ExpiresAt:       nullTS(t.ExpiresAt),
	}
	if row.Request == nil {
		row.Request = []byte{}
	}
	if t.CreatedAt.IsZero() {
		row.CreatedAt = s.nowTS()
	}
	if err := s.q(ctx).Create(&row).Error; err != nil {
		return wrap(op, err)
	}
	t.Active = true
	if t.CreatedAt.IsZero() {
		t.CreatedAt = row.CreatedAt
	}
	return nil
}

// RefreshToken loads a refresh token, active or not.
func (s *Store) RefreshToken(ctx context.Context, signature string) (*oauth.RefreshToken, error) {
	var row refreshTokenRow
	if err := s.q(ctx).Where("signature = ?", signature).Take(&row).Error; err != nil {
		return nil, wrap("load refresh token", err)
	}
	return &oauth.RefreshToken{
		Signature:       row.Signature,
		GrantID:         row.GrantID,
		AccessSignature: row.AccessSignature,
		Active:          row.Active,
		Request:         row.Request,
		CreatedAt:       row.CreatedAt.UTC(),
		ExpiresAt:       fromNullTS(row.ExpiresAt),
	}, nil
}

// DeactivateRefreshToken flips an active token to inactive with one
// conditional UPDATE; of concurrent callers exactly one sees it change.
// The others get ErrConflict; ErrNotFound when there is no such token.
func (s *Store) DeactivateRefreshToken(ctx context.Context, signature string) error {
	const op = "deactivate refresh token"
	res := s.q(ctx).Model(&refreshTokenRow{}).
		Where("signature = ? AND active = ?", signature, true).
		Update("active", false)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.q(ctx).Model(&refreshTokenRow{}).Where("signature = ?", signature).Count(&n).Error; err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return &storeError{op: op, sentinel: identity.ErrConflict}
}

// DeleteRefreshToken removes one token row.
func (s *Store) DeleteRefreshToken(ctx context.Context, signature string) error {
	return one("delete refresh token", s.q(ctx).Where("signature = ?", signature).Delete(&refreshTokenRow{}))
}

// DeactivateGrantRefreshTokens deactivates every token of a grant (none is
// not an error).
func (s *Store) DeactivateGrantRefreshTokens(ctx context.Context, grantID string) error {
	err := s.q(ctx).Model(&refreshTokenRow{}).
		Where("grant_id = ? AND active = ?", grantID, true).
		Update("active", false).Error
	return wrap("deactivate grant refresh tokens", err)
}
