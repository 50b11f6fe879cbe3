package api_test

import (
	"log/slog"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/pgtest"
)

func newStore(t *testing.T, _ *pgtest.DB) eventstore.Store {
	s := memory.New()
	t.Cleanup(s.Close)
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// testLogger logs warnings and errors into the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
