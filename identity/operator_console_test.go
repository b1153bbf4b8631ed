package identity

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memOperators is an in-memory OperatorRepository, ApprovalRepository and
// CitizenAdmin over a memCitizens.
type memOperators struct {
	*memCitizens
	mu        sync.Mutex
	ops       map[string]*Operator
	steps     map[string]int64
	bindings  map[string]string
	approvals map[string]*Approval
	resets    map[string]time.Time
}

func newMemOperators() *memOperators {
	return &memOperators{memCitizens: newMemCitizens(), ops: map[string]*Operator{}, steps: map[string]int64{},
		bindings: map[string]string{}, approvals: map[string]*Approval{}, resets: map[string]time.Time{}}
}

var (
	_ OperatorRepository = (*memOperators)(nil)
	_ ApprovalRepository = (*memOperators)(nil)
	_ CitizenAdmin       = (*memOperators)(nil)
)

func (m *memOperators) CreateOperator(_ context.Context, o *Operator) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.ops {
		if x.Username == o.Username {
			return ErrAlreadyExists
		}
	}
	cp := *o
	m.ops[o.ID] = &cp
	return nil
}

func (m *memOperators) Operator(_ context.Context, id string) (*Operator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.ops[id]
	if !ok {
		return nil, ErrNotFound
	}
	cp := *o
	cp.Roles = slices.Clone(o.Roles)
	return &cp, nil
}

func (m *memOperators) OperatorByUsername(ctx context.Context, u string) (*Operator, error) {
	m.mu.Lock()
	var id string
	for _, o := range m.ops {
		if o.Username == u {
			id = o.ID
		}
	}
	m.mu.Unlock()
	return m.Operator(ctx, id)
}

func (m *memOperators) Operators(_ context.Context) ([]*Operator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Operator
	for _, o := range m.ops {
		cp := *o
		out = append(out, &cp)
	}
	return out, nil
}

func (m *memOperators) UpdateOperator(_ context.Context, o *Operator) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ops[o.ID]; !ok {
		return ErrNotFound
	}
	cp := *o
	m.ops[o.ID] = &cp
	return nil
}

func (m *memOperators) UseTOTPStep(_ context.Context, id string, step int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if step <= m.steps[id] {
		return ErrConflict
	}
	m.steps[id] = step
	return nil
}

func (m *memOperators) BindClientOperator(_ context.Context, c, o string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bindings[c] = o
	return nil
}

func (m *memOperators) ClientOperator(_ context.Context, c string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.bindings[c]
	if !ok {
		return "", ErrNotFound
	}
	return o, nil
}

func (m *memOperators) CreateApproval(_ context.Context, a *Approval) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *a
	cp.Params = maps.Clone(a.Params)
	m.approvals[a.ID] = &cp
	return nil
}

func (m *memOperators) Approval(_ context.Context, id string) (*Approval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.approvals[id]
	if !ok {
		return nil, ErrNotFound
	}
	cp := *a
	return &cp, nil
}

func (m *memOperators) PendingApprovals(_ context.Context) ([]*Approval, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Approval
	for _, a := range m.approvals {
		if a.Status == ApprovalPending {
			cp := *a
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (m *memOperators) DecideApproval(_ context.Context, id string, st ApprovalStatus, by string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.approvals[id]
	if !ok {
		return ErrNotFound
	}
	if a.Status != ApprovalPending {
		return ErrConflict
	}
	a.Status, a.DecidedBy, a.DecidedAt = st, by, at
	return nil
}

func (m *memOperators) SetCitizenPhone(ctx context.Context, id, phone string) error {
	m.memCitizens.mu.Lock()
	defer m.memCitizens.mu.Unlock()
	c, ok := m.byID[id]
	if !ok {
		return ErrNotFound
	}
	c.Phone = phone
	return nil
}

func (m *memOperators) ResetCitizenCredentials(_ context.Context, id, _ string, at time.Time) error {
	m.memCitizens.mu.Lock()
	delete(m.hashes, id)
	m.memCitizens.mu.Unlock()
	m.mu.Lock()
	m.resets[id] = at
	m.mu.Unlock()
	return nil
}

func (m *memOperators) CitizenCredentialsReset(_ context.Context, id string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.resets[id]
	if !ok {
		return time.Time{}, ErrNotFound
	}
	return at, nil
}

// fakeEnder records whose sessions were ended.
type fakeEnder struct {
	mu    sync.Mutex
	ended []string
}

func (f *fakeEnder) EndCitizenSessions(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, id)
	return nil
}

// consoleAuditLog records entries.
type consoleAuditLog struct {
	mu      sync.Mutex
	entries []*AuditEntry
}

func (a *consoleAuditLog) AppendAudit(_ context.Context, e *AuditEntry) error {
	if err := e.Validate(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

type consoleFixture struct {
	console *Console
	store   *memOperators
	ender   *fakeEnder
	audit   *consoleAuditLog
	clock   *fakeClock
}

func newConsoleFixture(t *testing.T) *consoleFixture {
	t.Helper()
	f := &consoleFixture{store: newMemOperators(), ender: &fakeEnder{}, audit: &consoleAuditLog{},
		clock: &fakeClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}}
	f.console = &Console{Operators: f.store, Approvals: f.store, Citizens: f.store, Admin: f.store,
		Sessions: f.ender, Hasher: fastHasher(), Audit: f.audit, Now: f.clock.Now}
	return f
}

func (f *consoleFixture) operator(t *testing.T, user, region string, roles ...Role) *Operator {
	t.Helper()
	op, err := f.console.CreateOperator(t.Context(), nil, NewOperatorInput{Username: user, Name: "Operator " + user,
		Roles: roles, Region: region, Password: "operator-passphrase-" + strings.Repeat("x", len(user))})
	if err != nil {
		t.Fatalf("CreateOperator %s: %v", user, err)
	}
	return op
}

func (f *consoleFixture) citizen(t *testing.T, number string) *Citizen {
	t.Helper()
	n, err := ParseAny(number)
	if err != nil {
		t.Fatal(err)
	}
	c := &Citizen{ID: "c_" + number, Number: n, Name: "王五", Status: StatusActive, Level: LevelSelfAsserted}
	if err := f.store.CreateCitizen(t.Context(), c, "$argon2id$dummy"); err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	chaoyang = "11010519491231002X" // 110105 北京市朝阳区
	chaoan   = "440524198001010013" // 440524 (historic 潮安县)
	hkPermit = "810000199001010019"
)

func TestCitizenRegion(t *testing.T) {
	for _, tc := range []struct {
		typ  DocumentType
		raw  string
		want string
	}{
		{ResidentID, chaoyang, "110105"},
		{ResidencePermit, hkPermit, "810000"},
		{ForeignPermanentResident, "911840199001010034", "11"},
		{ForeignPermanentResident, "USA110090010114", "1100"},
		{HKMacaoPermit, "H12345678", ""},
		{TaiwanPermit, "12345678", ""},
	} {
		n, err := Parse(tc.typ, tc.raw)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.typ, tc.raw, err)
		}
		if got := CitizenRegion(n); got != tc.want {
			t.Errorf("CitizenRegion(%s %s) = %q, want %q", tc.typ, n.Masked(), got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		region, code string
		want         bool
	}{
		{"", "110105", true}, {"", "", true},
		{"11", "110105", true}, {"1101", "110105", true}, {"110105", "110105", true},
		{"110105", "110106", false}, {"11", "440524", false}, {"110105", "", false},
		{"44", "4405", true}, {"440524", "4405", false},
	} {
		op := &Operator{Region: tc.region}
		if got := op.Covers(tc.code); got != tc.want {
			t.Errorf("Operator{Region: %q}.Covers(%q) = %v, want %v", tc.region, tc.code, got, tc.want)
		}
	}
}

func TestParseRegionPrefix(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true}, {" 11 ", "11", true}, {"1101", "1101", true}, {"110105", "110105", true},
		{"110000", "11", true}, {"110100", "1101", true}, {"810000", "81", true},
		{"1", "", false}, {"111", "", false}, {"00", "", false}, {"99", "", false},
		{"1101055", "", false}, {"11a1", "", false}, {"119999", "", false},
	} {
		got, err := ParseRegionPrefix(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRegionPrefix(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestTOTPVectors: RFC 6238 Appendix B (SHA-1), last 6 digits.
func TestTOTPVectors(t *testing.T) {
	s := TOTPSecretFromBytes([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		if got := s.TOTPCode(time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("TOTP at %d = %s, want %s", tc.unix, got, tc.want)
		}
	}
	at := time.Unix(1111111109, 0)
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		if _, ok := s.VerifyTOTP(s.TOTPCode(at.Add(d)), at); !ok {
			t.Errorf("code of %v from now refused", d)
		}
	}
	for _, d := range []time.Duration{-90 * time.Second, 90 * time.Second} {
		if _, ok := s.VerifyTOTP(s.TOTPCode(at.Add(d)), at); ok {
			t.Errorf("code of %v from now accepted", d)
		}
	}
	if strings.Contains(s.String()+s.GoString(), "3132") {
		t.Error("secret printed")
	}
}

func TestParseTOTPCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"123456", "123456"}, {" 123 456 ", "123456"}, {"123-456", "123456"},
		{"", ""}, {"12345", ""}, {"1234567", ""}, {"12345a", ""}, {"１２３４５６", ""},
	} {
		got, err := ParseTOTPCode(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParseTOTPCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestSignIn(t *testing.T) {
	f := newConsoleFixture(t)
	op := f.operator(t, "admin", "", RoleAdministrator)
	ctx := t.Context()
	code := op.TOTP.TOTPCode(f.clock.Now())
	if _, err := f.console.SignIn(ctx, "admin", "wrong-password-xxxx", code); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := f.console.SignIn(ctx, "admin", "operator-passphrase-xxxxx", "000000"); !errors.Is(err, ErrInvalidCredentials) && code != "000000" {
		t.Fatalf("wrong code: %v", err)
	}
	if _, err := f.console.SignIn(ctx, "nobody", "operator-passphrase-xxxxx", code); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	var fe *FieldError
	if _, err := f.console.SignIn(ctx, "admin", "operator-passphrase-xxxxx", ""); !errors.As(err, &fe) {
		t.Fatalf("no code: %v", err)
	}
	got, err := f.console.SignIn(ctx, "admin", "operator-passphrase-xxxxx", code)
	if err != nil || got.ID != op.ID {
		t.Fatalf("sign in: %v", err)
	}
	if _, err := f.console.SignIn(ctx, "admin", "operator-passphrase-xxxxx", code); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("the same code twice: %v", err)
	}
	f.clock.Advance(30 * time.Second)
	if _, err := f.console.SignIn(ctx, "ADMIN", "operator-passphrase-xxxxx", op.TOTP.TOTPCode(f.clock.Now())); err != nil {
		t.Fatalf("next code: %v", err)
	}
}

// TestRegionIsolation: a county registrar sees and changes only its county,
// through every action; a province and the nation see more.
func TestRegionIsolation(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := t.Context()
	county := f.operator(t, "county", "110105", RoleRegistrar)
	province := f.operator(t, "province", "44", RoleRegistrar)
	nation := f.operator(t, "nation", "", RoleAuditor)
	in := f.citizen(t, chaoyang)
	out := f.citizen(t, chaoan)
	hk := f.citizen(t, hkPermit)

	if c, err := f.console.Lookup(ctx, county, "", chaoyang, "counter visit"); err != nil || c.ID != in.ID {
		t.Fatalf("county lookup in region: %v", err)
	}
	if _, err := f.console.Lookup(ctx, county, "", chaoan, "counter visit"); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("county lookup out of region: %v", err)
	}
	if _, err := f.console.Lookup(ctx, county, "", hkPermit, "counter visit"); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("county lookup of a permit: %v", err)
	}
	for name, try := range map[string]func() error{
		"view":     func() error { _, err := f.console.Citizen(ctx, county, out.ID); return err },
		"phone":    func() error { return f.console.SetPhone(ctx, county, out.ID, "13800138000") },
		"freeze":   func() error { return f.console.Freeze(ctx, county, out.ID, "fraud report") },
		"unfreeze": func() error { _, err := f.console.RequestUnfreeze(ctx, county, out.ID, "checked"); return err },
		"reset":    func() error { return f.console.ResetCredentials(ctx, county, out.ID, "lost phone") },
		"register": func() error {
			_, err := f.console.RegisterInPerson(ctx, county, InPersonInput{Number: "440524198001010021", Name: "赵六"})
			return err
		},
	} {
		if err := try(); !errors.Is(err, ErrOutOfRegion) {
			t.Errorf("county %s of a 440524 citizen: %v, want ErrOutOfRegion", name, err)
		}
	}
	if len(f.ender.ended) != 0 {
		t.Fatalf("sessions ended out of region: %v", f.ender.ended)
	}
	if err := f.console.Freeze(ctx, province, out.ID, "fraud report"); err != nil {
		t.Fatalf("province freeze in region: %v", err)
	}
	if _, err := f.console.Citizen(ctx, province, in.ID); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("province 44 sees 110105: %v", err)
	}
	for _, c := range []*Citizen{in, out, hk} {
		if _, err := f.console.Citizen(ctx, nation, c.ID); err != nil {
			t.Fatalf("nation view: %v", err)
		}
	}
	if err := f.console.Freeze(ctx, nation, in.ID, "fraud"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("auditor freeze: %v", err)
	}
	// Every look-up is audited with its reason, never the number.
	var lookups int
	for _, e := range f.audit.entries {
		if e.Action == AuditConsoleLookup {
			lookups++
			if e.Detail["reason"] != "counter visit" || e.Actor != ActorOperator+county.ID {
				t.Errorf("lookup entry %+v", e)
			}
		}
		for _, v := range e.Detail {
			if strings.Contains(v, "19491231") || strings.Contains(v, "19800101") {
				t.Errorf("audit entry holds a number: %+v", e)
			}
		}
	}
	if lookups != 3 {
		t.Errorf("%d look-ups audited, want 3", lookups)
	}
}

func TestLookupNeedsFullNumberAndReason(t *testing.T) {
	f := newConsoleFixture(t)
	op := f.operator(t, "county", "110105", RoleRegistrar)
	f.citizen(t, chaoyang)
	for _, tc := range []struct{ number, reason string }{
		{chaoyang[:10], "counter"}, {"张三", "counter"}, {chaoyang, ""}, {chaoyang, "number " + chaoyang},
	} {
		if _, err := f.console.Lookup(t.Context(), op, "", tc.number, tc.reason); err == nil {
			t.Errorf("Lookup(%q, %q) succeeded", tc.number, tc.reason)
		}
	}
}

func TestFreezeEndsSessionsAndUnfreezeNeedsSecondOperator(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := t.Context()
	a := f.operator(t, "alice", "1101", RoleRegistrar)
	b := f.operator(t, "bob", "11", RoleRegistrar)
	elsewhere := f.operator(t, "carol", "44", RoleRegistrar)
	c := f.citizen(t, chaoyang)
	if err := f.console.Freeze(ctx, a, c.ID, "reported stolen"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.Citizen(ctx, c.ID); got.Status != StatusFrozen || !slices.Contains(f.ender.ended, c.ID) {
		t.Fatalf("after freeze: status %s, ended %v", got.Status, f.ender.ended)
	}
	ap, err := f.console.RequestUnfreeze(ctx, a, c.ID, "owner came in")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.console.Decide(ctx, a, ap.ID, true); !errors.Is(err, ErrSameOperator) {
		t.Fatalf("same operator approves: %v", err)
	}
	if err := f.console.Decide(ctx, a, ap.ID, true); !errors.Is(err, ErrSameOperator) {
		t.Fatalf("same operator approves twice: %v", err)
	}
	if err := f.console.Decide(ctx, elsewhere, ap.ID, true); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("out-of-region approver: %v", err)
	}
	if list, _ := f.console.PendingApprovals(ctx, elsewhere); len(list) != 0 {
		t.Fatalf("out-of-region operator sees %d approvals", len(list))
	}
	if got, _ := f.store.Citizen(ctx, c.ID); got.Status != StatusFrozen {
		t.Fatal("unfrozen without a second operator")
	}
	if err := f.console.Decide(ctx, b, ap.ID, true); err != nil {
		t.Fatalf("second operator approves: %v", err)
	}
	if got, _ := f.store.Citizen(ctx, c.ID); got.Status != StatusActive {
		t.Fatal("still frozen after approval")
	}
	if err := f.console.Decide(ctx, b, ap.ID, true); !errors.Is(err, ErrNotPending) {
		t.Fatalf("approve twice: %v", err)
	}
}

func TestOperatorChangeNeedsSecondAdministrator(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := t.Context()
	a1 := f.operator(t, "admin1", "11", RoleAdministrator)
	a2 := f.operator(t, "admin2", "", RoleAdministrator)
	reg := f.operator(t, "registrar", "1101", RoleRegistrar)
	target := f.operator(t, "clerk", "110105", RoleRegistrar)
	if _, err := f.console.RequestOperatorChange(ctx, reg, target.ID, []string{"administrator"}, "11", "promote"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("registrar asks: %v", err)
	}
	if _, err := f.console.RequestOperatorChange(ctx, a1, target.ID, []string{"registrar"}, "44", "move"); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("move outside own region: %v", err)
	}
	ap, err := f.console.RequestOperatorChange(ctx, a1, target.ID, []string{"registrar", "auditor"}, "1101", "wider scope")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.console.Decide(ctx, a1, ap.ID, true); !errors.Is(err, ErrSameOperator) {
		t.Fatalf("same admin: %v", err)
	}
	if err := f.console.Decide(ctx, reg, ap.ID, true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("registrar approves: %v", err)
	}
	if got, _ := f.store.Operator(ctx, target.ID); got.Region != "110105" {
		t.Fatal("changed before approval")
	}
	if err := f.console.Decide(ctx, a2, ap.ID, true); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.Operator(ctx, target.ID)
	if got.Region != "1101" || !got.Has(RoleAuditor) {
		t.Fatalf("after approval: %+v", got)
	}
}

func TestRegisterInPersonAndReset(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := t.Context()
	op := f.operator(t, "clerk", "110105", RoleRegistrar)
	c, err := f.console.RegisterInPerson(ctx, op, InPersonInput{Number: chaoyang, Name: "张三", Phone: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Level != LevelInPerson || c.Phone != "+8613800138000" {
		t.Fatalf("registered %+v", c)
	}
	if _, err := f.console.RegisterInPerson(ctx, op, InPersonInput{Number: chaoyang, Name: "张三"}); !errors.Is(err, ErrAlreadyRegistered) {
		t.Fatalf("twice: %v", err)
	}
	if err := f.console.ResetCredentials(ctx, op, c.ID, "forgot password"); err != nil {
		t.Fatal(err)
	}
	v, err := f.console.Citizen(ctx, op, c.ID)
	if err != nil || v.CredentialsResetAt.IsZero() || v.RegionName != "朝阳区" {
		t.Fatalf("view after reset: %+v, %v", v, err)
	}
	// The phone is now the citizen's last factor (no password, no
	// passkey): unbinding it waits for a second operator.
	var pa *PendingApproval
	if err := f.console.SetPhone(ctx, op, c.ID, ""); !errors.As(err, &pa) || !errors.Is(err, ErrApprovalRequested) {
		t.Fatalf("unbind the last factor: %v, want *PendingApproval", err)
	}
	if got, _ := f.store.Citizen(ctx, c.ID); got.Phone == "" {
		t.Fatal("last factor removed without approval")
	}
	if err := f.console.Decide(ctx, op, pa.Approval.ID, true); !errors.Is(err, ErrSameOperator) {
		t.Fatalf("same operator approves: %v", err)
	}
	if err := f.console.Decide(ctx, f.operator(t, "clerk2", "1101", RoleRegistrar), pa.Approval.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.Citizen(ctx, c.ID); got.Phone != "" {
		t.Fatal("phone not unbound after approval")
	}
}
