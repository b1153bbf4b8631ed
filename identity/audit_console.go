package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The audit actions of merges, last-factor removals and the auditors'
// reading (see Console). Like every action they are never renamed.
const (
	AuditMergeAsked         AuditAction = "console.citizen.merge.requested"
	AuditMerged             AuditAction = "console.citizen.merged"
	AuditMergeSurvivor      AuditAction = "console.citizen.merge.survivor"
	AuditUnmergeAsked       AuditAction = "console.citizen.unmerge.requested"
	AuditUnmerged           AuditAction = "console.citizen.unmerged"
	AuditUnmergeSurvivor    AuditAction = "console.citizen.unmerge.survivor"
	AuditLastFactorAsked    AuditAction = "console.citizen.last_factor.requested"
	AuditLastFactorRemoved  AuditAction = "console.citizen.last_factor.removed"
	AuditConsoleAuditVerify AuditAction = "console.audit.verified"
)

// TrailQuery is what an auditor asks of the audit trail in the console.
// Every set field must match.
type TrailQuery struct {
	// CitizenID: one citizen's entries. It is the opaque id a look-up by
	// full number (Console.Lookup, with its reason) returned; the citizen
	// must be in the auditor's region.
	CitizenID string
	Actions   []AuditAction
	Since     time.Time // at or after
	Until     time.Time // before
	Cursor    string    // TrailPage.Next
	Limit     int       // zero means 50
}

// TrailEntry is an entry as an auditor sees it, with the citizen it is
// about when there is one (shown masked by the console).
type TrailEntry struct {
	*AuditEntry
	Citizen *Citizen // nil for entries about no citizen
}

// TrailPage is one page of the trail, newest first.
type TrailPage struct {
	Entries []*TrailEntry
	Next    string // cursor of the following page; "" at the end
}

// auditReaders may read the trail in the console.
var auditReaders = []Role{RoleAuditor}

// trailScan bounds how many store pages one trail page reads while it
// skips entries outside a regional auditor's scope.
const trailScan = 20

// AuditTrail reads the audit chain for an auditor, within their region: entries
// about citizens the auditor covers; entries about no citizen (operator
// sign-ins, client changes, refused look-ups) only for a national auditor.
// A regional auditor reading without a citizen filter is served by reading
// the chain newest first and leaving out what is outside the region, so a
// page may hold fewer entries than asked while Next is set.
func (c *Console) AuditTrail(ctx context.Context, op *Operator, q TrailQuery) (*TrailPage, error) {
	if err := require(op, auditReaders...); err != nil {
		return nil, err
	}
	if c.Trail == nil {
		return nil, fmt.Errorf("identity: audit trail: %w", ErrUnavailable)
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	citizens := map[string]*Citizen{}
	if q.CitizenID != "" {
		cit, err := c.inScope(ctx, op, q.CitizenID)
		if err != nil {
			return nil, err
		}
		citizens[cit.ID] = cit
	}
	sq := AuditQuery{CitizenID: q.CitizenID, Actions: q.Actions, Since: q.Since, Until: q.Until, Limit: limit, Cursor: q.Cursor}
	out := &TrailPage{}
	for range trailScan {
		page, err := c.Trail.AuditEntries(ctx, sq)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			te, err := c.trailEntry(ctx, op, e, citizens)
			if err != nil {
				return nil, err
			}
			if te != nil {
				out.Entries = append(out.Entries, te)
			}
		}
		out.Next = page.Next
		if page.Next == "" || len(out.Entries) > 0 {
			break
		}
		sq.Cursor = page.Next
	}
	return out, nil
}

// trailEntry returns e with its citizen, or nil when op may not see it.
func (c *Console) trailEntry(ctx context.Context, op *Operator, e *AuditEntry, seen map[string]*Citizen) (*TrailEntry, error) {
	if e.CitizenID == "" {
		if op.Region != "" {
			return nil, nil
		}
		return &TrailEntry{AuditEntry: e}, nil
	}
	cit, ok := seen[e.CitizenID]
	if !ok {
		var err error
		cit, err = c.Citizens.Citizen(ctx, e.CitizenID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		seen[e.CitizenID] = cit
	}
	if cit == nil {
		// A citizen deleted since: only the nation's auditors see it.
		if op.Region != "" {
			return nil, nil
		}
		return &TrailEntry{AuditEntry: e}, nil
	}
	if !op.Covers(CitizenRegion(cit.Number)) {
		return nil, nil
	}
	return &TrailEntry{AuditEntry: e, Citizen: cit}, nil
}

// VerifyTrail runs VerifyAudit (what `yihao audit verify` does) for an
// administrator, and records that it was run and its outcome.
func (c *Console) VerifyTrail(ctx context.Context, op *Operator) (*AuditReport, error) {
	if err := require(op, RoleAdministrator); err != nil {
		return nil, err
	}
	if c.Trail == nil {
		return nil, fmt.Errorf("identity: audit verify: %w", ErrUnavailable)
	}
	rep, err := VerifyAudit(ctx, c.Trail)
	if err != nil {
		return nil, err
	}
	outcome := "intact"
	if rep.Break != nil {
		outcome = "broken"
	}
	return rep, c.audit(ctx, op, AuditConsoleAuditVerify, "", map[string]string{"outcome": outcome})
}
