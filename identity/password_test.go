package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fastHasher keeps tests quick; the defaults are exercised in TestHasherDefaults.
func fastHasher() *PasswordHasher { return &PasswordHasher{Memory: 64, Time: 1, Threads: 1} }

func TestCheckPassword(t *testing.T) {
	id := NewNumberUnchecked(ResidentID, "11010519491231002X")
	pp := NewNumberUnchecked(Passport, "CHN:E12345678")
	tests := []struct {
		name     string
		password string
		number   Number
		personal []string
		want     PasswordReason // "" = accepted
	}{
		{"long passphrase", "correct horse battery staple", id, nil, ""},
		{"chinese passphrase", "春眠不觉晓处处闻啼鸟", id, nil, ""},
		{"no composition rules", "plumtreeriverside", id, nil, ""},
		{"7 characters", "Xk3!pq9", id, nil, PasswordTooShort},
		{"8 runes of CJK ok", "我的密码很长很长", Number{}, nil, ""},
		{"129 characters", strings.Repeat("ab3", 43), id, nil, PasswordTooLong},
		{"128 characters of one unit", strings.Repeat("xq7k", 32), id, nil, PasswordRepetitive},
		{"128 characters ok", strings.Repeat("the quick brown fox jumps over a lazy dog ", 4)[:128], id, nil, ""},
		{"control character", "hello\x00world", id, nil, PasswordInvalid},
		{"invalid utf-8", "hello\xffworld", id, nil, PasswordInvalid},
		{"common", "password", id, nil, PasswordCommon},
		{"common case-insensitive", "PassWord123", id, nil, PasswordCommon},
		{"common chinese", "woaini1314", id, nil, PasswordCommon},
		{"common 12345678", "12345678", id, nil, PasswordCommon},
		{"common qq", "qq123456", id, nil, PasswordCommon},
		{"common 88888888", "88888888", id, nil, PasswordCommon},
		{"birthday", "19900101", id, nil, PasswordCommon},
		{"repeated", "zzzzzzzzzz", id, nil, PasswordRepetitive},
		{"repeated unit", "woaiwoaiwoai", id, nil, PasswordRepetitive},
		{"sequence", "bcdefghij", id, nil, PasswordSequential},
		{"descending", "9876543", id, nil, PasswordTooShort},
		{"descending letters", "hgfedcba", id, nil, PasswordSequential},
		{"descending digits", "987654321", id, nil, PasswordCommon},
		{"equal to the number", "11010519491231002x", id, nil, PasswordContainsNumber},
		{"contains the number", "my11010519491231002Xpw", id, nil, PasswordContainsNumber},
		{"last 8 of the number", "1231002x", id, nil, PasswordContainsNumber},
		{"passport number", "e12345678!", pp, nil, PasswordContainsNumber},
		{"phone inside", "call13812345678", id, []string{"+8613812345678"}, PasswordPersonal},
		{"equal to name", "zhangxiaoming", id, []string{"ZhangXiaoming"}, PasswordPersonal},
		{"short name not a substring rule", "李雷的秘密花园在这", id, []string{"李雷"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.number, tt.personal...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *PasswordError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *PasswordError", err)
			}
			if pe.Reason != tt.want {
				t.Fatalf("Reason = %s, want %s", pe.Reason, tt.want)
			}
			if len(tt.password) > 8 && (strings.Contains(err.Error(), tt.password) || strings.Contains(pe.Localize("zh"), tt.password)) {
				t.Fatal("message contains the password")
			}
			if pe.Localize("zh-CN") == pe.Localize("en") {
				t.Error("not localized")
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	m := commonPasswords()
	if len(m) < 5000 {
		t.Fatalf("%d entries, want thousands", len(m))
	}
	for _, w := range []string{"password", "iloveyou", "qwertyuiop", "11111111", "12345678", "woaini1314", "a1234567", "88888888", "1qaz2wsx"} {
		if !isCommonPassword(w) {
			t.Errorf("%q missing", w)
		}
	}
	for w := range m {
		if w != strings.ToLower(w) || strings.HasPrefix(w, "#") {
			t.Fatalf("entry %q not lower case", w)
		}
	}
}

func TestPolicyBounds(t *testing.T) {
	p := PasswordPolicy{MinLength: 12, MaxLength: 20}
	var pe *PasswordError
	if err := p.Check("elevenchars", Number{}); !errors.As(err, &pe) || pe.Reason != PasswordTooShort || pe.Min != 12 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(pe.Localize("zh"), "12") {
		t.Errorf("message lacks the minimum: %q", pe.Localize("zh"))
	}
	if err := p.Check("twenty-one characters", Number{}); !errors.As(err, &pe) || pe.Reason != PasswordTooLong {
		t.Fatalf("got %v", err)
	}
}

func TestHasherRoundTrip(t *testing.T) {
	h := fastHasher()
	ctx := t.Context()
	phc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC = %q", phc)
	}
	if ok, err := h.Verify(ctx, "correct horse", phc); !ok || err != nil {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	if ok, err := h.Verify(ctx, "correct horsf", phc); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	other, _ := h.Hash(ctx, "correct horse")
	if other == phc {
		t.Fatal("same salt twice")
	}
	if h.NeedsRehash(phc) {
		t.Error("fresh hash needs rehash")
	}
	if !(&PasswordHasher{Memory: 128, Time: 1}).NeedsRehash(phc) {
		t.Error("memory change not detected")
	}
	if !h.NeedsRehash("$2a$10$bcrypt") {
		t.Error("foreign hash does not need rehash")
	}
}

func TestHasherDefaults(t *testing.T) {
	h := &PasswordHasher{}
	phc, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("PHC = %q", phc)
	}
	if NewPasswordHasher().NeedsRehash(phc) {
		t.Error("zero value and NewPasswordHasher disagree")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := fastHasher()
	good, _ := h.Hash(t.Context(), "x")
	parts := strings.Split(good, "$")
	for name, phc := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"version":        strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=4194304", 1),
		"zero time":      strings.Replace(good, "t=1", "t=0", 1),
		"many passes":    strings.Replace(good, "t=1", "t=1000", 1),
		"no threads":     strings.Replace(good, "p=1", "p=0", 1),
		"extra param":    strings.Replace(good, "p=1", "p=1,x=2", 1),
		"missing param":  strings.Replace(good, ",p=1", "", 1),
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short hash":     strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"too many parts": good + "$x",
	} {
		if ok, err := h.Verify(t.Context(), "x", phc); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify = %v, %v; want ErrMalformedHash", name, ok, err)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := &PasswordHasher{Memory: 64, Time: 1, MaxConcurrent: 1}
	release, err := h.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with the slot taken = %v, want deadline exceeded", err)
	}
	release()
	if _, err := h.Hash(t.Context(), "pw"); err != nil {
		t.Fatal(err)
	}

	// Never more than MaxConcurrent at once.
	h = &PasswordHasher{Memory: 64, Time: 1, MaxConcurrent: 2}
	var inside, peak atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			rel, err := h.acquire(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			rel()
		})
	}
	wg.Wait()
	if peak.Load() > 2 {
		t.Fatalf("peak %d concurrent hashes, want ≤ 2", peak.Load())
	}
}
