package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // --pprof-addr
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/demo"
)

func init() { benchSubcommands = append(benchSubcommands, newBenchCommandsCmd) }

// Goals of issue 13 on the reference machine (2 cores, PostgreSQL on the
// same host): commands/s as a share of raw single-row INSERTs/s at the
// same concurrency, and WAL syncs per command at 1 client.
const (
	goalCmdRatio1     = 0.35
	goalCmdRatio16    = 0.5
	goalCmdP99At16    = 25 * time.Millisecond
	goalSyncsPerCmdAt = 1.5
	goalGroupRatio16  = 1.0 // with group commit
)

type cmdBenchOptions struct {
	clients  []int
	duration time.Duration
	url      string // a running server; empty: start one in a scratch schema
	token    string // admin token for --url
	jsonOut  string
	profile  string // CPU profile of this process (server included when started here)
	pprof    string // address to serve net/http/pprof on during the run
	group    int    // the server's EVCRM_GROUP_COMMIT
	keep     bool
	seed     int64
}

func newBenchCommandsCmd() *cobra.Command {
	o := cmdBenchOptions{token: os.Getenv("EVCRM_TOKEN")}
	var clients string
	cmd := &cobra.Command{
		Use:   "commands",
		Short: "Measure end-to-end HTTP commands against raw single-row INSERTs, at several concurrencies",
		Long: `Measure the whole command path: HTTP, authentication, idempotency, the aggregate's
decision, the append, and everything the commands set off (read models, process
managers, the audit log), in one run with the ceiling it is compared to:

  raw       single-row INSERTs into a copy of the events table from Go, by N
            connections for --duration: what PostgreSQL does on this machine;
  commands  a realistic mix (the demo's customer stories: registrations,
            interactions, leads, opportunity stages, cases and their responses,
            complaint steps, orders...) posted over HTTP by N clients for
            --duration, each client working through its own stories in order.

For each N of --clients it reports commands/s (accepted commands; refusals by the
domain are counted apart), latency p50/p99/p999, the ratio to raw INSERTs/s, and
PostgreSQL transactions (pg_stat_database.xact_commit of the database) and WAL
syncs (pg_stat_wal.wal_sync, the whole cluster: other activity on the server
counts too; the raw phase shows the baseline) per command, counted until the read
models have caught up. By default the bench starts the server in this process,
in a scratch schema dropped at the end; --url measures a running server instead
(then transactions and syncs include whatever else that server does).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.clients, err = parseClients(clients); err != nil {
				return err
			}
			if o.duration < 100*time.Millisecond {
				return errors.New("--duration must be at least 100ms")
			}
			if o.url != "" && o.token == "" {
				return errors.New("--url needs an admin token: --token or EVCRM_TOKEN")
			}
			return runCmdBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&clients, "clients", "1,16,64", "comma-separated numbers of concurrent clients, one phase each")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "length of each raw and each command phase")
	f.StringVar(&o.url, "url", "", "base URL of a running server (default: start one here in a scratch schema)")
	f.StringVar(&o.token, "token", o.token, "admin API token for --url (EVCRM_TOKEN)")
	f.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	f.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the command phases to this file (go tool pprof)")
	f.StringVar(&o.pprof, "pprof-addr", "", "serve net/http/pprof of this process on this address during the run (e.g. 127.0.0.1:6060)")
	f.IntVar(&o.group, "group-commit", cfg.GroupCommit, "group commit of the server started here: most appends per group, 0 off (EVCRM_GROUP_COMMIT)")
	f.BoolVar(&o.keep, "keep", false, "keep the scratch schema (to look at the data)")
	f.Int64Var(&o.seed, "seed", 0, "seed of the first client's stories (default: random, so runs never replay each other)")
	return cmd
}

func parseClients(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 512 {
			return nil, fmt.Errorf("--clients: %q is not a number of clients in 1..512", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// pgCounters are PostgreSQL's cumulative counters the bench reads around a phase.
type pgCounters struct {
	xacts    int64 // pg_stat_database.xact_commit of the current database
	walSyncs int64 // pg_stat_wal.wal_sync (cluster-wide)
}

func readCounters(ctx context.Context, pool *pgxpool.Pool) (pgCounters, error) {
	var c pgCounters
	err := pool.QueryRow(ctx, `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
		(SELECT wal_sync FROM pg_stat_wal)`).Scan(&c.xacts, &c.walSyncs)
	if err != nil {
		return c, fmt.Errorf("reading pg_stat_database and pg_stat_wal: %w", err)
	}
	return c, nil
}

// CmdPhase is one measured phase of the report (also its JSON form).
type CmdPhase struct {
	Kind        string  `json:"kind"` // "raw" or "commands"
	Clients     int     `json:"clients"`
	Ops         int64   `json:"ops"`     // inserts, or accepted commands
	Refused     int64   `json:"refused"` // commands the domain refused (4xx)
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"per_second"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	P999ms      float64 `json:"p999_ms"`
	XactsPerOp  float64 `json:"xacts_per_op"`
	SyncsPerOp  float64 `json:"wal_syncs_per_op"`
	VsRaw       float64 `json:"vs_raw,omitempty"`
	Load1Before float64 `json:"load1_before"`
	Load1After  float64 `json:"load1_after"`
}

// CmdBenchReport is the JSON document --json writes.
type CmdBenchReport struct {
	StartedAt   time.Time         `json:"started_at"`
	PostgreSQL  string            `json:"postgresql"`
	Settings    map[string]string `json:"settings"`
	Duration    string            `json:"phase_duration"`
	GroupCommit int               `json:"group_commit"`
	Phases      []CmdPhase        `json:"phases"`
	Goals       []string          `json:"goals"`
}

// cmdBench is the scratch schema, the server and what measures them.
type cmdBench struct {
	o        cmdBenchOptions
	log      io.Writer
	admin    *pgxpool.Pool // the database without a search_path: stats, schema
	schema   string
	dbURL    string // with search_path = schema
	nextSeed atomic.Int64
}

func runCmdBench(ctx context.Context, out, log io.Writer, o cmdBenchOptions) error {
	b := &cmdBench{o: o, log: log}
	if o.seed == 0 {
		var s [8]byte
		_, _ = crand.Read(s[:])
		o.seed = int64(uint64(s[0])<<32|uint64(s[1])<<24|uint64(s[2])<<16|uint64(s[3])<<8|uint64(s[4])) + 1
	}
	b.nextSeed.Store(o.seed)
	var err error
	if b.admin, err = pgxpool.New(ctx, cfg.DatabaseURL); err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer b.admin.Close()
	if err := b.createSchema(ctx); err != nil {
		return err
	}
	if !o.keep {
		defer b.dropSchema()
	}

	rep := CmdBenchReport{StartedAt: time.Now().UTC(), Duration: o.duration.String(), Settings: map[string]string{}, GroupCommit: o.group}
	_ = b.admin.QueryRow(ctx, "SHOW server_version").Scan(&rep.PostgreSQL)
	for _, s := range []string{"synchronous_commit", "fsync", "wal_sync_method", "commit_delay", "shared_buffers"} {
		var v string
		if err := b.admin.QueryRow(ctx, "SELECT current_setting($1)", s).Scan(&v); err == nil {
			rep.Settings[s] = v
		}
	}
	target := "a server started here"
	if o.url != "" {
		target = o.url
	}
	fmt.Fprintf(out, "evcrm bench commands: PostgreSQL %s, schema %s, %s per phase, against %s (group commit %d)\n",
		rep.PostgreSQL, b.schema, o.duration, target, o.group)

	if o.pprof != "" {
		ln, err := net.Listen("tcp", o.pprof)
		if err != nil {
			return fmt.Errorf("--pprof-addr: %w", err)
		}
		srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, n := range o.clients {
		raw, err := b.runRaw(ctx, n)
		if err != nil {
			return err
		}
		rep.Phases = append(rep.Phases, raw)
		cmds, err := b.runCommands(ctx, n)
		if err != nil {
			return err
		}
		cmds.VsRaw = cmds.PerSecond / raw.PerSecond
		rep.Phases = append(rep.Phases, cmds)
	}
	rep.Goals = cmdGoals(rep.Phases, o.group)
	printCmdBench(out, rep)
	if o.jsonOut != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", o.jsonOut, err)
		}
	}
	return nil
}

func (b *cmdBench) createSchema(ctx context.Context) error {
	var id [4]byte
	_, _ = crand.Read(id[:])
	b.schema = "evcrm_benchcmd_" + hex.EncodeToString(id[:])
	if _, err := b.admin.Exec(ctx, "CREATE SCHEMA "+b.schema); err != nil {
		return fmt.Errorf("creating the scratch schema: %w", err)
	}
	u, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("parsing the database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", b.schema)
	u.RawQuery = q.Encode()
	b.dbURL = u.String()
	pool, err := pgxpool.New(ctx, b.dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	for _, step := range migrationSteps {
		if step.Enabled != nil && !step.Enabled() {
			continue
		}
		if err := step.Run(ctx, pool); err != nil {
			return fmt.Errorf("migrating %s: %w", step.Name, err)
		}
	}
	// The raw table: a copy of the events table (columns, defaults,
	// identity, indexes), so a raw row costs what an event row costs.
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_raw (LIKE evcrm_events INCLUDING ALL)`); err != nil {
		return fmt.Errorf("creating the raw table: %w", err)
	}
	return nil
}

func (b *cmdBench) dropSchema() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Read-model generations live in schemas named "<schema>__...".
	if _, err := b.admin.Exec(ctx, `DO $$DECLARE s text; BEGIN
		FOR s IN SELECT nspname FROM pg_namespace WHERE starts_with(nspname, '`+b.schema+`__') OR nspname = '`+b.schema+`' LOOP
			EXECUTE format('DROP SCHEMA %I CASCADE', s);
		END LOOP; END$$`); err != nil {
		fmt.Fprintf(b.log, "evcrm bench commands: dropping schema %s: %v\n", b.schema, err)
	}
}

func load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	return f
}

// latencies collects durations from several goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) fill(p *CmdPhase) {
	slices.Sort(l.all)
	q := func(f float64) float64 {
		if len(l.all) == 0 {
			return 0
		}
		return float64(l.all[min(len(l.all)-1, int(f*float64(len(l.all))))]) / float64(time.Millisecond)
	}
	p.P50ms, p.P99ms, p.P999ms = q(0.50), q(0.99), q(0.999)
}

// measure runs phase with the counters read around it; settle runs after
// the phase and before the closing read (waiting for the read side, closing
// pools so their backends flush their statistics).
func (b *cmdBench) measure(ctx context.Context, p *CmdPhase, lat *latencies, phase func() error, settle func()) error {
	p.Load1Before = load1()
	before, err := readCounters(ctx, b.admin)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := phase(); err != nil {
		return err
	}
	p.Seconds = time.Since(start).Seconds()
	settle()
	// Backends and the WAL writer report their counters at most once a
	// second while busy, and at exit.
	time.Sleep(1500 * time.Millisecond)
	after, err := readCounters(ctx, b.admin)
	if err != nil {
		return err
	}
	p.Load1After = load1()
	p.PerSecond = float64(p.Ops) / p.Seconds
	lat.fill(p)
	if p.Ops > 0 {
		p.XactsPerOp = float64(after.xacts-before.xacts) / float64(p.Ops)
		p.SyncsPerOp = float64(after.walSyncs-before.walSyncs) / float64(p.Ops)
	}
	fmt.Fprintf(b.log, "%-9s %3d clients: %8.0f/s  p99 %6.1f ms  %5.2f xacts/op  %5.2f syncs/op  (load %.2f)\n",
		p.Kind, p.Clients, p.PerSecond, p.P99ms, p.XactsPerOp, p.SyncsPerOp, p.Load1After)
	return nil
}

// runRaw inserts single rows into bench_raw from n connections.
func (b *cmdBench) runRaw(ctx context.Context, n int) (CmdPhase, error) {
	p := CmdPhase{Kind: "raw", Clients: n}
	pcfg, err := pgxpool.ParseConfig(b.dbURL)
	if err != nil {
		return p, err
	}
	pcfg.MaxConns, pcfg.MinConns = int32(n), int32(n)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return p, err
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return p, err
	}
	data := []byte(`{"customer_id":"0c9e8a47-51d3-4b7a-a1e2-7d6c5b4a3f21","channel":"email","subject":"Replacement part delivered damaged",` +
		`"notes":"The customer reports that the replacement pump housing arrived cracked; photos attached to the ticket."}`)
	meta := []byte(`{"correlation_id":"7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d","actor":"user-3f2a9c","actor_role":"service","source":"web","tenant":"acme"}`)
	const q = `INSERT INTO bench_raw (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	var lat latencies
	var ops atomic.Int64
	phase := func() error {
		deadline := time.Now().Add(b.o.duration)
		var wg sync.WaitGroup
		errc := make(chan error, n)
		prefix := fmt.Sprintf("raw%d_%d-", n, time.Now().UnixNano())
		for w := range n {
			wg.Go(func() {
				local := make([]time.Duration, 0, 4096)
				for i := 0; time.Now().Before(deadline); i++ {
					stream := fmt.Sprintf("%s%d_%d", prefix, w, i/10)
					t0 := time.Now()
					if _, err := pool.Exec(ctx, q, [16]byte(uuid.New()), stream, eventstore.Category(stream), int64(i%10+1), "InteractionLogged", 1, data, meta); err != nil {
						errc <- fmt.Errorf("raw insert: %w", err)
						return
					}
					local = append(local, time.Since(t0))
					ops.Add(1)
				}
				lat.add(local)
			})
		}
		wg.Wait()
		close(errc)
		return <-errc
	}
	err = b.measure(ctx, &p, &lat, phase, func() {
		p.Ops = ops.Load()
		pool.Close()
	})
	return p, err
}

// server is where the command phase sends its requests.
type benchServer struct {
	base  string
	token string
	app   *app.App
	stop  func()
}

// startServer starts evcrm in this process on the scratch schema, with an
// admin token; or uses --url.
func (b *cmdBench) startServer(ctx context.Context) (*benchServer, error) {
	if b.o.url != "" {
		return &benchServer{base: strings.TrimRight(b.o.url, "/"), token: b.o.token, stop: func() {}}, nil
	}
	c := cfg
	c.DatabaseURL = b.dbURL
	c.Addr = "127.0.0.1:0"
	c.GroupCommit = b.o.group
	logger := slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := app.New(ctx, c, logger, version)
	if err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	secret, _, err := apistore.NewTokens(a.Pool).Create(ctx, "bench", auth.Admin, c.Tenant, time.Time{})
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("creating a token: %w", err)
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		a.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- a.Serve(runCtx, ln) }()
	s := &benchServer{base: "http://" + ln.Addr().String(), token: secret, app: a}
	s.stop = func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(b.log, "evcrm bench commands: server: %v\n", err)
		}
		a.Close()
	}
	return s, nil
}

// catchUp waits until the read models have applied every event written so far.
func (s *benchServer) catchUp(ctx context.Context) error {
	if s.app == nil {
		return nil
	}
	head, err := s.app.Store.Head(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return s.app.Projections.WaitFor(ctx, nil, head)
}

// runCommands posts the demo's stories from n clients.
func (b *cmdBench) runCommands(ctx context.Context, n int) (CmdPhase, error) {
	p := CmdPhase{Kind: "commands", Clients: n}
	srv, err := b.startServer(ctx)
	if err != nil {
		return p, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: n, MaxIdleConnsPerHost: n, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	sink, err := demo.NewHTTP(ctx, srv.base, srv.token, client)
	if err != nil {
		return p, err
	}
	// Stories are planned before the clock starts: enough for a client at
	// a few thousand commands per second, more planned if one runs out.
	plan := func() ([]demo.Step, error) {
		return demo.Plan(demo.Config{Customers: 40, Seed: b.nextSeed.Add(1)})
	}
	plans := make([][]demo.Step, n)
	for i := range plans {
		if plans[i], err = plan(); err != nil {
			return p, err
		}
	}
	var lat latencies
	var ops, refused atomic.Int64
	phase := func() error {
		deadline := time.Now().Add(b.o.duration)
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for w := range n {
			wg.Go(func() {
				steps := plans[w]
				local := make([]time.Duration, 0, 4096)
				defer func() { lat.add(local) }()
				for time.Now().Before(deadline) {
					if len(steps) == 0 {
						var err error
						if steps, err = plan(); err != nil {
							errc <- err
							return
						}
					}
					s := steps[0]
					steps = steps[1:]
					t0 := time.Now()
					err := sink.Send(ctx, s)
					d := time.Since(t0)
					var ref *demo.Refusal
					switch {
					case err == nil:
						ops.Add(1)
						local = append(local, d)
					case errors.As(err, &ref):
						refused.Add(1)
					default:
						errc <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		return <-errc
	}
	err = b.measure(ctx, &p, &lat, phase, func() {
		p.Ops, p.Refused = ops.Load(), refused.Load()
		if err := srv.catchUp(ctx); err != nil {
			fmt.Fprintf(b.log, "evcrm bench commands: waiting for the read models: %v\n", err)
		}
		srv.stop()
		stopped = true
	})
	return p, err
}

func cmdGoals(phases []CmdPhase, group int) []string {
	var goals []string
	met := map[bool]string{true: "met", false: "MISSED"}
	for _, p := range phases {
		if p.Kind != "commands" {
			continue
		}
		switch p.Clients {
		case 1:
			goals = append(goals,
				fmt.Sprintf("1 client: >= %.2f of raw: %.2f %s", goalCmdRatio1, p.VsRaw, met[p.VsRaw >= goalCmdRatio1]),
				fmt.Sprintf("1 client: <= %.1f WAL syncs per command: %.2f %s", goalSyncsPerCmdAt, p.SyncsPerOp, met[p.SyncsPerOp <= goalSyncsPerCmdAt]))
		case 16:
			goals = append(goals,
				fmt.Sprintf("16 clients: >= %.2f of raw: %.2f %s", goalCmdRatio16, p.VsRaw, met[p.VsRaw >= goalCmdRatio16]),
				fmt.Sprintf("16 clients: p99 < %v: %.1f ms %s", goalCmdP99At16, p.P99ms, met[p.P99ms < float64(goalCmdP99At16)/float64(time.Millisecond)]))
			if group > 0 {
				goals = append(goals, fmt.Sprintf("16 clients, group commit: >= %.2f of raw: %.2f %s", goalGroupRatio16, p.VsRaw, met[p.VsRaw >= goalGroupRatio16]))
			}
		}
	}
	return goals
}

func printCmdBench(out io.Writer, rep CmdBenchReport) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tclients\tops\trefused\tops/s\tvs raw\tp50 ms\tp99 ms\tp999 ms\txacts/op\tsyncs/op\tload\t")
	for _, p := range rep.Phases {
		ratio := ""
		if p.Kind == "commands" {
			ratio = fmt.Sprintf("%.2f", p.VsRaw)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			p.Kind, p.Clients, p.Ops, p.Refused, p.PerSecond, ratio, p.P50ms, p.P99ms, p.P999ms, p.XactsPerOp, p.SyncsPerOp, p.Load1After)
	}
	tw.Flush()
	for _, g := range rep.Goals {
		fmt.Fprintln(out, "goal:", g)
	}
}
