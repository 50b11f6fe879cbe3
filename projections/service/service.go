// Package service is the service-queues read model: one row per case with
// its queue, priority, agent, status, SLA deadlines and the facts needed
// for first-response and resolution times and SLA breach rates.
//
// Tables (served as views of the same names):
//
//	rm_service_cases  one row per case
//
// Everything that depends on the clock (overdue now, backlog age) is
// computed by package queries from the stored timestamps.
package service

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5"
)

// Name of the projection.
const Name = "service"

// Projection builds rm_service_cases.
type Projection struct{}

var _ projections.Projection = Projection{}

func (Projection) Name() string { return Name }

// Version 2: next_due is NULL while waiting on the customer, a first response no longer sets agent_id (only CaseAssigned does); 3: tenant column and row-level security.
func (Projection) Version() int { return 4 } // 4: tenant-first indexes

func (Projection) EventTypes() []string {
	return []string{
		servicecase.CaseOpened{}.EventType(), servicecase.CaseAssigned{}.EventType(),
		servicecase.CaseFirstResponseGiven{}.EventType(), servicecase.CaseWaitingOnCustomer{}.EventType(),
		servicecase.CaseResumed{}.EventType(), servicecase.CaseEscalated{}.EventType(),
		servicecase.CaseResolved{}.EventType(), servicecase.CaseClosed{}.EventType(),
		servicecase.CaseReopened{}.EventType(),
		customer.CustomerErased{}.EventType(),
	}
}

func (Projection) Schema() string {
	return `
CREATE TABLE rm_service_cases (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	case_id                 uuid PRIMARY KEY,
	customer_id             uuid NOT NULL,
	queue                   text NOT NULL,
	priority                text NOT NULL,
	channel                 text NOT NULL,
	subject                 text NOT NULL,
	order_id                uuid,
	status                  text NOT NULL,
	agent_id                text,
	escalation_level        integer NOT NULL DEFAULT 0,
	sla_policy              text,
	opened_at               timestamptz NOT NULL,
	first_response_due      timestamptz,
	resolution_due          timestamptz,
	first_response_at       timestamptz,
	first_response_met      boolean,
	resolved_at             timestamptz,
	resolution_met          boolean,
	closed_at               timestamptz,
	waiting_since           timestamptz,
	paused_seconds          bigint NOT NULL DEFAULT 0,
	reopen_count            integer NOT NULL DEFAULT 0,
	first_response_breached boolean NOT NULL DEFAULT false,
	resolution_breached     boolean NOT NULL DEFAULT false,
	updated_at              timestamptz NOT NULL,
	-- The next pending SLA deadline of an open case. NULL: none pending, or
	-- the case is waiting on the customer (its clocks are stopped; the
	-- deadlines move by the pause when it resumes).
	next_due timestamptz GENERATED ALWAYS AS (
		CASE WHEN status = 'open' THEN
			CASE WHEN first_response_at IS NULL THEN LEAST(first_response_due, resolution_due) ELSE resolution_due END
		END) STORED
);
COMMENT ON TABLE rm_service_cases IS 'Service cases: queue, priority, agent, status, SLA deadlines and outcomes (one row per case)';
CREATE INDEX rm_service_cases_queue ON rm_service_cases (tenant, queue, (COALESCE(next_due, 'infinity')), case_id)
	WHERE status IN ('open', 'waiting_on_customer');
CREATE INDEX rm_service_cases_agent ON rm_service_cases (tenant, agent_id) WHERE status IN ('open', 'waiting_on_customer');
-- Covers the queue overview (load per queue and priority, backlog age) with index-only scans.
CREATE INDEX rm_service_cases_open ON rm_service_cases (tenant, queue, opened_at)
	INCLUDE (priority, status, agent_id, next_due, first_response_breached, resolution_breached)
	WHERE status IN ('open', 'waiting_on_customer');
CREATE INDEX rm_service_cases_customer ON rm_service_cases (customer_id);
CREATE INDEX rm_service_cases_opened ON rm_service_cases (tenant, opened_at);
`
}

func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	var b projections.Batch
	for i := range events {
		e := &events[i]
		switch d := e.Data.(type) {
		case customer.CustomerErased:
			// The case's subject is personal (docs/privacy.md); a constant, so a rebuild writes the same.
			b.Queue(e, `UPDATE rm_service_cases SET subject = '[erased]' WHERE customer_id = $1`, d.CustomerID)
		case servicecase.CaseOpened:
			policy := any(nil)
			if d.SLA != nil {
				policy = d.SLA.Policy
			}
			b.Queue(e, `INSERT INTO rm_service_cases (case_id, customer_id, queue, priority, channel, subject, order_id,
				status, sla_policy, opened_at, first_response_due, resolution_due, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $10, $11, $9)`,
				d.CaseID, d.CustomerID, d.Queue, string(d.Priority), string(d.Channel), d.Subject, projections.UUID(d.OrderID),
				policy, d.OpenedAt, projections.Time(d.FirstResponseDue), projections.Time(d.ResolutionDue))
		case servicecase.CaseAssigned:
			b.QueueOne(e, `UPDATE rm_service_cases SET agent_id = $2, queue = COALESCE($3, queue), updated_at = $4 WHERE case_id = $1`,
				d.CaseID, d.AgentID, projections.Text(d.Queue), d.AssignedAt)
		case servicecase.CaseFirstResponseGiven:
			b.QueueOne(e, `UPDATE rm_service_cases SET first_response_at = COALESCE(first_response_at, $2),
				first_response_met = COALESCE(first_response_met, $3), first_response_breached = first_response_breached OR NOT $3,
				updated_at = $2 WHERE case_id = $1`,
				d.CaseID, d.RespondedAt, d.Met)
		case servicecase.CaseWaitingOnCustomer:
			b.QueueOne(e, `UPDATE rm_service_cases SET status = 'waiting_on_customer', waiting_since = $2, updated_at = $2 WHERE case_id = $1`,
				d.CaseID, d.PausedAt)
		case servicecase.CaseResumed:
			b.QueueOne(e, `UPDATE rm_service_cases SET status = 'open', waiting_since = NULL,
				first_response_due = COALESCE($3, first_response_due), resolution_due = COALESCE($4, resolution_due),
				updated_at = $2 WHERE case_id = $1`,
				d.CaseID, d.ResumedAt, projections.Time(d.FirstResponseDue), projections.Time(d.ResolutionDue))
		case servicecase.CaseEscalated:
			b.QueueOne(e, `UPDATE rm_service_cases SET escalation_level = $2,
				first_response_breached = first_response_breached OR $3 = 'first_response',
				resolution_breached = resolution_breached OR $3 = 'resolution', updated_at = $4 WHERE case_id = $1`,
				d.CaseID, d.Level, string(d.Breach), d.EscalatedAt)
		case servicecase.CaseResolved:
			b.QueueOne(e, `UPDATE rm_service_cases SET status = 'resolved', waiting_since = NULL, resolved_at = $2,
				resolution_met = $3, resolution_breached = resolution_breached OR NOT $3, paused_seconds = $4,
				updated_at = $2 WHERE case_id = $1`,
				d.CaseID, d.ResolvedAt, d.ResolutionMet, d.PausedSeconds)
		case servicecase.CaseClosed:
			b.QueueOne(e, `UPDATE rm_service_cases SET status = 'closed', closed_at = $2, updated_at = $2 WHERE case_id = $1`,
				d.CaseID, d.ClosedAt)
		case servicecase.CaseReopened:
			b.QueueOne(e, `UPDATE rm_service_cases SET status = 'open', reopen_count = reopen_count + 1, resolved_at = NULL,
				resolution_met = NULL, closed_at = NULL, first_response_due = COALESCE($3, first_response_due),
				resolution_due = COALESCE($4, resolution_due), updated_at = $2 WHERE case_id = $1`,
				d.CaseID, d.ReopenedAt, projections.Time(d.FirstResponseDue), projections.Time(d.ResolutionDue))
		default:
			return projections.Fail(e, fmt.Errorf("service projection: unexpected event %T", e.Data))
		}
	}
	return b.Send(ctx, tx)
}
