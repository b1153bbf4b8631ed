package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// StatusMerged is the status of an account merged into another (its
// survivor): it cannot sign in itself; its document signs in to the
// survivor (FollowMerges).
const StatusMerged Status = "merged"

// UnmergeWindow is how long a merge can be reversed.
const UnmergeWindow = 30 * 24 * time.Hour

// More approval actions (see ApprovalAction).
const (
	// ApproveMerge merges the target citizen into Params["survivor"].
	ApproveMerge ApprovalAction = "citizen.merge"
	// ApproveUnmerge reverses the merge Params["merge"] of the target.
	ApproveUnmerge ApprovalAction = "citizen.unmerge"
	// ApproveRemoveLastFactor removes Params["factor"] ("password" or
	// "phone") of the target, which is their last way to sign in.
	ApproveRemoveLastFactor ApprovalAction = "citizen.remove_last_factor"
)

// Errors of merging.
var (
	// ErrMergeExpired: the merge is older than UnmergeWindow.
	ErrMergeExpired = errors.New("identity: the merge can no longer be reversed")
	// ErrApprovalRequested: the change was not made; it waits for a second
	// operator (see *PendingApproval).
	ErrApprovalRequested = errors.New("identity: waiting for a second operator's approval")
)

// PendingApproval answers an action that would remove a citizen's last
// factor: nothing changed, and Approval was created for a second operator.
// errors.Is(err, ErrApprovalRequested) holds.
type PendingApproval struct{ Approval *Approval }

func (e *PendingApproval) Error() string { return ErrApprovalRequested.Error() }
func (e *PendingApproval) Unwrap() error { return ErrApprovalRequested }

// Merge is the record of one account merged into another. What moved is
// recorded, so that an unmerge within UnmergeWindow restores exactly that.
//
// What a merge does (MergeRepository.MergeCitizens, one transaction):
//   - the merged citizen's consents move to the survivor, except for sites
//     the survivor has consented to already: those of the merged citizen
//     are removed and kept in the record (DroppedConsents);
//   - its passkeys move with its WebAuthn user handle when the survivor has
//     none (authenticators keep the handle, so it must move with them); when
//     the survivor has its own, they stay (PasskeysMoved false) and cannot
//     sign in while the account is merged;
//   - its phone moves when the survivor has none;
//   - its status becomes merged (the previous one is kept);
//   - its password, grants and audit history stay under its own id: the
//     console ends its sessions and revokes its grants (their tokens carry
//     the merged account's pairwise subjects), and the chain is never
//     rewritten.
type Merge struct {
	ID         string
	MergedID   string // the account merged away
	SurvivorID string
	// Set by MergeCitizens.
	PrevStatus      Status
	MovedConsents   []string // client ids whose consent moved to the survivor
	DroppedConsents []MergedConsent
	PasskeysMoved   bool
	PhoneMoved      bool

	Approval    string // the approval that allowed it
	RequestedBy string // operator ids
	ApprovedBy  string
	MergedAt    time.Time
	UnmergedAt  time.Time // zero while in effect
	UnmergedBy  string
}

// MergedConsent is a consent of the merged citizen that the survivor
// already had for the same site: removed at the merge, restored at unmerge.
type MergedConsent struct {
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
}

// NewMergeID returns a random opaque merge id.
func NewMergeID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "m_" + hex.EncodeToString(b), nil
}

// MergeRepository keeps merge records and applies them (SQL). Errors:
// ErrNotFound, ErrConflict, ErrUnavailable, wrapped.
type MergeRepository interface {
	// MergeCitizens applies m in one transaction as described on Merge and
	// stores it (m.ID set by the caller; the moved fields and PrevStatus are
	// set on m). ErrConflict when the merged citizen is already merged.
	MergeCitizens(ctx context.Context, m *Merge) error
	// ActiveMerge returns the merge in effect of the merged citizen, or
	// ErrNotFound.
	ActiveMerge(ctx context.Context, mergedID string) (*Merge, error)
	// MergesInto lists the merges in effect whose survivor is citizenID.
	MergesInto(ctx context.Context, survivorID string) ([]*Merge, error)
	// UnmergeCitizens reverses the merge in one transaction: consents moved
	// go back (those the survivor still has), dropped ones are restored,
	// passkeys and the handle go back if they moved, the phone goes back if
	// the survivor still has it, the status returns to PrevStatus.
	// ErrConflict when it was already reversed.
	UnmergeCitizens(ctx context.Context, mergeID, by string, at time.Time) (*Merge, error)
}

// PasskeyLister lists a citizen's passkeys (a PasskeyRepository).
type PasskeyLister interface {
	Passkeys(ctx context.Context, citizenID string) ([]*Passkey, error)
}

// FollowMerges is the CitizenRepository that sign-in uses: CitizenByNumber
// with a merged citizen's document answers the survivor, so the citizen
// signs in to the one account left with either document. Everything else
// is the wrapped repository. The console does not use it: operators see
// the merged account itself.
type FollowMerges struct {
	CitizenRepository
	Merges MergeRepository
}

// CitizenByNumber finds the account of n, following a merge.
func (f FollowMerges) CitizenByNumber(ctx context.Context, n Number) (*Citizen, error) {
	c, err := f.CitizenRepository.CitizenByNumber(ctx, n)
	if err != nil || c.Status != StatusMerged || f.Merges == nil {
		return c, err
	}
	m, err := f.Merges.ActiveMerge(ctx, c.ID)
	if errors.Is(err, ErrNotFound) {
		return c, nil // merged without a record: stays merged, cannot sign in
	}
	if err != nil {
		return nil, err
	}
	return f.CitizenRepository.Citizen(ctx, m.SurvivorID)
}

// RequestMerge asks for the citizen mergedID to be merged into survivorID;
// it takes effect when a second operator covering both approves (Decide).
// Both must be in op's region; the survivor must be active and not merged,
// the merged one not merged and not itself a survivor of a merge in effect
// (no chains).
func (c *Console) RequestMerge(ctx context.Context, op *Operator, mergedID, survivorID, reason string) (*Approval, error) {
	if err := require(op, changers...); err != nil {
		return nil, err
	}
	why, err := NormalizeReason(reason)
	if err != nil {
		return nil, err
	}
	if c.Merges == nil {
		return nil, fmt.Errorf("identity: merge: %w", ErrUnavailable)
	}
	m, s, err := c.mergeable(ctx, op, mergedID, survivorID)
	if err != nil {
		return nil, err
	}
	a, err := c.ask(ctx, op, ApproveMerge, m.ID, commonRegion(CitizenRegion(m.Number), CitizenRegion(s.Number)),
		map[string]string{"survivor": s.ID}, why)
	if err != nil {
		return nil, err
	}
	return a, c.audit(ctx, op, AuditMergeAsked, m.ID, map[string]string{"survivor": s.ID, "approval": a.ID, "reason": why})
}

// mergeable loads both citizens in op's region and checks their states.
func (c *Console) mergeable(ctx context.Context, op *Operator, mergedID, survivorID string) (*Citizen, *Citizen, error) {
	if mergedID == survivorID {
		return nil, nil, &FieldError{Field: "survivor", Reason: FieldInvalid}
	}
	m, err := c.inScope(ctx, op, mergedID)
	if err != nil {
		return nil, nil, err
	}
	s, err := c.inScope(ctx, op, survivorID)
	if err != nil {
		return nil, nil, err
	}
	if m.Status == StatusMerged || s.Status != StatusActive {
		return nil, nil, fmt.Errorf("identity: merge: an account is merged or not active: %w", ErrConflict)
	}
	into, err := c.Merges.MergesInto(ctx, m.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(into) > 0 {
		return nil, nil, fmt.Errorf("identity: merge: the account is the survivor of another merge: %w", ErrConflict)
	}
	return m, s, nil
}

// merge applies an approved merge: the record, then the kill path for the
// merged citizen's sessions and grants.
func (c *Console) merge(ctx context.Context, op *Operator, a *Approval) error {
	m, s, err := c.mergeable(ctx, op, a.Target, a.Params["survivor"])
	if err != nil {
		return err
	}
	id, err := NewMergeID()
	if err != nil {
		return err
	}
	rec := &Merge{ID: id, MergedID: m.ID, SurvivorID: s.ID, Approval: a.ID, RequestedBy: a.RequestedBy,
		ApprovedBy: op.ID, MergedAt: c.now()}
	if err := c.Merges.MergeCitizens(ctx, rec); err != nil {
		return fmt.Errorf("identity: merge: %w", err)
	}
	if err := c.Sessions.EndCitizenSessions(ctx, m.ID); err != nil {
		return fmt.Errorf("identity: merge: end sessions: %w", err)
	}
	detail := map[string]string{"merge": rec.ID, "approval": a.ID, "requested_by": a.RequestedBy,
		"consents_moved": fmt.Sprint(len(rec.MovedConsents)), "consents_kept": fmt.Sprint(len(rec.DroppedConsents)),
		"passkeys_moved": fmt.Sprint(rec.PasskeysMoved), "phone_moved": fmt.Sprint(rec.PhoneMoved)}
	if err := c.audit(ctx, op, AuditMerged, m.ID, with(detail, "survivor", s.ID)); err != nil {
		return err
	}
	return c.audit(ctx, op, AuditMergeSurvivor, s.ID, with(detail, "merged", m.ID))
}

func with(d map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(d)+1)
	for x, y := range d {
		out[x] = y
	}
	out[k] = v
	return out
}

// MergeOf returns the merge in effect of a merged citizen in op's region
// (to show it, or reverse it), or ErrNotFound.
func (c *Console) MergeOf(ctx context.Context, op *Operator, mergedID string) (*Merge, error) {
	if err := require(op); err != nil {
		return nil, err
	}
	if c.Merges == nil {
		return nil, ErrNotFound
	}
	if _, err := c.inScope(ctx, op, mergedID); err != nil {
		return nil, err
	}
	return c.Merges.ActiveMerge(ctx, mergedID)
}

// RequestUnmerge asks for a merge to be reversed (within UnmergeWindow);
// it takes effect when a second operator covering both citizens approves.
func (c *Console) RequestUnmerge(ctx context.Context, op *Operator, mergedID, reason string) (*Approval, error) {
	if err := require(op, changers...); err != nil {
		return nil, err
	}
	why, err := NormalizeReason(reason)
	if err != nil {
		return nil, err
	}
	m, region, err := c.reversible(ctx, op, mergedID)
	if err != nil {
		return nil, err
	}
	a, err := c.ask(ctx, op, ApproveUnmerge, mergedID, region, map[string]string{"merge": m.ID}, why)
	if err != nil {
		return nil, err
	}
	return a, c.audit(ctx, op, AuditUnmergeAsked, mergedID, map[string]string{"merge": m.ID, "approval": a.ID, "reason": why})
}

// reversible returns the merge in effect of mergedID if op covers both
// citizens and it is young enough, and the region of the pair.
func (c *Console) reversible(ctx context.Context, op *Operator, mergedID string) (*Merge, string, error) {
	if c.Merges == nil {
		return nil, "", ErrNotFound
	}
	mc, err := c.inScope(ctx, op, mergedID)
	if err != nil {
		return nil, "", err
	}
	m, err := c.Merges.ActiveMerge(ctx, mergedID)
	if err != nil {
		return nil, "", err
	}
	sc, err := c.inScope(ctx, op, m.SurvivorID)
	if err != nil {
		return nil, "", err
	}
	if c.now().Sub(m.MergedAt) > UnmergeWindow {
		return nil, "", ErrMergeExpired
	}
	return m, commonRegion(CitizenRegion(mc.Number), CitizenRegion(sc.Number)), nil
}

// unmerge applies an approved unmerge. The survivor's sessions end too:
// they may have been opened with the merged account's document or
// passkeys, which belong to the other account again.
func (c *Console) unmerge(ctx context.Context, op *Operator, a *Approval) error {
	m, _, err := c.reversible(ctx, op, a.Target)
	if err != nil {
		return err
	}
	if m.ID != a.Params["merge"] {
		return fmt.Errorf("identity: unmerge: the merge changed since it was asked: %w", ErrConflict)
	}
	m, err = c.Merges.UnmergeCitizens(ctx, m.ID, op.ID, c.now())
	if err != nil {
		return fmt.Errorf("identity: unmerge: %w", err)
	}
	if err := c.Sessions.EndCitizenSessions(ctx, m.SurvivorID); err != nil {
		return fmt.Errorf("identity: unmerge: end sessions: %w", err)
	}
	detail := map[string]string{"merge": m.ID, "approval": a.ID, "requested_by": a.RequestedBy}
	if err := c.audit(ctx, op, AuditUnmerged, m.MergedID, with(detail, "survivor", m.SurvivorID)); err != nil {
		return err
	}
	return c.audit(ctx, op, AuditUnmergeSurvivor, m.SurvivorID, with(detail, "merged", m.MergedID))
}

// lastFactor reports whether removing factor ("password" or "phone")
// would leave the citizen no way to sign in: no password, no bound phone
// (SMS) and no passkey besides it.
func (c *Console) lastFactor(ctx context.Context, cit *Citizen, factor string) (bool, error) {
	hasPassword := false
	if _, err := c.Citizens.PasswordHash(ctx, cit.ID); err == nil {
		hasPassword = true
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	hasPhone := cit.Phone != ""
	if factor == "password" && !hasPassword || factor == "phone" && !hasPhone {
		return false, nil // removes nothing
	}
	if c.Passkeys != nil {
		keys, err := c.Passkeys.Passkeys(ctx, cit.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
		if len(keys) > 0 {
			return false, nil
		}
	}
	switch factor {
	case "password":
		return !hasPhone, nil
	default:
		return !hasPassword, nil
	}
}

// askLastFactor creates the approval for removing a last factor and
// answers *PendingApproval.
func (c *Console) askLastFactor(ctx context.Context, op *Operator, cit *Citizen, factor, why string) error {
	if why == "" {
		why = "unbind phone"
	}
	a, err := c.ask(ctx, op, ApproveRemoveLastFactor, cit.ID, CitizenRegion(cit.Number), map[string]string{"factor": factor}, why)
	if err != nil {
		return err
	}
	if err := c.audit(ctx, op, AuditLastFactorAsked, cit.ID, map[string]string{"factor": factor, "approval": a.ID, "reason": why}); err != nil {
		return err
	}
	return &PendingApproval{Approval: a}
}

// removeLastFactor applies an approved removal of a last factor.
func (c *Console) removeLastFactor(ctx context.Context, op *Operator, a *Approval) error {
	if _, err := c.inScope(ctx, op, a.Target); err != nil {
		return err
	}
	factor := a.Params["factor"]
	switch factor {
	case "password":
		if err := c.Admin.ResetCitizenCredentials(ctx, a.Target, op.ID, c.now()); err != nil {
			return fmt.Errorf("identity: reset credentials: %w", err)
		}
		if err := c.Sessions.EndCitizenSessions(ctx, a.Target); err != nil {
			return fmt.Errorf("identity: reset credentials: end sessions: %w", err)
		}
	case "phone":
		if err := c.Admin.SetCitizenPhone(ctx, a.Target, ""); err != nil {
			return fmt.Errorf("identity: unbind phone: %w", err)
		}
	default:
		return fmt.Errorf("identity: unknown factor %q", factor)
	}
	return c.audit(ctx, op, AuditLastFactorRemoved, a.Target, map[string]string{"factor": factor, "approval": a.ID, "requested_by": a.RequestedBy})
}
