package identity

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRegister(t *testing.T) {
	ok := RegisterInput{Number: "34052419800101001x", Name: " 欧阳·娜娜 ", Phone: "138-1234-5678", Password: "a quiet lake at dawn"}
	tests := []struct {
		name    string
		in      func(RegisterInput) RegisterInput
		setup   func(*memCitizens)
		wantErr func(error) bool
		check   func(t *testing.T, c *Citizen)
	}{
		{
			name: "valid",
			check: func(t *testing.T, c *Citizen) {
				if !regexp.MustCompile(`^c_[0-9a-f]{32}$`).MatchString(c.ID) {
					t.Errorf("ID = %q", c.ID)
				}
				if c.Number.Value() != "34052419800101001X" || c.Number.Type() != ResidentID {
					t.Errorf("Number = %s", c.Number.Masked())
				}
				if c.Name != "欧阳·娜娜" || c.Phone != "+8613812345678" {
					t.Errorf("Name, Phone = %q, %q", c.Name, c.Phone)
				}
				if c.Level != LevelSelfAsserted || c.Status != StatusActive || !c.CreatedAt.Equal(testNow) {
					t.Errorf("Level, Status, CreatedAt = %v, %v, %v", c.Level, c.Status, c.CreatedAt)
				}
			},
		},
		{name: "no phone", in: func(in RegisterInput) RegisterInput { in.Phone = " "; return in }},
		{
			name: "explicit type",
			in: func(in RegisterInput) RegisterInput {
				in.Number, in.DocumentType = "H12345678", HKMacaoPermit
				return in
			},
			check: func(t *testing.T, c *Citizen) {
				if c.Number.Type() != HKMacaoPermit {
					t.Errorf("type %s", c.Number.Type())
				}
			},
		},
		{
			name:    "already registered",
			setup:   func(m *memCitizens) { m.byNumber[NewNumberUnchecked(ResidentID, "34052419800101001X")] = "c_other" },
			wantErr: is(ErrAlreadyRegistered),
		},
		{
			name:    "storage down",
			setup:   func(m *memCitizens) { m.fail = fmt.Errorf("sql: %w", ErrUnavailable) },
			wantErr: is(ErrUnavailable),
		},
		{name: "bad number", in: func(in RegisterInput) RegisterInput { in.Number = "340524198001010011"; return in }, wantErr: numberPart(PartCheck)},
		{
			name:    "credit code",
			in:      func(in RegisterInput) RegisterInput { in.Number = "91350100M000100Y43"; return in },
			wantErr: fieldErr("number", FieldNotPersonal),
		},
		{name: "no name", in: func(in RegisterInput) RegisterInput { in.Name = "  "; return in }, wantErr: fieldErr("name", FieldRequired)},
		{name: "long name", in: func(in RegisterInput) RegisterInput { in.Name = strings.Repeat("名", 65); return in }, wantErr: fieldErr("name", FieldTooLong)},
		{name: "64-rune name", in: func(in RegisterInput) RegisterInput { in.Name = strings.Repeat("名", 64); return in }},
		{name: "control in name", in: func(in RegisterInput) RegisterInput { in.Name = "王\n丽"; return in }, wantErr: fieldErr("name", FieldControl)},
		{name: "zero-width in name", in: func(in RegisterInput) RegisterInput { in.Name = "王\u200b丽"; return in }, wantErr: fieldErr("name", FieldControl)},
		{name: "bad phone", in: func(in RegisterInput) RegisterInput { in.Phone = "12345"; return in }, wantErr: fieldErr("phone", FieldInvalid)},
		{name: "common password", in: func(in RegisterInput) RegisterInput { in.Password = "woaini1314"; return in }, wantErr: passwordReason(PasswordCommon)},
		{
			name:    "password is the number",
			in:      func(in RegisterInput) RegisterInput { in.Password = "34052419800101001x"; return in },
			wantErr: passwordReason(PasswordContainsNumber),
		},
		{
			name:    "password holds the phone",
			in:      func(in RegisterInput) RegisterInput { in.Password = "my13812345678"; return in },
			wantErr: passwordReason(PasswordPersonal),
		},
		{
			name: "every error at once",
			in: func(in RegisterInput) RegisterInput {
				return RegisterInput{Number: "1101051949123100", Name: "", Phone: "abc", Password: "short"}
			},
			wantErr: func(err error) bool {
				multi, ok := err.(interface{ Unwrap() []error })
				return ok && len(multi.Unwrap()) == 4 && numberPart(PartLength)(err) &&
					fieldErr("name", FieldRequired)(err) && passwordReason(PasswordTooShort)(err)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := newMemCitizens()
			if tt.setup != nil {
				tt.setup(repo)
			}
			r := &Registrar{Citizens: repo, Hasher: fastHasher(), Now: func() time.Time { return testNow }}
			in := ok
			if tt.in != nil {
				in = tt.in(in)
			}
			c, err := r.Register(t.Context(), in)
			if tt.wantErr != nil {
				if c != nil || !tt.wantErr(err) {
					t.Fatalf("Register = %v, %v", c, err)
				}
				if err != nil && strings.Contains(err.Error(), in.Password) && len(in.Password) > 8 {
					t.Error("error shows the password")
				}
				return
			}
			if err != nil {
				t.Fatalf("Register: %v", err)
			}
			stored, err := repo.Citizen(t.Context(), c.ID)
			if err != nil || stored.Number != c.Number {
				t.Fatalf("not stored: %v", err)
			}
			hash, _ := repo.PasswordHash(t.Context(), c.ID)
			if ok, _ := r.Hasher.Verify(t.Context(), in.Password, hash); !ok {
				t.Fatal("stored hash does not verify")
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func fieldErr(field string, reason FieldReason) func(error) bool {
	return func(err error) bool {
		var fe *FieldError
		return errors.As(err, &fe) && fe.Field == field && fe.Reason == reason
	}
}

func passwordReason(r PasswordReason) func(error) bool {
	return func(err error) bool {
		var pe *PasswordError
		return errors.As(err, &pe) && pe.Reason == r
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"13812345678", "+8613812345678"},
		{"+86 138 1234 5678", "+8613812345678"},
		{"0086-13812345678", "+8613812345678"},
		{"+852 9123 4567", "+85291234567"},
		{"+1 (415) 555-0100", "+14155550100"},
		{"12812345678", ""},       // 12x is not a mobile prefix
		{"1381234567", ""},        // 10 digits
		{"+8612345", ""},          // +86 but not a mobile
		{"+0123456789", ""},       // no country starts with 0
		{"+1234567890123456", ""}, // 16 digits
		{"138１2345678", ""},       // full-width
		{"1+3812345678", ""},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.raw)
		if tt.want == "" {
			if !fieldErr("phone", FieldInvalid)(err) {
				t.Errorf("NormalizePhone(%q) = %q, %v; want invalid", tt.raw, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestFieldErrorLocalize(t *testing.T) {
	for _, r := range []FieldReason{FieldRequired, FieldTooLong, FieldControl, FieldInvalid, FieldNotPersonal} {
		for _, f := range []string{"name", "phone", "number", "other"} {
			e := &FieldError{Field: f, Reason: r}
			if e.Localize("zh-CN") == e.Localize("en") || e.Error() == "" {
				t.Errorf("%s/%s not localized", f, r)
			}
		}
	}
}
