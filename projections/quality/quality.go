// Package quality is the quality-audit read model (ISO 9001 9.1.2, 9.1.3,
// 10.2; ISO 10002): the complaint register with its links to
// nonconformities, customer feedback (CSAT, NPS), the nonconformity and
// corrective action log, and the requirements-review compliance of orders
// and won opportunities.
//
// Tables (served as views of the same names):
//
//	rm_quality_complaints            complaint register, one row per complaint
//	rm_quality_complaint_links       complaint → nonconformity links
//	rm_quality_feedback              feedback (CSAT 1-5, NPS 0-10) with the customer's segment when given
//	rm_quality_customer_segments     current segment of each customer (for the feedback rows)
//	rm_quality_nonconformities       nonconformity log: source, severity, status, root cause, effectiveness
//	rm_quality_corrective_actions    corrective actions: owner, due date, status, on time or not
//	rm_quality_requirement_reviews   every review of a requirements revision (ISO 9001 8.2.3)
//	rm_quality_commitments           every commitment (won opportunity, accepted order) and whether
//	                                 an approved review of its revision preceded it
//
// Rates, durations and overdue flags are computed by package queries from
// the stored timestamps.
package quality

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5"
)

// Name of the projection.
const Name = "quality"

// Projection builds the quality tables.
type Projection struct{}

var _ projections.Projection = Projection{}

func (Projection) Name() string { return Name }

// 2: tenant column and row-level security; 3: tenant-first indexes; 4:
// complaint references unique per tenant, not across tenants (each tenant
// allocates its own: a second tenant's first complaint stalled the projection).
func (Projection) Version() int { return 4 }

func (Projection) EventTypes() []string {
	return []string{
		complaint.ComplaintReceived{}.EventType(), complaint.ComplaintAcknowledged{}.EventType(),
		complaint.ComplaintAcknowledgementOverdue{}.EventType(), complaint.ComplaintAssessed{}.EventType(),
		complaint.ComplaintInvestigated{}.EventType(), complaint.ComplaintResponded{}.EventType(),
		complaint.ComplaintClosed{}.EventType(), complaint.ComplaintEscalated{}.EventType(),
		complaint.NonconformityRaisedFromComplaint{}.EventType(), complaint.ComplaintReopened{}.EventType(),

		customer.CustomerRegistered{}.EventType(), customer.CustomerSegmentChanged{}.EventType(),
		customer.CustomerErased{}.EventType(),
		feedback.FeedbackSubmitted{}.EventType(), feedback.FeedbackWithdrawn{}.EventType(),

		nonconformity.NonconformityRaised{}.EventType(), nonconformity.NonconformityAnalysisStarted{}.EventType(),
		nonconformity.ImmediateActionRecorded{}.EventType(), nonconformity.RootCauseRecorded{}.EventType(),
		nonconformity.CorrectiveActionPlanned{}.EventType(), nonconformity.ActionPlanApproved{}.EventType(),
		nonconformity.CorrectiveActionCompleted{}.EventType(), nonconformity.CorrectiveActionReopened{}.EventType(),
		nonconformity.EffectivenessVerified{}.EventType(), nonconformity.NonconformityClosed{}.EventType(),

		opportunity.RequirementsCaptured{}.EventType(), opportunity.RequirementsReviewed{}.EventType(),
		opportunity.OpportunityWon{}.EventType(),
		order.OrderReviewed{}.EventType(), order.OrderConfirmed{}.EventType(),
	}
}

func (Projection) Schema() string {
	return `
CREATE TABLE rm_quality_complaints (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	complaint_id           uuid PRIMARY KEY,
	reference              text NOT NULL, -- unique per tenant (each tenant counts its own references)
	customer_id            uuid NOT NULL,
	channel                text NOT NULL,
	description            text NOT NULL,
	remedy_sought          text,
	severity               text NOT NULL,
	urgency                text,
	status                 text NOT NULL,
	order_id               uuid,
	case_id                uuid,
	received_at            timestamptz NOT NULL,
	acknowledgement_due    timestamptz NOT NULL,
	acknowledged_at        timestamptz,
	acknowledged_on_time   boolean,
	acknowledgement_overdue_at timestamptz,
	assessed_at            timestamptz,
	investigated_at        timestamptz,
	root_cause             text,
	responded_at           timestamptz,
	outcome                text,
	decision               text,
	remedy_offered         text,
	first_closed_at        timestamptz,
	closed_at              timestamptz,
	customer_satisfied     boolean,
	reopen_count           integer NOT NULL DEFAULT 0,
	escalation_level       integer NOT NULL DEFAULT 0,
	nonconformity_count    integer NOT NULL DEFAULT 0,
	updated_at             timestamptz NOT NULL
);
COMMENT ON TABLE rm_quality_complaints IS 'Complaint register (ISO 10002): receipt, acknowledgement, response, closure, severity, satisfaction';
CREATE UNIQUE INDEX rm_quality_complaints_reference ON rm_quality_complaints (tenant, reference);
CREATE INDEX rm_quality_complaints_received ON rm_quality_complaints (tenant, received_at, complaint_id);
CREATE INDEX rm_quality_complaints_customer ON rm_quality_complaints (customer_id);
CREATE INDEX rm_quality_complaints_open ON rm_quality_complaints (tenant, acknowledgement_due) WHERE status <> 'closed';

CREATE TABLE rm_quality_complaint_links (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	complaint_id     uuid NOT NULL,
	nonconformity_id uuid NOT NULL,
	raised_at        timestamptz NOT NULL,
	PRIMARY KEY (complaint_id, nonconformity_id)
);
COMMENT ON TABLE rm_quality_complaint_links IS 'Nonconformities raised because of a complaint (ISO 9001 9.1.2 → 10.2)';
CREATE INDEX rm_quality_complaint_links_nc ON rm_quality_complaint_links (nonconformity_id);

CREATE TABLE rm_quality_customer_segments (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	customer_id uuid PRIMARY KEY,
	segment     text
);
COMMENT ON TABLE rm_quality_customer_segments IS 'Current segment of each customer, to file feedback by segment';

CREATE TABLE rm_quality_feedback (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	feedback_id  uuid PRIMARY KEY,
	customer_id  uuid NOT NULL,
	segment      text,
	subject_kind text,
	subject_id   uuid,
	method       text NOT NULL,
	csat         smallint,
	nps          smallint,
	has_comment  boolean NOT NULL,
	submitted_at timestamptz NOT NULL,
	withdrawn_at timestamptz
);
COMMENT ON TABLE rm_quality_feedback IS 'Customer feedback (ISO 9001 9.1.2): CSAT 1-5, NPS 0-10, segment of the customer when given';
CREATE INDEX rm_quality_feedback_submitted ON rm_quality_feedback (tenant, submitted_at) WHERE withdrawn_at IS NULL;

CREATE TABLE rm_quality_nonconformities (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	nonconformity_id       uuid PRIMARY KEY,
	source                 text NOT NULL,
	source_id              uuid,
	source_ref             text,
	severity               text NOT NULL,
	title                  text NOT NULL,
	description            text NOT NULL,
	customer_id            uuid,
	order_id               uuid,
	case_id                uuid,
	status                 text NOT NULL,
	analyst_id             text,
	immediate_actions      integer NOT NULL DEFAULT 0,
	root_cause             text,
	root_cause_method      text,
	raised_at              timestamptz NOT NULL,
	analysis_started_at    timestamptz,
	plan_approved_at       timestamptz,
	effective              boolean,
	effectiveness_evidence text,
	verified_at            timestamptz,
	ineffective_reviews    integer NOT NULL DEFAULT 0,
	closed_at              timestamptz,
	updated_at             timestamptz NOT NULL
);
COMMENT ON TABLE rm_quality_nonconformities IS 'Nonconformity log (ISO 9001 10.2): nature, root cause, status and effectiveness of the corrective actions';
CREATE INDEX rm_quality_nonconformities_raised ON rm_quality_nonconformities (tenant, raised_at, nonconformity_id);

CREATE TABLE rm_quality_corrective_actions (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	action_id        uuid PRIMARY KEY,
	nonconformity_id uuid NOT NULL,
	description      text NOT NULL,
	owner_id         text NOT NULL,
	due_date         date NOT NULL,
	status           text NOT NULL,
	planned_at       timestamptz NOT NULL,
	approved_at      timestamptz,
	completed_at     timestamptz,
	on_time          boolean,
	outcome          text,
	reopen_count     integer NOT NULL DEFAULT 0,
	updated_at       timestamptz NOT NULL
);
COMMENT ON TABLE rm_quality_corrective_actions IS 'Corrective actions (ISO 9001 10.2): owner, due date, status, done on time or not';
CREATE INDEX rm_quality_corrective_actions_nc ON rm_quality_corrective_actions (nonconformity_id);
CREATE INDEX rm_quality_corrective_actions_due ON rm_quality_corrective_actions (tenant, due_date) WHERE status <> 'done';

CREATE TABLE rm_quality_requirement_reviews (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	subject_kind     text NOT NULL,
	subject_id       uuid NOT NULL,
	position_commit  bigint NOT NULL,
	position_prepare bigint NOT NULL,
	customer_id      uuid,
	revision         integer NOT NULL,
	reviewer         text NOT NULL,
	result           text NOT NULL,
	open_points      text[] NOT NULL DEFAULT '{}',
	reviewed_at      timestamptz NOT NULL,
	PRIMARY KEY (subject_kind, subject_id, position_commit, position_prepare)
);
COMMENT ON TABLE rm_quality_requirement_reviews IS 'Reviews of requirements before commitment (ISO 9001 8.2.3): reviewer, result, open points';

CREATE TABLE rm_quality_commitments (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	subject_kind        text NOT NULL,
	subject_id          uuid NOT NULL,
	position_commit     bigint NOT NULL,
	position_prepare    bigint NOT NULL,
	customer_id         uuid,
	revision            integer NOT NULL,
	committed_at        timestamptz NOT NULL,
	approved_review     boolean NOT NULL,
	last_review_result  text,
	PRIMARY KEY (subject_kind, subject_id, position_commit, position_prepare)
);
COMMENT ON TABLE rm_quality_commitments IS 'Commitments to supply (won opportunities, accepted orders); approved_review false is an ISO 9001 8.2.3 exception';
CREATE INDEX rm_quality_commitments_at ON rm_quality_commitments (tenant, committed_at);
`
}

func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	var b projections.Batch
	for i := range events {
		e := &events[i]
		if err := queue(&b, e); err != nil {
			return err
		}
	}
	return b.Send(ctx, tx)
}

func queue(b *projections.Batch, e *projections.Event) error {
	switch d := e.Data.(type) {
	case customer.CustomerErased:
		// The complainant's words are personal (docs/privacy.md); severity,
		// dates, outcome, root cause and satisfaction stay for the auditor.
		// Constants, so a rebuild writes the same.
		b.Queue(e, `UPDATE rm_quality_complaints SET description = '[erased]', remedy_sought = NULL, decision = NULL,
			remedy_offered = NULL WHERE customer_id = $1`, d.CustomerID)
	case complaint.ComplaintReceived:
		b.Queue(e, `INSERT INTO rm_quality_complaints (complaint_id, reference, customer_id, channel, description, remedy_sought,
			severity, status, order_id, case_id, received_at, acknowledgement_due, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8, $9, $10, $11, $10)`,
			d.ComplaintID, d.Reference, d.CustomerID, string(d.Channel), d.Description, projections.Text(d.RemedySought),
			string(d.Severity), projections.UUID(d.OrderID), projections.UUID(d.CaseID), d.ReceivedAt, d.AcknowledgementDue)
	case complaint.ComplaintAcknowledged:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET acknowledged_at = $2, acknowledged_on_time = $3,
			status = CASE WHEN status = 'received' THEN 'acknowledged' ELSE status END, updated_at = $2 WHERE complaint_id = $1`,
			d.ComplaintID, d.AcknowledgedAt, d.OnTime)
	case complaint.ComplaintAcknowledgementOverdue:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET acknowledgement_overdue_at = $2, updated_at = $2 WHERE complaint_id = $1`,
			d.ComplaintID, d.FlaggedAt)
	case complaint.ComplaintAssessed:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET severity = $2, urgency = $3, assessed_at = $4, updated_at = $4 WHERE complaint_id = $1`,
			d.ComplaintID, string(d.Severity), string(d.Urgency), d.AssessedAt)
	case complaint.ComplaintInvestigated:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET root_cause = $2, investigated_at = $3, updated_at = $3 WHERE complaint_id = $1`,
			d.ComplaintID, d.RootCause, d.InvestigatedAt)
	case complaint.ComplaintResponded:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET outcome = $2, decision = $3, remedy_offered = $4, responded_at = $5,
			status = 'responded', updated_at = $5 WHERE complaint_id = $1`,
			d.ComplaintID, string(d.Outcome), d.Decision, projections.Text(d.RemedyOffered), d.RespondedAt)
	case complaint.ComplaintClosed:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET status = 'closed', closed_at = $2, first_closed_at = COALESCE(first_closed_at, $2),
			customer_satisfied = $3, updated_at = $2 WHERE complaint_id = $1`,
			d.ComplaintID, d.ClosedAt, d.CustomerSatisfied)
	case complaint.ComplaintEscalated:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET escalation_level = $2, updated_at = $3 WHERE complaint_id = $1`,
			d.ComplaintID, d.Level, d.EscalatedAt)
	case complaint.NonconformityRaisedFromComplaint:
		b.Queue(e, `INSERT INTO rm_quality_complaint_links (complaint_id, nonconformity_id, raised_at) VALUES ($1, $2, $3)`,
			d.ComplaintID, d.NonconformityID, d.RaisedAt)
		b.QueueOne(e, `UPDATE rm_quality_complaints SET nonconformity_count = nonconformity_count + 1, updated_at = $2 WHERE complaint_id = $1`,
			d.ComplaintID, d.RaisedAt)
	case complaint.ComplaintReopened:
		b.QueueOne(e, `UPDATE rm_quality_complaints SET closed_at = NULL, customer_satisfied = NULL, responded_at = NULL,
			outcome = NULL, decision = NULL, remedy_offered = NULL, reopen_count = $2,
			status = CASE WHEN acknowledged_at IS NULL THEN 'received' ELSE 'acknowledged' END, updated_at = $3 WHERE complaint_id = $1`,
			d.ComplaintID, d.ReopenCount, d.ReopenedAt)

	case customer.CustomerRegistered:
		b.Queue(e, `INSERT INTO rm_quality_customer_segments (customer_id, segment) VALUES ($1, $2)`,
			d.CustomerID, projections.Text(d.Segment))
	case customer.CustomerSegmentChanged:
		b.QueueOne(e, `UPDATE rm_quality_customer_segments SET segment = $2 WHERE customer_id = $1`,
			d.CustomerID, projections.Text(d.Segment))
	case feedback.FeedbackSubmitted:
		kind, id := d.Subject()
		b.Queue(e, `INSERT INTO rm_quality_feedback (feedback_id, customer_id, segment, subject_kind, subject_id, method, csat, nps,
			has_comment, submitted_at)
			VALUES ($1, $2, (SELECT segment FROM rm_quality_customer_segments WHERE customer_id = $2), $3, $4, $5, $6, $7, $8, $9)`,
			d.FeedbackID, d.CustomerID, projections.Text(kind), projections.UUID(id), string(d.Method), d.CSAT, d.NPS,
			d.Comment != "" || erasedField(e.RecordedEvent.Data, "comment"), d.SubmittedAt)
	case feedback.FeedbackWithdrawn:
		b.QueueOne(e, `UPDATE rm_quality_feedback SET withdrawn_at = $2 WHERE feedback_id = $1`, d.FeedbackID, d.WithdrawnAt)

	case nonconformity.NonconformityRaised:
		b.Queue(e, `INSERT INTO rm_quality_nonconformities (nonconformity_id, source, source_id, source_ref, severity, title,
			description, customer_id, order_id, case_id, status, raised_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $11)`,
			d.NonconformityID, string(d.Source), projections.UUID(d.SourceID), projections.Text(d.SourceRef), string(d.Severity),
			d.Title, d.Description, projections.UUID(d.CustomerID), projections.UUID(d.OrderID), projections.UUID(d.CaseID), d.RaisedAt)
	case nonconformity.NonconformityAnalysisStarted:
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET analyst_id = $2, analysis_started_at = COALESCE(analysis_started_at, $3),
			status = CASE WHEN status = 'open' THEN 'analysis' ELSE status END, updated_at = $3 WHERE nonconformity_id = $1`,
			d.NonconformityID, d.AnalystID, d.StartedAt)
	case nonconformity.ImmediateActionRecorded:
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET immediate_actions = immediate_actions + 1, updated_at = $2
			WHERE nonconformity_id = $1`, d.NonconformityID, d.RecordedAt)
	case nonconformity.RootCauseRecorded:
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET root_cause = $2, root_cause_method = $3,
			status = CASE WHEN status IN ('open', 'analysis') THEN 'action_plan' ELSE status END, updated_at = $4
			WHERE nonconformity_id = $1`, d.NonconformityID, d.RootCause, projections.Text(d.Method), d.RecordedAt)
	case nonconformity.CorrectiveActionPlanned:
		b.Queue(e, `INSERT INTO rm_quality_corrective_actions (action_id, nonconformity_id, description, owner_id, due_date, status,
			planned_at, updated_at) VALUES ($1, $2, $3, $4, $5::date, 'planned', $6, $6)`,
			d.ActionID, d.NonconformityID, d.Description, d.OwnerID, d.DueDate, d.PlannedAt)
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET updated_at = $2 WHERE nonconformity_id = $1`, d.NonconformityID, d.PlannedAt)
	case nonconformity.ActionPlanApproved:
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET status = 'in_progress', plan_approved_at = $2, updated_at = $2
			WHERE nonconformity_id = $1`, d.NonconformityID, d.ApprovedAt)
		b.Queue(e, `UPDATE rm_quality_corrective_actions SET status = CASE WHEN status = 'planned' THEN 'approved' ELSE status END,
			approved_at = COALESCE(approved_at, $3), updated_at = $3 WHERE nonconformity_id = $1 AND action_id = ANY($2)`,
			d.NonconformityID, d.ActionIDs, d.ApprovedAt)
	case nonconformity.CorrectiveActionCompleted:
		b.QueueOne(e, `UPDATE rm_quality_corrective_actions SET status = 'done', completed_at = $2, on_time = $3, outcome = $4,
			updated_at = $2 WHERE action_id = $1`, d.ActionID, d.CompletedAt, d.OnTime, d.Outcome)
	case nonconformity.CorrectiveActionReopened:
		b.QueueOne(e, `UPDATE rm_quality_corrective_actions SET status = 'reopened', completed_at = NULL, on_time = NULL,
			reopen_count = reopen_count + 1, updated_at = $2 WHERE action_id = $1`, d.ActionID, d.ReopenedAt)
	case nonconformity.EffectivenessVerified:
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET effective = $2, effectiveness_evidence = $3, verified_at = $4,
			ineffective_reviews = ineffective_reviews + CASE WHEN $2 THEN 0 ELSE 1 END,
			status = CASE WHEN $2 THEN status ELSE 'action_plan' END, updated_at = $4 WHERE nonconformity_id = $1`,
			d.NonconformityID, d.Effective, d.Evidence, d.VerifiedAt)
	case nonconformity.NonconformityClosed:
		b.QueueOne(e, `UPDATE rm_quality_nonconformities SET status = 'closed', closed_at = $2, updated_at = $2
			WHERE nonconformity_id = $1`, d.NonconformityID, d.ClosedAt)

	case opportunity.RequirementsReviewed:
		b.Queue(e, `INSERT INTO rm_quality_requirement_reviews (subject_kind, subject_id, position_commit, position_prepare,
			customer_id, revision, reviewer, result, open_points, reviewed_at)
			VALUES ('opportunity', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			d.OpportunityID, e.Position.Commit, e.Position.Prepare, d.CustomerID, d.Revision, d.Reviewer, string(d.Result),
			nonNil(d.OpenPoints), d.At)
	case opportunity.RequirementsCaptured:
		// Nothing to record: the revision number comes with the reviews and commitments.
	case opportunity.OpportunityWon:
		b.Queue(e, commitmentSQL, "opportunity", d.OpportunityID, e.Position.Commit, e.Position.Prepare, d.CustomerID,
			d.RequirementsRevision, d.At)
	case order.OrderReviewed:
		b.Queue(e, `INSERT INTO rm_quality_requirement_reviews (subject_kind, subject_id, position_commit, position_prepare,
			customer_id, revision, reviewer, result, open_points, reviewed_at)
			VALUES ('order', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			d.OrderID, e.Position.Commit, e.Position.Prepare, d.CustomerID, d.Revision, d.Reviewer, string(d.Result),
			nonNil(d.OpenPoints), d.At)
	case order.OrderConfirmed:
		// The event carries the review the confirmation rests on (the
		// order's own, or the won opportunity's).
		b.Queue(e, `INSERT INTO rm_quality_commitments (subject_kind, subject_id, position_commit, position_prepare, customer_id,
			revision, committed_at, approved_review, last_review_result) VALUES ('order', $1, $2, $3, $4, $5, $6, $7, $8)`,
			d.OrderID, e.Position.Commit, e.Position.Prepare, d.CustomerID, d.Revision, d.At,
			d.Review.Result == requirement.Approved, projections.Text(string(d.Review.Result)))

	default:
		return projections.Fail(e, fmt.Errorf("quality projection: unexpected event %T", e.Data))
	}
	return nil
}

// commitmentSQL records a commitment and whether the latest review of its
// revision, recorded before it in the log, approved it.
const commitmentSQL = `
INSERT INTO rm_quality_commitments (subject_kind, subject_id, position_commit, position_prepare, customer_id, revision,
	committed_at, approved_review, last_review_result)
SELECT $1, $2, $3, $4, $5, $6, $7, COALESCE(last.result = 'approved', false), last.result
FROM (SELECT (SELECT r.result FROM rm_quality_requirement_reviews r WHERE r.subject_kind = $1 AND r.subject_id = $2
	AND r.revision = $6 ORDER BY r.position_commit DESC, r.position_prepare DESC LIMIT 1) AS result) last`

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// erasedField reports whether a personal field of the stored event was
// erased (docs/privacy.md): that it existed is a non-personal fact, so a
// rebuild after erasure counts the comment as a live projection did.
func erasedField(raw json.RawMessage, field string) bool {
	if !bytes.Contains(raw, []byte(`"$erased"`)) {
		return false
	}
	var m struct {
		Erased []string `json:"$erased"`
	}
	_ = json.Unmarshal(raw, &m)
	return slices.Contains(m.Erased, field)
}
