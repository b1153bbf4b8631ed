package oauth

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies holds the import direction of DESIGN.md: the protocol
// layer never reaches into storage adapters, drivers or pages.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := map[string]string{
		"github.com/yihao-gov/yihao/store": "oauth declares ports; store implements them (imports point one way)",
		"github.com/yihao-gov/yihao/web":   "web imports oauth, never the reverse",
		"github.com/yihao-gov/yihao/cmd":   "cmd is wiring only",
		"gorm.io/":                         "SQL lives in store/sql",
		"github.com/redis/go-redis":        "Redis lives in store/redis",
	}
	for _, dep := range strings.Fields(string(out)) {
		for prefix, why := range banned {
			if strings.HasPrefix(dep, prefix) {
				t.Errorf("oauth depends on %s: %s", dep, why)
			}
		}
	}
}
