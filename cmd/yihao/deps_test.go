package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryDependencies keeps test code out of the shipped binary: no
// package of ours that the binary links may import testing or the
// conformance suites. (fosite v0.49's storage package links testify through
// fosite/internal; that is upstream's and is not ours to fix here.)
func TestBinaryDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "github.com/yihao-gov/yihao") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "testing" || strings.HasSuffix(imp, "/store/storetest") {
				t.Errorf("%s imports %s: test helpers belong in _test.go files", fields[0], imp)
			}
		}
	}
}
