package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/lease"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Errors of the runtime. Match with errors.Is.
var (
	// ErrUnknownProjection: no projection of that name is registered.
	ErrUnknownProjection = errors.New("unknown projection")
	// ErrNotCaughtUp: WaitFor's context ended before the projections reached the position.
	ErrNotCaughtUp = errors.New("read model has not caught up")
	// ErrRebuildInProgress: another process is already rebuilding the projection.
	ErrRebuildInProgress = errors.New("projection rebuild already in progress")
	// ErrNotReady: a projection has no served generation yet.
	ErrNotReady = errors.New("read models not ready")

	errRetired = errors.New("generation retired")
	errMoved   = errors.New("checkpoint moved by another runner")
)

// Config configures a Runtime. Pool and Store are required.
type Config struct {
	// Pool connects to the database holding the read models; its
	// search_path's first schema is the serving schema.
	Pool *pgxpool.Pool
	// Store is the event store the projections follow.
	Store eventstore.Store
	// Registry decodes events (default domain.Events).
	Registry *domain.Registry
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// BatchSize caps the events applied in one transaction (default 500);
	// only a build chasing the live log past its target reads larger
	// pages, up to 16 x BatchSize (see catchUp).
	BatchSize int
	// RetryMin and RetryMax bound the backoff after a failure (default 500ms, 1m).
	RetryMin, RetryMax time.Duration
	// PollInterval is how often Run re-reads the catalog to pick up
	// rebuilds started elsewhere and resume orphaned ones (default 2s).
	PollInterval time.Duration
	// WaitPoll is how often WaitFor re-reads checkpoints written by other
	// processes (default 100ms); local progress wakes it at once.
	WaitPoll time.Duration
	// Metrics, if set, receives the runtime's Prometheus collectors.
	Metrics prometheus.Registerer
	// ReadyMaxLag bounds how far behind the log a served read model may be
	// for Ready to pass: the oldest event it has not applied must have been
	// recorded less than ReadyMaxLag ago (default 1m; negative: no bound).
	ReadyMaxLag time.Duration
}

func (c *Config) defaults() {
	if c.Registry == nil {
		c.Registry = domain.Events
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.ReadyMaxLag == 0 {
		c.ReadyMaxLag = time.Minute
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 500 * time.Millisecond
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(time.Minute, c.RetryMin)
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.WaitPoll <= 0 {
		c.WaitPoll = 100 * time.Millisecond
	}
}

// Validate reports every configuration problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("projections: Pool is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("projections: Store is required"))
	}
	if c.BatchSize < 0 {
		errs = append(errs, errors.New("projections: BatchSize must not be negative"))
	}
	return errors.Join(errs...)
}

// Runtime runs projections: it keeps each one's served generation up to
// date, builds new generations when a version is raised or a rebuild is
// asked for, and swaps them in. See the package documentation.
type Runtime struct {
	cfg     Config
	log     *slog.Logger
	list    []Projection
	byName  map[string]Projection
	base    string // serving schema
	catalog string // qualified catalog table
	seq     string // qualified generation sequence
	leases  *lease.Locker
	metrics *metrics

	mu       sync.Mutex
	served   map[string]servedAt // active generation's checkpoint, per projection
	changed  chan struct{}       // closed and replaced when served changes
	running  map[int64]*runningGen
	outdated map[string]int // projections whose served version is newer than ours
	wg       sync.WaitGroup
}

type runningGen struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// New validates the projections, creates the catalog if needed and returns
// a Runtime. It starts nothing: call Run (the server) or Rebuild (the CLI).
func New(ctx context.Context, cfg Config, ps ...Projection) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	r := &Runtime{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "projections"),
		byName:   map[string]Projection{},
		served:   map[string]servedAt{},
		changed:  make(chan struct{}),
		running:  map[int64]*runningGen{},
		outdated: map[string]int{},
	}
	var errs []error
	for _, p := range ps {
		if err := validate(p, cfg.Registry); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := r.byName[p.Name()]; dup {
			errs = append(errs, fmt.Errorf("projection %s registered twice", p.Name()))
			continue
		}
		r.byName[p.Name()] = p
		r.list = append(r.list, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := cfg.Pool.QueryRow(ctx, "SELECT current_schema()").Scan(&r.base); err != nil {
		return nil, fmt.Errorf("projections: reading the serving schema: %w", err)
	}
	if r.base == "" {
		return nil, errors.New("projections: the pool's search_path names no existing schema")
	}
	r.catalog = pgx.Identifier{r.base, "evcrm_projections"}.Sanitize()
	r.seq = pgx.Identifier{r.base, "evcrm_projections_generation_seq"}.Sanitize()
	if err := Migrate(ctx, cfg.Pool); err != nil {
		return nil, err
	}
	leases, err := newLeases(cfg.Pool.Config().ConnConfig, r.base, cfg.PollInterval, r.log)
	if err != nil {
		return nil, fmt.Errorf("projections: %w", err)
	}
	r.leases = leases
	r.metrics = newMetrics(r)
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(r.metrics); err != nil {
			return nil, fmt.Errorf("projections: registering metrics: %w", err)
		}
	}
	return r, nil
}

// Migrate creates the projection catalog (evcrm_projections) in the
// pool's serving schema if it does not exist. It is idempotent and safe to
// run from several processes at once; New runs it too. The read models'
// own tables are created by the runtime, generation by generation.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Serialise concurrent first starts: CREATE ... IF NOT EXISTS races otherwise.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('evcrm_projections:' || current_schema(), 0))"); err != nil {
			return fmt.Errorf("projections: locking catalog creation: %w", err)
		}
		if _, err := tx.Exec(ctx, catalogDDL); err != nil {
			return fmt.Errorf("projections: creating catalog: %w", err)
		}
		return nil
	})
}

// Projections returns the registered projections, in registration order.
func (r *Runtime) Projections() []Projection { return slices.Clone(r.list) }

// Projection returns the projection called name.
func (r *Runtime) Projection(name string) (Projection, error) {
	p, ok := r.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProjection, name)
	}
	return p, nil
}

// Close is kept for callers: every lease is released by the worker or
// command that took it, so there is nothing left to release.
func (r *Runtime) Close() {}

// Run keeps every projection's served generation up to date and builds
// the generations that are due, until ctx ends; it then stops the workers
// and returns nil. Run may be called by several processes at once: an
// lease per generation lets one of them work on it at a time.
func (r *Runtime) Run(ctx context.Context) error {
	defer r.stopAll()
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := r.reconcile(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("projections: reconcile failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *Runtime) stopAll() {
	r.mu.Lock()
	for _, rg := range r.running {
		rg.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// reconcile makes sure a generation of the current version exists for
// every projection, and that this process works on (or waits for the lease
// of) each of them.
func (r *Runtime) reconcile(ctx context.Context) error {
	gens, err := r.liveGens(ctx, r.cfg.Pool)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range r.list {
		if err := r.reconcileOne(ctx, p, gens); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.dropRetired(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *Runtime) reconcileOne(ctx context.Context, p Projection, all []generation) error {
	var active *generation
	var mine []generation // generations of our version, active or building
	var stale []generation
	for i := range all {
		g := all[i]
		if g.Name != p.Name() {
			continue
		}
		if g.State == StateActive {
			active = &all[i]
			r.setServed(g.Name, g.ID, g.Position)
		}
		switch {
		case g.Version == p.Version():
			mine = append(mine, g)
		case g.State == StateBuilding && g.Version < p.Version():
			stale = append(stale, g)
		}
	}
	r.mu.Lock()
	if active != nil && active.Version > p.Version() {
		if r.outdated[p.Name()] != active.Version {
			r.log.Warn("projections: the served generation is newer than this binary; not touching it",
				"projection", p.Name(), "served_version", active.Version, "our_version", p.Version())
		}
		r.outdated[p.Name()] = active.Version
		r.mu.Unlock()
		return nil
	}
	delete(r.outdated, p.Name())
	r.mu.Unlock()

	for _, g := range stale {
		if err := r.abandon(ctx, g); err != nil {
			return err
		}
	}
	if len(mine) == 0 {
		g, _, err := r.createGen(ctx, p, active == nil, false, true)
		if err != nil {
			return err
		}
		if active != nil {
			r.log.Info("projections: version raised; rebuilding in the background",
				"projection", p.Name(), "from_version", active.Version, "to_version", p.Version(), "generation", g.ID)
		}
		mine = append(mine, g)
	}
	for _, g := range mine {
		if err := r.start(ctx, p, g); err != nil {
			return err
		}
	}
	return nil
}

// Prepare creates the first generation (tables and served views) of every
// projection that has none yet, without applying any event, so the read
// models can be queried (and Ready passes) as soon as the server starts;
// Run then fills them. Run does the same on its own; Prepare only saves
// the wait for its first round.
func (r *Runtime) Prepare(ctx context.Context) error {
	gens, err := r.liveGens(ctx, r.cfg.Pool)
	if err != nil {
		return err
	}
	for _, p := range r.list {
		has := false
		for _, g := range gens {
			has = has || (g.Name == p.Name() && (g.State == StateActive || g.Version == p.Version()))
		}
		if !has {
			if _, _, err := r.createGen(ctx, p, true, false, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// start runs a worker for g under its lease (waiting for the lease while
// another process holds it) unless one runs or waits here already. A
// worker whose lease is lost stops and waits to win it again.
func (r *Runtime) start(ctx context.Context, p Projection, g generation) error {
	r.mu.Lock()
	_, busy := r.running[g.ID]
	r.mu.Unlock()
	if busy {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	rg := &runningGen{cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.running[g.ID] = rg
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(rg.done)
		defer cancel()
		err := r.leases.Run(wctx, leaseName(g.ID), func(ctx context.Context) error { return r.newWorker(p, g).run(ctx) })
		if err != nil && wctx.Err() == nil {
			r.log.Error("projections: worker stopped", "projection", p.Name(), "generation", g.ID, "err", err)
		}
		r.mu.Lock()
		delete(r.running, g.ID)
		r.mu.Unlock()
	}()
	return nil
}

// createGen creates a generation of p's current version in a new schema.
// With activate, it is served at once (the first generation ever: nothing
// to keep serving meanwhile). With lock, this process holds its advisory
// lease (returned; release it) before anyone else can see it. With reuse, a live generation of
// p's version created meanwhile by another process is returned instead.
func (r *Runtime) createGen(ctx context.Context, p Projection, activate, lock, reuse bool) (g generation, held *lease.Held, err error) {
	head, err := r.cfg.Store.Head(ctx)
	if err != nil {
		return g, nil, fmt.Errorf("projections: reading the log head: %w", err)
	}
	err = pgx.BeginFunc(ctx, r.cfg.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "evcrm_projections:"+r.base+":"+p.Name()); err != nil {
			return err
		}
		if reuse {
			existing, err := scanGen(tx.QueryRow(ctx, `SELECT `+genColumns+` FROM `+r.catalog+`
				WHERE name = $1 AND version = $2 AND state <> 'retired' ORDER BY generation DESC LIMIT 1`, p.Name(), p.Version()))
			if err == nil {
				g, activate = existing, false
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var id int64
		if err := tx.QueryRow(ctx, "SELECT nextval('"+r.seq+"')").Scan(&id); err != nil {
			return err
		}
		if activate {
			// Another process may have created the first generation meanwhile.
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+r.catalog+" WHERE name = $1 AND state = 'active')", p.Name()).Scan(&exists); err != nil {
				return err
			}
			activate = !exists
		}
		schema := fmt.Sprintf("%s__%s_v%d_g%d", r.base, p.Name(), p.Version(), id)
		if len(schema) > 63 {
			schema = fmt.Sprintf("evcrm__%s_v%d_g%d", p.Name(), p.Version(), id)
		}
		state := StateBuilding
		if activate {
			state = StateActive
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("creating schema %s: %w", schema, err)
		}
		if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, p.Schema()); err != nil {
			return fmt.Errorf("projection %s v%d: running its schema DDL: %w", p.Name(), p.Version(), err)
		}
		if err := isolate(ctx, tx, p.Name(), schema); err != nil {
			return err
		}
		g, err = scanGen(tx.QueryRow(ctx, `INSERT INTO `+r.catalog+` (generation, name, version, schema_name, state,
			target_commit, target_prepare, activated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $5 = 'active' THEN now() END)
			RETURNING `+genColumns, id, p.Name(), p.Version(), schema, state, head.Commit, head.Prepare))
		if err != nil {
			return fmt.Errorf("recording generation: %w", err)
		}
		if activate {
			if err := r.publish(ctx, tx, p, g, ""); err != nil {
				return err
			}
		}
		if lock {
			if held, err = r.leases.TryAcquire(ctx, leaseName(id)); err != nil {
				return fmt.Errorf("generation %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		if held != nil {
			held.Release()
		}
		return g, nil, fmt.Errorf("projections: creating a generation of %s: %w", p.Name(), err)
	}
	if activate {
		r.setServed(p.Name(), g.ID, eventstore.Start)
	}
	return g, held, nil
}

// abandon retires a building generation of an older version, unless
// someone still works on it.
func (r *Runtime) abandon(ctx context.Context, g generation) error {
	h, err := r.leases.TryAcquire(ctx, leaseName(g.ID))
	if errors.Is(err, lease.ErrHeld) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("projections: abandoning generation %d: %w", g.ID, err)
	}
	defer h.Release()
	_, err = r.cfg.Pool.Exec(h.Context(), `UPDATE `+r.catalog+` SET state = 'retired', retired_at = now(), updated_at = now()
		WHERE generation = $1 AND state = 'building'`, g.ID)
	if err != nil {
		return fmt.Errorf("projections: abandoning generation %d: %w", g.ID, err)
	}
	r.log.Info("projections: abandoned a build of an older version", "projection", g.Name, "version", g.Version, "generation", g.ID)
	return nil
}

// dropRetired drops the schemas of retired generations.
func (r *Runtime) dropRetired(ctx context.Context) error {
	rows, err := r.cfg.Pool.Query(ctx, `SELECT generation, schema_name FROM `+r.catalog+` WHERE state = 'retired' AND dropped_at IS NULL`)
	if err != nil {
		return fmt.Errorf("projections: listing retired generations: %w", err)
	}
	type gs struct {
		id     int64
		schema string
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (gs, error) {
		var x gs
		return x, row.Scan(&x.id, &x.schema)
	})
	if err != nil {
		return fmt.Errorf("projections: listing retired generations: %w", err)
	}
	var errs []error
	for _, x := range list {
		err := pgx.BeginFunc(ctx, r.cfg.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{x.schema}.Sanitize()+" CASCADE"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE "+r.catalog+" SET dropped_at = now() WHERE generation = $1", x.id)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("projections: dropping schema %s: %w", x.schema, err))
		}
	}
	return errors.Join(errs...)
}

// publish points the serving views at g's tables, retiring the previous
// active generation, in tx. Views whose definition stays compatible are
// replaced in place (so BI views built on them survive); others are
// dropped and recreated, which fails loudly if something depends on them.
func (r *Runtime) publish(ctx context.Context, tx pgx.Tx, p Projection, g generation, oldSchema string) error {
	rels, err := relations(ctx, tx, g.Schema)
	if err != nil {
		return err
	}
	if len(rels) == 0 {
		return fmt.Errorf("projection %s: its schema DDL created no tables", p.Name())
	}
	for _, rel := range rels {
		view := pgx.Identifier{r.base, rel}.Sanitize()
		def := "VIEW " + view + " AS SELECT * FROM " + pgx.Identifier{g.Schema, rel}.Sanitize()
		if _, err := tx.Exec(ctx, "SAVEPOINT evcrm_publish"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE OR REPLACE "+def); err != nil {
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT evcrm_publish"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "DROP VIEW IF EXISTS "+view); err != nil {
				return fmt.Errorf("projection %s: replacing view %s: %w", p.Name(), rel, err)
			}
			if _, err := tx.Exec(ctx, "CREATE "+def); err != nil {
				return fmt.Errorf("projection %s: creating view %s: %w", p.Name(), rel, err)
			}
		}
		if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT evcrm_publish"); err != nil {
			return err
		}
		comment := fmt.Sprintf("evcrm read model %s v%d (generation %d), rebuilt from events: read only", p.Name(), p.Version(), g.ID)
		if _, err := tx.Exec(ctx, "COMMENT ON VIEW "+view+" IS "+quoteLiteral(comment)); err != nil {
			return err
		}
	}
	if oldSchema != "" {
		old, err := relations(ctx, tx, oldSchema)
		if err != nil {
			return err
		}
		for _, rel := range old {
			if !slices.Contains(rels, rel) {
				if _, err := tx.Exec(ctx, "DROP VIEW IF EXISTS "+pgx.Identifier{r.base, rel}.Sanitize()); err != nil {
					return fmt.Errorf("projection %s: dropping view %s: %w", p.Name(), rel, err)
				}
			}
		}
	}
	return nil
}

func relations(ctx context.Context, q queryer, schema string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname`, schema)
	if err != nil {
		return nil, fmt.Errorf("projections: listing tables of %s: %w", schema, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// activate makes g the served generation, in tx (the transaction of its
// last catch-up batch).
func (r *Runtime) activate(ctx context.Context, tx pgx.Tx, p Projection, g generation) error {
	var oldID int64
	var oldSchema string
	err := tx.QueryRow(ctx, `SELECT generation, schema_name FROM `+r.catalog+` WHERE name = $1 AND state = 'active' FOR UPDATE`, p.Name()).
		Scan(&oldID, &oldSchema)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("projections: locking the served generation of %s: %w", p.Name(), err)
	default:
		if _, err := tx.Exec(ctx, `UPDATE `+r.catalog+` SET state = 'retired', retired_at = now(), updated_at = now() WHERE generation = $1`, oldID); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE `+r.catalog+` SET state = 'active', activated_at = now(), updated_at = now() WHERE generation = $1`, g.ID); err != nil {
		return err
	}
	return r.publish(ctx, tx, p, g, oldSchema)
}

// servedAt is where the served generation of a projection is.
type servedAt struct {
	gen int64
	pos eventstore.Position
}

// setServed records the checkpoint of the served generation gen of a
// projection. A checkpoint only moves forward within a generation; a
// new generation replaces the old one's (it may be behind it).
func (r *Runtime) setServed(name string, gen int64, pos eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur, ok := r.served[name]
	switch {
	case ok && cur.gen == gen && !cur.pos.Less(pos):
		return
	case ok && gen < cur.gen:
		return // a stale report about a generation already replaced
	}
	r.served[name] = servedAt{gen: gen, pos: pos}
	close(r.changed)
	r.changed = make(chan struct{})
}

// WaitFor blocks until every named projection's served read model has
// applied the log up to pos (inclusive), or ctx ends: it then returns an
// error wrapping ErrNotCaughtUp and ctx's error. An empty names list means
// all projections.
func (r *Runtime) WaitFor(ctx context.Context, names []string, pos eventstore.Position) error {
	if len(names) == 0 {
		for _, p := range r.list {
			names = append(names, p.Name())
		}
	}
	for _, n := range names {
		if _, ok := r.byName[n]; !ok {
			return fmt.Errorf("%w: %q", ErrUnknownProjection, n)
		}
	}
	if pos.IsZero() {
		return nil
	}
	t := time.NewTimer(0) // first poll at once: positions may be known only to other processes
	defer t.Stop()
	for {
		r.mu.Lock()
		behind := ""
		var at eventstore.Position
		for _, n := range names {
			if cur := r.served[n]; cur.pos.Less(pos) {
				behind, at = n, cur.pos
				break
			}
		}
		changed := r.changed
		r.mu.Unlock()
		if behind == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s is at %s, waiting for %s: %w", ErrNotCaughtUp, behind, at, pos, ctx.Err())
		case <-changed:
		case <-t.C:
			if err := r.refreshServed(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("projections: reading checkpoints", "err", err)
			}
			t.Reset(r.cfg.WaitPoll)
		}
	}
}

func (r *Runtime) refreshServed(ctx context.Context) error {
	rows, err := r.cfg.Pool.Query(ctx, `SELECT name, generation, position_commit, position_prepare FROM `+r.catalog+` WHERE state = 'active'`)
	if err != nil {
		return err
	}
	var name string
	var gen int64
	var pos eventstore.Position
	_, err = pgx.ForEachRow(rows, []any{&name, &gen, &pos.Commit, &pos.Prepare}, func() error {
		r.setServed(name, gen, pos)
		return nil
	})
	return err
}

// Ready reports whether every projection has a served generation (queries
// can run) that is caught up within Config.ReadyMaxLag: the oldest event a
// served read model has not applied yet was recorded less than ReadyMaxLag
// ago. A projection that lags further, or is stuck on a failing event, makes
// the process unready; Status and the metrics show the lag and the error.
func (r *Runtime) Ready(ctx context.Context) error {
	names := make([]string, 0, len(r.list))
	for _, p := range r.list {
		names = append(names, p.Name())
	}
	rows, err := r.cfg.Pool.Query(ctx, `SELECT DISTINCT ON (name) name, position_commit, position_prepare FROM `+r.catalog+`
		WHERE state = 'active' AND name = ANY($1) ORDER BY name, generation DESC`, names)
	if err != nil {
		return fmt.Errorf("%w: reading the projection catalog: %w", ErrNotReady, err)
	}
	var name string
	var pos eventstore.Position
	served := map[string]eventstore.Position{}
	if _, err := pgx.ForEachRow(rows, []any{&name, &pos.Commit, &pos.Prepare}, func() error {
		served[name] = pos
		return nil
	}); err != nil {
		return fmt.Errorf("%w: reading the projection catalog: %w", ErrNotReady, err)
	}
	if len(served) < len(names) {
		return fmt.Errorf("%w: %d of %d projections have no read model yet", ErrNotReady, len(names)-len(served), len(names))
	}
	if r.cfg.ReadyMaxLag < 0 {
		return nil
	}
	now := time.Now()
	for _, n := range names {
		next, err := r.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{After: served[n], Limit: 1})
		if err != nil {
			return fmt.Errorf("%w: reading the log after %s: %w", ErrNotReady, served[n], err)
		}
		if len(next) == 1 {
			if lag := now.Sub(next[0].RecordedAt); lag > r.cfg.ReadyMaxLag {
				return fmt.Errorf("%w: projection %s is %s behind the log (bound %s)", ErrNotReady, n, lag.Truncate(time.Second), r.cfg.ReadyMaxLag)
			}
		}
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Tables returns the names of the served tables (views in the serving
// schema) of a projection, sorted.
func (r *Runtime) Tables(ctx context.Context, name string) ([]string, error) {
	if _, err := r.Projection(name); err != nil {
		return nil, err
	}
	var schema string
	err := r.cfg.Pool.QueryRow(ctx, `SELECT schema_name FROM `+r.catalog+` WHERE name = $1 AND state = 'active'`, name).Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s has no served generation", ErrNotReady, name)
	}
	if err != nil {
		return nil, fmt.Errorf("projections: reading catalog: %w", err)
	}
	return relations(ctx, r.cfg.Pool, schema)
}
