package redisstore_test

import (
	"log/slog"
	"strconv"
	"testing"
)

// discard is a logger of warnings and errors to the test's output.
func discard(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func itoa(i int) string { return strconv.Itoa(i) }
