package web

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps holds the import rule: web imports oauth and identity, never the
// storage adapters or their drivers (only cmd wires those in).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := map[string]string{
		"github.com/yihao-gov/yihao/store": "web must not import storage adapters; cmd wires them in",
		"gorm.io/gorm":                     "SQL belongs to store/sql",
		"github.com/redis/go-redis/v9":     "Redis belongs to store/redis",
		"github.com/yihao-gov/yihao/cmd":   "imports point cmd → web, not back",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for prefix, why := range banned {
			if pkg == prefix || strings.HasPrefix(pkg, prefix+"/") {
				t.Errorf("web depends on %s: %s", pkg, why)
			}
		}
	}
}
