// Package pipeline is the sales-pipeline read model: every opportunity with
// its pipeline, stage, amount, probability, owner and expected close, the
// stages of each pipeline, and the stage history each opportunity went
// through (for conversion rates and time in stage).
//
// Tables (served as views of the same names):
//
//	rm_pipeline_opportunities   one row per opportunity (open, won or lost)
//	rm_pipeline_stages          the stages of each pipeline, in order, with their probability
//	rm_pipeline_stage_history   one row per stage an opportunity entered, with when it left and where to
//	rm_pipeline_open_totals     open opportunities summed by pipeline, stage, currency, owner and
//	                            expected-close month: the pipeline summary and forecast without a scan
//
// Amounts are integer minor units with their currency; totals are always
// per currency, and numeric (a sum of many bigint amounts can pass the
// bigint range). Days in stage, win rates, velocity and forecasts are
// computed by package queries from the stored facts.
package pipeline

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/projections"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Name of the projection.
const Name = "pipeline"

// Projection builds the pipeline tables.
type Projection struct{}

var _ projections.Projection = Projection{}

func (Projection) Name() string { return Name }

// Version 2: numeric sums; 3: tenant column and row-level security.
func (Projection) Version() int { return 4 } // 4: tenant-first indexes

func (Projection) EventTypes() []string {
	return []string{
		opportunity.OpportunityOpened{}.EventType(), opportunity.OpportunityStageChanged{}.EventType(),
		opportunity.OpportunityAmountChanged{}.EventType(), opportunity.OpportunityCloseDateChanged{}.EventType(),
		opportunity.OpportunityOwnerAssigned{}.EventType(), opportunity.RequirementsCaptured{}.EventType(),
		opportunity.RequirementsReviewed{}.EventType(), opportunity.OpportunityWon{}.EventType(),
		opportunity.OpportunityLost{}.EventType(), opportunity.OpportunityReopened{}.EventType(),
	}
}

func (Projection) Schema() string {
	return `
CREATE TABLE rm_pipeline_opportunities (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	opportunity_id        uuid PRIMARY KEY,
	customer_id           uuid NOT NULL,
	lead_id               uuid,
	name                  text NOT NULL,
	pipeline              text NOT NULL,
	stage                 text NOT NULL,
	probability           integer NOT NULL,
	amount_minor          bigint NOT NULL,
	currency              text NOT NULL,
	weighted_minor        numeric GENERATED ALWAYS AS (amount_minor::numeric * probability / 100) STORED,
	owner_id              text,
	expected_close        date,
	status                text NOT NULL,
	opened_at             timestamptz NOT NULL,
	stage_entered_at      timestamptz NOT NULL,
	closed_at             timestamptz,
	lost_reason           text,
	competitor            text,
	requirements_revision integer NOT NULL DEFAULT 0,
	requirements_status   text NOT NULL DEFAULT 'none',
	won_revision          integer,
	reopen_count          integer NOT NULL DEFAULT 0,
	updated_at            timestamptz NOT NULL
);
COMMENT ON TABLE rm_pipeline_opportunities IS 'Opportunities: pipeline, stage, amount (minor units, per currency), probability, owner, expected close, outcome';
CREATE INDEX rm_pipeline_opportunities_open ON rm_pipeline_opportunities (tenant, pipeline, stage, opportunity_id) WHERE status = 'open';
CREATE INDEX rm_pipeline_opportunities_list ON rm_pipeline_opportunities (tenant, status, (COALESCE(expected_close, 'infinity'::date)), opportunity_id);
CREATE INDEX rm_pipeline_opportunities_closed ON rm_pipeline_opportunities (tenant, closed_at) WHERE status <> 'open';
CREATE INDEX rm_pipeline_opportunities_owner ON rm_pipeline_opportunities (tenant, owner_id, status);
CREATE INDEX rm_pipeline_opportunities_customer ON rm_pipeline_opportunities (customer_id);

CREATE TABLE rm_pipeline_stages (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	pipeline    text NOT NULL,
	stage       text NOT NULL,
	stage_index integer NOT NULL,
	probability integer NOT NULL,
	PRIMARY KEY (tenant, pipeline, stage)
);
COMMENT ON TABLE rm_pipeline_stages IS 'Stages of each pipeline in order, as last recorded by an opened opportunity';

CREATE TABLE rm_pipeline_stage_history (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	opportunity_id uuid NOT NULL,
	seq            integer NOT NULL,
	pipeline       text NOT NULL,
	stage          text NOT NULL,
	entered_at     timestamptz NOT NULL,
	exited_at      timestamptz,
	exit_to        text,
	PRIMARY KEY (opportunity_id, seq)
);
COMMENT ON TABLE rm_pipeline_stage_history IS 'Each stage an opportunity entered, when it left and to which stage (or won/lost)';
CREATE INDEX rm_pipeline_stage_history_stage ON rm_pipeline_stage_history (tenant, pipeline, stage);

CREATE TABLE rm_pipeline_open_totals (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	pipeline       text NOT NULL,
	stage          text NOT NULL,
	currency       text NOT NULL,
	owner_id       text NOT NULL, -- '' when unassigned
	close_month    text NOT NULL, -- expected close, YYYY-MM, or 'none'
	opportunities  bigint NOT NULL,
	total_minor    numeric NOT NULL, -- sums of amounts grow without bound: numeric, never bigint
	weighted_minor numeric NOT NULL,
	PRIMARY KEY (tenant, pipeline, stage, currency, owner_id, close_month)
);
COMMENT ON TABLE rm_pipeline_open_totals IS 'Open opportunities summed by pipeline, stage, currency, owner and expected-close month';
`
}

// totalsDelta adds ($2 = 1) or removes ($2 = -1) the contributions of
// the open opportunities among $1 to the open totals. A batch removes the
// contributions of every opportunity it touches before applying its
// events, and adds them back after: each totals row changes at most twice
// per batch, however many events touch it.
const totalsDelta = `
INSERT INTO rm_pipeline_open_totals AS t (pipeline, stage, currency, owner_id, close_month, opportunities, total_minor, weighted_minor)
SELECT pipeline, stage, currency, COALESCE(owner_id, ''), COALESCE(to_char(expected_close, 'YYYY-MM'), 'none'),
	$2::int * count(*), $2::numeric * sum(amount_minor::numeric), $2::numeric * sum(weighted_minor)
FROM rm_pipeline_opportunities WHERE opportunity_id = ANY($1) AND status = 'open'
GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (tenant, pipeline, stage, currency, owner_id, close_month) DO UPDATE SET opportunities = t.opportunities + EXCLUDED.opportunities,
	total_minor = t.total_minor + EXCLUDED.total_minor, weighted_minor = t.weighted_minor + EXCLUDED.weighted_minor`

const (
	closeStage = `UPDATE rm_pipeline_stage_history SET exited_at = $2, exit_to = $3 WHERE opportunity_id = $1 AND exited_at IS NULL`
	enterStage = `INSERT INTO rm_pipeline_stage_history (opportunity_id, seq, pipeline, stage, entered_at)
		SELECT $1, (SELECT COALESCE(max(seq), 0) + 1 FROM rm_pipeline_stage_history WHERE opportunity_id = $1), o.pipeline, $2, $3
		FROM rm_pipeline_opportunities o WHERE o.opportunity_id = $1`
)

func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	var b projections.Batch
	stages := map[string]string{} // pipeline → stages already upserted in this batch
	touched := make([]uuid.UUID, 0, len(events))
	seen := map[uuid.UUID]bool{}
	for i := range events {
		if id := opportunityID(events[i].Data); !seen[id] {
			seen[id] = true
			touched = append(touched, id)
		}
	}
	b.Queue(&events[0], totalsDelta, touched, -1)
	for i := range events {
		e := &events[i]
		switch d := e.Data.(type) {
		case opportunity.OpportunityOpened:
			b.Queue(e, `INSERT INTO rm_pipeline_opportunities (opportunity_id, customer_id, lead_id, name, pipeline, stage, probability,
				amount_minor, currency, owner_id, expected_close, status, opened_at, stage_entered_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::date, 'open', $12, $12, $12)`,
				d.OpportunityID, d.CustomerID, projections.UUID(d.LeadID), d.Name, d.Pipeline.Name, d.Stage, d.Probability,
				d.Amount.Amount, d.Amount.Currency, projections.Text(d.OwnerID), projections.Date(d.ExpectedClose), d.At)
			if sig := fmt.Sprint(d.Pipeline.Stages); stages[d.Pipeline.Name] != sig {
				stages[d.Pipeline.Name] = sig
				queueStages(&b, e, d.Pipeline)
			}
			b.Queue(e, enterStage, d.OpportunityID, d.Stage, d.At)

		case opportunity.OpportunityStageChanged:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET stage = $2, probability = $3, amount_minor = $4, currency = $5,
				stage_entered_at = $6, updated_at = $6 WHERE opportunity_id = $1`,
				d.OpportunityID, d.To, d.Probability, d.Amount.Amount, d.Amount.Currency, d.At)
			b.Queue(e, closeStage, d.OpportunityID, d.At, d.To)
			b.Queue(e, enterStage, d.OpportunityID, d.To, d.At)
		case opportunity.OpportunityAmountChanged:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET amount_minor = $2, currency = $3, probability = $4, updated_at = $5
				WHERE opportunity_id = $1`, d.OpportunityID, d.Amount.Amount, d.Amount.Currency, d.Probability, d.At)
		case opportunity.OpportunityCloseDateChanged:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET expected_close = $2::date, updated_at = $3 WHERE opportunity_id = $1`,
				d.OpportunityID, projections.Date(d.ExpectedClose), d.At)
		case opportunity.OpportunityOwnerAssigned:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET owner_id = $2, updated_at = $3 WHERE opportunity_id = $1`,
				d.OpportunityID, projections.Text(d.OwnerID), d.At)
		case opportunity.RequirementsCaptured:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET requirements_revision = $2, requirements_status = 'pending_review',
				updated_at = $3 WHERE opportunity_id = $1`, d.OpportunityID, d.Revision, d.At)
		case opportunity.RequirementsReviewed:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET requirements_status = CASE WHEN requirements_revision = $2 THEN $3
				ELSE requirements_status END, updated_at = $4 WHERE opportunity_id = $1`, d.OpportunityID, d.Revision, string(d.Result), d.At)
		case opportunity.OpportunityWon:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET status = 'won', amount_minor = $2, currency = $3, closed_at = $4,
				won_revision = $5, updated_at = $4 WHERE opportunity_id = $1`,
				d.OpportunityID, d.Amount.Amount, d.Amount.Currency, d.At, d.RequirementsRevision)
			b.Queue(e, closeStage, d.OpportunityID, d.At, opportunity.OutcomeWon)
		case opportunity.OpportunityLost:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET status = 'lost', amount_minor = $2, currency = $3, closed_at = $4,
				lost_reason = $5, competitor = $6, updated_at = $4 WHERE opportunity_id = $1`,
				d.OpportunityID, d.Amount.Amount, d.Amount.Currency, d.At, d.Reason, projections.Text(d.Competitor))
			b.Queue(e, closeStage, d.OpportunityID, d.At, opportunity.OutcomeLost)
		case opportunity.OpportunityReopened:
			b.QueueOne(e, `UPDATE rm_pipeline_opportunities SET status = 'open', stage = $2, probability = $3, amount_minor = $4,
				currency = $5, stage_entered_at = $6, closed_at = NULL, lost_reason = NULL, competitor = NULL, won_revision = NULL,
				reopen_count = reopen_count + 1, updated_at = $6 WHERE opportunity_id = $1`,
				d.OpportunityID, d.Stage, d.Probability, d.Amount.Amount, d.Amount.Currency, d.At)
			b.Queue(e, enterStage, d.OpportunityID, d.Stage, d.At)
		default:
			return projections.Fail(e, fmt.Errorf("pipeline projection: unexpected event %T", e.Data))
		}
	}
	b.Queue(&events[len(events)-1], totalsDelta, touched, 1)
	// Drop emptied rows, so that the table does not depend on how the log
	// was cut into batches.
	b.Queue(&events[len(events)-1], `DELETE FROM rm_pipeline_open_totals WHERE opportunities = 0`)
	return b.Send(ctx, tx)
}

// opportunityID is the opportunity an event is about.
func opportunityID(e any) uuid.UUID {
	switch d := e.(type) {
	case opportunity.OpportunityOpened:
		return d.OpportunityID
	case opportunity.RequirementsCaptured:
		return d.OpportunityID
	case opportunity.RequirementsReviewed:
		return d.OpportunityID
	case opportunity.OpportunityStageChanged:
		return d.OpportunityID
	case opportunity.OpportunityAmountChanged:
		return d.OpportunityID
	case opportunity.OpportunityCloseDateChanged:
		return d.OpportunityID
	case opportunity.OpportunityOwnerAssigned:
		return d.OpportunityID
	case opportunity.OpportunityWon:
		return d.OpportunityID
	case opportunity.OpportunityLost:
		return d.OpportunityID
	case opportunity.OpportunityReopened:
		return d.OpportunityID
	}
	return uuid.Nil
}

// queueStages records a pipeline's stages as an opened opportunity carries
// them (the latest opening wins).
func queueStages(b *projections.Batch, e *projections.Event, p opportunity.Pipeline) {
	for i, s := range p.Stages {
		b.Queue(e, `INSERT INTO rm_pipeline_stages (pipeline, stage, stage_index, probability) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant, pipeline, stage) DO UPDATE SET stage_index = EXCLUDED.stage_index, probability = EXCLUDED.probability`,
			p.Name, s.Name, i, s.Probability)
	}
}
