package storetest

import (
	"bytes"
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

// TOTPStore is what the TOTP suite needs: the port under test and the
// citizen repository to create the owners.
type TOTPStore interface {
	identity.CitizenRepository
	identity.TOTPRepository
}

func sqlTOTP(citizenID, id, key string) *identity.TOTPCredential {
	return &identity.TOTPCredential{CitizenID: citizenID, ID: id, Secret: identity.TOTPSecretFromBytes([]byte(key)), CreatedAt: sqlAt(0)}
}

// RunTOTPRepository checks an identity.TOTPRepository. newStore must return
// an empty store on every call.
func RunTOTPRepository(t *testing.T, newStore func(t *testing.T) TOTPStore) {
	owners := func(t *testing.T, s TOTPStore) {
		t.Helper()
		sqlMust(t, "CreateCitizen", s.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), ""))
		sqlMust(t, "CreateCitizen other", s.CreateCitizen(t.Context(), sqlCitizen("cit-2", sqlNumberB), ""))
	}
	sqlRunSpecs(t, newStore, []sqlSpec[TOTPStore]{
		{"pending, replaced, confirmed, used once per step", func(t *testing.T, s TOTPStore) {
			ctx := t.Context()
			owners(t, s)
			_, err := s.CitizenTOTP(ctx, "cit-1")
			sqlWantErr(t, "CitizenTOTP before", err, identity.ErrNotFound)
			sqlMust(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, sqlTOTP("cit-1", "e1", "first-secret-0123456")))
			sqlMust(t, "PutPendingTOTP again", s.PutPendingTOTP(ctx, sqlTOTP("cit-1", "e2", "second-secret-012345")))
			got, err := s.CitizenTOTP(ctx, "cit-1")
			sqlMust(t, "CitizenTOTP", err)
			if got.ID != "e2" || got.Confirmed || got.LastStep != 0 || !bytes.Equal(got.Secret.Bytes(), []byte("second-secret-012345")) {
				t.Fatalf("pending credential = id %q confirmed %v step %d", got.ID, got.Confirmed, got.LastStep)
			}
			sqlSameTime(t, "CreatedAt", got.CreatedAt, sqlAt(0))
			sqlWantErr(t, "ConfirmTOTP replaced", s.ConfirmTOTP(ctx, "cit-1", "e1", 100), identity.ErrConflict)
			sqlMust(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "cit-1", "e2", 100))
			sqlWantErr(t, "ConfirmTOTP twice", s.ConfirmTOTP(ctx, "cit-1", "e2", 101), identity.ErrConflict)
			sqlWantErr(t, "PutPendingTOTP over a confirmed one", s.PutPendingTOTP(ctx, sqlTOTP("cit-1", "e3", "third-secret-0123456")), identity.ErrAlreadyExists)
			got, err = s.CitizenTOTP(ctx, "cit-1")
			sqlMust(t, "CitizenTOTP", err)
			if !got.Confirmed || got.LastStep != 100 || got.ID != "e2" {
				t.Fatalf("confirmed credential = id %q confirmed %v step %d", got.ID, got.Confirmed, got.LastStep)
			}
			sqlWantErr(t, "UseCitizenTOTPStep same step", s.UseCitizenTOTPStep(ctx, "cit-1", 100), identity.ErrConflict)
			sqlWantErr(t, "UseCitizenTOTPStep older step", s.UseCitizenTOTPStep(ctx, "cit-1", 99), identity.ErrConflict)
			sqlMust(t, "UseCitizenTOTPStep", s.UseCitizenTOTPStep(ctx, "cit-1", 101))
			sqlWantErr(t, "UseCitizenTOTPStep of a pending one", func() error {
				sqlMust(t, "PutPendingTOTP other", s.PutPendingTOTP(ctx, sqlTOTP("cit-2", "o1", "other-secret-0123456")))
				return s.UseCitizenTOTPStep(ctx, "cit-2", 5)
			}(), identity.ErrNotFound)
			sqlWantErr(t, "UseCitizenTOTPStep of nobody", s.UseCitizenTOTPStep(ctx, "nobody", 5), identity.ErrNotFound)
		}},
		{"unknown citizen", func(t *testing.T, s TOTPStore) {
			sqlWantErr(t, "PutPendingTOTP", s.PutPendingTOTP(t.Context(), sqlTOTP("nobody", "e1", "secret-0123456789abc")), identity.ErrNotFound)
		}},
		{"delete", func(t *testing.T, s TOTPStore) {
			ctx := t.Context()
			owners(t, s)
			sqlMust(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, sqlTOTP("cit-1", "e1", "first-secret-0123456")))
			sqlMust(t, "PutPendingTOTP other", s.PutPendingTOTP(ctx, sqlTOTP("cit-2", "o1", "other-secret-0123456")))
			sqlMust(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "cit-1", "e1", 7))
			sqlMust(t, "DeleteCitizenTOTP", s.DeleteCitizenTOTP(ctx, "cit-1"))
			sqlWantErr(t, "DeleteCitizenTOTP again", s.DeleteCitizenTOTP(ctx, "cit-1"), identity.ErrNotFound)
			_, err := s.CitizenTOTP(ctx, "cit-1")
			sqlWantErr(t, "CitizenTOTP after delete", err, identity.ErrNotFound)
			if _, err := s.CitizenTOTP(ctx, "cit-2"); err != nil {
				t.Fatalf("the other citizen's credential is gone: %v", err)
			}
		}},
		{"concurrent uses of one step: exactly one wins", func(t *testing.T, s TOTPStore) {
			ctx := t.Context()
			owners(t, s)
			sqlMust(t, "PutPendingTOTP", s.PutPendingTOTP(ctx, sqlTOTP("cit-1", "e1", "first-secret-0123456")))
			sqlMust(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, "cit-1", "e1", 7))
			const n = 8
			errs := sqlRace(n, func(int) error { return s.UseCitizenTOTPStep(ctx, "cit-1", 8) })
			ok, conflicts := sqlCountErrs(t, "UseCitizenTOTPStep", errs, identity.ErrConflict)
			if ok != 1 || conflicts != n-1 {
				t.Fatalf("%d won and %d conflicted, want 1 and %d", ok, conflicts, n-1)
			}
		}},
	})
}
