package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/lease"
)

// Schema creates the tables of this package. It is idempotent; Migrate runs it.
const Schema = `
CREATE TABLE IF NOT EXISTS bus_checkpoints (
	name             text PRIMARY KEY,
	commit_position  bigint NOT NULL CHECK (commit_position >= 0),
	prepare_position bigint NOT NULL CHECK (prepare_position >= 0),
	updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bus_checkpoints IS
	'evcrm: global-log position up to which each event forwarder has published to the message bus';
`

// Migrate creates the tables of this package if they do not exist. It is
// safe to run from several processes at once.
func Migrate(ctx context.Context, db *pgxpool.Pool) error {
	if err := MigrateSchema(ctx, db, "bus", Schema); err != nil {
		return fmt.Errorf("creating bus tables: %w", err)
	}
	return nil
}

// MigrateSchema runs idempotent DDL in one transaction under an advisory
// lock named after component, so concurrent migrations do not race on
// CREATE ... IF NOT EXISTS.
func MigrateSchema(ctx context.Context, db *pgxpool.Pool, component, ddl string) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockKeySQL+`)`, "migrate/"+component); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ddl)
		return err
	})
}

// Checkpoints stores forwarders' positions in PostgreSQL.
type Checkpoints struct {
	db       *pgxpool.Pool
	once     sync.Once
	leases   *lease.Locker
	leaseErr error
}

// NewCheckpoints returns a checkpoint store on db (Migrate must have run).
func NewCheckpoints(db *pgxpool.Pool) *Checkpoints { return &Checkpoints{db: db} }

// Load returns the checkpoint of name, or eventstore.Start if it has none.
func (c *Checkpoints) Load(ctx context.Context, name string) (eventstore.Position, error) {
	var commit, prepare int64
	err := c.db.QueryRow(ctx,
		`SELECT commit_position, prepare_position FROM bus_checkpoints WHERE name = $1`, name).Scan(&commit, &prepare)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Start, fmt.Errorf("loading checkpoint %q: %w", name, err)
	}
	return eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, nil
}

// Save moves the checkpoint of name forward to p. It never moves a
// checkpoint backwards: a stale writer cannot undo a newer one's progress.
func (c *Checkpoints) Save(ctx context.Context, name string, p eventstore.Position) error {
	if p.Commit > 1<<63-1 || p.Prepare > 1<<63-1 {
		return fmt.Errorf("saving checkpoint %q: position %s out of range", name, p)
	}
	// One round trip, one implicit transaction: the checkpoint commits
	// without waiting for its WAL flush. Losing it in a crash of PostgreSQL
	// only republishes events, which delivery is at least once anyway (the
	// process managers' commands have deterministic IDs).
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	b.Queue(`
INSERT INTO bus_checkpoints (name, commit_position, prepare_position) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE
SET commit_position = excluded.commit_position, prepare_position = excluded.prepare_position, updated_at = now()
WHERE (bus_checkpoints.commit_position, bus_checkpoints.prepare_position)
    < (excluded.commit_position, excluded.prepare_position)`,
		name, int64(p.Commit), int64(p.Prepare))
	if err := c.db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("saving checkpoint %q: %w", name, err)
	}
	return nil
}

// Lock takes the lease of name (package lease: a watched PostgreSQL
// advisory lock on a dedicated connection), waiting until it is free or ctx
// ends, so only one process at a time runs the singleton called name. held
// ends when ctx does or when the lease is lost (its session failed: another
// process may take over); unlock releases it.
func (c *Checkpoints) Lock(ctx context.Context, name string) (held context.Context, unlock func(), err error) {
	c.once.Do(func() {
		// The forwarder lock's key has always been this one: old and new
		// instances exclude each other during a rolling upgrade.
		c.leases, c.leaseErr = lease.New(lease.Config{ConnConfig: c.db.Config().ConnConfig, Namespace: "evcrm.bus/", Logger: slog.New(slog.DiscardHandler)})
	})
	if c.leaseErr != nil {
		return nil, nil, fmt.Errorf("locking %q: %w", name, c.leaseErr)
	}
	h, err := c.leases.Acquire(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("locking %q: %w", name, err)
	}
	return h.Context(), h.Release, nil
}

// lockKeySQL maps a singleton's name ($1) into the advisory-lock key space,
// in a namespace of its own ("evcrm.bus/") and per schema: advisory locks
// are database-wide, and two deployments (or two tests) in separate schemas
// of one database must not share a forwarder lock.
const lockKeySQL = `hashtextextended('evcrm.bus/' || current_schema() || '/' || $1, 0)`
