package web

import "testing"

// The stylesheet's layout hooks: the area decides the page width, the
// account area also gets the header's sign-out link.
func TestBodyClass(t *testing.T) {
	for name, want := range map[string]string{
		PageLogin:           "area-login page-login",
		PageAccountActivity: "area-account page-account-activity",
		PagePasskeys:        "area-account page-passkeys",
		PageConsoleAudit:    "area-console page-console-audit",
		PageConsoleLogin:    "area-console page-console-login",
	} {
		if got := bodyClass(name); got != want {
			t.Errorf("bodyClass(%q) = %q, want %q", name, got, want)
		}
	}
}
