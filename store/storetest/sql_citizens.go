package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// Document numbers of the citizen suite, canonical as the parser leaves
// them. The last two share their digits but not their document type.
var (
	sqlNumberA       = identity.NewNumberUnchecked(identity.ResidentID, "11010519491231002X")
	sqlNumberB       = identity.NewNumberUnchecked(identity.ResidentID, "440524188001010014")
	sqlNumberDigits  = identity.NewNumberUnchecked(identity.ResidentID, "810000199408230021")
	sqlPermitDigits  = identity.NewNumberUnchecked(identity.ResidencePermit, "810000199408230021")
	sqlPassportAlike = identity.NewNumberUnchecked(identity.Passport, "CHNE12345678")
)

func sqlCitizen(id string, n identity.Number) *identity.Citizen {
	return &identity.Citizen{
		ID:        id,
		Number:    n,
		Name:      "张三 " + id,
		Phone:     "8613800138000",
		Status:    identity.StatusActive,
		Level:     identity.LevelVerified,
		CreatedAt: sqlAt(0),
		UpdatedAt: sqlAt(time.Minute),
	}
}

// sqlCheckCitizen compares every field of a loaded citizen with the one
// that was stored.
func sqlCheckCitizen(t *testing.T, got, want *identity.Citizen) {
	t.Helper()
	if got == nil {
		t.Fatal("citizen is nil")
	}
	if got.ID != want.ID {
		t.Errorf("ID = %q, want %q", got.ID, want.ID)
	}
	if got.Number.Type() != want.Number.Type() || got.Number.Value() != want.Number.Value() {
		t.Errorf("Number = %s %s, want %s %s", got.Number.Type(), got.Number, want.Number.Type(), want.Number)
	}
	if got.Name != want.Name || got.Phone != want.Phone {
		t.Errorf("Name, Phone = %q, %q, want %q, %q", got.Name, got.Phone, want.Name, want.Phone)
	}
	if got.Status != want.Status || got.Level != want.Level {
		t.Errorf("Status, Level = %q, %d, want %q, %d", got.Status, got.Level, want.Status, want.Level)
	}
	sqlSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sqlSameTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// RunCitizenRepository checks an identity.CitizenRepository. newRepo must
// return an empty repository on every call.
func RunCitizenRepository(t *testing.T, newRepo func(t *testing.T) identity.CitizenRepository) {
	sqlRunSpecs(t, newRepo, []sqlSpec[identity.CitizenRepository]{
		{"create then load by id and by number", func(t *testing.T, r identity.CitizenRepository) {
			c := sqlCitizen("cit-1", sqlNumberA)
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), c, "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"))

			got, err := r.Citizen(t.Context(), "cit-1")
			sqlMust(t, "Citizen", err)
			sqlCheckCitizen(t, got, c)

			got, err = r.CitizenByNumber(t.Context(), sqlNumberA)
			sqlMust(t, "CitizenByNumber", err)
			sqlCheckCitizen(t, got, c)

			hash, err := r.PasswordHash(t.Context(), "cit-1")
			sqlMust(t, "PasswordHash", err)
			if hash != "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA" {
				t.Errorf("PasswordHash = %q", hash)
			}
		}},
		{"unknown citizen is not found everywhere", func(t *testing.T, r identity.CitizenRepository) {
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), "h"))
			_, err := r.Citizen(t.Context(), "nobody")
			sqlWantErr(t, "Citizen", err, identity.ErrNotFound)
			_, err = r.CitizenByNumber(t.Context(), sqlNumberB)
			sqlWantErr(t, "CitizenByNumber", err, identity.ErrNotFound)
			_, err = r.PasswordHash(t.Context(), "nobody")
			sqlWantErr(t, "PasswordHash", err, identity.ErrNotFound)
			sqlWantErr(t, "SetPasswordHash", r.SetPasswordHash(t.Context(), "nobody", "h2"), identity.ErrNotFound)
			sqlWantErr(t, "SetStatus", r.SetStatus(t.Context(), "nobody", identity.StatusFrozen), identity.ErrNotFound)
			_, err = r.PasswordHash(t.Context(), "nobody")
			sqlWantErr(t, "PasswordHash after SetPasswordHash of nobody", err, identity.ErrNotFound)
		}},
		{"a registered number is refused and nothing is written", func(t *testing.T, r identity.CitizenRepository) {
			first := sqlCitizen("cit-1", sqlNumberA)
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), first, "h1"))

			dup := sqlCitizen("cit-2", sqlNumberA)
			dup.Name = "李四"
			sqlWantErr(t, "CreateCitizen same number", r.CreateCitizen(t.Context(), dup, "h2"), identity.ErrAlreadyExists)

			_, err := r.Citizen(t.Context(), "cit-2")
			sqlWantErr(t, "Citizen of the refused registration", err, identity.ErrNotFound)
			_, err = r.PasswordHash(t.Context(), "cit-2")
			sqlWantErr(t, "PasswordHash of the refused registration", err, identity.ErrNotFound)
			got, err := r.CitizenByNumber(t.Context(), sqlNumberA)
			sqlMust(t, "CitizenByNumber", err)
			sqlCheckCitizen(t, got, first)
			hash, err := r.PasswordHash(t.Context(), "cit-1")
			sqlMust(t, "PasswordHash", err)
			if hash != "h1" {
				t.Errorf("first citizen's hash = %q, want h1", hash)
			}
		}},
		{"a taken id is refused", func(t *testing.T, r identity.CitizenRepository) {
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), ""))
			sqlWantErr(t, "CreateCitizen same id", r.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberB), "h"), identity.ErrAlreadyExists)
			_, err := r.CitizenByNumber(t.Context(), sqlNumberB)
			sqlWantErr(t, "CitizenByNumber of the refused number", err, identity.ErrNotFound)
		}},
		{"the same digits under another document type are another document", func(t *testing.T, r identity.CitizenRepository) {
			resident := sqlCitizen("cit-resident", sqlNumberDigits)
			sqlMust(t, "CreateCitizen resident", r.CreateCitizen(t.Context(), resident, ""))
			_, err := r.CitizenByNumber(t.Context(), sqlPermitDigits)
			sqlWantErr(t, "CitizenByNumber permit before it is registered", err, identity.ErrNotFound)

			permit := sqlCitizen("cit-permit", sqlPermitDigits)
			sqlMust(t, "CreateCitizen permit", r.CreateCitizen(t.Context(), permit, ""))

			got, err := r.CitizenByNumber(t.Context(), sqlNumberDigits)
			sqlMust(t, "CitizenByNumber resident", err)
			sqlCheckCitizen(t, got, resident)
			got, err = r.CitizenByNumber(t.Context(), sqlPermitDigits)
			sqlMust(t, "CitizenByNumber permit", err)
			sqlCheckCitizen(t, got, permit)
		}},
		{"many citizens are each found by their own number", func(t *testing.T, r identity.CitizenRepository) {
			all := []*identity.Citizen{
				sqlCitizen("cit-a", sqlNumberA),
				sqlCitizen("cit-b", sqlNumberB),
				sqlCitizen("cit-p", sqlPassportAlike),
			}
			for _, c := range all {
				sqlMust(t, "CreateCitizen "+c.ID, r.CreateCitizen(t.Context(), c, ""))
			}
			for _, c := range all {
				got, err := r.CitizenByNumber(t.Context(), c.Number)
				sqlMust(t, "CitizenByNumber "+c.ID, err)
				sqlCheckCitizen(t, got, c)
			}
		}},
		{"a citizen without a password gets one", func(t *testing.T, r identity.CitizenRepository) {
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), ""))
			_, err := r.PasswordHash(t.Context(), "cit-1")
			sqlWantErr(t, "PasswordHash before", err, identity.ErrNotFound)
			sqlMust(t, "SetPasswordHash", r.SetPasswordHash(t.Context(), "cit-1", "h-new"))
			hash, err := r.PasswordHash(t.Context(), "cit-1")
			sqlMust(t, "PasswordHash", err)
			if hash != "h-new" {
				t.Errorf("PasswordHash = %q, want h-new", hash)
			}
		}},
		{"a password is replaced, not added", func(t *testing.T, r identity.CitizenRepository) {
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), "h-old"))
			sqlMust(t, "CreateCitizen other", r.CreateCitizen(t.Context(), sqlCitizen("cit-2", sqlNumberB), "h-other"))
			sqlMust(t, "SetPasswordHash", r.SetPasswordHash(t.Context(), "cit-1", "h-new"))
			sqlMust(t, "SetPasswordHash again", r.SetPasswordHash(t.Context(), "cit-1", "h-newer"))
			for id, want := range map[string]string{"cit-1": "h-newer", "cit-2": "h-other"} {
				hash, err := r.PasswordHash(t.Context(), id)
				sqlMust(t, "PasswordHash "+id, err)
				if hash != want {
					t.Errorf("PasswordHash(%s) = %q, want %q", id, hash, want)
				}
			}
		}},
		{"freeze and unfreeze", func(t *testing.T, r identity.CitizenRepository) {
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), ""))
			sqlMust(t, "CreateCitizen other", r.CreateCitizen(t.Context(), sqlCitizen("cit-2", sqlNumberB), ""))
			for _, st := range []identity.Status{identity.StatusFrozen, identity.StatusFrozen, identity.StatusActive} {
				sqlMust(t, "SetStatus "+string(st), r.SetStatus(t.Context(), "cit-1", st))
				got, err := r.Citizen(t.Context(), "cit-1")
				sqlMust(t, "Citizen", err)
				if got.Status != st {
					t.Errorf("Status = %q, want %q", got.Status, st)
				}
				byNumber, err := r.CitizenByNumber(t.Context(), sqlNumberA)
				sqlMust(t, "CitizenByNumber", err)
				if byNumber.Status != st {
					t.Errorf("Status by number = %q, want %q", byNumber.Status, st)
				}
			}
			other, err := r.Citizen(t.Context(), "cit-2")
			sqlMust(t, "Citizen other", err)
			if other.Status != identity.StatusActive {
				t.Errorf("other citizen's Status = %q, want active", other.Status)
			}
		}},
		{"set level records how and when", func(t *testing.T, r identity.CitizenRepository) {
			c := sqlCitizen("cit-1", sqlNumberA)
			c.Level = identity.LevelSelfAsserted
			sqlMust(t, "CreateCitizen", r.CreateCitizen(t.Context(), c, ""))
			sqlMust(t, "CreateCitizen other", r.CreateCitizen(t.Context(), sqlCitizen("cit-2", sqlNumberB), ""))
			got, err := r.Citizen(t.Context(), "cit-1")
			sqlMust(t, "Citizen", err)
			if got.LevelMethod != "" || !got.LevelAt.IsZero() {
				t.Errorf("a new citizen has LevelMethod %q, LevelAt %v; want none", got.LevelMethod, got.LevelAt)
			}
			sqlMust(t, "SetLevel 2", r.SetLevel(t.Context(), "cit-1", identity.LevelVerified, identity.LevelMethodIDCheck, sqlAt(time.Hour)))
			sqlMust(t, "SetLevel 3", r.SetLevel(t.Context(), "cit-1", identity.LevelInPerson, identity.LevelMethodPasskey, sqlAt(2*time.Hour)))
			for _, load := range []func() (*identity.Citizen, error){
				func() (*identity.Citizen, error) { return r.Citizen(t.Context(), "cit-1") },
				func() (*identity.Citizen, error) { return r.CitizenByNumber(t.Context(), sqlNumberA) },
			} {
				got, err := load()
				sqlMust(t, "load", err)
				if got.Level != identity.LevelInPerson || got.LevelMethod != identity.LevelMethodPasskey {
					t.Errorf("Level, LevelMethod = %d, %q, want 3, passkey", got.Level, got.LevelMethod)
				}
				sqlSameTime(t, "LevelAt", got.LevelAt, sqlAt(2*time.Hour))
			}
			other, err := r.Citizen(t.Context(), "cit-2")
			sqlMust(t, "Citizen other", err)
			if other.Level != identity.LevelVerified || other.LevelMethod != "" {
				t.Errorf("other citizen's level changed: %d %q", other.Level, other.LevelMethod)
			}
			sqlWantErr(t, "SetLevel unknown", r.SetLevel(t.Context(), "nobody", identity.LevelVerified, identity.LevelMethodIDCheck, sqlAt(0)), identity.ErrNotFound)
		}},
		{"concurrent registrations of one number: exactly one wins", func(t *testing.T, r identity.CitizenRepository) {
			const n = 10
			errs := sqlRace(n, func(i int) error {
				return r.CreateCitizen(t.Context(), sqlCitizen(fmt.Sprintf("cit-%02d", i), sqlNumberA), "h")
			})
			ok, dup := sqlCountErrs(t, "CreateCitizen", errs, identity.ErrAlreadyExists)
			if ok != 1 || dup != n-1 {
				t.Fatalf("%d succeeded and %d were refused as duplicates, want 1 and %d", ok, dup, n-1)
			}
			got, err := r.CitizenByNumber(t.Context(), sqlNumberA)
			sqlMust(t, "CitizenByNumber", err)
			if _, err := r.PasswordHash(t.Context(), got.ID); err != nil {
				t.Errorf("the winner %s has no password: %v", got.ID, err)
			}
		}},
	})
}
