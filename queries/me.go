package queries

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// What a customer sees of its own records (GET /v1/me/...): status, dates
// and the next expected step. Never internal fields (notes, agents, root
// causes, decisions, escalation levels).

// maxMine bounds each list a customer reads (newest first).
const maxMine = 200

// NextStep is what happens next on a record, and by when when known.
type NextStep struct {
	Step string     `json:"step"` // e.g. "delivery"; "" when the record is finished
	Due  *time.Time `json:"due,omitempty"`
}

// MyOrder is an order as its customer sees it: its status and dates (the
// same as in the customer 360) and the next step.
type MyOrder struct {
	Order
	Next NextStep `json:"next"`
}

// MyCase is a service case as its customer sees it.
type MyCase struct {
	CaseID          uuid.UUID  `json:"case_id"`
	Subject         string     `json:"subject"`
	Status          string     `json:"status"`
	OpenedAt        time.Time  `json:"opened_at"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
	Next            NextStep   `json:"next"`
}

// MyComplaint is a complaint as its customer sees it.
type MyComplaint struct {
	ComplaintID    uuid.UUID  `json:"complaint_id"`
	Reference      string     `json:"reference"`
	Status         string     `json:"status"`
	ReceivedAt     time.Time  `json:"received_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	RespondedAt    *time.Time `json:"responded_at,omitempty"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	Next           NextStep   `json:"next"`
}

// CustomerExists reports whether the tenant of ctx has the customer.
func (q *Queries) CustomerExists(ctx context.Context, id uuid.UUID) (bool, error) {
	var one int
	err := q.db.QueryRow(ctx, `SELECT 1 FROM rm_customer_profiles WHERE tenant = $tenant AND customer_id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("queries: customer: %w", err)
	}
	return true, nil
}

// MyOrders returns the customer's orders, newest first.
func (q *Queries) MyOrders(ctx context.Context, customer uuid.UUID) ([]MyOrder, error) {
	rows, err := q.db.Query(ctx, `SELECT order_id, COALESCE(customer_reference, ''), status, total_minor, currency, placed_at, confirmed_at,
		promised_delivery, shipped_at, delivered_at, cancelled_at
		FROM rm_customer_orders WHERE tenant = $tenant AND customer_id = $1 ORDER BY placed_at DESC, order_id LIMIT $2`, customer, maxMine)
	if err != nil {
		return nil, fmt.Errorf("queries: my orders: %w", err)
	}
	out := []MyOrder{}
	var o MyOrder
	var promised *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&o.OrderID, &o.Reference, &o.Status, &o.Total.AmountMinor, &o.Total.Currency, &o.PlacedAt,
		&o.ConfirmedAt, &promised, &o.ShippedAt, &o.DeliveredAt, &o.CancelledAt}, func() error {
		o.PromisedDelivery = ""
		if promised != nil {
			o.PromisedDelivery = promised.Format(time.DateOnly)
		}
		o.Next = orderNext(o.Status, promised)
		out = append(out, o)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("queries: my orders: %w", err)
	}
	return out, nil
}

func orderNext(status string, promised *time.Time) NextStep {
	switch status {
	case "placed":
		return NextStep{Step: "confirmation"}
	case "confirmed":
		return NextStep{Step: "production", Due: promised}
	case "in_production":
		return NextStep{Step: "shipment", Due: promised}
	case "shipped":
		return NextStep{Step: "delivery", Due: promised}
	}
	return NextStep{} // delivered, cancelled
}

// MyCases returns the customer's service cases, newest first.
func (q *Queries) MyCases(ctx context.Context, customer uuid.UUID) ([]MyCase, error) {
	rows, err := q.db.Query(ctx, `SELECT case_id, subject, status, opened_at, first_response_at, resolved_at, closed_at, next_due
		FROM rm_service_cases WHERE tenant = $tenant AND customer_id = $1 ORDER BY opened_at DESC, case_id LIMIT $2`, customer, maxMine)
	if err != nil {
		return nil, fmt.Errorf("queries: my cases: %w", err)
	}
	out := []MyCase{}
	var c MyCase
	var due *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&c.CaseID, &c.Subject, &c.Status, &c.OpenedAt, &c.FirstResponseAt, &c.ResolvedAt, &c.ClosedAt, &due}, func() error {
		switch c.Status {
		case "open":
			c.Next = NextStep{Step: "resolution", Due: due}
			if c.FirstResponseAt == nil {
				c.Next.Step = "first_response"
			}
		case "waiting_on_customer":
			c.Next = NextStep{Step: "your_reply"}
		case "resolved":
			c.Next = NextStep{Step: "closure"}
		default:
			c.Next = NextStep{}
		}
		out = append(out, c)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("queries: my cases: %w", err)
	}
	return out, nil
}

// MyComplaints returns the customer's complaints, newest first.
func (q *Queries) MyComplaints(ctx context.Context, customer uuid.UUID) ([]MyComplaint, error) {
	rows, err := q.db.Query(ctx, `SELECT complaint_id, reference, status, received_at, acknowledged_at, responded_at, closed_at, acknowledgement_due
		FROM rm_quality_complaints WHERE tenant = $tenant AND customer_id = $1 ORDER BY received_at DESC, complaint_id LIMIT $2`, customer, maxMine)
	if err != nil {
		return nil, fmt.Errorf("queries: my complaints: %w", err)
	}
	out := []MyComplaint{}
	var c MyComplaint
	var ackDue time.Time
	if _, err := pgx.ForEachRow(rows, []any{&c.ComplaintID, &c.Reference, &c.Status, &c.ReceivedAt, &c.AcknowledgedAt, &c.RespondedAt, &c.ClosedAt, &ackDue}, func() error {
		switch c.Status {
		case "received":
			due := ackDue
			c.Next = NextStep{Step: "acknowledgement", Due: &due}
		case "acknowledged":
			c.Next = NextStep{Step: "response"}
		case "responded":
			c.Next = NextStep{Step: "closure"}
		default:
			c.Next = NextStep{}
		}
		out = append(out, c)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("queries: my complaints: %w", err)
	}
	return out, nil
}
