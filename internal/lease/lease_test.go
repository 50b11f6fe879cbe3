package lease_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evcrm/evcrm/internal/lease"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper())
	}
	goleak.VerifyTestMain(m)
}

func newLocker(t testing.TB, url string) *lease.Locker {
	t.Helper()
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lease.New(lease.Config{ConnConfig: cc, CheckInterval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLostLeaseIsNoticed: when the lease's session dies (here terminated by
// the server), the work's context ends with ErrLost, and Run wins the lease
// back and runs the work again.
func TestLostLeaseIsNoticed(t *testing.T) {
	db := pgtest.New(t)
	l := newLocker(t, db.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	causes := make(chan error, 4)
	done := make(chan error, 1)
	go func() {
		done <- l.Run(ctx, "worker", func(ctx context.Context) error {
			runs.Add(1)
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		})
	}()
	waitFor(t, func() bool { return runs.Load() == 1 })
	// Another Locker waits meanwhile.
	other := newLocker(t, db.URL)
	otherCtx, otherCancel := context.WithCancel(ctx)
	otherDone := make(chan error, 1)
	go func() {
		otherDone <- other.Run(otherCtx, "worker", func(context.Context) error { return errors.New("ran while the lease was held") })
	}()
	time.Sleep(300 * time.Millisecond)
	otherCancel()
	if err := <-otherDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("the second locker: %v", err)
	}
	// Kill the holder's session: the one of that name holding an advisory lock.
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a
		WHERE a.application_name = 'evcrm-lease/worker' AND a.pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminated %d lease sessions, %v", n, err)
	}
	select {
	case cause := <-causes:
		if !errors.Is(cause, lease.ErrLost) {
			t.Fatalf("work ended with cause %v, want ErrLost", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the holder did not notice it lost its session")
	}
	waitFor(t, func() bool { return runs.Load() == 2 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const helperEnv = "EVCRM_LEASE_TEST_HELPER"

// helper is a worker process: under the lease "counter" it applies
// numbered steps, one transaction each (the next number after the
// checkpoint, recorded with the worker's name), until it is killed.
func helper() int {
	url, name := os.Getenv("EVCRM_LEASE_TEST_URL"), os.Getenv(helperEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	l, err := lease.New(lease.Config{ConnConfig: cc, CheckInterval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer conn.Close(context.Background())
	err = l.Run(ctx, "counter", func(ctx context.Context) error {
		for ctx.Err() == nil {
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				var n int
				if err := tx.QueryRow(ctx, `SELECT n FROM lease_checkpoint FOR UPDATE`).Scan(&n); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO lease_steps (n, worker) VALUES ($1, $2)`, n+1, name); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE lease_checkpoint SET n = $1`, n+1)
				return err
			})
			if err != nil && ctx.Err() == nil {
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKillHolderFailsOver runs two worker processes on one lease, kills the
// holder with SIGKILL, and checks the other takes over: every step applied
// once (1..N without a gap), and the workers never interleaved.
func TestKillHolderFailsOver(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE lease_steps (n int PRIMARY KEY, worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
		CREATE TABLE lease_checkpoint (n int NOT NULL); INSERT INTO lease_checkpoint VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	start := func(name string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+name, "EVCRM_LEASE_TEST_URL="+db.URL)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	steps := func(worker string) int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM lease_steps WHERE worker = $1`, worker).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := start("a")
	defer func() { _ = a.Process.Kill(); _ = a.Wait() }()
	waitFor(t, func() bool { return steps("a") >= 20 })
	b := start("b")
	defer func() { _ = b.Process.Kill(); _ = b.Wait() }()
	time.Sleep(500 * time.Millisecond) // b is up and waiting for the lease
	if n := steps("b"); n != 0 {
		t.Fatalf("b applied %d steps while a held the lease", n)
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.Wait()
	killedAt := time.Now()
	waitFor(t, func() bool { return steps("b") >= 20 })
	t.Logf("b took over %v after a was killed", time.Since(killedAt).Round(time.Millisecond))
	if err := b.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("b exited with %v", err)
	}

	rows, err := db.Pool.Query(ctx, `SELECT n, worker FROM lease_steps ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want, switches, last := 1, 0, "a"
	for rows.Next() {
		var n int
		var w string
		if err := rows.Scan(&n, &w); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("step %d follows step %d: a step was lost", n, want-1)
		}
		if w != last {
			switches++
			last = w
		}
		want++
	}
	if switches != 1 || last != "b" {
		t.Fatalf("workers switched %d times (last %s): they ran at the same time", switches, last)
	}
	t.Logf("%d steps, a then b", want-1)
}

// TestTryAcquireAndKey: TryAcquire answers ErrHeld at once while another
// Locker holds the lease, and Config.Key names the lock by exactly the
// text given (two lockers that map different names onto one key text
// exclude each other).
func TestTryAcquireAndKey(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	keyed := func() *lease.Locker {
		cc, err := pgx.ParseConfig(db.URL)
		if err != nil {
			t.Fatal(err)
		}
		l, err := lease.New(lease.Config{ConnConfig: cc, CheckInterval: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
			Key: func(string) string { return "lease-test-key:" + t.Name() }})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a, b := keyed(), keyed()
	h, err := a.TryAcquire(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryAcquire(ctx, "two"); !errors.Is(err, lease.ErrHeld) {
		t.Fatalf("TryAcquire while held = %v, want ErrHeld", err)
	}
	var held bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND classid = ((hashtextextended($1, 0) >> 32) & 4294967295)::oid AND objid = (hashtextextended($1, 0) & 4294967295)::oid)`,
		"lease-test-key:"+t.Name()).Scan(&held); err != nil || !held {
		t.Fatalf("the lock of the key text is not held: %v, %v", held, err)
	}
	h.Release()
	h2, err := b.TryAcquire(ctx, "two")
	if err != nil {
		t.Fatalf("TryAcquire after release: %v", err)
	}
	h2.Release()
}
