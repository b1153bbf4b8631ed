package oauth

import (
	"testing"
	"time"

	"github.com/yihao-gov/yihao/identity"
)

func TestStricterACR(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"", "", ""},
		{"", ACRMulti, ACRMulti},
		{ACRMulti, "", ACRMulti},
		{ACRPassword, ACRMulti, ACRMulti},
		{ACRInPerson, ACRMulti, ACRInPerson},
		{ACRMulti, "urn:other:gold", ACRMulti},
	} {
		if got := StricterACR(tc.a, tc.b); got != tc.want {
			t.Errorf("StricterACR(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestLevelClaims(t *testing.T) {
	self := LevelClaims(&identity.Citizen{Level: identity.LevelSelfAsserted})
	if len(self) != 1 || self["level"] != 1 {
		t.Fatalf("self-asserted: %v", self)
	}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	got := LevelClaims(&identity.Citizen{Level: identity.LevelVerified, LevelMethod: identity.LevelMethodIDCheck, LevelAt: at})
	if got["level"] != 2 || got["level_method"] != "id_check" || got["level_verified_at"] != "2026-03-01T08:00:00Z" {
		t.Fatalf("verified: %v", got)
	}
}
