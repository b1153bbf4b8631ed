package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		storetest.RunAuditLog(t, func(t *testing.T) identity.AuditLog { return newStore(t, b) })
	})
}

// auditFixture is a store with 10 entries for one citizen (partition p) and
// a few for others.
func auditFixture(t *testing.T, b backend) (s *Store, p int) {
	t.Helper()
	s = newStore(t, b)
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range 10 {
		e := &identity.AuditEntry{
			Action: identity.AuditTokenIssued, CitizenID: "cit-1", Actor: "client:shebao", ClientID: "shebao",
			GrantID: fmt.Sprintf("g-%d", i), At: t0.Add(time.Duration(i) * time.Second),
			Detail: map[string]string{"scopes": "openid"},
		}
		if err := s.AppendAudit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
		p = e.Partition
		if err := s.AppendAudit(t.Context(), &identity.AuditEntry{Action: identity.AuditLoginSuccess, CitizenID: fmt.Sprintf("cit-o%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	return s, p
}

func exec(t *testing.T, s *Store, stmt string, args ...any) {
	t.Helper()
	res := s.db.WithContext(t.Context()).Exec(stmt, args...)
	if res.Error != nil || res.RowsAffected == 0 {
		t.Fatalf("%s: %v (%d rows)", stmt, res.Error, res.RowsAffected)
	}
}

// swapAuditRows exchanges the given columns of two entries of partition p.
func swapAuditRows(t *testing.T, s *Store, p int, a, b int64, cols string) {
	t.Helper()
	var rows []auditRow
	if err := s.db.WithContext(t.Context()).Where("part = ? AND seq IN ?", p, []int64{a, b}).Order("seq").Find(&rows).Error; err != nil || len(rows) != 2 {
		t.Fatalf("load rows: %v", err)
	}
	rows[0], rows[1] = rows[1], rows[0]
	rows[0].Seq, rows[1].Seq = a, b
	for _, r := range rows {
		if err := s.db.WithContext(t.Context()).Model(&auditRow{}).Where("part = ? AND seq = ?", p, r.Seq).Select(strings.Split(cols, ",")).Updates(&r).Error; err != nil {
			t.Fatalf("swap: %v", err)
		}
	}
}

const auditContentCols = "at_us,action,citizen_id,actor,client_id,session_id,grant_id,ip,detail"

// TestAuditTamper edits the tables behind the store's back, as someone with
// database access might, and expects VerifyAudit to name the first broken
// link on every dialect. The fixture citizen may share its partition with
// others, so each case names the entry it tampers with by grant id, and
// expects the break at that entry's seq.
func TestAuditTamper(t *testing.T) {
	tests := []struct {
		name    string
		grant   string // the (first) entry tampered with
		tamper  func(t *testing.T, s *Store, p int, seq int64)
		problem identity.AuditProblem
	}{
		{"deleted row", "g-4", func(t *testing.T, s *Store, p int, seq int64) {
			exec(t, s, "DELETE FROM audit_entries WHERE part = ? AND seq = ?", p, seq)
		}, identity.AuditMissing},
		{"deleted newest row", "g-9", func(t *testing.T, s *Store, p int, seq int64) {
			exec(t, s, "DELETE FROM audit_entries WHERE part = ? AND seq = ?", p, seq)
		}, identity.AuditMissing},
		{"edited row", "g-2", func(t *testing.T, s *Store, p int, seq int64) {
			exec(t, s, "UPDATE audit_entries SET client_id = ? WHERE part = ? AND seq = ?", "someone-else", p, seq)
		}, identity.AuditEdited},
		{"edited detail", "g-7", func(t *testing.T, s *Store, p int, seq int64) {
			exec(t, s, "UPDATE audit_entries SET detail = ? WHERE part = ? AND seq = ?", `{"scopes":"openid idcard"}`, p, seq)
		}, identity.AuditEdited},
		{"edited time", "g-0", func(t *testing.T, s *Store, p int, seq int64) {
			exec(t, s, "UPDATE audit_entries SET at_us = at_us + 1 WHERE part = ? AND seq = ?", p, seq)
		}, identity.AuditEdited},
		{"content of a pair swapped", "g-5", func(t *testing.T, s *Store, p int, seq int64) {
			swapAuditRows(t, s, p, seq, seqOf(t, s, p, "g-6"), auditContentCols)
		}, identity.AuditReordered},
		{"whole rows of a pair swapped", "g-5", func(t *testing.T, s *Store, p int, seq int64) {
			swapAuditRows(t, s, p, seq, seqOf(t, s, p, "g-6"), auditContentCols+",prev_hash,entry_hash")
		}, identity.AuditReordered},
	}
	eachBackend(t, func(t *testing.T, b backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, p := auditFixture(t, b)
				seq := seqOf(t, s, p, tt.grant)
				if rep, err := identity.VerifyAudit(t.Context(), s); err != nil || rep.Break != nil {
					t.Fatalf("before tampering: %+v, %v", rep, err)
				}
				tt.tamper(t, s, p, seq)
				rep, err := identity.VerifyAudit(t.Context(), s)
				if err != nil {
					t.Fatal(err)
				}
				brk := rep.Break
				if brk == nil {
					t.Fatal("tampering not detected")
				}
				if brk.Partition != p || brk.Seq != seq || brk.Problem != tt.problem {
					t.Fatalf("break = %v; want partition %d, seq %d, %s", brk, p, seq, tt.problem)
				}
			})
		}
	})
}

// seqOf finds the seq of cit-1's entry with the given grant id.
func seqOf(t *testing.T, s *Store, p int, grant string) int64 {
	t.Helper()
	var seqs []int64
	err := s.db.WithContext(t.Context()).Model(&auditRow{}).Where("part = ? AND grant_id = ?", p, grant).Pluck("seq", &seqs).Error
	if err != nil || len(seqs) != 1 {
		t.Fatalf("seq of %s: %v %v", grant, seqs, err)
	}
	return seqs[0]
}

// BenchmarkAppendAudit appends from parallel writers, as replicas do:
// different citizens, so different partitions. (SQLite: one writer at a
// time whatever the partitions; the number is the floor, not the target.)
func BenchmarkAppendAudit(b *testing.B) {
	s, err := Open(b.Context(), Config{URL: "sqlite://" + filepath.Join(b.TempDir(), "yihao.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			e := &identity.AuditEntry{Action: identity.AuditLoginSuccess, CitizenID: fmt.Sprintf("cit-%d", i%1000), IP: "203.0.113.0/24"}
			if err := s.AppendAudit(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// Two replicas on one database, each committing appends in groups, write
// one partition at once: their groups serialise on the head row and the
// chain stays whole.
func TestAuditGroupCommitAcrossReplicas(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		u := b.url(t)
		keys := testKeys(t)
		a := openStore(t, u, keys)
		if err := a.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		replicas := []*Store{a, openStore(t, u, keys)}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range 16 {
			wg.Go(func() {
				for i := range 8 {
					e := &identity.AuditEntry{Action: identity.AuditTokenIssued, CitizenID: "cit-r", GrantID: fmt.Sprintf("g-%d-%d", w, i)}
					if err := replicas[w%2].AppendAudit(t.Context(), e); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep, err := identity.VerifyAudit(t.Context(), a)
		if err != nil || rep.Break != nil || rep.Entries != 128 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}
