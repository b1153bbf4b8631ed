package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yihao-gov/yihao/identity"
)

var (
	_ identity.OperatorRepository = (*Store)(nil)
	_ identity.ApprovalRepository = (*Store)(nil)
	_ identity.CitizenAdmin       = (*Store)(nil)
)

// operatorsMigration is migration 0008: operators, the admin-API client
// bindings, pending approvals and the credential-reset marks of citizens.
var operatorsMigration = tables(
	table{
		name: "operators",
		columns: []string{
			"id {id} NOT NULL",
			"username {id} NOT NULL",
			"name {text} NOT NULL",
			"roles {text} NOT NULL",
			"region {short} NOT NULL",
			"status {short} NOT NULL",
			"password_hash {text} NOT NULL",
			"totp_ct {bytes} NOT NULL",
			"totp_key_id {short} NOT NULL",
			"last_totp_step BIGINT NOT NULL",
			"created_at {time} NOT NULL",
			"updated_at {time} NOT NULL",
		},
		constraints: []string{
			"PRIMARY KEY (id)",
			"CONSTRAINT operators_username_uq UNIQUE (username)",
		},
	},
	table{
		name: "operator_clients",
		columns: []string{
			"client_id {id} NOT NULL",
			"operator_id {id} NOT NULL",
			"created_at {time} NOT NULL",
		},
		constraints: []string{
			"PRIMARY KEY (client_id)",
			"CONSTRAINT operator_clients_operator_fk FOREIGN KEY (operator_id) REFERENCES operators (id) ON DELETE CASCADE",
		},
		indexes: []index{{"operator_clients_operator_idx", "operator_id"}},
	},
	table{
		name: "approvals",
		columns: []string{
			"id {id} NOT NULL",
			"action {short} NOT NULL",
			"target {id} NOT NULL",
			"region {short} NOT NULL",
			"params {text} NOT NULL",
			"reason {text} NOT NULL",
			"requested_by {id} NOT NULL",
			"requested_at {time} NOT NULL",
			"status {short} NOT NULL",
			"decided_by {id} NOT NULL",
			"decided_at {time}",
		},
		constraints: []string{"PRIMARY KEY (id)"},
		indexes:     []index{{"approvals_status_idx", "status"}},
	},
	table{
		name: "credential_resets",
		columns: []string{
			"citizen_id {id} NOT NULL",
			"operator_id {id} NOT NULL",
			"reset_at {time} NOT NULL",
		},
		constraints: []string{
			"PRIMARY KEY (citizen_id)",
			"CONSTRAINT credential_resets_citizen_fk FOREIGN KEY (citizen_id) REFERENCES citizens (id) ON DELETE CASCADE",
		},
	},
)

type operatorRow struct {
	ID           string    `gorm:"column:id;primaryKey"`
	Username     string    `gorm:"column:username"`
	Name         string    `gorm:"column:name"`
	Roles        string    `gorm:"column:roles"`
	Region       string    `gorm:"column:region"`
	Status       string    `gorm:"column:status"`
	PasswordHash string    `gorm:"column:password_hash"`
	TOTPCT       []byte    `gorm:"column:totp_ct"`
	TOTPKeyID    string    `gorm:"column:totp_key_id"`
	LastTOTPStep int64     `gorm:"column:last_totp_step"`
	CreatedAt    time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"column:updated_at;autoUpdateTime:false;autoCreateTime:false"`
}

func (operatorRow) TableName() string { return "operators" }

type operatorClientRow struct {
	ClientID   string    `gorm:"column:client_id;primaryKey"`
	OperatorID string    `gorm:"column:operator_id"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (operatorClientRow) TableName() string { return "operator_clients" }

type approvalRow struct {
	ID          string     `gorm:"column:id;primaryKey"`
	Action      string     `gorm:"column:action"`
	Target      string     `gorm:"column:target"`
	Region      string     `gorm:"column:region"`
	Params      string     `gorm:"column:params"`
	Reason      string     `gorm:"column:reason"`
	RequestedBy string     `gorm:"column:requested_by"`
	RequestedAt time.Time  `gorm:"column:requested_at"`
	Status      string     `gorm:"column:status"`
	DecidedBy   string     `gorm:"column:decided_by"`
	DecidedAt   *time.Time `gorm:"column:decided_at"`
}

func (approvalRow) TableName() string { return "approvals" }

type credentialResetRow struct {
	CitizenID  string    `gorm:"column:citizen_id;primaryKey"`
	OperatorID string    `gorm:"column:operator_id"`
	ResetAt    time.Time `gorm:"column:reset_at"`
}

func (credentialResetRow) TableName() string { return "credential_resets" }

// totpAAD binds a sealed TOTP secret to its operator.
func totpAAD(operatorID string) []byte { return []byte("yihao/operator-totp/v1\x00" + operatorID) }

// sealTOTP encrypts an operator's TOTP secret with the active number key.
func (s *Store) sealTOTP(operatorID string, secret identity.TOTPSecret) ([]byte, string, error) {
	c := s.crypto
	if c == nil {
		return nil, "", errNoKeys
	}
	aead := c.aeads[c.active]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", err
	}
	return aead.Seal(nonce, nonce, secret.Bytes(), totpAAD(operatorID)), c.active, nil
}

func (s *Store) openTOTP(operatorID, keyID string, ct []byte) (identity.TOTPSecret, error) {
	c := s.crypto
	if c == nil {
		return identity.TOTPSecret{}, errNoKeys
	}
	aead, ok := c.aeads[keyID]
	if !ok {
		return identity.TOTPSecret{}, fmt.Errorf("TOTP secret is sealed with key %q, which is not configured", keyID)
	}
	if len(ct) < aead.NonceSize()+aead.Overhead() {
		return identity.TOTPSecret{}, errors.New("TOTP secret ciphertext is truncated")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], totpAAD(operatorID))
	if err != nil {
		return identity.TOTPSecret{}, fmt.Errorf("TOTP secret does not decrypt with key %q", keyID)
	}
	return identity.TOTPSecretFromBytes(pt), nil
}

func (s *Store) toOperatorRow(o *identity.Operator) (operatorRow, error) {
	ct, keyID, err := s.sealTOTP(o.ID, o.TOTP)
	if err != nil {
		return operatorRow{}, err
	}
	roles := make([]string, len(o.Roles))
	for i, r := range o.Roles {
		roles[i] = string(r)
	}
	return operatorRow{
		ID: o.ID, Username: o.Username, Name: o.Name, Roles: encodeList(roles), Region: o.Region,
		Status: string(o.Status), PasswordHash: o.PasswordHash, TOTPCT: ct, TOTPKeyID: keyID,
		CreatedAt: ts(o.CreatedAt), UpdatedAt: ts(o.UpdatedAt),
	}, nil
}

func (s *Store) operator(r *operatorRow) (*identity.Operator, error) {
	roles, err := decodeList("roles", r.Roles)
	if err != nil {
		return nil, err
	}
	secret, err := s.openTOTP(r.ID, r.TOTPKeyID, r.TOTPCT)
	if err != nil {
		return nil, fmt.Errorf("operator %s: %w", r.ID, err)
	}
	o := &identity.Operator{
		ID: r.ID, Username: r.Username, Name: r.Name, Region: r.Region, Status: identity.OperatorStatus(r.Status),
		PasswordHash: r.PasswordHash, TOTP: secret, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	for _, x := range roles {
		o.Roles = append(o.Roles, identity.Role(x))
	}
	return o, nil
}

// CreateOperator stores o. Zero times are set from the store's clock.
func (s *Store) CreateOperator(ctx context.Context, o *identity.Operator) error {
	const op = "create operator"
	if o == nil || o.ID == "" || o.Username == "" {
		return failf(op, nil, "operator id or username is empty")
	}
	row, err := s.toOperatorRow(o)
	if err != nil {
		return failf(op, nil, "%v", err)
	}
	if row.CreatedAt.IsZero() {
		row.CreatedAt = s.nowTS()
	}
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = row.CreatedAt
	}
	if row.Status == "" {
		row.Status = string(identity.OperatorActive)
	}
	if err := s.q(ctx).Create(&row).Error; err != nil {
		return wrap(op, err)
	}
	o.CreatedAt, o.UpdatedAt, o.Status = row.CreatedAt, row.UpdatedAt, identity.OperatorStatus(row.Status)
	return nil
}

func (s *Store) loadOperator(ctx context.Context, op, where string, arg any) (*identity.Operator, error) {
	var row operatorRow
	if err := s.q(ctx).Where(where, arg).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	o, err := s.operator(&row)
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return o, nil
}

// Operator loads one operator by id.
func (s *Store) Operator(ctx context.Context, id string) (*identity.Operator, error) {
	return s.loadOperator(ctx, "load operator", "id = ?", id)
}

// OperatorByUsername loads one operator by username.
func (s *Store) OperatorByUsername(ctx context.Context, username string) (*identity.Operator, error) {
	return s.loadOperator(ctx, "load operator by username", "username = ?", username)
}

// Operators lists every operator by username.
func (s *Store) Operators(ctx context.Context) ([]*identity.Operator, error) {
	const op = "list operators"
	var rows []operatorRow
	if err := s.q(ctx).Order("username").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, s.operator)
}

// UpdateOperator replaces the changeable fields; the username, creation
// time and last TOTP step stay.
func (s *Store) UpdateOperator(ctx context.Context, o *identity.Operator) error {
	const op = "update operator"
	if o == nil || o.ID == "" {
		return failf(op, nil, "operator id is empty")
	}
	row, err := s.toOperatorRow(o)
	if err != nil {
		return failf(op, nil, "%v", err)
	}
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = s.nowTS()
	}
	err = one(op, s.q(ctx).Model(&operatorRow{}).Where("id = ?", o.ID).Updates(map[string]any{
		"name": row.Name, "roles": row.Roles, "region": row.Region, "status": row.Status,
		"password_hash": row.PasswordHash, "totp_ct": row.TOTPCT, "totp_key_id": row.TOTPKeyID, "updated_at": row.UpdatedAt,
	}))
	if err == nil {
		o.UpdatedAt = row.UpdatedAt
	}
	return err
}

// UseTOTPStep moves last_totp_step forward with one conditional update:
// of two sign-ins with the same code, exactly one wins.
func (s *Store) UseTOTPStep(ctx context.Context, operatorID string, step int64) error {
	const op = "use totp step"
	res := s.q(ctx).Model(&operatorRow{}).Where("id = ? AND last_totp_step < ?", operatorID, step).
		Update("last_totp_step", step)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.q(ctx).Model(&operatorRow{}).Where("id = ?", operatorID).Count(&n).Error; err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return failf(op, identity.ErrConflict, "code already used")
}

// BindClientOperator makes clientID act as operatorID in the admin API.
func (s *Store) BindClientOperator(ctx context.Context, clientID, operatorID string) error {
	const op = "bind client to operator"
	if clientID == "" || operatorID == "" {
		return failf(op, nil, "client or operator id is empty")
	}
	return wrap(op, s.q(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&operatorRow{}).Where("id = ?", operatorID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return gorm.ErrRecordNotFound
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "client_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"operator_id", "created_at"}),
		}).Create(&operatorClientRow{ClientID: clientID, OperatorID: operatorID, CreatedAt: s.nowTS()}).Error
	}))
}

// ClientOperator returns the operator a client acts as.
func (s *Store) ClientOperator(ctx context.Context, clientID string) (string, error) {
	var row operatorClientRow
	if err := s.q(ctx).Where("client_id = ?", clientID).Take(&row).Error; err != nil {
		return "", wrap("load client operator", err)
	}
	return row.OperatorID, nil
}

// CreateApproval stores a pending approval.
func (s *Store) CreateApproval(ctx context.Context, a *identity.Approval) error {
	const op = "create approval"
	if a == nil || a.ID == "" {
		return failf(op, nil, "approval id is empty")
	}
	params, err := json.Marshal(a.Params)
	if err != nil || a.Params == nil {
		params = []byte("{}")
	}
	at := ts(a.RequestedAt)
	if at.IsZero() {
		at = s.nowTS()
	}
	row := approvalRow{ID: a.ID, Action: string(a.Action), Target: a.Target, Region: a.Region, Params: string(params),
		Reason: a.Reason, RequestedBy: a.RequestedBy, RequestedAt: at, Status: string(identity.ApprovalPending)}
	if err := s.q(ctx).Create(&row).Error; err != nil {
		return wrap(op, err)
	}
	a.RequestedAt, a.Status = at, identity.ApprovalPending
	return nil
}

func (r *approvalRow) approval() (*identity.Approval, error) {
	a := &identity.Approval{ID: r.ID, Action: identity.ApprovalAction(r.Action), Target: r.Target, Region: r.Region,
		Reason: r.Reason, RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt.UTC(), Status: identity.ApprovalStatus(r.Status),
		DecidedBy: r.DecidedBy, DecidedAt: fromNullTS(r.DecidedAt)}
	if err := json.Unmarshal([]byte(r.Params), &a.Params); err != nil {
		return nil, fmt.Errorf("approval %s: column params is not a JSON object of strings", r.ID)
	}
	if len(a.Params) == 0 {
		a.Params = nil
	}
	return a, nil
}

// Approval loads one approval.
func (s *Store) Approval(ctx context.Context, id string) (*identity.Approval, error) {
	const op = "load approval"
	var row approvalRow
	if err := s.q(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	a, err := row.approval()
	if err != nil {
		return nil, failf(op, nil, "%v", err)
	}
	return a, nil
}

// PendingApprovals lists the pending approvals, oldest first.
func (s *Store) PendingApprovals(ctx context.Context) ([]*identity.Approval, error) {
	const op = "list pending approvals"
	var rows []approvalRow
	if err := s.q(ctx).Where("status = ?", string(identity.ApprovalPending)).Order("requested_at, id").Find(&rows).Error; err != nil {
		return nil, wrap(op, err)
	}
	return convert(op, rows, (*approvalRow).approval)
}

// DecideApproval is one conditional update on status = pending.
func (s *Store) DecideApproval(ctx context.Context, id string, st identity.ApprovalStatus, by string, at time.Time) error {
	const op = "decide approval"
	if st != identity.ApprovalApproved && st != identity.ApprovalRejected {
		return failf(op, nil, "status %q is not a decision", st)
	}
	if at.IsZero() {
		at = s.now()
	}
	res := s.q(ctx).Model(&approvalRow{}).Where("id = ? AND status = ?", id, string(identity.ApprovalPending)).
		Updates(map[string]any{"status": string(st), "decided_by": by, "decided_at": ts(at)})
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.q(ctx).Model(&approvalRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(op, gorm.ErrRecordNotFound)
	}
	return failf(op, identity.ErrConflict, "approval already decided")
}

// SetCitizenPhone binds or unbinds the citizen's phone.
func (s *Store) SetCitizenPhone(ctx context.Context, citizenID, phone string) error {
	return one("set citizen phone", s.q(ctx).Model(&citizenRow{}).Where("id = ?", citizenID).
		Updates(map[string]any{"phone": phone, "updated_at": s.nowTS()}))
}

// ResetCitizenCredentials deletes the password and records the reset.
func (s *Store) ResetCitizenCredentials(ctx context.Context, citizenID, operatorID string, at time.Time) error {
	const op = "reset citizen credentials"
	if at.IsZero() {
		at = s.now()
	}
	return wrap(op, s.q(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&citizenRow{}).Where("id = ?", citizenID).Update("updated_at", ts(at))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		if err := tx.Where("citizen_id = ?", citizenID).Delete(&passwordRow{}).Error; err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "citizen_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"operator_id", "reset_at"}),
		}).Create(&credentialResetRow{CitizenID: citizenID, OperatorID: operatorID, ResetAt: ts(at)}).Error
	}))
}

// CitizenCredentialsReset returns the last reset, unless a password has been
// set since (a password row exists again).
func (s *Store) CitizenCredentialsReset(ctx context.Context, citizenID string) (time.Time, error) {
	const op = "load credential reset"
	var row credentialResetRow
	if err := s.q(ctx).Where("citizen_id = ?", citizenID).Take(&row).Error; err != nil {
		return time.Time{}, wrap(op, err)
	}
	var n int64
	if err := s.q(ctx).Model(&passwordRow{}).Where("citizen_id = ?", citizenID).Count(&n).Error; err != nil {
		return time.Time{}, wrap(op, err)
	}
	if n > 0 {
		return time.Time{}, wrap(op, gorm.ErrRecordNotFound)
	}
	return row.ResetAt.UTC(), nil
}
