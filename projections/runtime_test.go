package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/projectiontest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Test events, in a registry of their own.
type added struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

func (added) EventType() string { return "TestAdded" }

type noted struct {
	Text string `json:"text"`
}

func (noted) EventType() string { return "TestNoted" }

// allTenants: the tests read the tables of every tenant (the test events
// have none).
var allTenants = pgtest.Options{Settings: map[string]string{projections.AllTenantsSetting: "on"}}

var registry = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(
		domain.Registration{Event: added{}, Version: 2, Aggregate: "counter", Doc: "n added to key",
			Upcasters: map[int]domain.Upcaster{1: func(data json.RawMessage) (json.RawMessage, error) {
				// v1 called the amount "amount".
				var v1 struct {
					Key    string `json:"key"`
					Amount int    `json:"amount"`
				}
				if err := json.Unmarshal(data, &v1); err != nil {
					return nil, err
				}
				return json.Marshal(added{Key: v1.Key, N: v1.Amount})
			}}},
		domain.Registration{Event: noted{}, Aggregate: "counter", Doc: "ignored by the counts projection"},
	)
	return r
}()

// counts is a test projection. Its history column records every event
// applied, in order, so a duplicate, a gap or a reordering shows.
type counts struct {
	version int
	// fail, if set, is consulted for every event.
	fail func(e *projections.Event) error
}

func (c *counts) Name() string         { return "counts" }
func (c *counts) Version() int         { return c.version }
func (c *counts) EventTypes() []string { return []string{"TestAdded"} }
func (c *counts) Schema() string {
	extra := ""
	if c.version >= 2 {
		extra = ", doubled bigint NOT NULL"
	}
	return `CREATE TABLE rm_test_counts (` + projections.TenantColumnDDL + `, key text PRIMARY KEY, total bigint NOT NULL, history text NOT NULL` + extra + `);
		CREATE TABLE rm_test_log (` + projections.TenantColumnDDL + `, position text PRIMARY KEY, key text NOT NULL);`
}

func (c *counts) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	var b projections.Batch
	for i := range events {
		e := &events[i]
		if c.fail != nil {
			if err := c.fail(e); err != nil {
				// Write something first: the failure must roll it back.
				if err := b.Send(ctx, tx); err != nil {
					return err
				}
				return projections.Fail(e, err)
			}
		}
		a := e.Data.(added)
		if c.version >= 2 {
			b.Queue(e, `INSERT INTO rm_test_counts (key, total, history, doubled) VALUES ($1, $2::bigint, $3, 2 * $2::bigint)
				ON CONFLICT (key) DO UPDATE SET total = rm_test_counts.total + EXCLUDED.total,
				history = rm_test_counts.history || ',' || EXCLUDED.history, doubled = rm_test_counts.doubled + EXCLUDED.doubled`,
				a.Key, a.N, fmt.Sprint(a.N))
		} else {
			b.Queue(e, `INSERT INTO rm_test_counts (key, total, history) VALUES ($1, $2, $3)
				ON CONFLICT (key) DO UPDATE SET total = rm_test_counts.total + EXCLUDED.total,
				history = rm_test_counts.history || ',' || EXCLUDED.history`, a.Key, a.N, fmt.Sprint(a.N))
		}
		b.Queue(e, `INSERT INTO rm_test_log (position, key) VALUES ($1, $2)`, e.Position.String(), a.Key)
	}
	return b.Send(ctx, tx)
}

type bundle struct {
	db    *pgtest.DB
	store *memory.Store
	rng   *rand.Rand
}

func setup(t *testing.T) *bundle {
	t.Helper()
	s := memory.New()
	t.Cleanup(s.Close)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return &bundle{db: pgtest.New(t, allTenants), store: s, rng: rand.New(rand.NewPCG(seed, 1))}
}

func (b *bundle) runtime(t *testing.T, store eventstore.Store, cfg projections.Config, ps ...projections.Projection) *projections.Runtime {
	t.Helper()
	cfg.Pool = b.db.Pool
	if store == nil {
		store = b.store
	}
	cfg.Store = store
	cfg.Registry = registry
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter(t), nil))
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = 5*time.Millisecond, 50*time.Millisecond
	}
	rt, err := projections.New(context.Background(), cfg, ps...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

// run starts rt.Run and returns a function that stops it and waits.
func run(t *testing.T, rt *projections.Runtime) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// add appends a TestAdded event (schema v2) to key's stream and returns its position.
func (b *bundle) add(t *testing.T, key string, n int) eventstore.Position {
	t.Helper()
	return b.append(t, key, "TestAdded", 2, fmt.Sprintf(`{"key":%q,"n":%d}`, key, n))
}

func (b *bundle) append(t *testing.T, key, typ string, version int, data string) eventstore.Position {
	t.Helper()
	res, err := b.store.Append(context.Background(), "counter-"+key, eventstore.Any,
		eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: version, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

func waitFor(t *testing.T, rt *projections.Runtime, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.WaitFor(ctx, []string{"counts"}, pos); err != nil {
		t.Fatal(err)
	}
}

func totals(t *testing.T, db *pgtest.DB) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), "SELECT key, total::text || ' [' || history || ']' FROM rm_test_counts")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error { m[k] = v; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunAppliesEventsOnceAndWaitForSeesThem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, "a", 1)
	b.append(t, "a", "TestAdded", 1, `{"key":"a","amount":10}`) // upcast from v1
	b.append(t, "a", "TestNoted", 1, `{"text":"not handled"}`)
	rt := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	run(t, rt)
	pos := b.add(t, "b", 5)
	waitFor(t, rt, pos)
	if got, want := totals(t, b.db), map[string]string{"a": "11 [1,10]", "b": "5 [5]"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("totals = %v, want %v", got, want)
	}
	// An event the projection does not handle still moves its checkpoint,
	// so read-your-writes works for any command.
	pos = b.append(t, "b", "TestNoted", 1, `{"text":"x"}`)
	waitFor(t, rt, pos)

	st, err := rt.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].State != projections.StateActive || st[0].Position != pos || st[0].LagEvents != 0 ||
		st[0].EventsSeen != 5 || st[0].EventsApplied != 3 || !st[0].Running {
		t.Fatalf("status = %+v", st)
	}
	if err := rt.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWaitForTimesOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rt := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	// Not running: the position is never reached.
	pos := b.add(t, "a", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := rt.WaitFor(ctx, []string{"counts"}, pos)
	if !errors.Is(err, projections.ErrNotCaughtUp) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if err := rt.WaitFor(ctx, []string{"nope"}, pos); !errors.Is(err, projections.ErrUnknownProjection) {
		t.Fatalf("err = %v", err)
	}
	if err := rt.Ready(context.Background()); !errors.Is(err, projections.ErrNotReady) {
		t.Fatalf("Ready = %v", err)
	}
}

func TestReadyBoundsLag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	rt := b.runtime(t, nil, projections.Config{ReadyMaxLag: 20 * time.Millisecond}, &counts{version: 1})
	if err := rt.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.Ready(ctx); err != nil {
		t.Fatalf("Ready with nothing to apply: %v", err)
	}
	pos := b.add(t, "a", 1)
	time.Sleep(50 * time.Millisecond)
	if err := rt.Ready(ctx); !errors.Is(err, projections.ErrNotReady) || !strings.Contains(err.Error(), "behind the log") {
		t.Fatalf("Ready while the read model lags = %v", err)
	}
	run(t, rt)
	waitFor(t, rt, pos)
	if err := rt.Ready(ctx); err != nil {
		t.Fatalf("Ready once caught up: %v", err)
	}
}

func TestFailingEventStopsRetriesAndNeverSkips(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var broken atomic.Bool
	broken.Store(true)
	var attempts atomic.Int32
	p := &counts{version: 1, fail: func(e *projections.Event) error {
		if e.Data.(added).Key == "poison" && broken.Load() {
			attempts.Add(1)
			return errors.New("boom")
		}
		return nil
	}}
	b.add(t, "a", 1)
	poison := b.add(t, "poison", 2)
	last := b.add(t, "a", 3)
	reg := prometheus.NewPedanticRegistry()
	rt := b.runtime(t, nil, projections.Config{Metrics: reg, BatchSize: 1}, p)
	run(t, rt)

	// The worker stops at the poison event and keeps retrying.
	deadline := time.Now().Add(20 * time.Second)
	var st []projections.Status
	for attempts.Load() < 3 || len(st) == 0 || st[0].LastError == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no recorded failure; status %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
		var err error
		if st, err = rt.Status(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	s := st[0]
	if !s.Position.Less(poison) || s.Failures < 1 || !s.Failing() {
		t.Fatalf("status = %+v", s)
	}
	for _, want := range []string{"TestAdded", "position " + poison.String(), "boom"} {
		if !strings.Contains(s.LastError, want) {
			t.Errorf("last error %q does not contain %q", s.LastError, want)
		}
	}
	if s.LagEvents < 2 {
		t.Errorf("lag = %d events, want >= 2", s.LagEvents)
	}
	if n := testutil.CollectAndCount(reg, "evcrm_projection_lag_events"); n != 1 {
		t.Errorf("lag metric series = %d", n)
	}
	if v := testutil.ToFloat64(metricVec(t, reg, "evcrm_projection_failures_total")); v < 1 {
		t.Errorf("failures_total = %v", v)
	}
	// Nothing of the poison event's batch leaked, and nothing after it was applied.
	if got := totals(t, b.db); got["poison"] != "" || got["a"] != "1 [1]" {
		t.Fatalf("totals while failing = %v", got)
	}

	broken.Store(false)
	waitFor(t, rt, last)
	if got := totals(t, b.db); got["poison"] != "2 [2]" || got["a"] != "4 [1,3]" {
		t.Fatalf("totals after recovery = %v", got)
	}
	st, err := rt.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Failing() || st[0].Failures != 0 {
		t.Fatalf("error not cleared: %+v", st[0])
	}
}

// metricVec gathers one family from reg and returns its sum as a collector-free gauge.
func metricVec(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "sum"})
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				g.Add(m.GetCounter().GetValue())
			}
		}
	}
	return g
}

func TestUnsupportedSchemaVersionIsAnErrorNotASkip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, "a", 1)
	bad := b.append(t, "a", "TestAdded", 3, `{"key":"a","n":1}`) // newer than the registry knows
	rt := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	err := rt.Rebuild(context.Background(), "counts", projections.RebuildOptions{MaxFailures: 2})
	var ee *projections.EventError
	if !errors.As(err, &ee) || ee.Position != bad || ee.Type != "TestAdded" || !errors.Is(err, domain.ErrUnsupportedSchemaVersion) {
		t.Fatalf("err = %v", err)
	}
	// The failed build was dropped.
	st, err := rt.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st[0].State != "missing" {
		t.Fatalf("status after failed rebuild = %+v", st)
	}
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)", b.db.Schema+"__").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d generation schemas left (%v)", n, err)
	}
}

func TestRebuildSwapsWhileServing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 50 {
		b.add(t, fmt.Sprint("k", i%7), i)
	}
	server := b.runtime(t, nil, projections.Config{BatchSize: 7}, &counts{version: 1})
	run(t, server)
	pos := b.add(t, "k0", 1000)
	waitFor(t, server, pos)
	before := totals(t, b.db)

	// A second process rebuilds while the server goes on writing.
	cli := b.runtime(t, nil, projections.Config{BatchSize: 5}, &counts{version: 1})
	stopWriting := make(chan struct{})
	wrote := make(chan eventstore.Position)
	go func() {
		var last eventstore.Position
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				wrote <- last
				return
			default:
			}
			last = b.add(t, "live", 1)
			time.Sleep(time.Millisecond)
		}
	}()
	var progress []projections.Progress
	err := cli.Rebuild(context.Background(), "counts", projections.RebuildOptions{Progress: func(p projections.Progress) { progress = append(progress, p) }})
	close(stopWriting)
	last := <-wrote
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) < 10 || !progress[len(progress)-1].Served {
		t.Fatalf("progress = %+v", progress[len(progress)-1])
	}
	waitFor(t, server, last)
	after := totals(t, b.db)
	for k, v := range before {
		if k != "live" && after[k] != v {
			t.Errorf("%s: %s before the rebuild, %s after", k, v, after[k])
		}
	}
	if n := strings.Count(after["live"], ",") + 1; !strings.HasPrefix(after["live"], fmt.Sprint(n, " [")) {
		t.Errorf("live = %s", after["live"])
	}
	st, err := server.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Generation != progress[0].Generation || st[0].State != projections.StateActive {
		t.Fatalf("status after rebuild = %+v", st)
	}
	// The old generation's schema is dropped.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := b.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)", b.db.Schema+"__").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d generation schemas, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRaisedVersionRebuildsInBackgroundThenSwaps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 30 {
		b.add(t, fmt.Sprint("k", i%3), i)
	}
	v1 := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	stop := run(t, v1)
	pos := b.add(t, "k0", 1)
	waitFor(t, v1, pos)
	stop()

	// An analyst's view on the served table.
	if _, err := b.db.Pool.Exec(context.Background(), "CREATE VIEW my_totals AS SELECT key, total FROM rm_test_counts"); err != nil {
		t.Fatal(err)
	}

	// The v2 build is held at its first event while v1 keeps serving.
	release := make(chan struct{})
	var held atomic.Bool
	v2p := &counts{version: 2, fail: func(e *projections.Event) error {
		if !held.Load() {
			held.Store(true)
			<-release
		}
		return nil
	}}
	v2 := b.runtime(t, nil, projections.Config{}, v2p)
	run(t, v2)
	deadline := time.Now().Add(10 * time.Second)
	for !held.Load() {
		if time.Now().After(deadline) {
			t.Fatal("v2 build did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := b.db.Pool.Exec(context.Background(), "SELECT doubled FROM rm_test_counts"); err == nil {
		t.Fatal("v2 served before it caught up")
	}
	if got := totals(t, b.db); got["k0"] == "" {
		t.Fatalf("v1 stopped serving during the v2 build: %v", got)
	}
	st, err := v2.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Version != 1 || st[1].Version != 2 || st[1].State != projections.StateBuilding {
		t.Fatalf("status during build = %+v", st)
	}
	close(release)
	pos = b.add(t, "k1", 1)
	waitFor(t, v2, pos)
	var doubled, total int
	if err := b.db.Pool.QueryRow(context.Background(), "SELECT sum(doubled), sum(total) FROM rm_test_counts").Scan(&doubled, &total); err != nil {
		t.Fatal(err)
	}
	if doubled != 2*total || total != 30*29/2+2 {
		t.Fatalf("doubled %d, total %d", doubled, total)
	}
	// v2 only added a column: the view was replaced in place and the
	// analyst's view on it survived, reading v2's rows.
	var viewTotal int
	if err := b.db.Pool.QueryRow(context.Background(), "SELECT sum(total) FROM my_totals").Scan(&viewTotal); err != nil || viewTotal != total {
		t.Fatalf("my_totals after the swap: %d, %v", viewTotal, err)
	}

	// An older binary leaves the newer generation alone.
	old := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	run(t, old)
	time.Sleep(200 * time.Millisecond)
	st, err = old.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].Version != 2 {
		t.Fatalf("status with an older binary = %+v", st)
	}
}

// TestIncrementalEqualsRebuild is the runtime's property test: random
// histories applied in random batch sizes, with the worker killed at
// random points (a crash mid-batch rolls the batch back) and restarted,
// give the same rows as a rebuild from scratch.
func TestIncrementalEqualsRebuild(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			chunky := &projectiontest.Chunky{Store: b.store, Rand: rand.New(rand.NewPCG(b.rng.Uint64(), 2)), Max: 9}
			var crash atomic.Int64 // crash when this many more events have been applied
			p := &counts{version: 1, fail: func(e *projections.Event) error {
				if crash.Add(-1) == 0 {
					return errors.New("simulated crash")
				}
				return nil
			}}
			var last eventstore.Position
			for range 5 {
				for range 1 + b.rng.IntN(60) {
					if b.rng.IntN(5) == 0 {
						last = b.append(t, fmt.Sprint("k", b.rng.IntN(4)), "TestNoted", 1, `{"text":"x"}`)
					} else {
						last = b.add(t, fmt.Sprint("k", b.rng.IntN(6)), b.rng.IntN(100))
					}
				}
				crash.Store(1 + b.rng.Int64N(40))
				rt := b.runtime(t, chunky, projections.Config{BatchSize: 1 + b.rng.IntN(20)}, p)
				stop := run(t, rt)
				if b.rng.IntN(2) == 0 {
					time.Sleep(time.Duration(b.rng.IntN(30)) * time.Millisecond)
				} else {
					waitFor(t, rt, last)
				}
				stop()
			}
			crash.Store(-1 << 40)
			rt := b.runtime(t, chunky, projections.Config{}, p)
			stop := run(t, rt)
			waitFor(t, rt, last)
			stop()
			ctx := context.Background()
			incremental, err := projectiontest.Dump(ctx, b.db.Pool, rt, "counts")
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.Rebuild(ctx, "counts", projections.RebuildOptions{}); err != nil {
				t.Fatal(err)
			}
			rebuilt, err := projectiontest.Dump(ctx, b.db.Pool, rt, "counts")
			if err != nil {
				t.Fatal(err)
			}
			if incremental != rebuilt {
				t.Fatalf("incremental:\n%s\nrebuilt:\n%s", incremental, rebuilt)
			}
			if !strings.Contains(rebuilt, "rm_test_log") || strings.Count(rebuilt, "\n") < 10 {
				t.Fatalf("suspiciously small dump:\n%s", rebuilt)
			}
		})
	}
}

func TestTwoProcessesApplyEachEventOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.runtime(t, nil, projections.Config{BatchSize: 3}, &counts{version: 1})
	c := b.runtime(t, nil, projections.Config{BatchSize: 4}, &counts{version: 1})
	run(t, a)
	run(t, c)
	var last eventstore.Position
	for i := range 200 {
		last = b.add(t, fmt.Sprint("k", i%5), 1)
	}
	waitFor(t, a, last)
	waitFor(t, c, last)
	for k, v := range totals(t, b.db) {
		if !strings.HasPrefix(v, "40 [") {
			t.Errorf("%s = %s", k, v)
		}
	}
}

func testWriter(t *testing.T) io.Writer {
	if testing.Verbose() {
		return tw{t}
	}
	return io.Discard
}

type tw struct{ t *testing.T }

func (w tw) Write(p []byte) (int, error) { w.t.Log(strings.TrimSpace(string(p))); return len(p), nil }

var _ projections.EventCounter = (*postgres.Store)(nil)

// TestPostgresEventStore runs the runtime over the PostgreSQL event store,
// with concurrent writers whose transactions commit out of order.
func TestPostgresEventStore(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.Options{MaxConns: 16, Settings: allTenants.Settings})
	ctx := context.Background()
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	b := &bundle{db: db}
	rt := b.runtime(t, store, projections.Config{BatchSize: 7}, &counts{version: 1})

	// Half the events before the runtime starts, half while it runs.
	write := func(from, to int) eventstore.Position {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last eventstore.Position
		for w := range 4 {
			wg.Go(func() {
				for i := from; i < to; i++ {
					if i%4 != w {
						continue
					}
					res, err := store.Append(ctx, fmt.Sprintf("counter-%d", w), eventstore.Any, eventstore.EventData{ID: uuid.New(),
						Type: "TestAdded", SchemaVersion: 2, Data: json.RawMessage(fmt.Sprintf(`{"key":"k%d","n":1}`, w))})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if last.Less(res.Position) {
						last = res.Position
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return last
	}
	write(0, 200)
	st, err := rt.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].State != "missing" {
		t.Fatalf("status before start = %+v", st)
	}
	run(t, rt)
	last := write(200, 400)
	waitFor(t, rt, last)
	got := totals(t, db)
	for w := range 4 {
		if v := got[fmt.Sprint("k", w)]; !strings.HasPrefix(v, "100 [") {
			t.Errorf("k%d = %s", w, v)
		}
	}
	st, err = rt.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].EventsApplied != 400 || st[0].LagEvents != 0 || st[0].LagCapped {
		t.Fatalf("status = %+v", st[0])
	}
}

func TestUnknownEventTypeStopsEveryProjection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.add(t, "a", 1)
	unknown := b.append(t, "other", "SomethingNew", 1, `{"x":1}`) // written by a newer release
	b.add(t, "a", 2)
	rt := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	err := rt.Rebuild(context.Background(), "counts", projections.RebuildOptions{MaxFailures: 1})
	var ee *projections.EventError
	if !errors.As(err, &ee) || ee.Position != unknown || ee.Type != "SomethingNew" || !errors.Is(err, domain.ErrUnknownEventType) {
		t.Fatalf("err = %v", err)
	}
}

func TestTwoProcessesRaiseTheVersionTogether(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 20 {
		b.add(t, fmt.Sprint("k", i%3), i)
	}
	v1 := b.runtime(t, nil, projections.Config{}, &counts{version: 1})
	stop := run(t, v1)
	waitFor(t, v1, b.add(t, "k0", 1))
	stop()

	a := b.runtime(t, nil, projections.Config{BatchSize: 3}, &counts{version: 2})
	c := b.runtime(t, nil, projections.Config{BatchSize: 5}, &counts{version: 2})
	run(t, a)
	run(t, c)
	last := b.add(t, "k1", 1)
	waitFor(t, a, last)
	waitFor(t, c, last)
	var v2 int
	if err := b.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM evcrm_projections WHERE version = 2").Scan(&v2); err != nil || v2 != 1 {
		t.Fatalf("%d generations of version 2 (%v), want 1", v2, err)
	}
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLostLeaseStopsTheWorkerWhichResumes: when the session holding a
// generation's lease dies (terminated by the server here), the worker
// notices and stops, wins the lease back on a new session and resumes from
// its checkpoint: every event, including those appended meanwhile, is
// applied once.
func TestLostLeaseStopsTheWorkerWhichResumes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var logs lockedBuffer
	rt := b.runtime(t, nil, projections.Config{BatchSize: 3, Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, testWriter(t)), nil))},
		&counts{version: 1})
	run(t, rt)
	var last eventstore.Position
	for i := range 30 {
		last = b.add(t, fmt.Sprint("k", i%3), 1)
	}
	waitFor(t, rt, last)
	st, err := rt.Status(ctx)
	if err != nil || len(st) != 1 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	// holder returns the backend holding the generation's lease (the key
	// text the runtime always used), or 0.
	holder := func() (pid int) {
		t.Helper()
		err := b.db.Pool.QueryRow(ctx, `
			WITH k AS (SELECT hashtextextended('evcrm_projections:' || current_database() || '.' || current_schema() || ':' || $1::bigint, 0) AS key)
			SELECT coalesce((SELECT l.pid FROM pg_locks l, k WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
				AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				AND l.classid = ((k.key >> 32) & 4294967295)::oid AND l.objid = (k.key & 4294967295)::oid), 0)`,
			st[0].Generation).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := holder()
	if first == 0 {
		t.Fatal("no session holds the generation's lease")
	}
	var ok bool
	if err := b.db.Pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", first).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminating the lease session: %v, %v", ok, err)
	}
	for i := range 30 { // appended while the worker notices and waits for its lease again
		last = b.add(t, fmt.Sprint("k", i%3), 1)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pid := holder(); pid == 0 || pid == first; pid = holder() {
		if time.Now().After(deadline) {
			t.Fatal("the lease was not won back on a new session")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "lease lost") {
		t.Fatalf("the worker did not report its lost lease; logs:\n%s", logs.String())
	}
	for i := range 30 {
		last = b.add(t, fmt.Sprint("k", i%3), 1)
	}
	waitFor(t, rt, last)
	for k, v := range totals(t, b.db) {
		if !strings.HasPrefix(v, "30 [") {
			t.Errorf("%s = %s, want 30 events applied once", k, v)
		}
	}
	var n int
	if err := b.db.Pool.QueryRow(ctx, "SELECT count(*) FROM rm_test_log").Scan(&n); err != nil || n != 90 {
		t.Fatalf("rm_test_log has %d rows (%v), want 90", n, err)
	}
}
