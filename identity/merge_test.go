package identity

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// memMerges is an in-memory MergeRepository that only sets statuses (what
// moves is the store's business, checked by storetest.RunMergeRepository).
type memMerges struct {
	cit *memCitizens
	mu  sync.Mutex
	all map[string]*Merge
}

func (m *memMerges) MergeCitizens(ctx context.Context, r *Merge) error {
	c, err := m.cit.Citizen(ctx, r.MergedID)
	if err != nil {
		return err
	}
	if c.Status == StatusMerged {
		return ErrConflict
	}
	r.PrevStatus = c.Status
	m.mu.Lock()
	cp := *r
	m.all[r.ID] = &cp
	m.mu.Unlock()
	return m.cit.SetStatus(ctx, r.MergedID, StatusMerged)
}

func (m *memMerges) find(f func(*Merge) bool) []*Merge {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Merge
	for _, r := range m.all {
		if r.UnmergedAt.IsZero() && f(r) {
			cp := *r
			out = append(out, &cp)
		}
	}
	return out
}

func (m *memMerges) ActiveMerge(_ context.Context, id string) (*Merge, error) {
	if l := m.find(func(r *Merge) bool { return r.MergedID == id }); len(l) > 0 {
		return l[0], nil
	}
	return nil, ErrNotFound
}

func (m *memMerges) MergesInto(_ context.Context, id string) ([]*Merge, error) {
	return m.find(func(r *Merge) bool { return r.SurvivorID == id }), nil
}

func (m *memMerges) UnmergeCitizens(ctx context.Context, id, by string, at time.Time) (*Merge, error) {
	m.mu.Lock()
	r, ok := m.all[id]
	if !ok || !r.UnmergedAt.IsZero() {
		m.mu.Unlock()
		return nil, ErrConflict
	}
	r.UnmergedAt, r.UnmergedBy = at, by
	cp := *r
	m.mu.Unlock()
	return &cp, m.cit.SetStatus(ctx, r.MergedID, cp.PrevStatus)
}

func mergeFixture(t *testing.T) (*consoleFixture, *memMerges) {
	f := newConsoleFixture(t)
	mm := &memMerges{cit: f.store.memCitizens, all: map[string]*Merge{}}
	f.console.Merges = mm
	return f, mm
}

func pendingOf(t *testing.T, f *consoleFixture, a ApprovalAction) *Approval {
	t.Helper()
	list, err := f.store.PendingApprovals(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.Action == a {
			return x
		}
	}
	t.Fatalf("no pending %s", a)
	return nil
}

func TestMergeNeedsBothCitizensInRegionAndASecondOperator(t *testing.T) {
	f, _ := mergeFixture(t)
	ctx := t.Context()
	dup := f.citizen(t, chaoyang)
	other := f.citizen(t, chaoan)
	keep := f.citizen(t, "110105198001010016") // 朝阳区 too
	county := f.operator(t, "county", "110105", RoleRegistrar)
	city := f.operator(t, "city", "1101", RoleRegistrar)
	guangdong := f.operator(t, "guangdong", "44", RoleRegistrar)
	auditor := f.operator(t, "auditor", "", RoleAuditor)

	if _, err := f.console.RequestMerge(ctx, county, dup.ID, other.ID, "same person"); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("survivor outside the region: %v", err)
	}
	if _, err := f.console.RequestMerge(ctx, auditor, dup.ID, keep.ID, "same person"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an auditor asks to merge: %v", err)
	}
	if _, err := f.console.RequestMerge(ctx, county, dup.ID, dup.ID, "same person"); err == nil {
		t.Fatal("merge into itself accepted")
	}
	if _, err := f.console.RequestMerge(ctx, county, dup.ID, keep.ID, ""); err == nil {
		t.Fatal("merge without a reason accepted")
	}
	a, err := f.console.RequestMerge(ctx, county, dup.ID, keep.ID, "same person")
	if err != nil {
		t.Fatal(err)
	}
	if a.Region != "110105" {
		t.Errorf("approval region %q, want the pair's 110105", a.Region)
	}
	if err := f.console.Decide(ctx, county, a.ID, true); !errors.Is(err, ErrSameOperator) {
		t.Fatalf("own approval: %v", err)
	}
	if err := f.console.Decide(ctx, guangdong, a.ID, true); !errors.Is(err, ErrOutOfRegion) {
		t.Fatalf("approver outside the region: %v", err)
	}
	if err := f.console.Decide(ctx, city, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.store.Citizen(ctx, dup.ID); c.Status != StatusMerged {
		t.Fatalf("status after approval: %s", c.Status)
	}
	if len(f.ender.ended) != 1 || f.ender.ended[0] != dup.ID {
		t.Errorf("sessions ended: %v, want the merged account's", f.ender.ended)
	}

	// Signing in with the merged document finds the survivor.
	n, _ := ParseAny(chaoyang)
	got, err := FollowMerges{CitizenRepository: f.store, Merges: f.console.Merges}.CitizenByNumber(ctx, n)
	if err != nil || got.ID != keep.ID {
		t.Fatalf("FollowMerges: %v, %v; want the survivor", got, err)
	}
	// No chains: the survivor cannot be merged away, nor the merged one again.
	third := f.citizen(t, "110105198001010024")
	if _, err := f.console.RequestMerge(ctx, county, keep.ID, third.ID, "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("merging a survivor away: %v", err)
	}
	if _, err := f.console.RequestMerge(ctx, county, dup.ID, third.ID, "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("merging a merged account again: %v", err)
	}
}

func TestUnmergeWithinThirtyDays(t *testing.T) {
	f, _ := mergeFixture(t)
	ctx := t.Context()
	dup := f.citizen(t, chaoyang)
	keep := f.citizen(t, "110105198001010016")
	county := f.operator(t, "county", "110105", RoleRegistrar)
	city := f.operator(t, "city", "1101", RoleRegistrar)
	a, err := f.console.RequestMerge(ctx, county, dup.ID, keep.ID, "same person")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.console.Decide(ctx, city, a.ID, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(29 * 24 * time.Hour)
	u, err := f.console.RequestUnmerge(ctx, county, dup.ID, "two people")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.console.Decide(ctx, city, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if c, _ := f.store.Citizen(ctx, dup.ID); c.Status != StatusActive {
		t.Fatalf("status after unmerge: %s", c.Status)
	}
	// Merged again, then too late to reverse.
	a, err = f.console.RequestMerge(ctx, county, dup.ID, keep.ID, "same person after all")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.console.Decide(ctx, city, a.ID, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(31 * 24 * time.Hour)
	if _, err := f.console.RequestUnmerge(ctx, county, dup.ID, "two people"); !errors.Is(err, ErrMergeExpired) {
		t.Fatalf("unmerge after 31 days: %v", err)
	}
}

func TestResetOfTheLastFactorWaitsForApproval(t *testing.T) {
	f, _ := mergeFixture(t)
	ctx := t.Context()
	c := f.citizen(t, chaoyang) // a password, no phone, no passkey
	county := f.operator(t, "county", "110105", RoleRegistrar)
	city := f.operator(t, "city", "1101", RoleRegistrar)
	var pa *PendingApproval
	if err := f.console.ResetCredentials(ctx, county, c.ID, "forgot password"); !errors.As(err, &pa) {
		t.Fatalf("reset of the last factor: %v, want *PendingApproval", err)
	}
	if _, err := f.store.PasswordHash(ctx, c.ID); err != nil {
		t.Fatal("password removed without approval")
	}
	if err := f.console.Decide(ctx, city, pendingOf(t, f, ApproveRemoveLastFactor).ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.PasswordHash(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("password after approval: %v", err)
	}
	// With a phone bound, a reset is not the last factor: done at once.
	d := f.citizen(t, "110105198001010016")
	if err := f.console.SetPhone(ctx, county, d.ID, "13800138000"); err != nil {
		t.Fatal(err)
	}
	if err := f.console.ResetCredentials(ctx, county, d.ID, "forgot password"); err != nil {
		t.Fatalf("reset with a phone bound: %v", err)
	}
}
