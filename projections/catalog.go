package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/jackc/pgx/v5"
)

// Generation states, as stored in the catalog.
const (
	StateBuilding = "building" // being filled in its own schema; not served
	StateActive   = "active"   // served through the views; at most one per projection
	StateRetired  = "retired"  // replaced; its schema is dropped
)

// catalogDDL creates the catalog in the serving schema. It is idempotent and
// additive: later releases only add columns with IF NOT EXISTS.
const catalogDDL = `
CREATE SEQUENCE IF NOT EXISTS evcrm_projections_generation_seq;
CREATE TABLE IF NOT EXISTS evcrm_projections (
	generation       bigint PRIMARY KEY,
	name             text NOT NULL,
	version          integer NOT NULL,
	schema_name      text NOT NULL UNIQUE,
	state            text NOT NULL CHECK (state IN ('building', 'active', 'retired')),
	position_commit  bigint NOT NULL DEFAULT 0,
	position_prepare bigint NOT NULL DEFAULT 0,
	events_seen      bigint NOT NULL DEFAULT 0,
	events_applied   bigint NOT NULL DEFAULT 0,
	last_event_at    timestamptz,
	target_commit    bigint NOT NULL DEFAULT 0,
	target_prepare   bigint NOT NULL DEFAULT 0,
	failures         integer NOT NULL DEFAULT 0,
	last_error       text,
	last_error_at    timestamptz,
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	activated_at     timestamptz,
	retired_at       timestamptz,
	dropped_at       timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS evcrm_projections_one_active ON evcrm_projections (name) WHERE state = 'active';
COMMENT ON TABLE evcrm_projections IS 'evcrm projection generations: checkpoint, state and last error of each read model build';
CREATE TABLE IF NOT EXISTS evcrm_projections_skipped (
	projection       text NOT NULL,
	event_id         uuid NOT NULL,
	position_commit  bigint NOT NULL,
	position_prepare bigint NOT NULL,
	event_type       text NOT NULL,
	stream_id        text NOT NULL,
	stream_version   bigint NOT NULL,
	reason           text NOT NULL,
	skipped_by       text NOT NULL,
	skipped_at       timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (projection, event_id)
);
COMMENT ON TABLE evcrm_projections_skipped IS 'Events an operator made a read model skip (evcrm projections skip); each is also recorded as a ProjectionEventSkipped event';
`

// generation is one build of a projection, in its own schema.
type generation struct {
	ID          int64
	Name        string
	Version     int
	Schema      string
	State       string
	Position    eventstore.Position
	EventsSeen  int64
	Applied     int64
	LastEventAt *time.Time
	Target      eventstore.Position
	Failures    int
	LastError   *string
	LastErrorAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ActivatedAt *time.Time
}

const genColumns = `generation, name, version, schema_name, state, position_commit, position_prepare,
	events_seen, events_applied, last_event_at, target_commit, target_prepare, failures, last_error,
	last_error_at, created_at, updated_at, activated_at`

func scanGen(row pgx.Row) (generation, error) {
	var g generation
	err := row.Scan(&g.ID, &g.Name, &g.Version, &g.Schema, &g.State, &g.Position.Commit, &g.Position.Prepare,
		&g.EventsSeen, &g.Applied, &g.LastEventAt, &g.Target.Commit, &g.Target.Prepare, &g.Failures, &g.LastError,
		&g.LastErrorAt, &g.CreatedAt, &g.UpdatedAt, &g.ActivatedAt)
	return g, err
}

// queryer is what catalog reads need (a pool, a conn or a tx).
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// liveGens returns the building and active generations, by name then generation.
func (r *Runtime) liveGens(ctx context.Context, q queryer) ([]generation, error) {
	rows, err := q.Query(ctx, `SELECT `+genColumns+` FROM `+r.catalog+
		` WHERE state <> 'retired' ORDER BY name, generation`)
	if err != nil {
		return nil, fmt.Errorf("projections: reading catalog: %w", err)
	}
	gens, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (generation, error) { return scanGen(row) })
	if err != nil {
		return nil, fmt.Errorf("projections: reading catalog: %w", err)
	}
	return gens, nil
}

func (r *Runtime) loadGen(ctx context.Context, q queryer, id int64) (generation, error) {
	g, err := scanGen(q.QueryRow(ctx, `SELECT `+genColumns+` FROM `+r.catalog+` WHERE generation = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return g, fmt.Errorf("projections: generation %d: %w", id, errRetired)
	}
	if err != nil {
		return g, fmt.Errorf("projections: reading generation %d: %w", id, err)
	}
	return g, nil
}
