package oauth

import "testing"

func TestRequiredACR(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"urn:yihao:acr:2", ACRMulti},
		{"urn:yihao:acr:3 urn:yihao:acr:2", ACRMulti}, // preference order; the floor is the lowest
		{"urn:yihao:acr:1  urn:yihao:acr:3", ACRPassword},
		{"urn:other:gold urn:yihao:acr:3", ACRInPerson},
		{"urn:other:gold", ""},
		{"urn:yihao:acr:22", ""},
	} {
		if got := RequiredACR(tc.in); got != tc.want {
			t.Errorf("RequiredACR(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !(ACRRank("") < ACRRank(ACRPassword) && ACRRank(ACRPassword) < ACRRank(ACRMulti) && ACRRank(ACRMulti) < ACRRank(ACRInPerson)) {
		t.Fatal("ACRRank does not order the levels")
	}
}

func FuzzRequiredACR(f *testing.F) {
	for _, s := range []string{"", "urn:yihao:acr:2", "a  b\x00c", "urn:yihao:acr:3 urn:yihao:acr:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := RequiredACR(s)
		if got != "" && ACRRank(got) == 0 {
			t.Fatalf("RequiredACR(%q) = %q, not a known value", s, got)
		}
	})
}
