package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest name accepted, in characters.
const MaxNameLength = 64

// RegisterInput is what a citizen types to self-register.
type RegisterInput struct {
	Number       string       // as typed
	DocumentType DocumentType // optional: "" recognises the type (ParseAny); needed for passports
	Name         string
	Phone        string // optional
	Password     string
}

// Registrar is the self-registration use case. Accounts it creates are at
// LevelSelfAsserted: the number passed format checks only.
type Registrar struct {
	Citizens CitizenRepository
	Hasher   *PasswordHasher
	Policy   PasswordPolicy   // zero means DefaultPasswordPolicy
	Now      func() time.Time // nil means time.Now
	// Audit, when set, records citizen.registered for every account created
	// (citizen id and document type; never the number). When recording
	// fails after the account was created, Register returns that error.
	Audit AuditRecorder
}

// Register validates the input, hashes the password and creates the account.
//
// Input errors are typed: *NumberError for the number, *FieldError for the
// name, phone or a credit code given as a person's document, *PasswordError
// for the password. Every field is checked; when more than one is wrong the
// error is errors.Join of them all (errors.As finds each type; unwrap with
// interface{ Unwrap() []error } to list them).
//
// An already registered number gives ErrAlreadyRegistered after the same work
// as a success (the password is hashed either way). Storage errors are
// wrapped (ErrUnavailable, …).
func (r *Registrar) Register(ctx context.Context, in RegisterInput) (*Citizen, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	var errs []error
	var n Number
	var err error
	if in.DocumentType == "" {
		n, err = ParseAnyAt(in.Number, now)
	} else {
		n, err = ParseAt(in.DocumentType, in.Number, now)
	}
	if err != nil {
		errs = append(errs, err)
	} else if n.Type() == CreditCode {
		errs = append(errs, &FieldError{Field: "number", Reason: FieldNotPersonal})
		n = Number{}
	}
	name, err := NormalizeName(in.Name)
	if err != nil {
		errs = append(errs, err)
	}
	phone := ""
	if strings.TrimSpace(in.Phone) != "" {
		if phone, err = NormalizePhone(in.Phone); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.Policy.Check(in.Password, n, phone, name); err != nil {
		errs = append(errs, err)
	}
	switch len(errs) {
	case 0:
	case 1:
		return nil, errs[0]
	default:
		return nil, errors.Join(errs...)
	}

	hash, err := r.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, fmt.Errorf("identity: register: %w", err)
	}
	id, err := NewCitizenID()
	if err != nil {
		return nil, fmt.Errorf("identity: register: %w", err)
	}
	now = now.UTC()
	c := &Citizen{
		ID:        id,
		Number:    n,
		Name:      name,
		Phone:     phone,
		Status:    StatusActive,
		Level:     LevelSelfAsserted,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := r.Citizens.CreateCitizen(ctx, c, hash); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return nil, ErrAlreadyRegistered
		}
		return nil, fmt.Errorf("identity: register: %w", err)
	}
	err = recordAudit(ctx, r.Audit, &AuditEntry{
		Action: AuditCitizenRegistered, CitizenID: c.ID, Actor: ActorCitizen + c.ID, At: now,
		Detail: map[string]string{"document_type": string(n.Type()), "level": strconv.Itoa(int(c.Level))},
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewCitizenID returns a random opaque account id: "c_" and 32 hex digits
// (128 bits from crypto/rand).
func NewCitizenID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "c_" + hex.EncodeToString(b), nil
}

// NormalizeName trims a person's name and checks it: 1 to MaxNameLength
// characters, valid UTF-8, no control or invisible formatting characters.
// Inner spaces and the middle dot of transcribed names (·) are kept.
func NormalizeName(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", &FieldError{Field: "name", Reason: FieldRequired}
	}
	if !utf8.ValidString(s) {
		return "", &FieldError{Field: "name", Reason: FieldInvalid}
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", &FieldError{Field: "name", Reason: FieldControl}
		}
	}
	if utf8.RuneCountInString(s) > MaxNameLength {
		return "", &FieldError{Field: "name", Reason: FieldTooLong}
	}
	return s, nil
}

// NormalizePhone checks a mobile number and returns it in E.164 form:
// a mainland number (11 digits starting with 13–19, optionally written
// +86 or 0086) becomes "+86…"; another country's is "+" and 8 to 15 digits.
// Spaces, hyphens and parentheses are ignored.
func NormalizePhone(raw string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(raw) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", &FieldError{Field: "phone", Reason: FieldInvalid}
		}
	}
	s := b.String()
	if s == "" {
		return "", &FieldError{Field: "phone", Reason: FieldRequired}
	}
	if strings.HasPrefix(s, "0086") {
		s = "+86" + s[4:]
	}
	if rest, ok := strings.CutPrefix(s, "+86"); ok {
		s = rest
	}
	if !strings.HasPrefix(s, "+") {
		if len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' {
			return "+86" + s, nil
		}
		return "", &FieldError{Field: "phone", Reason: FieldInvalid}
	}
	digits := s[1:]
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' || !allDigits(digits) {
		return "", &FieldError{Field: "phone", Reason: FieldInvalid}
	}
	return s, nil
}
