// Package storetest holds one conformance suite per storage port. Every
// backend's _test.go runs the same suite; only _test.go files import this
// package.
package storetest

import (
	"os"
	"strings"
	"testing"
)

// BackendURL returns the URL of a real backend for tests from the environment
// variable env (YIHAO_TEST_POSTGRES_URL, YIHAO_TEST_MYSQL_URL,
// YIHAO_TEST_REDIS_URL). When it is unset the test is skipped — unless name
// is listed in YIHAO_TEST_REQUIRE (comma separated: postgres,mariadb,redis),
// as CI sets it, and then the test fails: CI never silently skips a backend.
func BackendURL(t testing.TB, name, env string) string {
	t.Helper()
	if u := os.Getenv(env); u != "" {
		return u
	}
	for _, req := range strings.Split(os.Getenv("YIHAO_TEST_REQUIRE"), ",") {
		if strings.TrimSpace(req) == name {
			t.Fatalf("%s is required (YIHAO_TEST_REQUIRE) but %s is not set", name, env)
		}
	}
	t.Skipf("%s not set: skipping the %s backend", env, name)
	return ""
}
