package identity

import (
	"context"
	"errors"
	"fmt"
)

// OpenCounter is the operator's side of a counter session: the operator has
// checked the citizen's physical ID card and types its full number. Only
// administrators and registrars may, only for citizens inside their region
// (refused from the number alone, as Lookup is), and only for an active
// account. bind then ties the terminal's request to the citizen and names
// the terminal's client; the opening is audited with the operator as actor
// and the outcome, before anything is returned.
func (c *Console) OpenCounter(ctx context.Context, op *Operator, docType DocumentType, raw string, bind func(*Citizen) (clientID string, err error)) (*Citizen, error) {
	if err := require(op, changers...); err != nil {
		return nil, err
	}
	var n Number
	var err error
	if docType == "" {
		n, err = ParseAnyAt(raw, c.now())
	} else {
		n, err = ParseAt(docType, raw, c.now())
	}
	if err == nil && n.Type() == CreditCode {
		err = &FieldError{Field: "number", Reason: FieldNotPersonal}
	}
	if err != nil {
		return nil, err
	}
	detail := map[string]string{"document_type": string(n.Type())}
	refuse := func(outcome, citizenID string, e error) (*Citizen, error) {
		detail["outcome"] = outcome
		if err := c.audit(ctx, op, AuditCounterOpened, citizenID, detail); err != nil {
			return nil, err
		}
		return nil, e
	}
	if !op.Covers(CitizenRegion(n)) {
		return refuse("out_of_region", "", ErrOutOfRegion)
	}
	cit, err := c.Citizens.CitizenByNumber(ctx, n)
	if errors.Is(err, ErrNotFound) {
		return refuse("not_found", "", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: open counter: %w", err)
	}
	if cit.Status != StatusActive {
		return refuse("inactive", cit.ID, fmt.Errorf("identity: open counter: account is not active: %w", ErrConflict))
	}
	clientID, err := bind(cit)
	if err != nil {
		return nil, err
	}
	detail["outcome"], detail["client"] = "opened", clientID
	if err := c.audit(ctx, op, AuditCounterOpened, cit.ID, detail); err != nil {
		return nil, err
	}
	return cit, nil
}
