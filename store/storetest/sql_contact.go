package storetest

import (
	"strings"
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

// ContactStore is what the contact suite needs: the port under test and the
// citizen repository to create and read the citizens.
type ContactStore interface {
	identity.CitizenRepository
	identity.ContactStore
}

// sqlContact loads cit-1 by id and by number and checks its phone and email.
func sqlContact(t *testing.T, s ContactStore, n identity.Number, phone, email string) {
	t.Helper()
	byID, err := s.Citizen(t.Context(), "cit-1")
	sqlMust(t, "Citizen", err)
	byNumber, err := s.CitizenByNumber(t.Context(), n)
	sqlMust(t, "CitizenByNumber", err)
	for _, c := range []*identity.Citizen{byID, byNumber} {
		if c.Phone != phone || c.Email != email {
			t.Fatalf("Phone, Email = %q, %q, want %q, %q", c.Phone, c.Email, phone, email)
		}
	}
}

// RunContactStore checks an identity.ContactStore. newStore must return an
// empty store on every call.
func RunContactStore(t *testing.T, newStore func(t *testing.T) ContactStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[ContactStore]{
		{"a citizen is created with or without an email", func(t *testing.T, s ContactStore) {
			c := sqlCitizen("cit-1", sqlNumberA)
			c.Email = "Zhang.San@example.com"
			sqlMust(t, "CreateCitizen", s.CreateCitizen(t.Context(), c, ""))
			sqlContact(t, s, sqlNumberA, c.Phone, "Zhang.San@example.com")
			sqlMust(t, "CreateCitizen without", s.CreateCitizen(t.Context(), sqlCitizen("cit-2", sqlNumberB), ""))
			other, err := s.Citizen(t.Context(), "cit-2")
			sqlMust(t, "Citizen", err)
			if other.Email != "" {
				t.Fatalf("Email = %q, want none", other.Email)
			}
		}},
		{"set and unset phone and email, one citizen only", func(t *testing.T, s ContactStore) {
			sqlMust(t, "CreateCitizen", s.CreateCitizen(t.Context(), sqlCitizen("cit-1", sqlNumberA), ""))
			sqlMust(t, "CreateCitizen other", s.CreateCitizen(t.Context(), sqlCitizen("cit-2", sqlNumberB), ""))
			before, err := s.Citizen(t.Context(), "cit-1")
			sqlMust(t, "Citizen", err)

			long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".cn"
			if len(long) != identity.MaxEmailLength {
				t.Fatalf("test address is %d characters", len(long))
			}
			sqlMust(t, "SetCitizenEmail", s.SetCitizenEmail(t.Context(), "cit-1", long))
			sqlMust(t, "SetCitizenPhone", s.SetCitizenPhone(t.Context(), "cit-1", "+8613700137000"))
			sqlContact(t, s, sqlNumberA, "+8613700137000", long)
			after, err := s.Citizen(t.Context(), "cit-1")
			sqlMust(t, "Citizen", err)
			if !after.UpdatedAt.After(before.UpdatedAt) {
				t.Errorf("UpdatedAt %v not moved from %v", after.UpdatedAt, before.UpdatedAt)
			}
			other, err := s.Citizen(t.Context(), "cit-2")
			sqlMust(t, "Citizen other", err)
			if other.Email != "" || other.Phone != sqlCitizen("cit-2", sqlNumberB).Phone {
				t.Errorf("other citizen changed: %q %q", other.Phone, other.Email)
			}

			sqlMust(t, "unset email", s.SetCitizenEmail(t.Context(), "cit-1", ""))
			sqlMust(t, "unset phone", s.SetCitizenPhone(t.Context(), "cit-1", ""))
			sqlContact(t, s, sqlNumberA, "", "")
			sqlWantErr(t, "email of nobody", s.SetCitizenEmail(t.Context(), "nobody", "a@example.com"), identity.ErrNotFound)
			sqlWantErr(t, "phone of nobody", s.SetCitizenPhone(t.Context(), "nobody", ""), identity.ErrNotFound)
		}},
		{"several accounts may share a phone and an email", func(t *testing.T, s ContactStore) {
			for _, c := range []*identity.Citizen{sqlCitizen("cit-1", sqlNumberA), sqlCitizen("cit-2", sqlNumberB)} {
				sqlMust(t, "CreateCitizen", s.CreateCitizen(t.Context(), c, ""))
				sqlMust(t, "SetCitizenEmail", s.SetCitizenEmail(t.Context(), c.ID, "family@example.com"))
				sqlMust(t, "SetCitizenPhone", s.SetCitizenPhone(t.Context(), c.ID, "+8613900139000"))
			}
			sqlContact(t, s, sqlNumberA, "+8613900139000", "family@example.com")
		}},
	})
}
