package oauth

import (
	"strings"
	"testing"
)

func TestNormalizeUserCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"BCDF-GHJK", "BCDF-GHJK"},
		{"bcdfghjk", "BCDF-GHJK"},
		{" bcdf ghjk ", "BCDF-GHJK"},
		{"BCDF-GHJ", ""},   // too short
		{"BCDF-GHJKL", ""}, // too long
		{"ABCD-EFGH", ""},  // vowels are not in the alphabet
		{"BCDF-GHJ1", ""},  // digits neither
		{"ＢＣＤＦ-ＧＨＪＫ", ""},  // full-width letters are refused, not folded
		{"", ""},
	} {
		if got := NormalizeUserCode(tc.in); got != tc.want {
			t.Errorf("NormalizeUserCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for i := 0; i < 100; i++ {
		c := newUserCode()
		if NormalizeUserCode(c) != c {
			t.Fatalf("generated code %q does not normalise to itself", c)
		}
	}
}

func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdf ghjk", "", "----", "ＢＣＤＦ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := NormalizeUserCode(in)
		if out == "" {
			return
		}
		if len(out) != 9 || out[4] != '-' || NormalizeUserCode(out) != out {
			t.Fatalf("NormalizeUserCode(%q) = %q is not canonical", in, out)
		}
		for _, r := range strings.ReplaceAll(out, "-", "") {
			if !strings.ContainsRune(userCodeAlphabet, r) {
				t.Fatalf("NormalizeUserCode(%q) = %q has %q outside the alphabet", in, out, r)
			}
		}
	})
}
