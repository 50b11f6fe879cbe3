package queries

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrCustomerNotFound: the customer read model has no such customer.
var ErrCustomerNotFound = domain.NotFound("customer")

// Profile is a customer's current profile.
type Profile struct {
	CustomerID         uuid.UUID       `json:"customer_id"`
	Kind               string          `json:"kind"`
	DisplayName        string          `json:"display_name"`
	LegalName          string          `json:"legal_name,omitempty"`
	Emails             []string        `json:"emails"`
	Phones             []string        `json:"phones"`
	TaxID              string          `json:"tax_id,omitempty"`
	Address            json.RawMessage `json:"address,omitempty"`
	OwnerID            string          `json:"owner_id,omitempty"`
	Segment            string          `json:"segment,omitempty"`
	Status             string          `json:"status"` // active or merged
	MergedInto         *uuid.UUID      `json:"merged_into,omitempty"`
	ErasureRequestedAt *time.Time      `json:"erasure_requested_at,omitempty"`
	RegisteredAt       time.Time       `json:"registered_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
}

// Contact is a contact person.
type Contact struct {
	ContactID uuid.UUID `json:"contact_id"`
	Name      string    `json:"name"`
	Role      string    `json:"role,omitempty"`
	Emails    []string  `json:"emails"`
	Phones    []string  `json:"phones"`
}

// Consent is the state of one consent.
type Consent struct {
	ContactID   *uuid.UUID `json:"contact_id,omitempty"` // absent: the customer itself
	Purpose     string     `json:"purpose"`
	Channel     string     `json:"channel"`
	Granted     bool       `json:"granted"`
	Source      string     `json:"source"`
	GivenAt     *time.Time `json:"given_at,omitempty"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// Order is an order with its status.
type Order struct {
	OrderID          uuid.UUID  `json:"order_id"`
	Reference        string     `json:"customer_reference,omitempty"`
	Status           string     `json:"status"`
	Total            Money      `json:"total"`
	PlacedAt         time.Time  `json:"placed_at"`
	ConfirmedAt      *time.Time `json:"confirmed_at,omitempty"`
	PromisedDelivery string     `json:"promised_delivery,omitempty"`
	ShippedAt        *time.Time `json:"shipped_at,omitempty"`
	DeliveredAt      *time.Time `json:"delivered_at,omitempty"`
	CancelledAt      *time.Time `json:"cancelled_at,omitempty"`
}

// OpenCase is an open service case.
type OpenCase struct {
	CaseID   uuid.UUID `json:"case_id"`
	Queue    string    `json:"queue"`
	Priority string    `json:"priority"`
	Status   string    `json:"status"`
	Subject  string    `json:"subject"`
	OpenedAt time.Time `json:"opened_at"`
	// SLAPolicy is the case's SLA policy; "none" for a case opened without
	// one: it has no deadlines and is never overdue.
	SLAPolicy string `json:"sla_policy"`
	// NextDue is the next pending SLA deadline; none without SLA or while
	// waiting on the customer (the clocks are stopped).
	NextDue  *time.Time `json:"next_due,omitempty"`
	Breached bool       `json:"breached"` // a deadline missed (recorded, or passed now)
}

// OpenComplaint is a complaint not closed.
type OpenComplaint struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	Reference   string    `json:"reference"`
	Severity    string    `json:"severity"`
	Status      string    `json:"status"`
	ReceivedAt  time.Time `json:"received_at"`
}

// Customer360 is everything current about a customer.
type Customer360 struct {
	AsOf               time.Time       `json:"as_of"`
	Profile            Profile         `json:"profile"`
	Contacts           []Contact       `json:"contacts"`
	Consents           []Consent       `json:"consents"`
	OpenOpportunities  []Opportunity   `json:"open_opportunities"`
	Orders             []Order         `json:"orders"`
	OpenCases          []OpenCase      `json:"open_cases"`
	OpenComplaints     []OpenComplaint `json:"open_complaints"`
	InteractionsLast90 int64           `json:"interactions_last_90_days"`
}

// Customer360 returns a customer's current picture; ErrCustomerNotFound
// when the customer is unknown (or not projected yet).
func (q *Queries) Customer360(ctx context.Context, id uuid.UUID) (Customer360, error) {
	now := q.now()
	out := Customer360{AsOf: now, Contacts: []Contact{}, Consents: []Consent{}, OpenOpportunities: []Opportunity{}, Orders: []Order{},
		OpenCases: []OpenCase{}, OpenComplaints: []OpenComplaint{}}
	p := &out.Profile
	var legal, tax, owner, segment *string
	err := q.db.QueryRow(ctx, `SELECT customer_id, kind, display_name, legal_name, emails, phones, tax_id, address, owner_id, segment,
		status, merged_into, erasure_requested_at, registered_at, updated_at FROM rm_customer_profiles WHERE tenant = $tenant AND customer_id = $1`, id).
		Scan(&p.CustomerID, &p.Kind, &p.DisplayName, &legal, &p.Emails, &p.Phones, &tax, &p.Address, &owner, &segment, &p.Status,
			&p.MergedInto, &p.ErasureRequestedAt, &p.RegisteredAt, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("%w: %s", ErrCustomerNotFound, id)
	}
	if err != nil {
		return out, fmt.Errorf("queries: customer profile: %w", err)
	}
	p.LegalName, p.TaxID, p.OwnerID, p.Segment = deref(legal), deref(tax), deref(owner), deref(segment)

	rows, err := q.db.Query(ctx, `SELECT contact_id, name, COALESCE(role, ''), emails, phones FROM rm_customer_contacts
		WHERE tenant = $tenant AND customer_id = $1 ORDER BY name, contact_id`, id)
	if err != nil {
		return out, fmt.Errorf("queries: contacts: %w", err)
	}
	var c Contact
	if _, err := pgx.ForEachRow(rows, []any{&c.ContactID, &c.Name, &c.Role, &c.Emails, &c.Phones}, func() error {
		out.Contacts = append(out.Contacts, c)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: contacts: %w", err)
	}

	rows, err = q.db.Query(ctx, `SELECT NULLIF(contact_id, '00000000-0000-0000-0000-000000000000'), purpose, channel, granted, source,
		given_at, withdrawn_at FROM rm_customer_consents WHERE tenant = $tenant AND customer_id = $1 ORDER BY contact_id, purpose, channel`, id)
	if err != nil {
		return out, fmt.Errorf("queries: consents: %w", err)
	}
	var cs Consent
	if _, err := pgx.ForEachRow(rows, []any{&cs.ContactID, &cs.Purpose, &cs.Channel, &cs.Granted, &cs.Source, &cs.GivenAt, &cs.WithdrawnAt}, func() error {
		out.Consents = append(out.Consents, cs)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: consents: %w", err)
	}

	opps, err := q.Opportunities(ctx, OpportunityFilter{CustomerID: id, Limit: MaxLimit})
	if err != nil {
		return out, err
	}
	out.OpenOpportunities = opps.Items

	rows, err = q.db.Query(ctx, `SELECT order_id, COALESCE(customer_reference, ''), status, total_minor, currency, placed_at, confirmed_at,
		COALESCE(to_char(promised_delivery, 'YYYY-MM-DD'), ''), shipped_at, delivered_at, cancelled_at
		FROM rm_customer_orders WHERE tenant = $tenant AND customer_id = $1 ORDER BY placed_at DESC, order_id LIMIT 100`, id)
	if err != nil {
		return out, fmt.Errorf("queries: orders: %w", err)
	}
	var o Order
	if _, err := pgx.ForEachRow(rows, []any{&o.OrderID, &o.Reference, &o.Status, &o.Total.AmountMinor, &o.Total.Currency, &o.PlacedAt,
		&o.ConfirmedAt, &o.PromisedDelivery, &o.ShippedAt, &o.DeliveredAt, &o.CancelledAt}, func() error {
		out.Orders = append(out.Orders, o)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: orders: %w", err)
	}

	rows, err = q.db.Query(ctx, `SELECT case_id, queue, priority, status, subject, opened_at, COALESCE(sla_policy, 'none'), next_due,
		first_response_breached OR resolution_breached OR COALESCE(status = 'open' AND next_due < $2, false)
		FROM rm_service_cases WHERE tenant = $tenant AND customer_id = $1 AND status IN ('open', 'waiting_on_customer')
		ORDER BY opened_at, case_id`, id, now)
	if err != nil {
		return out, fmt.Errorf("queries: open cases: %w", err)
	}
	var oc OpenCase
	if _, err := pgx.ForEachRow(rows, []any{&oc.CaseID, &oc.Queue, &oc.Priority, &oc.Status, &oc.Subject, &oc.OpenedAt, &oc.SLAPolicy, &oc.NextDue,
		&oc.Breached}, func() error {
		out.OpenCases = append(out.OpenCases, oc)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: open cases: %w", err)
	}

	rows, err = q.db.Query(ctx, `SELECT complaint_id, reference, severity, status, received_at FROM rm_quality_complaints
		WHERE tenant = $tenant AND customer_id = $1 AND status <> 'closed' ORDER BY received_at, complaint_id`, id)
	if err != nil {
		return out, fmt.Errorf("queries: open complaints: %w", err)
	}
	var cp OpenComplaint
	if _, err := pgx.ForEachRow(rows, []any{&cp.ComplaintID, &cp.Reference, &cp.Severity, &cp.Status, &cp.ReceivedAt}, func() error {
		out.OpenComplaints = append(out.OpenComplaints, cp)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: open complaints: %w", err)
	}

	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM rm_customer_interactions WHERE tenant = $tenant AND customer_id = $1 AND occurred_at >= $2`,
		id, now.AddDate(0, 0, -90)).Scan(&out.InteractionsLast90); err != nil {
		return out, fmt.Errorf("queries: interactions: %w", err)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TimelineEntry is one event of a customer's timeline.
type TimelineEntry struct {
	OccurredAt time.Time       `json:"occurred_at"`
	Position   string          `json:"position"` // commit/prepare
	EventID    uuid.UUID       `json:"event_id"`
	Type       string          `json:"type"`
	Category   string          `json:"category"` // customer, case, opportunity...
	StreamID   string          `json:"stream_id"`
	Actor      string          `json:"actor,omitempty"`
	ActorRole  string          `json:"actor_role,omitempty"`
	Summary    string          `json:"summary"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// TimelineFilter pages through a customer's timeline, newest first.
type TimelineFilter struct {
	Categories []string // only these categories (default: all)
	Types      []string // only these event types (default: all)
	From, To   time.Time
	WithData   bool // include each event's data
	Limit      int
	Cursor     string
}

// Timeline returns a customer's events, newest first.
func (q *Queries) Timeline(ctx context.Context, id uuid.UUID, f TimelineFilter) (Page[TimelineEntry], error) {
	page := Page[TimelineEntry]{Items: []TimelineEntry{}}
	n, err := limit(f.Limit)
	if err != nil {
		return page, err
	}
	var before *time.Time
	var bc, bp int64
	if f.Cursor != "" {
		var at time.Time
		if err := decodeCursor(f.Cursor, &at, &bc, &bp); err != nil {
			return page, err
		}
		before = &at
	}
	var exists bool
	if err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM rm_customer_profiles WHERE tenant = $tenant AND customer_id = $1)`, id).Scan(&exists); err != nil {
		return page, fmt.Errorf("queries: timeline: %w", err)
	}
	if !exists {
		return page, fmt.Errorf("%w: %s", ErrCustomerNotFound, id)
	}
	rows, err := q.db.Query(ctx, `
		SELECT occurred_at, position_commit, position_prepare, event_id, event_type, category, stream_id, COALESCE(actor, ''),
			COALESCE(actor_role, ''), summary, CASE WHEN $9 THEN data END
		FROM rm_customer_timeline
		WHERE tenant = $tenant AND customer_id = $1 AND (cardinality($2::text[]) = 0 OR category = ANY($2)) AND (cardinality($3::text[]) = 0 OR event_type = ANY($3))
			AND ($4::timestamptz IS NULL OR occurred_at >= $4) AND ($5::timestamptz IS NULL OR occurred_at < $5)
			AND ($6::timestamptz IS NULL OR (occurred_at, position_commit, position_prepare) < ($6, $7, $8))
		ORDER BY occurred_at DESC, position_commit DESC, position_prepare DESC
		LIMIT $10`, id, nonNil(f.Categories), nonNil(f.Types), nullTime(f.From), nullTime(f.To), before, bc, bp, f.WithData, n+1)
	if err != nil {
		return page, fmt.Errorf("queries: timeline: %w", err)
	}
	var e TimelineEntry
	var c, p int64
	var keys [][2]int64
	if _, err := pgx.ForEachRow(rows, []any{&e.OccurredAt, &c, &p, &e.EventID, &e.Type, &e.Category, &e.StreamID, &e.Actor, &e.ActorRole,
		&e.Summary, &e.Data}, func() error {
		if len(page.Items) == n {
			page.Next = encodeCursor(page.Items[n-1].OccurredAt, keys[n-1][0], keys[n-1][1])
			return nil
		}
		e.Position = fmt.Sprintf("%d/%d", c, p)
		page.Items = append(page.Items, e)
		keys = append(keys, [2]int64{c, p})
		return nil
	}); err != nil {
		return page, fmt.Errorf("queries: timeline: %w", err)
	}
	return page, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
