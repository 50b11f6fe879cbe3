package apistore

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/commands"
)

// Snapshots is the commands.SnapshotStore in the evcrm_snapshots table: one
// row per tenant and stream, the latest snapshot. State must be JSON (jsonb column).
type Snapshots struct{ pool *pgxpool.Pool }

var _ commands.SnapshotStore = (*Snapshots)(nil)

// NewSnapshots returns the snapshot store over pool (migrated with Migrate).
func NewSnapshots(pool *pgxpool.Pool) *Snapshots { return &Snapshots{pool: pool} }

// Load implements commands.SnapshotStore.
func (s *Snapshots) Load(ctx context.Context, tenant, streamID string) (commands.Snapshot, bool, error) {
	snap := commands.Snapshot{Tenant: tenant, StreamID: streamID}
	var version, commit, prepare int64
	err := s.pool.QueryRow(ctx, `
		SELECT version, position_commit, position_prepare, schema, state, taken_at
		FROM evcrm_snapshots WHERE tenant = $1 AND stream_id = $2`, tenant, streamID).
		Scan(&version, &commit, &prepare, &snap.Schema, &snap.State, &snap.TakenAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.Snapshot{}, false, nil
	}
	if err != nil {
		return commands.Snapshot{}, false, fmt.Errorf("loading the snapshot of %s: %w", streamID, err)
	}
	snap.Version, snap.Position.Commit, snap.Position.Prepare = uint64(version), uint64(commit), uint64(prepare)
	snap.TakenAt = snap.TakenAt.UTC()
	return snap, true, nil
}

// Save implements commands.SnapshotStore: it replaces the stream's snapshot
// unless that one has the same schema and a version at least as high (a
// concurrent writer saved a later one).
func (s *Snapshots) Save(ctx context.Context, snap commands.Snapshot) error {
	if snap.Version == 0 || snap.Version > math.MaxInt64 || snap.Position.Commit > math.MaxInt64 || snap.Position.Prepare > math.MaxInt64 {
		return fmt.Errorf("saving the snapshot of %s: version %d or position %v out of range", snap.StreamID, snap.Version, snap.Position)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO evcrm_snapshots AS s (tenant, stream_id, version, position_commit, position_prepare, schema, state, taken_at)
		VALUES ($8, $1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant, stream_id) DO UPDATE
		SET version = excluded.version, position_commit = excluded.position_commit,
		    position_prepare = excluded.position_prepare, schema = excluded.schema,
		    state = excluded.state, taken_at = excluded.taken_at
		WHERE s.version < excluded.version OR s.schema <> excluded.schema`,
		snap.StreamID, int64(snap.Version), int64(snap.Position.Commit), int64(snap.Position.Prepare),
		snap.Schema, snap.State, snap.TakenAt, snap.Tenant)
	if err != nil {
		return fmt.Errorf("saving the snapshot of %s: %w", snap.StreamID, err)
	}
	return nil
}
