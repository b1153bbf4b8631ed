package identity

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies holds the line drawn in DESIGN.md and STYLE.md C1: the
// domain depends on the standard library (and golang.org/x/crypto for
// argon2id) only.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const self = "github.com/yihao-gov/yihao/identity"
	banned := []struct {
		prefix, reason string
	}{
		{"gorm.io/", "storage lives in store/sql; identity declares ports instead"},
		{"github.com/redis/", "sessions and rate limits live in store/redis behind identity's ports"},
		{"github.com/ory/", "the protocol (fosite) belongs to oauth/, which imports identity, not the reverse"},
		{"net/http", "HTTP is web/ and oauth/; the domain must be usable from any edge"},
		{"github.com/yihao-gov/yihao/", "identity imports nothing of ours: imports point towards it"},
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == self {
			continue
		}
		for _, b := range banned {
			if pkg == strings.TrimSuffix(b.prefix, "/") || strings.HasPrefix(pkg, b.prefix) ||
				b.prefix == "net/http" && strings.HasPrefix(pkg, "net/http/") {
				t.Errorf("identity depends on %s: %s", pkg, b.reason)
			}
		}
	}
}
