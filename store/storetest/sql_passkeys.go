package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

// PasskeyStore is what the passkey suite needs: the port under test, and
// the citizen repository to create the owners (passkeys belong to
// existing citizens).
type PasskeyStore interface {
	identity.CitizenRepository
	identity.PasskeyRepository
}

func sqlPasskey(citizenID string, id string) *identity.Passkey {
	return &identity.Passkey{
		ID:                []byte(id),
		CitizenID:         citizenID,
		PublicKey:         []byte("cose-key-" + id),
		AttestationType:   "none",
		AttestationFormat: "none",
		Transports:        []string{"internal", "hybrid"},
		AAGUID:            bytes.Repeat([]byte{0xad}, 16),
		Attachment:        "platform",
		SignCount:         3,
		UserPresent:       true,
		UserVerified:      true,
		BackupEligible:    true,
		BackupState:       false,
		Name:              "手机 " + id,
		CreatedAt:         sqlAt(0),
	}
}

func sqlCheckPasskey(t *testing.T, got, want *identity.Passkey) {
	t.Helper()
	if got == nil {
		t.Fatal("passkey is nil")
	}
	if !bytes.Equal(got.ID, want.ID) || got.CitizenID != want.CitizenID || !bytes.Equal(got.PublicKey, want.PublicKey) {
		t.Errorf("passkey %q of %s (key %q), want %q of %s (key %q)", got.ID, got.CitizenID, got.PublicKey, want.ID, want.CitizenID, want.PublicKey)
	}
	if got.AttestationType != want.AttestationType || got.AttestationFormat != want.AttestationFormat ||
		!bytes.Equal(got.AAGUID, want.AAGUID) || got.Attachment != want.Attachment || got.Name != want.Name {
		t.Errorf("passkey = %+v, want %+v", got, want)
	}
	sqlSameList(t, "Transports", got.Transports, want.Transports)
	if got.SignCount != want.SignCount {
		t.Errorf("SignCount = %d, want %d", got.SignCount, want.SignCount)
	}
	if got.UserPresent != want.UserPresent || got.UserVerified != want.UserVerified ||
		got.BackupEligible != want.BackupEligible || got.BackupState != want.BackupState {
		t.Errorf("flags UP UV BE BS = %v %v %v %v, want %v %v %v %v", got.UserPresent, got.UserVerified, got.BackupEligible, got.BackupState,
			want.UserPresent, want.UserVerified, want.BackupEligible, want.BackupState)
	}
	sqlSameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sqlSameTime(t, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
}

// sqlOwners creates citizens cit-1 … cit-n.
func sqlOwners(t *testing.T, s PasskeyStore, n int) {
	t.Helper()
	numbers := []identity.Number{sqlNumberA, sqlNumberB, sqlNumberDigits}
	for i := range n {
		id := fmt.Sprintf("cit-%d", i+1)
		sqlMust(t, "CreateCitizen "+id, s.CreateCitizen(t.Context(), sqlCitizen(id, numbers[i]), ""))
	}
}

// RunPasskeyRepository checks an identity.PasskeyRepository. newStore must
// return an empty store on every call.
func RunPasskeyRepository(t *testing.T, newStore func(t *testing.T) PasskeyStore) {
	sqlRunSpecs(t, newStore, []sqlSpec[PasskeyStore]{
		{"add then load by credential id and list", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 2)
			a, b := sqlPasskey("cit-1", "cred-a"), sqlPasskey("cit-1", "cred-b")
			b.CreatedAt = sqlAt(time.Hour)
			b.AAGUID, b.Transports, b.BackupEligible = nil, nil, false
			for _, p := range []*identity.Passkey{b, a, sqlPasskey("cit-2", "cred-c")} {
				sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), p))
			}
			got, err := s.Passkey(t.Context(), []byte("cred-a"))
			sqlMust(t, "Passkey", err)
			sqlCheckPasskey(t, got, a)
			list, err := s.Passkeys(t.Context(), "cit-1")
			sqlMust(t, "Passkeys", err)
			if len(list) != 2 {
				t.Fatalf("%d passkeys, want 2", len(list))
			}
			sqlCheckPasskey(t, list[0], a) // oldest first
			sqlCheckPasskey(t, list[1], b)
			none, err := s.Passkeys(t.Context(), "cit-3")
			sqlMust(t, "Passkeys of nobody", err)
			if len(none) != 0 {
				t.Fatalf("%d passkeys for a citizen without any", len(none))
			}
		}},
		{"credential ids are binary, long and case-sensitive", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 1)
			long := bytes.Repeat([]byte{0x00, 0xff, 'A'}, 341) // 1023 bytes, the maximum
			for _, id := range [][]byte{long, []byte("AbC"), []byte("abc"), {0, 0, 0}} {
				p := sqlPasskey("cit-1", string(id))
				p.Name = fmt.Sprintf("key %d bytes", len(id))
				sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), p))
				got, err := s.Passkey(t.Context(), id)
				sqlMust(t, "Passkey", err)
				sqlCheckPasskey(t, got, p)
			}
		}},
		{"a credential id is stored once", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 2)
			sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), sqlPasskey("cit-1", "cred-a")))
			sqlWantErr(t, "AddPasskey again", s.AddPasskey(t.Context(), sqlPasskey("cit-1", "cred-a")), identity.ErrAlreadyExists)
			sqlWantErr(t, "AddPasskey for another citizen", s.AddPasskey(t.Context(), sqlPasskey("cit-2", "cred-a")), identity.ErrAlreadyExists)
			got, err := s.Passkey(t.Context(), []byte("cred-a"))
			sqlMust(t, "Passkey", err)
			if got.CitizenID != "cit-1" {
				t.Fatalf("owner = %s, want cit-1", got.CitizenID)
			}
		}},
		{"unknown passkeys and owners are not found", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 1)
			_, err := s.Passkey(t.Context(), []byte("nope"))
			sqlWantErr(t, "Passkey", err, identity.ErrNotFound)
			sqlWantErr(t, "AddPasskey for no citizen", s.AddPasskey(t.Context(), sqlPasskey("cit-9", "cred-x")), identity.ErrNotFound)
			sqlWantErr(t, "UpdatePasskeyUse", s.UpdatePasskeyUse(t.Context(), []byte("nope"), 1, false, sqlAt(0)), identity.ErrNotFound)
			sqlWantErr(t, "RenamePasskey", s.RenamePasskey(t.Context(), "cit-1", []byte("nope"), "x"), identity.ErrNotFound)
			sqlWantErr(t, "DeletePasskey", s.DeletePasskey(t.Context(), "cit-1", []byte("nope")), identity.ErrNotFound)
		}},
		{"rename and delete touch only the owner's passkey", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 2)
			sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), sqlPasskey("cit-1", "cred-a")))
			sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), sqlPasskey("cit-1", "cred-b")))
			sqlWantErr(t, "RenamePasskey by another citizen", s.RenamePasskey(t.Context(), "cit-2", []byte("cred-a"), "mine"), identity.ErrNotFound)
			sqlWantErr(t, "DeletePasskey by another citizen", s.DeletePasskey(t.Context(), "cit-2", []byte("cred-a")), identity.ErrNotFound)
			sqlMust(t, "RenamePasskey", s.RenamePasskey(t.Context(), "cit-1", []byte("cred-a"), "办公室钥匙"))
			sqlMust(t, "RenamePasskey to the same name", s.RenamePasskey(t.Context(), "cit-1", []byte("cred-a"), "办公室钥匙"))
			got, err := s.Passkey(t.Context(), []byte("cred-a"))
			sqlMust(t, "Passkey", err)
			if got.Name != "办公室钥匙" {
				t.Errorf("Name = %q", got.Name)
			}
			sqlMust(t, "DeletePasskey", s.DeletePasskey(t.Context(), "cit-1", []byte("cred-a")))
			sqlWantErr(t, "DeletePasskey again", s.DeletePasskey(t.Context(), "cit-1", []byte("cred-a")), identity.ErrNotFound)
			_, err = s.Passkey(t.Context(), []byte("cred-a"))
			sqlWantErr(t, "Passkey after delete", err, identity.ErrNotFound)
			list, err := s.Passkeys(t.Context(), "cit-1")
			sqlMust(t, "Passkeys", err)
			if len(list) != 1 || string(list[0].ID) != "cred-b" {
				t.Fatalf("left = %v", list)
			}
		}},
		{"the signature counter only moves forward", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 1)
			sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), sqlPasskey("cit-1", "cred-a"))) // count 3
			sqlMust(t, "UpdatePasskeyUse 10", s.UpdatePasskeyUse(t.Context(), []byte("cred-a"), 10, true, sqlAt(time.Minute)))
			for _, n := range []uint32{10, 9, 0} {
				sqlWantErr(t, fmt.Sprintf("UpdatePasskeyUse %d after 10", n),
					s.UpdatePasskeyUse(t.Context(), []byte("cred-a"), n, false, sqlAt(time.Hour)), identity.ErrConflict)
			}
			got, err := s.Passkey(t.Context(), []byte("cred-a"))
			sqlMust(t, "Passkey", err)
			if got.SignCount != 10 || !got.BackupState {
				t.Errorf("SignCount, BackupState = %d, %v; want 10, true (a refused use writes nothing)", got.SignCount, got.BackupState)
			}
			sqlSameTime(t, "LastUsedAt", got.LastUsedAt, sqlAt(time.Minute))
			sqlMust(t, "UpdatePasskeyUse max", s.UpdatePasskeyUse(t.Context(), []byte("cred-a"), 1<<32-1, false, sqlAt(time.Hour)))
			got, err = s.Passkey(t.Context(), []byte("cred-a"))
			sqlMust(t, "Passkey", err)
			if got.SignCount != 1<<32-1 {
				t.Errorf("SignCount = %d, want the uint32 maximum", got.SignCount)
			}
		}},
		{"an authenticator without a counter always sends zero", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 1)
			p := sqlPasskey("cit-1", "cred-a")
			p.SignCount = 0
			sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), p))
			for i := range 3 {
				sqlMust(t, "UpdatePasskeyUse 0", s.UpdatePasskeyUse(t.Context(), []byte("cred-a"), 0, false, sqlAt(time.Duration(i)*time.Minute)))
			}
		}},
		{"concurrent uses with one counter value: exactly one wins", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 1)
			sqlMust(t, "AddPasskey", s.AddPasskey(t.Context(), sqlPasskey("cit-1", "cred-a")))
			errs := sqlRace(8, func(int) error {
				return s.UpdatePasskeyUse(t.Context(), []byte("cred-a"), 4, false, sqlAt(time.Minute))
			})
			ok, conflicts := sqlCountErrs(t, "UpdatePasskeyUse", errs, identity.ErrConflict)
			if ok != 1 || conflicts != 7 {
				t.Fatalf("%d succeeded and %d conflicted, want 1 and 7", ok, conflicts)
			}
		}},
		{"user handles: one per citizen, unique, found both ways", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 2)
			h1, h2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
			_, err := s.UserHandle(t.Context(), "cit-1")
			sqlWantErr(t, "UserHandle before", err, identity.ErrNotFound)
			sqlMust(t, "CreateUserHandle", s.CreateUserHandle(t.Context(), "cit-1", h1))
			sqlWantErr(t, "CreateUserHandle twice", s.CreateUserHandle(t.Context(), "cit-1", h2), identity.ErrAlreadyExists)
			sqlWantErr(t, "CreateUserHandle taken", s.CreateUserHandle(t.Context(), "cit-2", h1), identity.ErrAlreadyExists)
			sqlWantErr(t, "CreateUserHandle for no citizen", s.CreateUserHandle(t.Context(), "cit-9", h2), identity.ErrNotFound)
			sqlMust(t, "CreateUserHandle other", s.CreateUserHandle(t.Context(), "cit-2", h2))
			got, err := s.UserHandle(t.Context(), "cit-1")
			sqlMust(t, "UserHandle", err)
			if !bytes.Equal(got, h1) {
				t.Errorf("UserHandle = %x, want %x", got, h1)
			}
			id, err := s.CitizenByUserHandle(t.Context(), h2)
			sqlMust(t, "CitizenByUserHandle", err)
			if id != "cit-2" {
				t.Errorf("CitizenByUserHandle = %s, want cit-2", id)
			}
			_, err = s.CitizenByUserHandle(t.Context(), bytes.Repeat([]byte{3}, 32))
			sqlWantErr(t, "CitizenByUserHandle unknown", err, identity.ErrNotFound)
			_, err = s.CitizenByUserHandle(t.Context(), nil)
			sqlWantErr(t, "CitizenByUserHandle empty", err, identity.ErrNotFound)
		}},
		{"concurrent first handles: EnsureUserHandle agrees on one", func(t *testing.T, s PasskeyStore) {
			sqlOwners(t, s, 1)
			handles := make([][]byte, 6)
			errs := sqlRace(len(handles), func(i int) error {
				h, err := identity.EnsureUserHandle(t.Context(), s, "cit-1")
				handles[i] = h
				return err
			})
			for _, err := range errs {
				sqlMust(t, "EnsureUserHandle", err)
			}
			for _, h := range handles[1:] {
				if !bytes.Equal(h, handles[0]) {
					t.Fatalf("handles differ: %x and %x", h, handles[0])
				}
			}
		}},
	})
}
