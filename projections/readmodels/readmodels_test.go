package readmodels_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/projectiontest"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/jackc/pgx/v5"
)

func newRuntime(t *testing.T, db *pgtest.DB, store eventstore.Store, cfg projections.Config) *projections.Runtime {
	t.Helper()
	cfg.Pool, cfg.Store = db.Pool, store
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.Default()
	}
	cfg.PollInterval = 50 * time.Millisecond
	cfg.RetryMin, cfg.RetryMax = 10*time.Millisecond, 100*time.Millisecond
	rt, err := projections.New(context.Background(), cfg, readmodels.All()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

// catchUp runs rt until every read model has applied the log up to pos.
func catchUp(t *testing.T, rt *projections.Runtime, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	err := rt.WaitFor(wctx, nil, pos)
	wcancel()
	cancel()
	if rerr := <-done; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		st, _ := rt.Status(context.Background())
		for _, s := range st {
			t.Logf("%s: %s at %s, last error %s", s.Name, s.State, s.Position, s.LastError)
		}
		t.Fatal(err)
	}
}

// TestGolden pins every read model for the fixture history.
func TestGolden(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := memory.New(memory.WithClock(func() time.Time { return projectiontest.FixtureStart }))
	t.Cleanup(store.Close)
	s := projectiontest.NewScenario(t, store, projectiontest.FixtureStart)
	projectiontest.Fixture(s)
	rt := newRuntime(t, db, store, projections.Config{})
	catchUp(t, rt, s.Last())
	for _, p := range readmodels.All() {
		dump, err := projectiontest.Dump(context.Background(), db.Pool, rt, p.Name())
		if err != nil {
			t.Fatal(err)
		}
		projectiontest.Golden(t, p.Name(), []byte(dump))
	}
}

// crashy makes a projection fail after Apply has written a batch's rows,
// as a crash before commit would: the transaction must roll back.
type crashy struct {
	projections.Projection
	crash func() bool
}

func (c crashy) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	if err := c.Projection.Apply(ctx, tx, events); err != nil {
		return err
	}
	if c.crash() {
		return projections.Fail(&events[len(events)-1], errors.New("simulated crash before commit"))
	}
	return nil
}

// TestIncrementalEqualsRebuild is the read models' property test: a
// random history written through the aggregates, applied incrementally in
// random batch sizes, with crashes mid-batch and restarts, gives the same
// rows, table by table, as a rebuild from scratch.
func TestIncrementalEqualsRebuild(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	db := pgtest.New(t)
	store := memory.New()
	t.Cleanup(store.Close)
	s := projectiontest.NewScenario(t, store, projectiontest.FixtureStart)
	gen := projectiontest.NewRandomHistory(s, rng)

	var mu sync.Mutex
	crashRng := rand.New(rand.NewPCG(seed, 9))
	crashEvery, crashes := 0, 0
	crash := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if crashEvery > 0 && crashRng.IntN(crashEvery) == 0 {
			crashes++
			return true
		}
		return false
	}
	var ps []projections.Projection
	for _, p := range readmodels.All() {
		ps = append(ps, crashy{Projection: p, crash: crash})
	}
	chunky := &projectiontest.Chunky{Store: store, Rand: rand.New(rand.NewPCG(seed, 8)), Max: 40}
	ctx := context.Background()
	for round := range 6 {
		gen.Run(150)
		mu.Lock()
		crashEvery = 3
		mu.Unlock()
		rt := newRuntimeOf(t, db, chunky, projections.Config{BatchSize: 1 + rng.IntN(60)}, ps)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- rt.Run(runCtx) }()
		if round%2 == 0 {
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond) // killed wherever it is
		} else {
			wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
			if err := rt.WaitFor(wctx, nil, s.Last()); err != nil {
				t.Fatal(err)
			}
			wcancel()
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	crashEvery = 0
	mu.Unlock()
	rt := newRuntimeOf(t, db, chunky, projections.Config{}, ps)
	catchUp(t, rt, s.Last())
	t.Logf("%s; %d commands accepted; %d simulated crashes", s, gen.Accepted, crashes)
	if crashes == 0 {
		t.Error("no crash was simulated")
	}
	// Maintained aggregates agree with the rows they sum.
	var mismatches int
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT set_config($1, 'on', true)", projections.AllTenantsSetting); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `
		WITH want AS (
			SELECT tenant, pipeline, stage, currency, COALESCE(owner_id, '') AS owner_id, COALESCE(to_char(expected_close, 'YYYY-MM'), 'none') AS close_month,
				count(*) AS opportunities, sum(amount_minor) AS total_minor, sum(weighted_minor) AS weighted_minor
			FROM rm_pipeline_opportunities WHERE status = 'open' GROUP BY 1, 2, 3, 4, 5, 6
		), got AS (SELECT * FROM rm_pipeline_open_totals WHERE opportunities <> 0 OR total_minor <> 0 OR weighted_minor <> 0)
		SELECT count(*) FROM ((SELECT * FROM want EXCEPT SELECT * FROM got) UNION ALL (SELECT * FROM got EXCEPT SELECT * FROM want)) x`).
		Scan(&mismatches); err != nil || mismatches != 0 {
		t.Errorf("rm_pipeline_open_totals: %d rows differ from the open opportunities (%v)", mismatches, err)
	}
	_ = tx.Rollback(ctx) // read only; ends before the rebuild swaps views
	for _, p := range ps {
		incremental, err := projectiontest.Dump(ctx, db.Pool, rt, p.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Rebuild(ctx, p.Name(), projections.RebuildOptions{}); err != nil {
			t.Fatal(err)
		}
		rebuilt, err := projectiontest.Dump(ctx, db.Pool, rt, p.Name())
		if err != nil {
			t.Fatal(err)
		}
		if incremental != rebuilt {
			t.Errorf("%s: incremental and rebuilt read models differ:\n%s", p.Name(), lineDiff(incremental, rebuilt))
		}
		if strings.Count(rebuilt, "\n") < 20 {
			t.Errorf("%s: suspiciously small read model:\n%s", p.Name(), rebuilt)
		}
	}
}

func newRuntimeOf(t *testing.T, db *pgtest.DB, store eventstore.Store, cfg projections.Config, ps []projections.Projection) *projections.Runtime {
	t.Helper()
	cfg.Pool, cfg.Store = db.Pool, store
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.PollInterval = 20 * time.Millisecond
	cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	rt, err := projections.New(context.Background(), cfg, ps...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return rt
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 10; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d\n  incremental: %s\n  rebuilt:     %s", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}
