package identity

import (
	"testing"
	"time"
)

// FuzzParseTOTPCode: any typed code either parses to exactly 6 ASCII digits
// or is a *FieldError; verifying a parsed code never panics.
func FuzzParseTOTPCode(f *testing.F) {
	for _, s := range []string{"123456", " 123 456", "12-34-56", "", "1234567", "１２３４５６", "\x00"} {
		f.Add(s)
	}
	secret := TOTPSecretFromBytes([]byte("12345678901234567890"))
	f.Fuzz(func(t *testing.T, raw string) {
		code, err := ParseTOTPCode(raw)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		if len(code) != TOTPDigits || !allDigits(code) {
			t.Fatalf("ParseTOTPCode(%q) = %q", raw, code)
		}
		secret.VerifyTOTP(code, time.Unix(1111111109, 0))
	})
}

// FuzzParseRegionPrefix: an accepted prefix is "" or 2, 4 or 6 digits that
// the division table knows, and parsing it again gives itself.
func FuzzParseRegionPrefix(f *testing.F) {
	for _, s := range []string{"", "11", "1101", "110105", "110000", "810000", "00", "9", "11x1", " 44 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseRegionPrefix(raw)
		if err != nil {
			return
		}
		if len(p)%2 != 0 || len(p) > 6 || !allDigits(p) && p != "" {
			t.Fatalf("ParseRegionPrefix(%q) = %q", raw, p)
		}
		if again, err := ParseRegionPrefix(p); err != nil || again != p {
			t.Fatalf("not idempotent: %q → %q → %q, %v", raw, p, again, err)
		}
	})
}
