package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// SessionEnder is the kill path the console needs (*oauth.Provider): every
// SSO session of the citizen ends and every token issued to them is revoked,
// on every replica.
type SessionEnder interface {
	EndCitizenSessions(ctx context.Context, citizenID string) error
}

// ConsoleAudit appends to the audit chain (an AuditLog). The console's use
// of it is optional: nil records nothing.
type ConsoleAudit interface {
	AppendAudit(ctx context.Context, e *AuditEntry) error
}

// The console's audit actions.
const (
	AuditOperatorLogin        AuditAction = "operator.login"
	AuditOperatorLoginFailure AuditAction = "operator.login.failure"
	AuditOperatorCreated      AuditAction = "operator.created"
	AuditOperatorChangeAsked  AuditAction = "operator.change.requested"
	AuditOperatorChanged      AuditAction = "operator.changed"
	AuditConsoleLookup        AuditAction = "console.citizen.lookup"
	AuditConsoleRegistered    AuditAction = "console.citizen.registered"
	AuditConsolePhone         AuditAction = "console.citizen.phone"
	AuditConsoleFreeze        AuditAction = "console.citizen.frozen"
	AuditConsoleUnfreezeAsked AuditAction = "console.citizen.unfreeze.requested"
	AuditConsoleUnfrozen      AuditAction = "console.citizen.unfrozen"
	AuditConsoleReset         AuditAction = "console.citizen.credentials_reset"
	AuditConsoleRejected      AuditAction = "console.approval.rejected"
	AuditConsoleClient        AuditAction = "console.client"
)

// OperatorPasswordPolicy: operators' passwords are longer than citizens'.
var OperatorPasswordPolicy = PasswordPolicy{MinLength: 12, MaxLength: 128}

// Console is the use-case layer of the operator console and the admin API.
// Every action of either goes through it, and it is the one place where the
// operator's roles and region scope are enforced: a handler never decides
// whether an operator may see or change a citizen.
//
// Region scope: a citizen belongs to the region code of their document
// (CitizenRegion); an operator covers a citizen when that code starts with
// the operator's Region. A look-up by number is refused with ErrOutOfRegion
// from the number alone, before the database is asked, so a refusal says
// nothing about who is registered.
//
// Set the fields before first use and do not copy a Console after.
type Console struct {
	Operators OperatorRepository
	Approvals ApprovalRepository
	Citizens  CitizenRepository
	Admin     CitizenAdmin
	Sessions  SessionEnder
	Hasher    *PasswordHasher
	Audit     ConsoleAudit // optional
	// Trail is the chain auditors read (AuditTrail) and administrators
	// verify (VerifyTrail); optional.
	Trail AuditLog
	// Merges keeps merge records (MergeCitizens); optional: without it,
	// merging is refused.
	Merges MergeRepository
	// Passkeys counts a citizen's passkeys, to tell when an action would
	// remove their last factor; optional (then passkeys are not counted).
	Passkeys PasskeyLister
	// Limiter counts sign-in attempts per username (optional: tests).
	Limiter RateLimiter
	// SignInLimit: zero means 5 failures per 15 minutes.
	SignInLimit Limit
	Now         func() time.Time // nil means time.Now

	dummyOnce sync.Once
	dummyHash string
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Console) audit(ctx context.Context, op *Operator, action AuditAction, citizenID string, detail map[string]string) error {
	if c.Audit == nil {
		return nil
	}
	actor := ActorSystem
	if op != nil {
		actor = ActorOperator + op.ID
	}
	e := &AuditEntry{Action: action, CitizenID: citizenID, Actor: actor, Detail: detail, At: c.now()}
	if err := c.Audit.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("identity: audit %s: %w", action, err)
	}
	return nil
}

// require checks that op is an active operator holding one of roles (any
// role when none are named).
func require(op *Operator, roles ...Role) error {
	if op == nil || op.Status != OperatorActive {
		return ErrForbidden
	}
	if len(roles) == 0 {
		if len(op.Roles) == 0 {
			return ErrForbidden
		}
		return nil
	}
	for _, r := range roles {
		if op.Has(r) {
			return nil
		}
	}
	return ErrForbidden
}

// Changers are the roles that change citizens.
var changers = []Role{RoleAdministrator, RoleRegistrar}

// SignIn checks an operator's password and TOTP code (both required) and
// records the TOTP step so that the code cannot be used again. Every
// failure — unknown username, wrong password, wrong or reused code,
// disabled operator — is ErrInvalidCredentials after the same work; a
// malformed code is a *FieldError; too many attempts *RateLimitedError.
func (c *Console) SignIn(ctx context.Context, username, password, code string) (*Operator, error) {
	user, uerr := NormalizeUsername(username)
	totp, cerr := ParseTOTPCode(code)
	if cerr != nil {
		return nil, cerr
	}
	if uerr != nil {
		return nil, ErrInvalidCredentials
	}
	if c.Limiter != nil {
		lim := c.SignInLimit
		if lim.Max == 0 {
			lim = Limit{Max: 5, Window: 15 * time.Minute}
		}
		n, retry, err := c.Limiter.Hit(ctx, "op:"+user, lim.Window)
		if err != nil {
			return nil, fmt.Errorf("identity: operator sign-in: %w", err)
		}
		if n > lim.Max {
			return nil, &RateLimitedError{Scope: "account", RetryAfter: retry}
		}
	}
	op, err := c.Operators.OperatorByUsername(ctx, user)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("identity: operator sign-in: %w", err)
	}
	hash := c.dummy(ctx)
	if op != nil {
		hash = op.PasswordHash
	}
	ok, verr := c.Hasher.Verify(ctx, password, hash)
	if op == nil || verr != nil || !ok || op.Status != OperatorActive {
		return nil, c.signInFailed(ctx, op, "password")
	}
	step, ok := op.TOTP.VerifyTOTP(totp, c.now())
	if !ok {
		return nil, c.signInFailed(ctx, op, "totp")
	}
	if err := c.Operators.UseTOTPStep(ctx, op.ID, step); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, c.signInFailed(ctx, op, "totp_reused")
		}
		return nil, fmt.Errorf("identity: operator sign-in: %w", err)
	}
	if c.Limiter != nil {
		_ = c.Limiter.Reset(ctx, "op:"+user)
	}
	if err := c.audit(ctx, op, AuditOperatorLogin, "", nil); err != nil {
		return nil, err
	}
	return op, nil
}

func (c *Console) signInFailed(ctx context.Context, op *Operator, reason string) error {
	if op != nil {
		if err := c.audit(ctx, op, AuditOperatorLoginFailure, "", map[string]string{"reason": reason}); err != nil {
			return err
		}
	}
	return ErrInvalidCredentials
}

// dummy is a hash to verify against when the username is unknown, so that
// the answer takes as long as for a real operator.
func (c *Console) dummy(ctx context.Context) string {
	c.dummyOnce.Do(func() {
		c.dummyHash, _ = c.Hasher.Hash(ctx, "yihao-operator-dummy-password")
	})
	return c.dummyHash
}

// Current loads a signed-in operator again (every request), so that a
// change of roles or region, or disabling, takes effect at once. A disabled
// operator is ErrNotFound.
func (c *Console) Current(ctx context.Context, operatorID string) (*Operator, error) {
	op, err := c.Operators.Operator(ctx, operatorID)
	if err != nil {
		return nil, err
	}
	if op.Status != OperatorActive {
		return nil, fmt.Errorf("identity: operator disabled: %w", ErrNotFound)
	}
	return op, nil
}

// OperatorForClient is the operator an admin-API client acts as.
func (c *Console) OperatorForClient(ctx context.Context, clientID string) (*Operator, error) {
	id, err := c.Operators.ClientOperator(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return c.Current(ctx, id)
}

// ConsoleCitizen is a citizen as the console shows it.
type ConsoleCitizen struct {
	*Citizen
	Region             string    // CitizenRegion
	RegionName         string    // from the division table ("" when unknown)
	CredentialsResetAt time.Time // zero unless reset by an operator and not set since
}

// inScope loads a citizen and checks the operator covers them. This and
// Lookup's check of the typed number are the region checks of the console.
func (c *Console) inScope(ctx context.Context, op *Operator, citizenID string) (*Citizen, error) {
	cit, err := c.Citizens.Citizen(ctx, citizenID)
	if err != nil {
		return nil, err
	}
	if !op.Covers(CitizenRegion(cit.Number)) {
		return nil, ErrOutOfRegion
	}
	return cit, nil
}

func (c *Console) view(ctx context.Context, cit *Citizen) (*ConsoleCitizen, error) {
	v := &ConsoleCitizen{Citizen: cit, Region: CitizenRegion(cit.Number)}
	v.RegionName = RegionName(v.Region)
	if c.Admin != nil {
		at, err := c.Admin.CitizenCredentialsReset(ctx, cit.ID)
		switch {
		case err == nil:
			v.CredentialsResetAt = at
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	return v, nil
}

// Lookup finds a citizen by full document number, with a stated reason.
// Partial numbers and names are not accepted anywhere. The look-up is
// audited with its reason and outcome (found, not found, out of region)
// before anything is returned; when the audit cannot be written the
// look-up fails.
func (c *Console) Lookup(ctx context.Context, op *Operator, docType DocumentType, raw, reason string) (*ConsoleCitizen, error) {
	if err := require(op); err != nil {
		return nil, err
	}
	why, rerr := NormalizeReason(reason)
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
	if err != nil || rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	detail := map[string]string{"reason": why, "document_type": string(n.Type())}
	if !op.Covers(CitizenRegion(n)) {
		detail["outcome"] = "out_of_region"
		if err := c.audit(ctx, op, AuditConsoleLookup, "", detail); err != nil {
			return nil, err
		}
		return nil, ErrOutOfRegion
	}
	cit, err := c.Citizens.CitizenByNumber(ctx, n)
	if errors.Is(err, ErrNotFound) {
		detail["outcome"] = "not_found"
		if err := c.audit(ctx, op, AuditConsoleLookup, "", detail); err != nil {
			return nil, err
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("identity: console look-up: %w", err)
	}
	detail["outcome"] = "found"
	if err := c.audit(ctx, op, AuditConsoleLookup, cit.ID, detail); err != nil {
		return nil, err
	}
	return c.view(ctx, cit)
}

// Citizen shows a citizen already found (by their opaque id).
func (c *Console) Citizen(ctx context.Context, op *Operator, citizenID string) (*ConsoleCitizen, error) {
	if err := require(op); err != nil {
		return nil, err
	}
	cit, err := c.inScope(ctx, op, citizenID)
	if err != nil {
		return nil, err
	}
	return c.view(ctx, cit)
}

// SetPhone binds a phone number to the citizen, or unbinds it (raw ""). An
// unbinding that would remove their last factor answers *PendingApproval.
func (c *Console) SetPhone(ctx context.Context, op *Operator, citizenID, raw string) error {
	if err := require(op, changers...); err != nil {
		return err
	}
	cit, err := c.inScope(ctx, op, citizenID)
	if err != nil {
		return err
	}
	phone := ""
	if strings.TrimSpace(raw) != "" {
		if phone, err = NormalizePhone(raw); err != nil {
			return err
		}
	} else if last, err := c.lastFactor(ctx, cit, "phone"); err != nil {
		return err
	} else if last {
		return c.askLastFactor(ctx, op, cit, "phone", "")
	}
	if err := c.Admin.SetCitizenPhone(ctx, citizenID, phone); err != nil {
		return fmt.Errorf("identity: set phone: %w", err)
	}
	what := "bound"
	if phone == "" {
		what = "unbound"
	}
	return c.audit(ctx, op, AuditConsolePhone, citizenID, map[string]string{"phone": what})
}

// Freeze freezes the citizen's account and ends at once every session and
// token they hold, on every replica. Freezing a frozen account ends its
// sessions again.
func (c *Console) Freeze(ctx context.Context, op *Operator, citizenID, reason string) error {
	if err := require(op, changers...); err != nil {
		return err
	}
	why, err := NormalizeReason(reason)
	if err != nil {
		return err
	}
	if _, err := c.inScope(ctx, op, citizenID); err != nil {
		return err
	}
	if err := c.Citizens.SetStatus(ctx, citizenID, StatusFrozen); err != nil {
		return fmt.Errorf("identity: freeze: %w", err)
	}
	if err := c.Sessions.EndCitizenSessions(ctx, citizenID); err != nil {
		return fmt.Errorf("identity: freeze: end sessions: %w", err)
	}
	return c.audit(ctx, op, AuditConsoleFreeze, citizenID, map[string]string{"reason": why})
}

// RequestUnfreeze asks for a frozen account to be unfrozen; it takes effect
// when a second operator approves (Decide).
func (c *Console) RequestUnfreeze(ctx context.Context, op *Operator, citizenID, reason string) (*Approval, error) {
	if err := require(op, changers...); err != nil {
		return nil, err
	}
	why, err := NormalizeReason(reason)
	if err != nil {
		return nil, err
	}
	cit, err := c.inScope(ctx, op, citizenID)
	if err != nil {
		return nil, err
	}
	if cit.Status != StatusFrozen {
		return nil, fmt.Errorf("identity: unfreeze: account is not frozen: %w", ErrConflict)
	}
	a, err := c.ask(ctx, op, ApproveUnfreeze, citizenID, CitizenRegion(cit.Number), nil, why)
	if err != nil {
		return nil, err
	}
	return a, c.audit(ctx, op, AuditConsoleUnfreezeAsked, citizenID, map[string]string{"reason": why, "approval": a.ID})
}

func (c *Console) ask(ctx context.Context, op *Operator, action ApprovalAction, target, region string, params map[string]string, why string) (*Approval, error) {
	id, err := NewApprovalID()
	if err != nil {
		return nil, err
	}
	a := &Approval{ID: id, Action: action, Target: target, Region: region, Params: params, Reason: why,
		RequestedBy: op.ID, RequestedAt: c.now(), Status: ApprovalPending}
	if err := c.Approvals.CreateApproval(ctx, a); err != nil {
		return nil, fmt.Errorf("identity: request approval: %w", err)
	}
	return a, nil
}

// approverRoles are the roles that may decide an approval of action.
func approverRoles(a ApprovalAction) []Role {
	if a == ApproveOperatorChange {
		return []Role{RoleAdministrator}
	}
	return changers
}

// PendingApprovals lists what op may decide or withdraw: pending approvals
// in its region, for actions its roles allow.
func (c *Console) PendingApprovals(ctx context.Context, op *Operator) ([]*Approval, error) {
	if err := require(op); err != nil {
		return nil, err
	}
	all, err := c.Approvals.PendingApprovals(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Approval
	for _, a := range all {
		if op.Covers(a.Region) && require(op, approverRoles(a.Action)...) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// Decide approves or rejects a pending approval. Approving needs an
// operator other than the one who asked (ErrSameOperator), with a role that
// may make the change and the target in its region; the requester may
// withdraw (reject) their own request. Two operators deciding at once: one
// wins, the other gets ErrNotPending.
func (c *Console) Decide(ctx context.Context, op *Operator, approvalID string, approve bool) error {
	a, err := c.Approvals.Approval(ctx, approvalID)
	if err != nil {
		return err
	}
	if err := require(op, approverRoles(a.Action)...); err != nil {
		return err
	}
	if !op.Covers(a.Region) {
		return ErrOutOfRegion
	}
	if a.Status != ApprovalPending {
		return ErrNotPending
	}
	if approve && a.RequestedBy == op.ID {
		return ErrSameOperator
	}
	st := ApprovalRejected
	if approve {
		st = ApprovalApproved
	}
	if err := c.Approvals.DecideApproval(ctx, a.ID, st, op.ID, c.now()); err != nil {
		if errors.Is(err, ErrConflict) {
			return ErrNotPending
		}
		return fmt.Errorf("identity: decide approval: %w", err)
	}
	if !approve {
		return c.audit(ctx, op, AuditConsoleRejected, citizenOf(a), map[string]string{"approval": a.ID, "action": string(a.Action)})
	}
	switch a.Action {
	case ApproveUnfreeze:
		if err := c.Citizens.SetStatus(ctx, a.Target, StatusActive); err != nil {
			return fmt.Errorf("identity: unfreeze: %w", err)
		}
		return c.audit(ctx, op, AuditConsoleUnfrozen, a.Target, map[string]string{"approval": a.ID, "requested_by": a.RequestedBy})
	case ApproveMerge:
		return c.merge(ctx, op, a)
	case ApproveUnmerge:
		return c.unmerge(ctx, op, a)
	case ApproveRemoveLastFactor:
		return c.removeLastFactor(ctx, op, a)
	case ApproveOperatorChange:
		t, err := c.Operators.Operator(ctx, a.Target)
		if err != nil {
			return err
		}
		roles, err := parseRoles(strings.Fields(a.Params["roles"]))
		if err != nil {
			return err
		}
		t.Roles, t.Region, t.UpdatedAt = roles, a.Params["region"], c.now()
		if err := c.Operators.UpdateOperator(ctx, t); err != nil {
			return fmt.Errorf("identity: change operator: %w", err)
		}
		return c.audit(ctx, op, AuditOperatorChanged, "", map[string]string{"approval": a.ID, "operator": t.ID,
			"roles": a.Params["roles"], "region": a.Params["region"], "requested_by": a.RequestedBy})
	}
	return fmt.Errorf("identity: unknown approval action %q", a.Action)
}

func citizenOf(a *Approval) string {
	if a.Action != ApproveOperatorChange {
		return a.Target
	}
	return ""
}

// InPersonInput is what a registrar types at the counter after checking the
// document in person.
type InPersonInput struct {
	DocumentType DocumentType // "" recognises the type
	Number       string
	Name         string
	Phone        string // optional
}

// RegisterInPerson creates an account at LevelInPerson, without a password:
// the citizen sets one through SMS. The number must be in op's region.
// ErrAlreadyRegistered when the number has an account (operators may be
// told).
func (c *Console) RegisterInPerson(ctx context.Context, op *Operator, in InPersonInput) (*Citizen, error) {
	if err := require(op, changers...); err != nil {
		return nil, err
	}
	var errs []error
	var n Number
	var err error
	if in.DocumentType == "" {
		n, err = ParseAnyAt(in.Number, c.now())
	} else {
		n, err = ParseAt(in.DocumentType, in.Number, c.now())
	}
	if err == nil && n.Type() == CreditCode {
		err = &FieldError{Field: "number", Reason: FieldNotPersonal}
	}
	if err != nil {
		errs = append(errs, err)
	}
	name, err := NormalizeName(in.Name)
	if err != nil {
		errs = append(errs, err)
	}
	phone := ""
	if strings.TrimSpace(in.Phone) != "" {
		if phone, err = NormalizePhone(in.Phone); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if !op.Covers(CitizenRegion(n)) {
		return nil, ErrOutOfRegion
	}
	id, err := NewCitizenID()
	if err != nil {
		return nil, err
	}
	now := c.now()
	cit := &Citizen{ID: id, Number: n, Name: name, Phone: phone, Status: StatusActive, Level: LevelInPerson, CreatedAt: now, UpdatedAt: now}
	if err := c.Citizens.CreateCitizen(ctx, cit, ""); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return nil, ErrAlreadyRegistered
		}
		return nil, fmt.Errorf("identity: register in person: %w", err)
	}
	return cit, c.audit(ctx, op, AuditConsoleRegistered, cit.ID, map[string]string{"document_type": string(n.Type()), "level": "3"})
}

// ResetCredentials removes the citizen's password (they set a new one
// through SMS), marks the account as reset, and ends their sessions. When
// the password is their last factor (no phone, no passkey) nothing changes:
// it answers *PendingApproval, and a second operator's approval does it.
func (c *Console) ResetCredentials(ctx context.Context, op *Operator, citizenID, reason string) error {
	if err := require(op, changers...); err != nil {
		return err
	}
	why, err := NormalizeReason(reason)
	if err != nil {
		return err
	}
	cit, err := c.inScope(ctx, op, citizenID)
	if err != nil {
		return err
	}
	if last, err := c.lastFactor(ctx, cit, "password"); err != nil {
		return err
	} else if last {
		return c.askLastFactor(ctx, op, cit, "password", why)
	}
	if err := c.Admin.ResetCitizenCredentials(ctx, citizenID, op.ID, c.now()); err != nil {
		return fmt.Errorf("identity: reset credentials: %w", err)
	}
	if err := c.Sessions.EndCitizenSessions(ctx, citizenID); err != nil {
		return fmt.Errorf("identity: reset credentials: end sessions: %w", err)
	}
	return c.audit(ctx, op, AuditConsoleReset, citizenID, map[string]string{"reason": why})
}

// NewOperatorInput creates an operator.
type NewOperatorInput struct {
	Username string
	Name     string
	Roles    []Role
	Region   string // a prefix as typed (ParseRegionPrefix)
	Password string
}

func parseRoles(in []string) ([]Role, error) {
	var out []Role
	for _, s := range in {
		r, err := ParseRole(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, &FieldError{Field: "role", Reason: FieldRequired}
	}
	return out, nil
}

// CreateOperator creates an operator with a fresh TOTP secret (returned on
// the operator: show its URI once). by is the administrator doing it, whose
// region must contain the new one; nil means the command line (bootstrap).
func (c *Console) CreateOperator(ctx context.Context, by *Operator, in NewOperatorInput) (*Operator, error) {
	if by != nil {
		if err := require(by, RoleAdministrator); err != nil {
			return nil, err
		}
	}
	var errs []error
	user, err := NormalizeUsername(in.Username)
	if err != nil {
		errs = append(errs, err)
	}
	name, err := NormalizeName(in.Name)
	if err != nil {
		errs = append(errs, err)
	}
	var rs []string
	for _, r := range in.Roles {
		rs = append(rs, string(r))
	}
	roles, err := parseRoles(rs)
	if err != nil {
		errs = append(errs, err)
	}
	region, err := ParseRegionPrefix(in.Region)
	if err != nil {
		errs = append(errs, err)
	}
	if err := OperatorPasswordPolicy.Check(in.Password, Number{}, user, name); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if by != nil && !strings.HasPrefix(region, by.Region) {
		return nil, ErrOutOfRegion
	}
	hash, err := c.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	secret, err := NewTOTPSecret()
	if err != nil {
		return nil, err
	}
	id, err := NewOperatorID()
	if err != nil {
		return nil, err
	}
	now := c.now()
	op := &Operator{ID: id, Username: user, Name: name, Roles: roles, Region: region, Status: OperatorActive,
		PasswordHash: hash, TOTP: secret, CreatedAt: now, UpdatedAt: now}
	if err := c.Operators.CreateOperator(ctx, op); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return nil, fmt.Errorf("identity: username taken: %w", ErrAlreadyExists)
		}
		return nil, fmt.Errorf("identity: create operator: %w", err)
	}
	return op, c.audit(ctx, by, AuditOperatorCreated, "", map[string]string{"operator": op.ID, "region": region, "roles": joinRoles(roles)})
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " ")
}

// OperatorList lists the operators inside op's region (administrators only).
func (c *Console) OperatorList(ctx context.Context, op *Operator) ([]*Operator, error) {
	if err := require(op, RoleAdministrator); err != nil {
		return nil, err
	}
	all, err := c.Operators.Operators(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Operator
	for _, o := range all {
		if strings.HasPrefix(o.Region, op.Region) {
			out = append(out, o)
		}
	}
	return out, nil
}

// RequestOperatorChange asks for an operator's roles and region to change;
// it takes effect when a second administrator approves. Both the old and
// the new region must be inside op's.
func (c *Console) RequestOperatorChange(ctx context.Context, op *Operator, targetID string, roles []string, region, reason string) (*Approval, error) {
	if err := require(op, RoleAdministrator); err != nil {
		return nil, err
	}
	why, rerr := NormalizeReason(reason)
	rs, err := parseRoles(roles)
	reg, gerr := ParseRegionPrefix(region)
	if err := errors.Join(rerr, err, gerr); err != nil {
		return nil, err
	}
	t, err := c.Operators.Operator(ctx, targetID)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(t.Region, op.Region) || !strings.HasPrefix(reg, op.Region) {
		return nil, ErrOutOfRegion
	}
	a, err := c.ask(ctx, op, ApproveOperatorChange, t.ID, commonRegion(t.Region, reg),
		map[string]string{"roles": joinRoles(rs), "region": reg}, why)
	if err != nil {
		return nil, err
	}
	return a, c.audit(ctx, op, AuditOperatorChangeAsked, "", map[string]string{"approval": a.ID, "operator": t.ID, "reason": why})
}

// commonRegion is the longest whole-level prefix of two regions: an
// approver must cover both the old and the new scope.
func commonRegion(a, b string) string {
	n := 0
	for n+2 <= len(a) && n+2 <= len(b) && a[n:n+2] == b[n:n+2] {
		n += 2
	}
	return a[:n]
}

// RequireAdministrator is the role check of client management (service
// sites are national: no region applies).
func (c *Console) RequireAdministrator(op *Operator) error { return require(op, RoleAdministrator) }

// RecordClientChange audits a change to a service site by op.
func (c *Console) RecordClientChange(ctx context.Context, op *Operator, what, clientID string) error {
	if err := require(op, RoleAdministrator); err != nil {
		return err
	}
	return c.audit(ctx, op, AuditConsoleClient, "", map[string]string{"change": what, "client": clientID})
}
