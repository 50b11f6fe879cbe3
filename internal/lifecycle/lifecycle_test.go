package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evcrm/evcrm/internal/lifecycle"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestGroup: a failing service stops the others and its error (named) is
// returned once all have returned; one that returns nil early is no
// failure; the end of the context stops them all with nil.
func TestGroup(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	boom := errors.New("boom")
	untilDone := lifecycle.Func(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	stopped := make(chan struct{})
	err := lifecycle.Group(context.Background(), log,
		lifecycle.Named{Name: "waits", Service: lifecycle.Func(func(ctx context.Context) error {
			<-ctx.Done()
			close(stopped)
			return nil
		})},
		lifecycle.Named{Name: "early", Service: lifecycle.Func(func(context.Context) error { return nil })},
		lifecycle.Named{Name: "fails", Service: lifecycle.Func(func(context.Context) error { time.Sleep(10 * time.Millisecond); return boom })},
		lifecycle.Named{Name: "other", Service: untilDone},
	)
	if !errors.Is(err, boom) || err.Error() != "fails: boom" {
		t.Fatalf("Group = %v, want fails: boom", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Group returned before the other services stopped")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := lifecycle.Group(ctx, log, lifecycle.Named{Name: "a", Service: untilDone}, lifecycle.Named{Name: "b", Service: untilDone}); err != nil {
		t.Fatalf("Group after the context ended = %v, want nil", err)
	}
}
