// Package objectives is the read model of the quality objectives (ISO 9001
// 6.2): each objective with its metric, period granularity and status, and
// the history of its targets, each in force from the start of a period on.
// What was achieved is not stored: package queries computes it per period
// from the other read models.
//
// Tables (served as views of the same names):
//
//	rm_quality_objectives          one row per objective
//	rm_quality_objective_targets   its target revisions, by effective_from
package objectives

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/evcrm/evcrm/domain/objective"
	"github.com/evcrm/evcrm/projections"
)

// Name of the projection.
const Name = "objectives"

// Projection builds the objective tables.
type Projection struct{}

var _ projections.Projection = Projection{}

func (Projection) Name() string { return Name }
func (Projection) Version() int { return 1 }

func (Projection) EventTypes() []string {
	return []string{objective.ObjectiveSet{}.EventType(), objective.ObjectiveTargetChanged{}.EventType(), objective.ObjectiveRetired{}.EventType()}
}

func (Projection) Schema() string {
	return `
CREATE TABLE rm_quality_objectives (
	` + projections.TenantColumnDDL + `,
	objective_id  uuid PRIMARY KEY,
	name          text NOT NULL,
	metric        text NOT NULL,
	granularity   text NOT NULL,
	owner         text,
	note          text,
	effective_from timestamptz NOT NULL,
	set_at        timestamptz NOT NULL,
	retired_at    timestamptz,
	retire_reason text,
	updated_at    timestamptz NOT NULL
);
COMMENT ON TABLE rm_quality_objectives IS 'Quality objectives (ISO 9001 6.2): metric, period granularity, owner, retirement';

CREATE TABLE rm_quality_objective_targets (
	` + projections.TenantColumnDDL + `,
	objective_id   uuid NOT NULL,
	effective_from timestamptz NOT NULL,
	comparator     text NOT NULL,
	target         float8 NOT NULL,
	reason         text,
	changed_at     timestamptz NOT NULL,
	PRIMARY KEY (objective_id, effective_from)
);
COMMENT ON TABLE rm_quality_objective_targets IS 'Targets of the quality objectives, each in force from effective_from until the next';
`
}

func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	return projections.Each(ctx, tx, events, func(ctx context.Context, tx pgx.Tx, e *projections.Event) error {
		var err error
		switch d := e.Data.(type) {
		case objective.ObjectiveSet:
			_, err = tx.Exec(ctx, `INSERT INTO rm_quality_objectives
				(objective_id, name, metric, granularity, owner, note, effective_from, set_at, updated_at)
				VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), $7, $8, $8)
				ON CONFLICT (objective_id) DO NOTHING`,
				d.ObjectiveID, d.Name, string(d.Metric), string(d.Granularity), d.Owner, d.Note, d.EffectiveFrom, d.At)
			if err == nil {
				err = target(ctx, tx, d.ObjectiveID, d.EffectiveFrom, d.Comparator, d.Target, "", d.At)
			}
		case objective.ObjectiveTargetChanged:
			err = target(ctx, tx, d.ObjectiveID, d.EffectiveFrom, d.Comparator, d.Target, d.Reason, d.At)
			if err == nil {
				_, err = tx.Exec(ctx, `UPDATE rm_quality_objectives SET updated_at = $2 WHERE objective_id = $1`, d.ObjectiveID, d.At)
			}
		case objective.ObjectiveRetired:
			_, err = tx.Exec(ctx, `UPDATE rm_quality_objectives SET retired_at = $2, retire_reason = $3, updated_at = $2 WHERE objective_id = $1`,
				d.ObjectiveID, d.At, d.Reason)
		}
		return err
	})
}

// target records a revision; one for the same period replaces it
// (objective.Revise).
func target(ctx context.Context, tx pgx.Tx, id uuid.UUID, from time.Time, c objective.Comparator, value float64, reason string, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO rm_quality_objective_targets (objective_id, effective_from, comparator, target, reason, changed_at)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6)
		ON CONFLICT (objective_id, effective_from) DO UPDATE SET comparator = EXCLUDED.comparator, target = EXCLUDED.target,
			reason = EXCLUDED.reason, changed_at = EXCLUDED.changed_at`, id, from, string(c), value, reason, at)
	return err
}
