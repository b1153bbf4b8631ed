package web

import (
	"testing"

	"github.com/yihao-gov/yihao/identity"
)

// TestEveryAuditActionIsTranslated: the trail page shows every action by
// name, in both languages, never as its code.
func TestEveryAuditActionIsTranslated(t *testing.T) {
	for _, a := range identity.AuditActions() {
		for _, lang := range langs {
			if !TextFor(lang).Has("console.audit.a." + string(a)) {
				t.Errorf("%s: no name for the audit action %q", lang, a)
			}
		}
	}
}
