package sqlstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

func TestOpenValidatesKeys(t *testing.T) {
	k32 := bytes.Repeat([]byte{7}, 32)
	idx := bytes.Repeat([]byte{9}, 32)
	tests := []struct {
		name    string
		keys    Keys
		wantErr string // "" for success
	}{
		{"no keys at all is allowed (citizen methods refuse)", Keys{}, ""},
		{"valid", Keys{ActiveID: "k1", Encryption: map[string][]byte{"k1": k32}, Index: idx}, ""},
		{"no active id", Keys{Encryption: map[string][]byte{"k1": k32}, Index: idx}, "active encryption key id is empty"},
		{"active id not among the keys", Keys{ActiveID: "k2", Encryption: map[string][]byte{"k1": k32}, Index: idx}, `active encryption key "k2" is not among`},
		{"short encryption key", Keys{ActiveID: "k1", Encryption: map[string][]byte{"k1": k32[:16]}, Index: idx}, `encryption key "k1" is 16 bytes, want 32`},
		{"short old encryption key", Keys{ActiveID: "k1", Encryption: map[string][]byte{"k1": k32, "k0": k32[:24]}, Index: idx}, `encryption key "k0" is 24 bytes`},
		{"missing index key", Keys{ActiveID: "k1", Encryption: map[string][]byte{"k1": k32}}, "blind-index key is 0 bytes, want 32"},
		{"index key equals an encryption key", Keys{ActiveID: "k1", Encryption: map[string][]byte{"k1": idx}, Index: idx}, "equals the blind-index key"},
		{"key id with a space", Keys{ActiveID: "k 1", Encryption: map[string][]byte{"k 1": k32}, Index: idx}, "without spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), Config{URL: filepath.Join(t.TempDir(), "y.db"), Keys: tt.keys})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("Open accepted the keys, want an error saying %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestCitizenMethodsNeedKeys(t *testing.T) {
	s := openStore(t, backends()[0].url(t), Keys{})
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := identity.NewNumberUnchecked(identity.ResidentID, "11010519491231002X")
	err := s.CreateCitizen(t.Context(), &identity.Citizen{ID: "c", Number: n}, "")
	if err == nil || !strings.Contains(err.Error(), "no document-number keys") {
		t.Fatalf("CreateCitizen without keys: %v", err)
	}
	if _, err := s.CitizenByNumber(t.Context(), n); err == nil || errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("CitizenByNumber without keys = %v, want a configuration error, not not-found", err)
	}
}

// rawCitizen reads the stored columns of a citizen.
func rawCitizen(t *testing.T, s *Store, id string) citizenRow {
	t.Helper()
	var row citizenRow
	if err := s.db.WithContext(t.Context()).Where("id = ?", id).Take(&row).Error; err != nil {
		t.Fatalf("read citizen row: %v", err)
	}
	return row
}

// The number never reaches the database in the clear: not in the ciphertext,
// not in the index, not anywhere in a SQLite file.
func TestNumberAtRest(t *testing.T) {
	const plain = "11010519491231002X"
	eachBackend(t, func(t *testing.T, b backend) {
		u := b.url(t)
		s := openStore(t, u, testKeys(t))
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		n := identity.NewNumberUnchecked(identity.ResidentID, plain)
		for _, id := range []string{"cit-1", "cit-2"} {
			num := n
			if id == "cit-2" {
				num = identity.NewNumberUnchecked(identity.Passport, plain)
			}
			if err := s.CreateCitizen(t.Context(), &identity.Citizen{ID: id, Number: num, Name: "赵六"}, ""); err != nil {
				t.Fatalf("CreateCitizen: %v", err)
			}
		}
		row := rawCitizen(t, s, "cit-1")
		for name, col := range map[string][]byte{"number_ct": row.NumberCT, "number_index": row.NumberIndex} {
			if bytes.Contains(col, []byte(plain)) || bytes.Contains(col, []byte(plain[:6])) || bytes.Contains(col, []byte(plain[6:14])) {
				t.Errorf("%s holds (part of) the plaintext number", name)
			}
		}
		if len(row.NumberIndex) != 32 {
			t.Errorf("blind index is %d bytes, want 32", len(row.NumberIndex))
		}
		if row.NumberKeyID != "k2" {
			t.Errorf("number_key_id = %q, want the active k2", row.NumberKeyID)
		}
		other := rawCitizen(t, s, "cit-2")
		if bytes.Equal(other.NumberIndex, row.NumberIndex) {
			t.Error("the same digits under two document types share a blind index")
		}
		if bytes.Equal(other.NumberCT[:12], row.NumberCT[:12]) {
			t.Error("two ciphertexts share a nonce")
		}

		if b.dialect == DialectSQLite {
			_ = s.Close()
			path := strings.TrimPrefix(u, "sqlite://")
			for _, f := range []string{path, path + "-wal"} {
				data, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				if bytes.Contains(data, []byte(plain)) {
					t.Errorf("%s contains the plaintext number", filepath.Base(f))
				}
			}
		}
	})
}

// A ciphertext is bound to its citizen and document type: moved to another
// row, it no longer decrypts, and the failure is not a not-found.
func TestNumberCiphertextIsBoundToItsRow(t *testing.T) {
	s := newStore(t, backends()[0])
	ctx := t.Context()
	a := &identity.Citizen{ID: "cit-a", Number: identity.NewNumberUnchecked(identity.ResidentID, "11010519491231002X")}
	b := &identity.Citizen{ID: "cit-b", Number: identity.NewNumberUnchecked(identity.ResidentID, "440524188001010014")}
	for _, c := range []*identity.Citizen{a, b} {
		if err := s.CreateCitizen(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	ra := rawCitizen(t, s, "cit-a")
	if err := s.db.WithContext(ctx).Exec("UPDATE citizens SET number_ct = ?, number_key_id = ? WHERE id = ?", ra.NumberCT, ra.NumberKeyID, "cit-b").Error; err != nil {
		t.Fatal(err)
	}
	_, err := s.Citizen(ctx, "cit-b")
	if err == nil || errors.Is(err, identity.ErrNotFound) || !strings.Contains(err.Error(), "does not decrypt") {
		t.Fatalf("Citizen with a moved ciphertext = %v, want a decryption failure", err)
	}
	if strings.Contains(err.Error(), "11010519491231002X") || strings.Contains(err.Error(), "440524188001010014") {
		t.Fatalf("error reveals a number: %v", err)
	}
	if err := s.db.WithContext(ctx).Exec("UPDATE citizens SET doc_type = ? WHERE id = ?", string(identity.Passport), "cit-a").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Citizen(ctx, "cit-a"); err == nil {
		t.Fatal("a ciphertext decrypted under another document type")
	}
}

// Rotation: rows keep the key id they were sealed with; new rows use the
// active key; dropping a key still in use is reported by name.
func TestNumberKeyRotation(t *testing.T) {
	u := backends()[0].url(t)
	idx := randBytes(t, 32)
	k1, k2 := randBytes(t, 32), randBytes(t, 32)
	old := openStore(t, u, Keys{ActiveID: "k1", Encryption: map[string][]byte{"k1": k1}, Index: idx})
	if err := old.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	na := identity.NewNumberUnchecked(identity.ResidentID, "11010519491231002X")
	if err := old.CreateCitizen(t.Context(), &identity.Citizen{ID: "cit-a", Number: na}, ""); err != nil {
		t.Fatal(err)
	}

	rotated := openStore(t, u, Keys{ActiveID: "k2", Encryption: map[string][]byte{"k1": k1, "k2": k2}, Index: idx})
	got, err := rotated.CitizenByNumber(t.Context(), na)
	if err != nil || got.ID != "cit-a" || got.Number.Value() != na.Value() {
		t.Fatalf("old row after rotation = %+v, %v", got, err)
	}
	nb := identity.NewNumberUnchecked(identity.ResidentID, "440524188001010014")
	if err := rotated.CreateCitizen(t.Context(), &identity.Citizen{ID: "cit-b", Number: nb}, ""); err != nil {
		t.Fatal(err)
	}
	if k := rawCitizen(t, rotated, "cit-b").NumberKeyID; k != "k2" {
		t.Errorf("new row sealed with %q, want k2", k)
	}
	if k := rawCitizen(t, rotated, "cit-a").NumberKeyID; k != "k1" {
		t.Errorf("old row's key id = %q, want k1", k)
	}

	dropped := openStore(t, u, Keys{ActiveID: "k2", Encryption: map[string][]byte{"k2": k2}, Index: idx})
	if _, err := dropped.Citizen(t.Context(), "cit-b"); err != nil {
		t.Errorf("k2 row without k1: %v", err)
	}
	_, err = dropped.Citizen(t.Context(), "cit-a")
	if err == nil || !strings.Contains(err.Error(), `key "k1", which is not configured`) {
		t.Errorf("k1 row without k1 = %v, want an error naming k1", err)
	}
}
