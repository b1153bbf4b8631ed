package oauth

import (
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

func TestEmailClaimsOnlyWithTheScopeAndAnAddress(t *testing.T) {
	c := &identity.Citizen{Email: "zhang@example.com"}
	if got := Claims(c, []string{"openid", "email"}); got["email"] != "zhang@example.com" || got["email_verified"] != true {
		t.Fatalf("with the scope: %v", got)
	}
	if got := Claims(c, []string{"openid", "profile", "phone"}); got["email"] != nil {
		t.Fatalf("without the scope: %v", got)
	}
	if got := Claims(&identity.Citizen{}, []string{"email"}); len(got) != 0 {
		t.Fatalf("without an address: %v", got)
	}
}
