package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/config"
	"github.com/evcrm/evcrm/internal/pgtest"
)

func newApp(t *testing.T) (*app.App, string) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	cfg := config.FromEnv()
	cfg.DatabaseURL = db.URL
	cfg.EventStore = "postgres"
	cfg.ShutdownTimeout = 5 * time.Second
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	tok, _, err := a.Tokens.Create(ctx, "tester", auth.Service, "acme", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return a, tok
}

func TestServeAndStop(t *testing.T) {
	t.Parallel()
	a, tok := newApp(t)
	taskStopped := make(chan struct{})
	a.Go("test-task", func(ctx context.Context) error {
		<-ctx.Done()
		close(taskStopped)
		return nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()

	url := "http://" + ln.Addr().String()
	waitReady(t, url) // under load, the first checks may time out
	hr, _ := http.NewRequest(http.MethodPost, url+"/v1/customers", strings.NewReader(`{"kind":"person","display_name":"Ann Example"}`))
	hr.Header.Set("Authorization", "Bearer "+tok)
	hr.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/customers: %d %s", res.StatusCode, body)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-taskStopped:
	default:
		t.Fatal("task still running after Serve returned")
	}
}

func TestFailingTaskStopsTheApp(t *testing.T) {
	t.Parallel()
	a, _ := newApp(t)
	boom := errors.New("projection crashed")
	a.Go("doomed", func(ctx context.Context) error {
		return boom // possibly while the bus is still starting
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(context.Background(), ln) }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("Serve = %v, want the task's error", err)
		}
	case <-time.After(10 * time.Second):
		var buf strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Fatalf("the app kept running after a task failed; goroutines:\n%s", buf.String())
	}
}
