package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
)

// MergeStore is what the merge suite needs: the port under test and the
// ports whose rows a merge moves.
type MergeStore interface {
	identity.CitizenRepository
	identity.CitizenAdmin
	identity.PasskeyRepository
	oauth.ConsentStore
	identity.MergeRepository
}

// mergeFixture: "dup" (phone, passkey with its handle, consents to "only"
// and "both") and "keep" (no phone, no passkey, consent to "both").
func mergeFixture(t *testing.T, s MergeStore) {
	t.Helper()
	ctx := t.Context()
	dup := sqlCitizen("dup", sqlNumberA)
	dup.Phone = "+8613800138000"
	sqlMust(t, "CreateCitizen dup", s.CreateCitizen(ctx, dup, ""))
	keep := sqlCitizen("keep", sqlNumberB)
	keep.Phone = ""
	sqlMust(t, "CreateCitizen keep", s.CreateCitizen(ctx, keep, ""))
	sqlMust(t, "CreateUserHandle", s.CreateUserHandle(ctx, "dup", []byte("handle-dup")))
	sqlMust(t, "AddPasskey", s.AddPasskey(ctx, sqlPasskey("dup", "cred-dup")))
	for _, c := range []*oauth.Consent{
		{CitizenID: "dup", ClientID: "only", Scopes: []string{"openid"}, GrantedAt: sqlAt(0 * time.Second)},
		{CitizenID: "dup", ClientID: "both", Scopes: []string{"openid", "phone"}, GrantedAt: sqlAt(1 * time.Second)},
		{CitizenID: "keep", ClientID: "both", Scopes: []string{"openid"}, GrantedAt: sqlAt(2 * time.Second)},
	} {
		sqlMust(t, "SaveConsent", s.SaveConsent(ctx, c))
	}
}

func mergeConsents(t *testing.T, s MergeStore, citizenID string) []string {
	t.Helper()
	list, err := s.CitizenConsents(t.Context(), citizenID)
	sqlMust(t, "CitizenConsents", err)
	var out []string
	for _, c := range list {
		out = append(out, c.ClientID)
	}
	slices.Sort(out)
	return out
}

// RunMergeRepository checks identity.MergeRepository: what a merge moves
// and records, that one merge of an account wins, and that an unmerge
// restores what moved.
func RunMergeRepository(t *testing.T, newStore func(t *testing.T) MergeStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[MergeStore]{
		{"merge moves consents, passkeys with the handle and the phone, and records it", func(t *testing.T, s MergeStore) {
			ctx := t.Context()
			mergeFixture(t, s)
			m := &identity.Merge{ID: "m-1", MergedID: "dup", SurvivorID: "keep", Approval: "a-1", RequestedBy: "o-1", ApprovedBy: "o-2", MergedAt: sqlAt(10 * time.Second)}
			sqlMust(t, "MergeCitizens", s.MergeCitizens(ctx, m))
			if m.PrevStatus != identity.StatusActive || !m.PasskeysMoved || !m.PhoneMoved ||
				!slices.Equal(m.MovedConsents, []string{"only"}) || len(m.DroppedConsents) != 1 || m.DroppedConsents[0].ClientID != "both" {
				t.Fatalf("merge record = %+v", m)
			}
			dup, err := s.Citizen(ctx, "dup")
			sqlMust(t, "Citizen dup", err)
			keep, err := s.Citizen(ctx, "keep")
			sqlMust(t, "Citizen keep", err)
			if dup.Status != identity.StatusMerged || dup.Phone != "" || keep.Phone != "+8613800138000" {
				t.Fatalf("after merge: dup %s %q, keep %q", dup.Status, dup.Phone, keep.Phone)
			}
			sqlSameList(t, "consents of keep", mergeConsents(t, s, "keep"), []string{"both", "only"})
			sqlSameList(t, "consents of dup", mergeConsents(t, s, "dup"), nil)
			p, err := s.Passkey(ctx, []byte("cred-dup"))
			sqlMust(t, "Passkey", err)
			if p.CitizenID != "keep" {
				t.Errorf("passkey belongs to %s, want keep", p.CitizenID)
			}
			if id, err := s.CitizenByUserHandle(ctx, []byte("handle-dup")); err != nil || id != "keep" {
				t.Errorf("handle belongs to %q (%v), want keep", id, err)
			}
			got, err := s.ActiveMerge(ctx, "dup")
			sqlMust(t, "ActiveMerge", err)
			if got.ID != "m-1" || got.SurvivorID != "keep" || !got.MergedAt.Equal(sqlAt(10*time.Second)) || got.ApprovedBy != "o-2" ||
				len(got.DroppedConsents) != 1 || !slices.Equal(got.DroppedConsents[0].Scopes, []string{"openid", "phone"}) {
				t.Errorf("ActiveMerge = %+v", got)
			}
			into, err := s.MergesInto(ctx, "keep")
			if err != nil || len(into) != 1 || into[0].ID != "m-1" {
				t.Errorf("MergesInto = %v, %v", into, err)
			}
			_, err = s.ActiveMerge(ctx, "keep")
			sqlWantErr(t, "ActiveMerge of the survivor", err, identity.ErrNotFound)
		}},
		{"a merged account cannot be merged again; of racing merges one wins", func(t *testing.T, s MergeStore) {
			mergeFixture(t, s)
			errs := sqlRace(4, func(i int) error {
				return s.MergeCitizens(t.Context(), &identity.Merge{ID: "m-" + string(rune('a'+i)), MergedID: "dup", SurvivorID: "keep", MergedAt: sqlAt(10 * time.Second)})
			})
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else {
					sqlWantErr(t, "losing merge", err, identity.ErrConflict)
				}
			}
			if ok != 1 {
				t.Fatalf("%d merges succeeded, want 1 (%v)", ok, errs)
			}
		}},
		{"unmerge restores what moved, once", func(t *testing.T, s MergeStore) {
			ctx := t.Context()
			mergeFixture(t, s)
			sqlMust(t, "MergeCitizens", s.MergeCitizens(ctx, &identity.Merge{ID: "m-1", MergedID: "dup", SurvivorID: "keep", MergedAt: sqlAt(10 * time.Second)}))
			m, err := s.UnmergeCitizens(ctx, "m-1", "o-3", sqlAt(20*time.Second))
			sqlMust(t, "UnmergeCitizens", err)
			if m.UnmergedBy != "o-3" || !m.UnmergedAt.Equal(sqlAt(20*time.Second)) {
				t.Errorf("unmerged record = %+v", m)
			}
			dup, _ := s.Citizen(ctx, "dup")
			keep, _ := s.Citizen(ctx, "keep")
			if dup.Status != identity.StatusActive || dup.Phone != "+8613800138000" || keep.Phone != "" {
				t.Fatalf("after unmerge: dup %s %q, keep %q", dup.Status, dup.Phone, keep.Phone)
			}
			sqlSameList(t, "consents of keep", mergeConsents(t, s, "keep"), []string{"both"})
			sqlSameList(t, "consents of dup", mergeConsents(t, s, "dup"), []string{"both", "only"})
			if c, err := s.Consent(ctx, "dup", "both"); err != nil || !slices.Equal(c.Scopes, []string{"openid", "phone"}) || !c.GrantedAt.Equal(sqlAt(1*time.Second)) {
				t.Errorf("restored consent = %+v, %v", c, err)
			}
			if p, err := s.Passkey(ctx, []byte("cred-dup")); err != nil || p.CitizenID != "dup" {
				t.Errorf("passkey after unmerge: %+v, %v", p, err)
			}
			if id, err := s.CitizenByUserHandle(ctx, []byte("handle-dup")); err != nil || id != "dup" {
				t.Errorf("handle after unmerge belongs to %q (%v)", id, err)
			}
			_, err = s.ActiveMerge(ctx, "dup")
			sqlWantErr(t, "ActiveMerge after unmerge", err, identity.ErrNotFound)
			_, err = s.UnmergeCitizens(ctx, "m-1", "o-3", sqlAt(21*time.Second))
			sqlWantErr(t, "UnmergeCitizens twice", err, identity.ErrConflict)
		}},
		{"the survivor's own passkeys keep the merged ones where they are", func(t *testing.T, s MergeStore) {
			ctx := t.Context()
			mergeFixture(t, s)
			sqlMust(t, "CreateUserHandle keep", s.CreateUserHandle(ctx, "keep", []byte("handle-keep")))
			sqlMust(t, "AddPasskey keep", s.AddPasskey(ctx, sqlPasskey("keep", "cred-keep")))
			m := &identity.Merge{ID: "m-1", MergedID: "dup", SurvivorID: "keep", MergedAt: sqlAt(10 * time.Second)}
			sqlMust(t, "MergeCitizens", s.MergeCitizens(ctx, m))
			if m.PasskeysMoved {
				t.Error("passkeys moved although the survivor has its own")
			}
			if p, err := s.Passkey(ctx, []byte("cred-dup")); err != nil || p.CitizenID != "dup" {
				t.Errorf("merged account's passkey: %+v, %v", p, err)
			}
		}},
	})
}
