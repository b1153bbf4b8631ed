package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yihao-gov/yihao/oauth"
)

type consentRow struct {
	CitizenID string    `gorm:"column:citizen_id;primaryKey"`
	ClientID  string    `gorm:"column:client_id;primaryKey"`
	Scopes    string    `gorm:"column:scopes"`
	GrantedAt time.Time `gorm:"column:granted_at"`
}

func (consentRow) TableName() string { return "consents" }

func (r *consentRow) consent() (*oauth.Consent, error) {
	scopes, err := decodeList("scopes", r.Scopes)
	if err != nil {
		return nil, err
	}
	return &oauth.Consent{
		CitizenID: r.CitizenID,
		ClientID:  r.ClientID,
		Scopes:    scopes,
		GrantedAt: r.GrantedAt.UTC(),
	}, nil
}

// Consent loads the consent of a citizen for a client.
func (s *Store) Consent(ctx context.Context, citizenID, clientID string) (*oauth.Consent, error) {
	const op = "load consent"
	var row consentRow
	err := s.q(ctx).Where("citizen_id = ? AND client_id = ?", citizenID, clientID).Take(&row).Error
	if err != nil {
		return nil, wrap(op, err)
	}
	c, err := row.consent()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return c, nil
}

// SaveConsent creates or replaces (scopes and time) the consent of
// (CitizenID, ClientID) in one upsert statement. A zero GrantedAt is set
// from the store's clock (and on c).
func (s *Store) SaveConsent(ctx context.Context, c *oauth.Consent) error {
	const op = "save consent"
	if c == nil || c.CitizenID == "" || c.ClientID == "" {
		return failf(op, nil, "consent needs a citizen id and a client id")
	}
	row := consentRow{
		CitizenID: c.CitizenID,
		ClientID:  c.ClientID,
		Scopes:    encodeList(c.Scopes),
		GrantedAt: ts(c.GrantedAt),
	}
	if c.GrantedAt.IsZero() {
		row.GrantedAt = s.nowTS()
	}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "citizen_id"}, {Name: "client_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"scopes", "granted_at"}),
	}).Create(&row).Error
	if err != nil {
		return wrap(op, err)
	}
	c.GrantedAt = row.GrantedAt
	return nil
}

// DeleteConsent removes a consent.
func (s *Store) DeleteConsent(ctx context.Context, citizenID, clientID string) error {
	return one("delete consent", s.q(ctx).Where("citizen_id = ? AND client_id = ?", citizenID, clientID).Delete(&consentRow{}))
}

// CitizenConsents lists a citizen's consents, newest first.
func (s *Store) CitizenConsents(ctx context.Context, citizenID string) ([]*oauth.Consent, error) {
	const op = "list citizen consents"
	var rows []consentRow
	err := s.q(ctx).Where("citizen_id = ?", citizenID).
		Order("granted_at DESC").Order("client_id").Find(&rows).Error
	if err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, (*consentRow).consent)
}
