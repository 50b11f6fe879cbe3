package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
)

func init() { subcommands = append(subcommands, newBenchCmd) }

// benchSubcommands become subcommands of `evcrm bench` (for example `evcrm
// bench projections`); other files of this package append to it in init.
var benchSubcommands []func() *cobra.Command

type benchOptions struct {
	events      int // events per single-event phase
	batchEvents int // events per batch phase
	batch       int // events per batch append / rows per raw transaction
	writers     int // concurrent writers of the concurrent phases
	rounds      int // runs of each append phase and its raw phase; the best counts
	readEvents  int // events the subscription phases read
	progress    bool
}

// Goals on the reference machine (2 cores, PostgreSQL on the same host).
const (
	goalSingleRatio = 0.7    // single-event appends vs raw inserts, at --writers writers
	goalBatchRatio  = 0.8    // batch appends vs raw batch inserts
	goalReadRate    = 100000 // events/s a subscription delivers
)

func newBenchCmd() *cobra.Command {
	o := benchOptions{progress: isTerminal(os.Stderr)}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the event store against raw PostgreSQL inserts on this machine",
		Long: `Measure, in one run on the database of --database-url (in a scratch schema
dropped at the end):

  raw      plain INSERTs into a copy of the events table (same columns, defaults and
           indexes, same row sizes), one row per transaction and --batch rows per
           transaction, by 1 and --writers connections: the ceiling for storing events;
  append   event store appends of one event and of --batch events per call, by 1 and
           --writers writers on distinct streams, with the ratio to the matching raw run
           (raw and append runs alternate --rounds times; each keeps its best run);
  read     a subscription catching up over --read-events events, unfiltered and with a
           filter that keeps one category in ten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return runBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	for _, sub := range benchSubcommands {
		cmd.AddCommand(sub())
	}
	f := cmd.Flags()
	f.IntVar(&o.events, "events", 20000, "events per single-event phase")
	f.IntVar(&o.batchEvents, "batch-events", 200000, "events per batch phase")
	f.IntVar(&o.batch, "batch", 100, "events per batch append (rows per raw transaction)")
	f.IntVar(&o.writers, "writers", 8, "concurrent writers (connections) of the concurrent phases")
	f.IntVar(&o.rounds, "rounds", 3, "runs of each write phase, alternating raw and append; the best run counts")
	f.IntVar(&o.readEvents, "read-events", 1_000_000, "events the subscription phases read (0: skip them)")
	f.BoolVar(&o.progress, "progress", o.progress, "show progress bars (default: when stderr is a terminal)")
	return cmd
}

func (o benchOptions) validate() error {
	var errs []error
	if o.events < 1 || o.batchEvents < 1 || o.readEvents < 0 {
		errs = append(errs, errors.New("--events and --batch-events must be positive, --read-events not negative"))
	}
	if o.batch < 2 || o.batch > 10000 {
		errs = append(errs, errors.New("--batch must be 2..10000"))
	}
	if o.writers < 1 || o.writers > 64 {
		errs = append(errs, errors.New("--writers must be 1..64"))
	}
	if o.rounds < 1 || o.rounds > 20 {
		errs = append(errs, errors.New("--rounds must be 1..20"))
	}
	return errors.Join(errs...)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// benchResult is one line of the report.
type benchResult struct {
	name    string
	events  int
	elapsed time.Duration
	raw     *benchResult // the raw run this one compares to
	goal    string       // what the line must reach, if anything
	met     bool
}

func (r *benchResult) rate() float64 { return float64(r.events) / r.elapsed.Seconds() }

// benchEnv is the scratch schema and what runs in it.
type benchEnv struct {
	o        benchOptions
	schema   string
	admin    *pgxpool.Pool // no search_path: creates and drops the schema
	pool     *pgxpool.Pool
	store    *postgres.Store
	data     []byte // one event's data
	meta     eventstore.Metadata
	metaJSON []byte
	log      io.Writer
}

// runBench writes the report to out and progress to log.
func runBench(ctx context.Context, out, log io.Writer, o benchOptions) error {
	env, err := newBenchEnv(ctx, o, log)
	if err != nil {
		return err
	}
	defer env.close()

	var pg string
	_ = env.pool.QueryRow(ctx, "SHOW server_version").Scan(&pg)
	fmt.Fprintf(out, "evcrm bench: PostgreSQL %s, schema %s, %d-byte data + %d-byte metadata per event\n",
		pg, env.schema, len(env.data), len(env.metaJSON))

	var results []*benchResult
	add := func(r *benchResult, err error) error {
		if err != nil {
			return err
		}
		results = append(results, r)
		return nil
	}
	w := o.writers
	type pair struct {
		label          string
		total, perCall int
		writers        int
		goal           float64
	}
	pairs := []pair{
		{"1 event per call, 1 writer", o.events, 1, 1, 0},
		{fmt.Sprintf("1 event per call, %d writers", w), o.events, 1, w, goalSingleRatio},
		{fmt.Sprintf("%d events per call, 1 writer", o.batch), o.batchEvents, o.batch, 1, 0},
		{fmt.Sprintf("%d events per call, %d writers", o.batch, w), o.batchEvents, o.batch, w, goalBatchRatio},
	}
	for _, p := range pairs {
		if p.writers == 1 && w == 1 && p.goal == 0 {
			continue // the concurrent line is the same run
		}
		// Raw and append runs alternate; each line keeps its best round,
		// which filters out moments when something else used the machine.
		rawName := "raw insert, " + strings.Replace(p.label, "event", "row", 1)
		appName := "append, " + p.label
		var raw, app *benchResult
		for round := range o.rounds {
			suffix := ""
			if o.rounds > 1 {
				suffix = fmt.Sprintf(" #%d", round+1)
			}
			r, err := env.runRaw(ctx, rawName+suffix, p.total, p.perCall, p.writers)
			if err != nil {
				return err
			}
			a, err := env.runAppend(ctx, appName+suffix, p.total, p.perCall, p.writers)
			if err != nil {
				return err
			}
			raw, app = faster(raw, r), faster(app, a)
		}
		raw.name, app.name = rawName, appName
		results = append(results, raw, app)
		app.raw = raw
		if p.goal > 0 {
			app.goal = fmt.Sprintf(">= %.2f of raw", p.goal)
			app.met = app.rate()/raw.rate() >= p.goal
		}
	}
	if o.readEvents > 0 {
		if err := env.load(ctx, o.readEvents); err != nil {
			return err
		}
		for _, f := range []struct {
			name   string
			filter eventstore.Filter
			want   int
		}{
			{"subscribe, all events", eventstore.Filter{}, o.readEvents},
			{"subscribe, 1 category of 10", eventstore.Filter{Categories: []string{"c3"}}, countCategory(o.readEvents, 3)},
		} {
			r, err := env.runSubscribe(ctx, f.name, f.filter, f.want)
			if err := add(r, err); err != nil {
				return err
			}
			if len(f.filter.Categories) == 0 {
				r.goal = fmt.Sprintf(">= %d/s", goalReadRate)
				r.met = r.rate() >= goalReadRate
			} else {
				r.name += fmt.Sprintf(" (%d scanned)", o.readEvents)
			}
		}
	}
	printBench(out, results)
	return nil
}

// faster returns the better of two runs of a phase (a may be nil).
func faster(a, b *benchResult) *benchResult {
	if a == nil || b.rate() > a.rate() {
		return b
	}
	return a
}

func printBench(out io.Writer, results []*benchResult) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "phase\t%9s\t%8s\t%9s\t%6s\tgoal\n", "events", "seconds", "events/s", "vs raw")
	for _, r := range results {
		ratio, goal := "", ""
		if r.raw != nil {
			ratio = fmt.Sprintf("%.2f", r.rate()/r.raw.rate())
		}
		if r.goal != "" {
			goal = r.goal + map[bool]string{true: " met", false: " MISSED"}[r.met]
		}
		fmt.Fprintf(tw, "%s\t%9d\t%8.2f\t%9.0f\t%6s\t%s\n", r.name, r.events, r.elapsed.Seconds(), r.rate(), ratio, goal)
	}
	tw.Flush()
}

func newBenchEnv(ctx context.Context, o benchOptions, log io.Writer) (*benchEnv, error) {
	admin, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	env := &benchEnv{o: o, admin: admin, schema: "evcrm_bench_" + hex.EncodeToString(id[:]), log: log}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+env.schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("creating the scratch schema: %w", err)
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		env.close()
		return nil, err
	}
	pcfg.ConnConfig.RuntimeParams["search_path"] = env.schema
	pcfg.MaxConns = int32(o.writers + 4)
	if env.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		env.close()
		return nil, err
	}
	if err := postgres.Migrate(ctx, env.pool); err != nil {
		env.close()
		return nil, err
	}
	// The raw table is a copy of the events table: same columns, defaults,
	// identity and indexes.
	if _, err := env.pool.Exec(ctx, `CREATE TABLE bench_raw (LIKE evcrm_events INCLUDING ALL)`); err != nil {
		env.close()
		return nil, fmt.Errorf("creating the raw table: %w", err)
	}
	if env.store, err = postgres.New(ctx, env.pool, postgres.Config{}); err != nil {
		env.close()
		return nil, err
	}
	env.data = []byte(`{"case_id":"5f0b6a52-8f0e-4c55-9d7e-3a1f9b2c4d61","customer_id":"0c9e8a47-51d3-4b7a-a1e2-7d6c5b4a3f21",` +
		`"channel":"email","category":"service","priority":"high","subject":"Replacement part delivered damaged",` +
		`"description":"The customer reports that the replacement pump housing arrived cracked; photos attached to the ticket.",` +
		`"product":{"sku":"PMP-2210-H","serial":"SN-0048213"},"sla_hours":24}`)
	env.meta = eventstore.Metadata{
		CorrelationID: uuid.New(), CausationID: uuid.New(), Actor: "user-3f2a9c", ActorRole: "service_agent",
		Source: "web", Tenant: "acme", OccurredAt: time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC),
	}
	env.metaJSON, _ = json.Marshal(env.meta)
	return env, nil
}

func (env *benchEnv) close() {
	if env.store != nil {
		env.store.Close()
	}
	if env.pool != nil {
		env.pool.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := env.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+env.schema+" CASCADE"); err != nil {
		fmt.Fprintf(env.log, "evcrm bench: dropping schema %s: %v\n", env.schema, err)
	}
	env.admin.Close()
}

// bar shows progress of a phase on stderr (or nothing).
func (env *benchEnv) bar(name string, total int) *progressbar.ProgressBar {
	return progressbar.NewOptions64(int64(total),
		progressbar.OptionSetVisibility(env.o.progress),
		progressbar.OptionSetWriter(env.log),
		progressbar.OptionSetDescription(fmt.Sprintf("%-40s", name)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// drive runs calls of perCall events from writers goroutines until total
// events are written, and times it. call gets the writer and its own call
// number.
func (env *benchEnv) drive(ctx context.Context, name string, total, perCall, writers int, call func(ctx context.Context, w, i int) error) (*benchResult, error) {
	calls := int64(total / perCall)
	bar := env.bar(name, int(calls)*perCall)
	defer bar.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for i := 0; next.Add(1) <= calls; i++ {
				if err := call(ctx, w, i); err != nil {
					errc <- err
					cancel()
					return
				}
				_ = bar.Add(perCall)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !env.o.progress {
		fmt.Fprintf(env.log, "%-50s %8.0f events/s\n", name, float64(calls)*float64(perCall)/elapsed.Seconds())
	}
	return &benchResult{name: name, events: int(calls) * perCall, elapsed: elapsed}, nil
}

// streamOf names the stream writer w uses for its call i: a new stream every
// 10 calls, as CRM streams are short.
func streamOf(phase string, w, i int) (string, uint64) {
	return fmt.Sprintf("%s%d-%d", phase, w, i/10), uint64(i % 10)
}

var benchPhase atomic.Int64

func (env *benchEnv) runRaw(ctx context.Context, name string, total, perCall, writers int) (*benchResult, error) {
	phase := fmt.Sprintf("raw%d_", benchPhase.Add(1))
	if perCall == 1 {
		const q = `INSERT INTO bench_raw (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
		return env.drive(ctx, name, total, 1, writers, func(ctx context.Context, w, i int) error {
			stream, v := streamOf(phase, w, i)
			_, err := env.pool.Exec(ctx, q, [16]byte(uuid.New()), stream, eventstore.Category(stream), int64(v+1), "CaseOpened", 1, env.data, env.metaJSON)
			return err
		})
	}
	const q = `INSERT INTO bench_raw (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
		SELECT u.id, $2, $3, $4 + u.ord, u.typ, u.sv, u.d, u.m
		  FROM unnest($1::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[]) WITH ORDINALITY AS u(id, typ, sv, d, m, ord)`
	return env.drive(ctx, name, total, perCall, writers, func(ctx context.Context, w, i int) error {
		stream, v := streamOf(phase, w, i)
		ids := make([][16]byte, perCall)
		types := make([]string, perCall)
		svs := make([]int32, perCall)
		data := make([][]byte, perCall)
		meta := make([][]byte, perCall)
		for j := range perCall {
			ids[j] = uuid.New()
			types[j], svs[j], data[j], meta[j] = "CaseOpened", 1, env.data, env.metaJSON
		}
		_, err := env.pool.Exec(ctx, q, ids, stream, eventstore.Category(stream), int64(v)*int64(perCall), types, svs, data, meta)
		return err
	})
}

func (env *benchEnv) runAppend(ctx context.Context, name string, total, perCall, writers int) (*benchResult, error) {
	phase := fmt.Sprintf("app%d_", benchPhase.Add(1))
	return env.drive(ctx, name, total, perCall, writers, func(ctx context.Context, w, i int) error {
		stream, v := streamOf(phase, w, i)
		evs := make([]eventstore.EventData, perCall)
		for j := range evs {
			evs[j] = eventstore.EventData{ID: uuid.New(), Type: "CaseOpened", SchemaVersion: 1, Data: env.data, Metadata: env.meta}
		}
		_, err := env.store.Append(ctx, stream, eventstore.Exact(v*uint64(perCall)), evs...)
		return err
	})
}

// countCategory is how many of the n loaded events are in category c<k>.
func countCategory(n, k int) int { return n/10 + min(1, max(0, n%10-k)) }

// load replaces the log with n events written straight into the events
// table, in chunks, with categories c0..c9 taking turns.
func (env *benchEnv) load(ctx context.Context, n int) error {
	const chunk = 50000
	if _, err := env.pool.Exec(ctx, "TRUNCATE evcrm_events, evcrm_streams"); err != nil {
		return fmt.Errorf("emptying the log: %w", err)
	}
	bar := env.bar("loading events for the read phases", n)
	defer bar.Close()
	start := time.Now()
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n) - 1
		// g = 100a + 10b + c: stream c<c>-<a>, version b+1; every stream
		// gets versions 1..10.
		_, err := env.pool.Exec(ctx, `INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
			SELECT gen_random_uuid(), 'c' || (g % 10) || '-' || (g / 100), 'c' || (g % 10), (g / 10) % 10 + 1, 'CaseOpened', 1, $1, $2
			  FROM generate_series($3::bigint, $4::bigint) g`, env.data, env.metaJSON, from, to)
		if err != nil {
			return fmt.Errorf("loading events: %w", err)
		}
		_ = bar.Add(to - from + 1)
	}
	if _, err := env.pool.Exec(ctx, "VACUUM ANALYZE evcrm_events"); err != nil {
		return fmt.Errorf("vacuuming: %w", err)
	}
	if !env.o.progress {
		fmt.Fprintf(env.log, "%-50s %8.1f s\n", fmt.Sprintf("loaded %d events", n), time.Since(start).Seconds())
	}
	return nil
}

var errBenchDone = errors.New("done")

// runSubscribe times a subscription from the start of the log until it has
// delivered want events.
func (env *benchEnv) runSubscribe(ctx context.Context, name string, filter eventstore.Filter, want int) (*benchResult, error) {
	bar := env.bar(name, want)
	defer bar.Close()
	got := 0
	start := time.Now()
	err := env.store.Subscribe(ctx, eventstore.SubscribeOptions{Filter: filter}, func(_ context.Context, evs []eventstore.RecordedEvent) error {
		got += len(evs)
		_ = bar.Add(len(evs))
		if got >= want {
			return errBenchDone
		}
		return nil
	})
	elapsed := time.Since(start)
	if !errors.Is(err, errBenchDone) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !env.o.progress {
		fmt.Fprintf(env.log, "%-50s %8.0f events/s\n", name, float64(got)/elapsed.Seconds())
	}
	return &benchResult{name: name, events: got, elapsed: elapsed}, nil
}
