// Package app wires evcrm together: the PostgreSQL pool, the event store
// (PostgreSQL by default, or EventStoreDB), the command dispatcher with every
// aggregate, the API's token and idempotency stores, the HTTP server and the
// metrics registry. Other parts of evcrm (projections, process managers,
// the message bus) attach to an App with Go and the exported fields before
// Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/api/console"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/commands"
	_ "github.com/evcrm/evcrm/domain/all" // every event type, for replays and stream reads
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/config"
	"github.com/evcrm/evcrm/internal/lease"
	"github.com/evcrm/evcrm/internal/lifecycle"
	"github.com/evcrm/evcrm/internal/privacy"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// App is a running evcrm process's parts.
type App struct {
	Config config.Config
	Logger *slog.Logger
	Pool   *pgxpool.Pool
	Store  eventstore.Store
	// StoredEvents is the event store as stored: personal fields encrypted
	// (the audit log hashes it, the bus carries it). Store is the same
	// store read through the privacy decorator, when a master key is set.
	StoredEvents eventstore.Store
	// Privacy is the privacy decorator of the store (nil without a master key).
	Privacy    *privacy.Store
	Dispatcher *commands.Dispatcher
	Server     *api.Server
	Metrics    *prometheus.Registry
	Tokens     *apistore.Tokens
	Keys       *apistore.Keys
	// Projections runs the read models (see readside.go).
	Projections *projections.Runtime
	// Bus carries commands and events over watermill and runs the process
	// managers (see messaging.go).
	Bus *bus.Bus
	// Audit is the transparency log of the events (see audit.go).
	Audit *auditlog.Log

	leases *lease.Locker
	mu     sync.Mutex
	tasks  []lifecycle.Named
}

// New connects to the database and builds every part. The database must
// have been migrated (`evcrm migrate`).
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, version string) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	a := &App{Config: cfg, Logger: logger}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	a.Pool = pool
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}

	switch cfg.EventStore {
	case "esdb":
		a.Store, err = esdb.New(esdb.Config{ConnectionString: cfg.ESDBURL, Logger: logger})
	default:
		a.Store, err = postgres.New(ctx, pool, postgres.Config{Logger: logger, GroupCommit: cfg.GroupCommit})
	}
	if err != nil {
		return nil, fmt.Errorf("opening the %s event store: %w", cfg.EventStore, err)
	}
	if err := a.attachPrivacy(ctx); err != nil {
		return nil, err
	}

	a.Metrics = prometheus.NewRegistry()
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Aggregates with long streams (campaigns) start from a snapshot in
	// PostgreSQL, with either event store.
	a.Dispatcher, err = commands.NewDispatcher(a.Store, commands.Config{
		Snapshots:   apistore.NewSnapshots(pool),
		Logger:      logger,
		MaxBackdate: cfg.MaxBackdate,
	})
	if err != nil {
		return nil, err
	}
	if err := commands.RegisterDomain(a.Dispatcher, commands.Deps{Sequences: apistore.NewSequences(pool)}); err != nil {
		return nil, err
	}
	a.Dispatcher.Use(commands.Logging(logger), commands.Metrics(a.Metrics))

	a.Tokens = apistore.NewTokens(pool)
	a.Keys = apistore.NewKeys(pool)
	a.Server, err = api.New(api.Options{
		Dispatcher:      a.Dispatcher,
		Store:           a.Store,
		Auth:            a.Tokens,
		Keys:            a.Keys,
		Logger:          logger,
		Metrics:         a.Metrics,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		MaxImportBytes:  cfg.MaxImportBytes,
		Version:         version,
		ShutdownTimeout: cfg.ShutdownTimeout,
	})
	if err != nil {
		return nil, err
	}
	a.Server.Readiness().Add("database", pool.Ping)
	if cfg.EventStore == "esdb" {
		a.Server.Readiness().Add("eventstore", func(ctx context.Context) error {
			_, err := a.Store.Head(ctx)
			return err
		})
	}
	a.leases, err = lease.New(lease.Config{ConnConfig: pool.Config().ConnConfig, Logger: logger})
	if err != nil {
		return nil, err
	}
	a.GoOnce("idempotency-key-purger", a.purgeKeys)
	// Keys whose release failed in an outage are released once the
	// database is back (each process releases its own).
	a.Go("idempotency-key-releases", func(ctx context.Context) error { return a.Keys.RetryReleases(ctx, time.Second) })
	if err := a.attachReadSide(ctx); err != nil {
		return nil, err
	}
	if err := a.attachExport(); err != nil {
		return nil, err
	}
	if err := a.attachBus(ctx); err != nil {
		return nil, err
	}
	if err := a.attachAudit(ctx); err != nil {
		return nil, fmt.Errorf("starting the audit log: %w", err)
	}
	// The web console at /console reads through the API, as its users' tokens.
	con, err := console.New(console.Options{API: a.Server.Handler(), Auth: a.Tokens, Logger: logger})
	if err != nil {
		return nil, err
	}
	a.Server.Mount("/console", con)
	ok = true
	return a, nil
}

// Go adds a task that runs alongside the HTTP server in Run (a projection
// runtime, a process manager, a bus consumer). Its context ends after the
// server has finished its in-flight requests; a task that returns an error
// other than the context's stops the process.
func (a *App) Go(name string, run func(ctx context.Context) error) { a.Add(name, lifecycle.Func(run)) }

// Add adds a background service (package internal/lifecycle) that runs
// alongside the HTTP server in Run, as Go does.
func (a *App) Add(name string, s lifecycle.Service) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tasks = append(a.tasks, lifecycle.Named{Name: name, Service: s})
}

// GoOnce adds a task that runs in one evcrm process at a time among those
// sharing the database: it runs under the lease "app.<name>" (package
// internal/lease), waits while another process holds it, stops as soon as
// the lease is lost and runs again once it wins it back.
func (a *App) GoOnce(name string, run func(ctx context.Context) error) {
	a.Go(name, func(ctx context.Context) error { return a.leases.Run(ctx, LeasePrefix+name, run) })
}

// LeasePrefix starts the lease name of every task added with GoOnce.
const LeasePrefix = "app."

// Run serves HTTP on cfg.Addr and runs the tasks until ctx ends (SIGTERM),
// then shuts down gracefully: the server drains first, then the tasks stop.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", a.Config.Addr, err)
	}
	return a.Serve(ctx, ln)
}

// Serve is Run on a listener of the caller's. Its background services
// run under one contract (package internal/lifecycle): they start with the
// server; on ctx's end the server drains its in-flight requests first, then
// every service's context ends and Serve waits for all of them. A service
// that fails ends serving at once (and so every other service).
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	taskCtx, stopTasks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTasks()

	a.mu.Lock()
	services := make([]lifecycle.Named, 0, len(a.tasks))
	for _, t := range a.tasks {
		services = append(services, lifecycle.Named{Name: t.Name, Service: lifecycle.Func(func(ctx context.Context) error {
			err := t.Service.Run(ctx)
			if err != nil && ctx.Err() == nil {
				stopServing() // the process stops: the server drains
			}
			return err
		})})
	}
	a.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- lifecycle.Group(taskCtx, a.Logger, services...) }()
	serveErr := a.Server.Serve(serveCtx, ln)
	stopTasks()
	return errors.Join(serveErr, <-done)
}

// purgeKeys deletes expired idempotency keys every hour.
func (a *App) purgeKeys(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			n, err := a.Keys.Purge(ctx)
			if err != nil {
				a.Logger.Warn("purging idempotency keys", "error", err)
				continue
			}
			if n > 0 {
				a.Logger.Info("purged expired idempotency keys", "count", n)
			}
		}
	}
}

// Close releases the event store and the pool.
func (a *App) Close() {
	if a.Bus != nil {
		a.Bus.Close()
	}
	if a.Projections != nil {
		a.Projections.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
}
