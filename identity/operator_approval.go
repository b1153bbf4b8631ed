package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// ApprovalAction names a sensitive change that needs a second operator.
type ApprovalAction string

const (
	// ApproveUnfreeze makes a frozen citizen active again.
	ApproveUnfreeze ApprovalAction = "citizen.unfreeze"
	// ApproveOperatorChange changes an operator's roles and region
	// (Params "roles": space-separated, "region": the prefix).
	ApproveOperatorChange ApprovalAction = "operator.change"
)

// ApprovalStatus is where an approval stands.
type ApprovalStatus string

const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalRejected ApprovalStatus = "rejected"
)

// Approval is a sensitive change asked for by one operator that takes effect
// only when a different operator approves it.
type Approval struct {
	ID     string
	Action ApprovalAction
	// Target is the citizen id (unfreeze) or the operator id (change).
	Target string
	// Region is the region code of the target: the citizen's region, or for
	// an operator change the longer (narrower) of the old and new scopes'
	// common ancestor — only operators covering it see and decide it.
	Region      string
	Params      map[string]string
	Reason      string
	RequestedBy string // operator id
	RequestedAt time.Time
	Status      ApprovalStatus
	DecidedBy   string // operator id; "" while pending
	DecidedAt   time.Time
}

// NewApprovalID returns a random opaque approval id.
func NewApprovalID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "a_" + hex.EncodeToString(b), nil
}

// ApprovalRepository keeps pending and decided approvals (SQL).
type ApprovalRepository interface {
	// CreateApproval stores a pending approval (ID set by the caller).
	CreateApproval(ctx context.Context, a *Approval) error
	// Approval loads one, or ErrNotFound.
	Approval(ctx context.Context, id string) (*Approval, error)
	// PendingApprovals lists the pending ones, oldest first.
	PendingApprovals(ctx context.Context) ([]*Approval, error)
	// DecideApproval moves a pending approval to approved or rejected,
	// atomically: ErrConflict when it is no longer pending (two operators
	// deciding at once: one wins), ErrNotFound when there is none.
	DecideApproval(ctx context.Context, id string, st ApprovalStatus, by string, at time.Time) error
}
