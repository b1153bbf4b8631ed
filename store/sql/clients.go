package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yihao-gov/yihao/oauth"
)

type clientRow struct {
	ID                       string    `gorm:"column:id;primaryKey"`
	SecretHash               []byte    `gorm:"column:secret_hash"`
	Name                     string    `gorm:"column:name"`
	RedirectURIs             string    `gorm:"column:redirect_uris"`
	PostLogoutRedirectURIs   string    `gorm:"column:post_logout_redirect_uris"`
	BackchannelLogoutURI     string    `gorm:"column:backchannel_logout_uri"`
	GrantTypes               string    `gorm:"column:grant_types"`
	ResponseTypes            string    `gorm:"column:response_types"`
	Scopes                   string    `gorm:"column:scopes"`
	Audience                 string    `gorm:"column:audience"`
	Public                   bool      `gorm:"column:public"`
	TokenEndpointAuthMethod  string    `gorm:"column:token_endpoint_auth_method"`
	SubjectType              string    `gorm:"column:subject_type"`
	SectorIdentifier         string    `gorm:"column:sector_identifier"`
	AllowIDCard              bool      `gorm:"column:allow_id_card"`
	SkipConsent              bool      `gorm:"column:skip_consent"`
	IDTokenSignedResponseAlg string    `gorm:"column:id_token_signed_response_alg"`
	MinLevel                 int       `gorm:"column:min_level"`
	MinACR                   string    `gorm:"column:min_acr"`
	Channel                  string    `gorm:"column:channel"`
	Disabled                 bool      `gorm:"column:disabled"`
	CreatedAt                time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt                time.Time `gorm:"column:updated_at;autoUpdateTime:false;autoCreateTime:false"`
}

func (clientRow) TableName() string { return "clients" }

// encodeList stores a list as a JSON array ("[]" for none).
func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // []string always marshals
	return string(b)
}

// decodeList reads a JSON array; an empty one reads as nil.
func decodeList(col, s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("column %s is not a JSON list of strings", col)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

func bytesOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func toClientRow(c *oauth.Client) clientRow {
	return clientRow{
		ID:                       c.ID,
		SecretHash:               bytesOrNil(c.SecretHash),
		Name:                     c.Name,
		RedirectURIs:             encodeList(c.RedirectURIs),
		PostLogoutRedirectURIs:   encodeList(c.PostLogoutRedirectURIs),
		BackchannelLogoutURI:     c.BackchannelLogoutURI,
		GrantTypes:               encodeList(c.GrantTypes),
		ResponseTypes:            encodeList(c.ResponseTypes),
		Scopes:                   encodeList(c.Scopes),
		Audience:                 encodeList(c.Audience),
		Public:                   c.Public,
		TokenEndpointAuthMethod:  c.TokenEndpointAuthMethod,
		SubjectType:              c.SubjectType,
		SectorIdentifier:         c.SectorIdentifier,
		AllowIDCard:              c.AllowIDCard,
		SkipConsent:              c.SkipConsent,
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg,
		MinLevel:                 c.MinLevel,
		MinACR:                   c.MinACR,
		Channel:                  c.Channel,
		Disabled:                 c.Disabled,
		CreatedAt:                ts(c.CreatedAt),
		UpdatedAt:                ts(c.UpdatedAt),
	}
}

func (r *clientRow) client() (*oauth.Client, error) {
	c := &oauth.Client{
		ID:                       r.ID,
		SecretHash:               bytesOrNil(r.SecretHash),
		Name:                     r.Name,
		BackchannelLogoutURI:     r.BackchannelLogoutURI,
		Public:                   r.Public,
		TokenEndpointAuthMethod:  r.TokenEndpointAuthMethod,
		SubjectType:              r.SubjectType,
		SectorIdentifier:         r.SectorIdentifier,
		AllowIDCard:              r.AllowIDCard,
		SkipConsent:              r.SkipConsent,
		IDTokenSignedResponseAlg: r.IDTokenSignedResponseAlg,
		MinLevel:                 r.MinLevel,
		MinACR:                   r.MinACR,
		Channel:                  r.Channel,
		Disabled:                 r.Disabled,
		CreatedAt:                r.CreatedAt.UTC(),
		UpdatedAt:                r.UpdatedAt.UTC(),
	}
	lists := []struct {
		col string
		src string
		dst *[]string
	}{
		{"redirect_uris", r.RedirectURIs, &c.RedirectURIs},
		{"post_logout_redirect_uris", r.PostLogoutRedirectURIs, &c.PostLogoutRedirectURIs},
		{"grant_types", r.GrantTypes, &c.GrantTypes},
		{"response_types", r.ResponseTypes, &c.ResponseTypes},
		{"scopes", r.Scopes, &c.Scopes},
		{"audience", r.Audience, &c.Audience},
	}
	for _, l := range lists {
		v, err := decodeList(l.col, l.src)
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", r.ID, err)
		}
		*l.dst = v
	}
	return c, nil
}

// CreateClient stores c. Zero CreatedAt/UpdatedAt are set from the store's
// clock (and on c).
func (s *Store) CreateClient(ctx context.Context, c *oauth.Client) error {
	const op = "create client"
	if c == nil || c.ID == "" {
		return failf(op, nil, "client id is empty")
	}
	row := toClientRow(c)
	if row.CreatedAt.IsZero() {
		row.CreatedAt = s.nowTS()
	}
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = row.CreatedAt
	}
	omit := append(unsetColumns(row.MinACR == "", "min_acr"), unsetColumns(row.Channel == "", "channel")...)
	if err := s.q(ctx).Omit(omit...).Create(&row).Error; err != nil {
		return wrap(op, err)
	}
	c.CreatedAt, c.UpdatedAt = row.CreatedAt, row.UpdatedAt
	return nil
}

// UpdateClient replaces every field of an existing client except CreatedAt,
// which stays what it was at creation. A zero UpdatedAt is set from the
// store's clock (and on c).
func (s *Store) UpdateClient(ctx context.Context, c *oauth.Client) error {
	const op = "update client"
	if c == nil || c.ID == "" {
		return failf(op, nil, "client id is empty")
	}
	row := toClientRow(c)
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = s.nowTS()
	}
	res := s.q(ctx).Model(&clientRow{}).Where("id = ?", c.ID).
		Select("*").Omit("id", "created_at").Updates(&row)
	if err := one(op, res); err != nil {
		return err
	}
	c.UpdatedAt = row.UpdatedAt
	return nil
}

// Client loads one client.
func (s *Store) Client(ctx context.Context, id string) (*oauth.Client, error) {
	const op = "load client"
	var row clientRow
	if err := s.q(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	c, err := row.client()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return c, nil
}

// Clients lists every client ordered by id.
func (s *Store) Clients(ctx context.Context) ([]*oauth.Client, error) {
	const op = "list clients"
	var rows []clientRow
	if err := s.q(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, (*clientRow).client)
}

// DeleteClient removes a client.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return one("delete client", s.q(ctx).Where("id = ?", id).Delete(&clientRow{}))
}

// clientChannelMigration is migration 0012: the service channel a site is
// (clients.channel: web, app, miniapp, kiosk, counter, api; ” for "as the
// login's").
func clientChannelMigration(dialect string) []string {
	return addColumns(dialect, []newColumn{{"clients", "channel", "{short} NOT NULL DEFAULT ''"}})
}
