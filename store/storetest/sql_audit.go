package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// auditVerified fails unless VerifyAudit finds every chain intact, and
// returns the report.
func auditVerified(t *testing.T, s identity.AuditLog) *identity.AuditReport {
	t.Helper()
	rep, err := identity.VerifyAudit(t.Context(), s)
	sqlMust(t, "VerifyAudit", err)
	if rep.Break != nil {
		t.Fatalf("VerifyAudit: %v", rep.Break)
	}
	return rep
}

// auditAll pages through AuditEntries for q and returns every entry.
func auditAll(t *testing.T, s identity.AuditLog, q identity.AuditQuery) []*identity.AuditEntry {
	t.Helper()
	var out []*identity.AuditEntry
	for range 1000 {
		page, err := s.AuditEntries(t.Context(), q)
		sqlMust(t, "AuditEntries", err)
		out = append(out, page.Entries...)
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
	t.Fatal("AuditEntries: paging does not end")
	return nil
}

func auditEntry(action identity.AuditAction, citizen string, at time.Time, detail ...string) *identity.AuditEntry {
	e := &identity.AuditEntry{Action: action, CitizenID: citizen, Actor: identity.ActorCitizen + citizen, At: at}
	if len(detail) > 0 {
		e.Detail = map[string]string{}
		for i := 0; i+1 < len(detail); i += 2 {
			e.Detail[detail[i]] = detail[i+1]
		}
	}
	return e
}

// RunAuditLog checks an identity.AuditLog. newStore must return an empty
// log on every call.
func RunAuditLog(t *testing.T, newStore func(t *testing.T) identity.AuditLog) {
	sqlRunSpecs(t, newStore, []sqlSpec[identity.AuditLog]{
		{"an empty log verifies and lists nothing", func(t *testing.T, s identity.AuditLog) {
			rep := auditVerified(t, s)
			if rep.Entries != 0 || rep.Partitions == 0 {
				t.Errorf("report %+v: want no entries in at least one partition", rep)
			}
			page, err := s.AuditEntries(t.Context(), identity.AuditQuery{})
			sqlMust(t, "AuditEntries", err)
			if len(page.Entries) != 0 || page.Next != "" {
				t.Errorf("page = %+v", page)
			}
		}},
		{"append fills the chain fields and reads back unchanged", func(t *testing.T, s identity.AuditLog) {
			e := &identity.AuditEntry{
				Action: identity.AuditTokenIssued, CitizenID: "cit-1", Actor: "client:shebao", ClientID: "shebao",
				SessionID: "sid-1", GrantID: "g-1", IP: "203.0.113.0/24", At: sqlAt(time.Nanosecond * 789),
				Detail: map[string]string{"scopes": "openid profile", "grant_type": "authorization_code", "名": "张<&>"},
			}
			sqlMust(t, "AppendAudit", s.AppendAudit(t.Context(), e))
			if e.Seq != 1 || !bytes.Equal(e.PrevHash, identity.AuditGenesis) || len(e.Hash) != 32 || !e.At.Equal(sqlAt(0)) {
				t.Fatalf("after append: seq %d prev %x hash %x at %v", e.Seq, e.PrevHash, e.Hash, e.At)
			}
			second := auditEntry(identity.AuditUserinfoReleased, "cit-1", time.Time{}, "claims", "name")
			sqlMust(t, "AppendAudit", s.AppendAudit(t.Context(), second))
			if second.Partition != e.Partition || second.Seq != 2 || !bytes.Equal(second.PrevHash, e.Hash) || second.At.IsZero() {
				t.Fatalf("second entry: partition %d seq %d, linked %v, at %v", second.Partition, second.Seq, bytes.Equal(second.PrevHash, e.Hash), second.At)
			}
			got := auditAll(t, s, identity.AuditQuery{CitizenID: "cit-1", Actions: []identity.AuditAction{identity.AuditTokenIssued}})
			if len(got) != 1 {
				t.Fatalf("%d entries, want 1", len(got))
			}
			g := got[0]
			if g.Action != e.Action || g.CitizenID != e.CitizenID || g.Actor != e.Actor || g.ClientID != e.ClientID ||
				g.SessionID != e.SessionID || g.GrantID != e.GrantID || g.IP != e.IP || !g.At.Equal(e.At) ||
				g.Partition != e.Partition || g.Seq != e.Seq || !bytes.Equal(g.Hash, e.Hash) || !bytes.Equal(g.PrevHash, e.PrevHash) {
				t.Errorf("read back %+v, want %+v", g, e)
			}
			if fmt.Sprint(g.Detail) != fmt.Sprint(e.Detail) {
				t.Errorf("detail %v, want %v", g.Detail, e.Detail)
			}
			auditVerified(t, s)
		}},
		{"an invalid entry is refused and changes nothing", func(t *testing.T, s identity.AuditLog) {
			for _, e := range []*identity.AuditEntry{
				{CitizenID: "cit-1"},
				{Action: identity.AuditLoginFailure, Detail: map[string]string{"k": "a\x00b"}},
			} {
				sqlWantErr(t, "AppendAudit", s.AppendAudit(t.Context(), e), identity.ErrAuditEntry)
			}
			if rep := auditVerified(t, s); rep.Entries != 0 {
				t.Errorf("%d entries after refused appends", rep.Entries)
			}
		}},
		{"one citizen's entries form one gapless chain", func(t *testing.T, s identity.AuditLog) {
			for i := range 12 {
				sqlMust(t, "AppendAudit", s.AppendAudit(t.Context(), auditEntry(identity.AuditLoginSuccess, "cit-1", sqlAt(time.Duration(i)*time.Second))))
				sqlMust(t, "AppendAudit other", s.AppendAudit(t.Context(), auditEntry(identity.AuditLoginSuccess, fmt.Sprintf("cit-x%d", i), sqlAt(0))))
			}
			got := auditAll(t, s, identity.AuditQuery{CitizenID: "cit-1"})
			if len(got) != 12 {
				t.Fatalf("%d entries, want 12", len(got))
			}
			for i, e := range got {
				if e.Partition != got[0].Partition || (i > 0 && e.Seq >= got[i-1].Seq) {
					t.Errorf("entry %d: partition %d seq %d: not one chain, newest first", i, e.Partition, e.Seq)
				}
			}
			chain, err := s.AuditChain(t.Context(), got[0].Partition, 0, 100)
			sqlMust(t, "AuditChain", err)
			var seqs []int64
			for i, e := range chain {
				seqs = append(seqs, e.Seq)
				if e.Seq != int64(i+1) {
					t.Fatalf("chain seqs %v: not 1..n", seqs)
				}
			}
			if rep := auditVerified(t, s); rep.Entries != 24 {
				t.Errorf("verified %d entries, want 24", rep.Entries)
			}
		}},
		{"entries of a citizen, newest first, paged and filtered", func(t *testing.T, s identity.AuditLog) {
			actions := []identity.AuditAction{identity.AuditLoginSuccess, identity.AuditTokenIssued, identity.AuditUserinfoReleased}
			for i := range 25 {
				e := auditEntry(actions[i%3], "cit-1", sqlAt(time.Duration(i/2)*time.Minute), "i", fmt.Sprint(i)) // pairs share a time
				if i%5 == 0 {
					e.ClientID = "shebao"
				}
				sqlMust(t, "AppendAudit", s.AppendAudit(t.Context(), e))
				sqlMust(t, "AppendAudit other", s.AppendAudit(t.Context(), auditEntry(identity.AuditLoginSuccess, "cit-2", sqlAt(time.Duration(i)*time.Minute))))
			}
			var pages [][]*identity.AuditEntry
			q := identity.AuditQuery{CitizenID: "cit-1", Limit: 10}
			for {
				page, err := s.AuditEntries(t.Context(), q)
				sqlMust(t, "AuditEntries", err)
				pages = append(pages, page.Entries)
				if page.Next == "" {
					break
				}
				q.Cursor = page.Next
			}
			if len(pages) != 3 || len(pages[0]) != 10 || len(pages[1]) != 10 || len(pages[2]) != 5 {
				t.Fatalf("page sizes: %d pages", len(pages))
			}
			var order []string
			for _, p := range pages {
				for _, e := range p {
					if e.CitizenID != "cit-1" {
						t.Fatalf("entry of %s in cit-1's history", e.CitizenID)
					}
					order = append(order, e.Detail["i"])
				}
			}
			var want []string
			for i := 24; i >= 0; i-- {
				want = append(want, fmt.Sprint(i))
			}
			sqlSameList(t, "order (newest first, later appends first at equal times)", order, want)

			got := auditAll(t, s, identity.AuditQuery{CitizenID: "cit-1", Actions: []identity.AuditAction{identity.AuditTokenIssued, identity.AuditUserinfoReleased}, Limit: 4})
			if len(got) != 16 {
				t.Errorf("action filter: %d entries, want 16", len(got))
			}
			for _, e := range got {
				if e.Action == identity.AuditLoginSuccess {
					t.Errorf("action filter let %s through", e.Action)
				}
			}
			got = auditAll(t, s, identity.AuditQuery{CitizenID: "cit-1", Since: sqlAt(3 * time.Minute), Until: sqlAt(5 * time.Minute)})
			var is []string
			for _, e := range got {
				is = append(is, e.Detail["i"])
			}
			sqlSameList(t, "time window [3m, 5m)", is, []string{"9", "8", "7", "6"})
			got = auditAll(t, s, identity.AuditQuery{CitizenID: "cit-1", ClientID: "shebao"})
			if len(got) != 5 {
				t.Errorf("client filter: %d entries, want 5", len(got))
			}
			if all := auditAll(t, s, identity.AuditQuery{Limit: 7}); len(all) != 50 {
				t.Errorf("no filter: %d entries, want 50", len(all))
			}
		}},
		{"a malformed cursor is refused", func(t *testing.T, s identity.AuditLog) {
			for _, c := range []string{"!!", "bm90IGEgY3Vyc29y", "MS4yLng"} {
				_, err := s.AuditEntries(t.Context(), identity.AuditQuery{CitizenID: "cit-1", Cursor: c})
				sqlWantErr(t, "AuditEntries "+c, err, identity.ErrAuditEntry)
			}
		}},
		{"20 writers × 20 appends leave every chain valid", func(t *testing.T, s identity.AuditLog) {
			const writers, each = 20, 20
			errs := sqlRace(writers, func(w int) error {
				for i := range each {
					// Some writers share citizens (one partition, contended);
					// some entries have none (a random partition).
					citizen := fmt.Sprintf("cit-%d", (w*each+i)%7)
					if i%5 == 4 {
						citizen = ""
					}
					if err := s.AppendAudit(t.Context(), auditEntry(identity.AuditLoginFailure, citizen, time.Time{}, "w", fmt.Sprint(w))); err != nil {
						return err
					}
				}
				return nil
			})
			for _, err := range errs {
				sqlMust(t, "AppendAudit", err)
			}
			rep := auditVerified(t, s)
			if rep.Entries != writers*each {
				t.Fatalf("verified %d entries, want %d", rep.Entries, writers*each)
			}
			var total int64
			for _, h := range rep.Heads {
				total += h.Seq
			}
			if total != writers*each {
				t.Errorf("heads sum to %d, want %d", total, writers*each)
			}
			used := 0
			for _, h := range rep.Heads {
				if h.Seq > 0 {
					used++
				}
			}
			if used < 3 {
				t.Errorf("only %d partitions used: appends are not spread", used)
			}
			if n := len(auditAll(t, s, identity.AuditQuery{CitizenID: "cit-3", Limit: 500})); n == 0 {
				t.Error("no entries for cit-3")
			}
		}},
		{"verifying while others append finds no break", func(t *testing.T, s identity.AuditLog) {
			done := make(chan error, 1)
			go func() {
				errs := sqlRace(4, func(w int) error {
					for i := range 40 {
						if err := s.AppendAudit(t.Context(), auditEntry(identity.AuditTokenIssued, fmt.Sprintf("cit-%d", (w+i)%5), time.Time{})); err != nil {
							return err
						}
					}
					return nil
				})
				done <- errors.Join(errs...)
			}()
			for running := true; running; {
				select {
				case err := <-done:
					sqlMust(t, "AppendAudit", err)
					running = false
				default:
				}
				auditVerified(t, s)
			}
			if rep := auditVerified(t, s); rep.Entries != 160 {
				t.Errorf("verified %d entries, want 160", rep.Entries)
			}
		}},
		{"concurrent appends for one citizen commit together and stay one gapless chain", func(t *testing.T, s identity.AuditLog) {
			// One partition, many writers: the store may commit them in
			// groups; each caller must get its own place in the chain.
			var mu sync.Mutex
			seen := map[int64]*identity.AuditEntry{}
			errs := sqlRace(16, func(w int) error {
				for i := range 10 {
					e := auditEntry(identity.AuditTokenIssued, "cit-g", time.Time{}, "grant", fmt.Sprintf("w%d-%d", w, i))
					if err := s.AppendAudit(t.Context(), e); err != nil {
						return err
					}
					mu.Lock()
					seen[e.Seq] = e
					mu.Unlock()
				}
				return nil
			})
			sqlMust(t, "AppendAudit", errors.Join(errs...))
			if len(seen) != 160 {
				t.Fatalf("%d distinct seqs handed back, want 160", len(seen))
			}
			for seq := int64(1); seq <= 160; seq++ {
				e := seen[seq]
				if e == nil {
					t.Fatalf("seq %d handed to no caller", seq)
				}
				if seq > 1 && !bytes.Equal(e.PrevHash, seen[seq-1].Hash) {
					t.Fatalf("seq %d does not link to seq %d", seq, seq-1)
				}
			}
			got := auditAll(t, s, identity.AuditQuery{CitizenID: "cit-g"})
			if len(got) != 160 {
				t.Errorf("%d entries stored, want 160", len(got))
			}
			if rep := auditVerified(t, s); rep.Entries != 160 {
				t.Errorf("verified %d entries, want 160", rep.Entries)
			}
		}},
		{"heads digest changes with every append", func(t *testing.T, s identity.AuditLog) {
			sqlMust(t, "AppendAudit", s.AppendAudit(t.Context(), auditEntry(identity.AuditSessionEnded, "cit-1", sqlAt(0))))
			d1 := auditVerified(t, s).HeadsDigest
			sqlMust(t, "AppendAudit", s.AppendAudit(t.Context(), auditEntry(identity.AuditSessionEnded, "cit-1", sqlAt(0))))
			d2 := auditVerified(t, s).HeadsDigest
			if bytes.Equal(d1, d2) || len(d1) != 32 {
				t.Errorf("digests %x and %x", d1, d2)
			}
			heads, err := s.AuditHeads(t.Context())
			sqlMust(t, "AuditHeads", err)
			if !slices.IsSortedFunc(heads, func(a, b identity.AuditHead) int { return a.Partition - b.Partition }) {
				t.Error("heads not in partition order")
			}
		}},
	})
}
