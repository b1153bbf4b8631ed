package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchCommand runs `yihao bench` briefly against the server it starts,
// so the load tool behind the performance figures keeps working.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "yihao")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	args := []string{"bench", "--duration", "300ms", "--concurrency", "4"}
	if u := os.Getenv("YIHAO_TEST_REDIS_URL"); u != "" {
		args = append(args, "--redis-url", u)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("yihao bench: %v\n%s", err, out)
	}
	for _, scenario := range []string{"client_credentials", "introspect", "jwks", "sso_rs256", "sso_es256", "refresh", "peak RSS"} {
		if !strings.Contains(string(out), scenario) {
			t.Errorf("bench output lacks %s:\n%s", scenario, out)
		}
	}
}
