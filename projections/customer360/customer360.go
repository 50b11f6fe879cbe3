// Package customer360 is the customer read model: current profile,
// contacts, consents, interactions, and the chronological timeline of
// every event about the customer (interactions and the life cycle of its
// leads, opportunities, orders, cases, complaints, feedback...).
//
// Tables (served as views of the same names):
//
//	rm_customer_profiles      one row per customer: current details, owner, segment, merge status
//	rm_customer_contacts      current contact persons
//	rm_customer_consents      consent per (customer, contact, purpose, channel), given or withdrawn
//	rm_customer_interactions  one row per interaction, with its corrected content
//	rm_customer_orders        one row per order, with its status and dates
//	rm_customer_timeline      one row per event about a customer
//	rm_customer_streams       which customer each stream (case-…, order-…) is about
//
// An event is about a customer when its data has a customer_id, or when
// the first event of its stream had one (a CaseAssigned belongs to the
// customer of its CaseOpened). Open opportunities, orders, cases and
// complaints come from the other read models, joined by customer_id at
// query time.
package customer360

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/evcrm/evcrm/domain"
	_ "github.com/evcrm/evcrm/domain/all" // the timeline covers every event type
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/projections"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Name of the projection.
const Name = "customer"

// Projection builds the customer tables. It handles every registered event
// type (for the timeline).
type Projection struct {
	// Registry lists the event types (default domain.Events).
	Registry *domain.Registry
}

var _ projections.Projection = Projection{}

func (Projection) Name() string { return Name }
func (Projection) Version() int { return 3 } // 2: tenant column and row-level security; 3: tenant-first indexes

func (p Projection) EventTypes() []string {
	if p.Registry == nil {
		return domain.Events.Types()
	}
	return p.Registry.Types()
}

func (Projection) Schema() string {
	return `
CREATE TABLE rm_customer_profiles (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	customer_id          uuid PRIMARY KEY,
	kind                 text NOT NULL,
	display_name         text NOT NULL,
	legal_name           text,
	emails               text[] NOT NULL DEFAULT '{}',
	phones               text[] NOT NULL DEFAULT '{}',
	tax_id               text,
	address              jsonb,
	owner_id             text,
	segment              text,
	status               text NOT NULL,
	merged_into          uuid,
	erasure_requested_at timestamptz,
	registered_at        timestamptz NOT NULL,
	updated_at           timestamptz NOT NULL
);
COMMENT ON TABLE rm_customer_profiles IS 'Customers: current details, owner, segment and status (active or merged)';
CREATE INDEX rm_customer_profiles_name ON rm_customer_profiles (tenant, lower(display_name), customer_id);
CREATE INDEX rm_customer_profiles_owner ON rm_customer_profiles (tenant, owner_id);

CREATE TABLE rm_customer_contacts (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	customer_id uuid NOT NULL,
	contact_id  uuid NOT NULL,
	name        text NOT NULL,
	role        text,
	emails      text[] NOT NULL DEFAULT '{}',
	phones      text[] NOT NULL DEFAULT '{}',
	added_at    timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (customer_id, contact_id)
);
COMMENT ON TABLE rm_customer_contacts IS 'Current contact persons of each customer';

CREATE TABLE rm_customer_consents (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	customer_id  uuid NOT NULL,
	contact_id   uuid NOT NULL, -- the nil UUID: the customer itself
	purpose      text NOT NULL,
	channel      text NOT NULL,
	granted      boolean NOT NULL,
	source       text NOT NULL,
	evidence     text,
	given_at     timestamptz,
	withdrawn_at timestamptz,
	updated_at   timestamptz NOT NULL,
	PRIMARY KEY (customer_id, contact_id, purpose, channel)
);
COMMENT ON TABLE rm_customer_consents IS 'Consents (GDPR) per customer or contact, purpose and channel: granted or withdrawn';

CREATE TABLE rm_customer_interactions (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	interaction_id   uuid PRIMARY KEY,
	customer_id      uuid,
	channel          text NOT NULL,
	direction        text NOT NULL,
	subject          text NOT NULL,
	summary          text,
	occurred_at      timestamptz NOT NULL,
	duration_seconds integer,
	actor            text NOT NULL,
	corrections      integer NOT NULL DEFAULT 0,
	logged_at        timestamptz NOT NULL,
	updated_at       timestamptz NOT NULL
);
COMMENT ON TABLE rm_customer_interactions IS 'Interactions (ISO 9001 8.2.1) with their current, corrected content';
CREATE INDEX rm_customer_interactions_customer ON rm_customer_interactions (customer_id, occurred_at DESC);

CREATE TABLE rm_customer_orders (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	order_id           uuid PRIMARY KEY,
	customer_id        uuid NOT NULL,
	opportunity_id     uuid,
	customer_reference text,
	status             text NOT NULL,
	revision           integer NOT NULL,
	total_minor        bigint NOT NULL,
	currency           text NOT NULL,
	lines              integer NOT NULL,
	requested_delivery date,
	promised_delivery  date,
	placed_at          timestamptz NOT NULL,
	confirmed_at       timestamptz,
	production_started_at timestamptz,
	shipped_at         timestamptz,
	delivered_at       timestamptz,
	cancelled_at       timestamptz,
	cancel_reason      text,
	carrier            text,
	tracking_ref       text,
	updated_at         timestamptz NOT NULL
);
COMMENT ON TABLE rm_customer_orders IS 'Orders with their status history dates (ISO 9001 8.2.1: order status)';
CREATE INDEX rm_customer_orders_customer ON rm_customer_orders (customer_id, placed_at DESC);

CREATE TABLE rm_customer_streams (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	stream_id   text PRIMARY KEY,
	customer_id uuid NOT NULL
);
COMMENT ON TABLE rm_customer_streams IS 'The customer each event stream is about';

CREATE TABLE rm_customer_timeline (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	customer_id      uuid NOT NULL,
	position_commit  bigint NOT NULL,
	position_prepare bigint NOT NULL,
	occurred_at      timestamptz NOT NULL,
	event_id         uuid NOT NULL,
	event_type       text NOT NULL,
	stream_id        text NOT NULL,
	category         text NOT NULL,
	actor            text,
	actor_role       text,
	summary          text NOT NULL,
	data             jsonb NOT NULL,
	PRIMARY KEY (customer_id, position_commit, position_prepare)
);
COMMENT ON TABLE rm_customer_timeline IS 'Every event about a customer, for its chronological timeline';
CREATE INDEX rm_customer_timeline_chrono ON rm_customer_timeline (customer_id, occurred_at DESC, position_commit DESC, position_prepare DESC);
CREATE INDEX rm_customer_timeline_stream ON rm_customer_timeline (stream_id);
`
}

// The timeline rows and stream owners of a batch are written in bulk, one
// statement each, in log order relative to the statements that read them
// (an interaction's correction moves its stream's rows).
const (
	streamsSQL = `INSERT INTO rm_customer_streams (stream_id, customer_id)
		SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT (stream_id) DO NOTHING`
	timelineSQL = `
		INSERT INTO rm_customer_timeline (customer_id, position_commit, position_prepare, occurred_at, event_id, event_type,
			stream_id, category, actor, actor_role, summary, data)
		SELECT COALESCE(t.customer_id, s.customer_id), t.pc, t.pp, t.at, t.id, t.typ, t.stream, t.cat, t.actor, t.role, t.summary, t.data::jsonb
		FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::uuid[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::text[]) AS t(customer_id, pc, pp, at, id, typ, stream, cat, actor, role, summary, data)
		LEFT JOIN rm_customer_streams s ON s.stream_id = t.stream
		WHERE COALESCE(t.customer_id, s.customer_id) IS NOT NULL`
)

// bulk accumulates the stream owners and timeline rows of a batch.
type bulk struct {
	first                *projections.Event // owner of the bulk statements, for error reports
	streamIDs            []string
	streamCustomers      []uuid.UUID
	customers            []pgtype.UUID
	commits, prepares    []int64
	ats                  []time.Time
	ids                  []uuid.UUID
	types, streams, cats []string
	actors, roles        []pgtype.Text
	summaries, datas     []string
}

func (k *bulk) flush(b *projections.Batch) {
	if k.first == nil {
		return
	}
	if len(k.streamIDs) > 0 {
		b.Queue(k.first, streamsSQL, k.streamIDs, k.streamCustomers)
	}
	if len(k.ids) > 0 {
		b.Queue(k.first, timelineSQL, k.customers, k.commits, k.prepares, k.ats, k.ids, k.types, k.streams, k.cats,
			k.actors, k.roles, k.summaries, k.datas)
	}
	*k = bulk{}
}

func text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

func (Projection) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	var b projections.Batch
	var k bulk
	for i := range events {
		e := &events[i]
		data, err := json.Marshal(e.Data)
		if err != nil {
			return projections.Fail(e, err)
		}
		var ref struct {
			CustomerID uuid.UUID `json:"customer_id"`
		}
		_ = json.Unmarshal(data, &ref) // absent or not a UUID: no direct customer
		switch e.Data.(type) {
		case interaction.InteractionCorrected:
			k.flush(&b) // the correction moves the rows written so far
		case customer.CustomerErased:
			k.flush(&b) // the erasure blanks the rows written so far
		}
		if k.first == nil {
			k.first = e
		}
		if ref.CustomerID != uuid.Nil && e.Version == 1 {
			k.streamIDs = append(k.streamIDs, e.StreamID)
			k.streamCustomers = append(k.streamCustomers, ref.CustomerID)
		}
		if err := queueState(&b, e); err != nil {
			return err
		}
		at := e.OccurredAt()
		if il, ok := e.Data.(interaction.InteractionLogged); ok {
			at = il.OccurredAt
		}
		k.customers = append(k.customers, pgtype.UUID{Bytes: ref.CustomerID, Valid: ref.CustomerID != uuid.Nil})
		k.commits = append(k.commits, int64(e.Position.Commit))
		k.prepares = append(k.prepares, int64(e.Position.Prepare))
		k.ats = append(k.ats, at.UTC())
		k.ids = append(k.ids, e.ID)
		k.types = append(k.types, e.Type)
		k.streams = append(k.streams, e.StreamID)
		k.cats = append(k.cats, eventstore.Category(e.StreamID))
		k.actors = append(k.actors, text(e.Metadata.Actor))
		k.roles = append(k.roles, text(e.Metadata.ActorRole))
		k.summaries = append(k.summaries, summary(e.Data, data))
		k.datas = append(k.datas, string(data))
	}
	k.flush(&b)
	return b.Send(ctx, tx)
}

// queueState maintains the profile, contact, consent and interaction tables.
func queueState(b *projections.Batch, e *projections.Event) error {
	switch d := e.Data.(type) {
	case customer.CustomerRegistered:
		addr, err := address(d.Details)
		if err != nil {
			return projections.Fail(e, err)
		}
		b.Queue(e, `INSERT INTO rm_customer_profiles (customer_id, kind, display_name, legal_name, emails, phones, tax_id, address,
			owner_id, segment, status, registered_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $11)`,
			d.CustomerID, string(d.Kind), d.DisplayName, projections.Text(d.LegalName), strs(d.Emails), strs(d.Phones),
			projections.Text(d.TaxID), addr, projections.Text(d.OwnerID), projections.Text(d.Segment), d.At)
	case customer.CustomerDetailsChanged:
		addr, err := address(d.Details)
		if err != nil {
			return projections.Fail(e, err)
		}
		b.QueueOne(e, `UPDATE rm_customer_profiles SET kind = $2, display_name = $3, legal_name = $4, emails = $5, phones = $6,
			tax_id = $7, address = $8, updated_at = $9 WHERE customer_id = $1`,
			d.CustomerID, string(d.Kind), d.DisplayName, projections.Text(d.LegalName), strs(d.Emails), strs(d.Phones),
			projections.Text(d.TaxID), addr, d.At)
	case customer.CustomerOwnerAssigned:
		b.QueueOne(e, `UPDATE rm_customer_profiles SET owner_id = $2, updated_at = $3 WHERE customer_id = $1`,
			d.CustomerID, projections.Text(d.OwnerID), d.At)
	case customer.CustomerSegmentChanged:
		b.QueueOne(e, `UPDATE rm_customer_profiles SET segment = $2, updated_at = $3 WHERE customer_id = $1`,
			d.CustomerID, projections.Text(d.Segment), d.At)
	case customer.CustomerMergedInto:
		b.QueueOne(e, `UPDATE rm_customer_profiles SET status = 'merged', merged_into = $2, updated_at = $3 WHERE customer_id = $1`,
			d.CustomerID, d.SurvivorID, d.At)
	case customer.CustomerErased:
		queueErasure(b, e, d.CustomerID)
	case customer.ErasureRequested:
		if d.ContactID == uuid.Nil {
			b.QueueOne(e, `UPDATE rm_customer_profiles SET erasure_requested_at = $2, updated_at = $2 WHERE customer_id = $1`,
				d.CustomerID, d.At)
		}
	case customer.ContactPersonAdded:
		b.Queue(e, `INSERT INTO rm_customer_contacts (customer_id, contact_id, name, role, emails, phones, added_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
			d.CustomerID, d.ContactID, d.Name, projections.Text(d.Role), strs(d.Emails), strs(d.Phones), d.At)
	case customer.ContactPersonUpdated:
		b.QueueOne(e, `UPDATE rm_customer_contacts SET name = $3, role = $4, emails = $5, phones = $6, updated_at = $7
			WHERE customer_id = $1 AND contact_id = $2`,
			d.CustomerID, d.ContactID, d.Name, projections.Text(d.Role), strs(d.Emails), strs(d.Phones), d.At)
	case customer.ContactPersonRemoved:
		b.QueueOne(e, `DELETE FROM rm_customer_contacts WHERE customer_id = $1 AND contact_id = $2`, d.CustomerID, d.ContactID)
	case customer.ConsentGiven:
		b.Queue(e, `INSERT INTO rm_customer_consents (customer_id, contact_id, purpose, channel, granted, source, evidence, given_at, updated_at)
			VALUES ($1, $2, $3, $4, true, $5, $6, $7, $7)
			ON CONFLICT (customer_id, contact_id, purpose, channel) DO UPDATE SET granted = true, source = EXCLUDED.source,
			evidence = EXCLUDED.evidence, given_at = EXCLUDED.given_at, withdrawn_at = NULL, updated_at = EXCLUDED.updated_at`,
			d.CustomerID, d.ContactID, d.Purpose, string(d.Channel), d.Source, projections.Text(d.Evidence), d.At)
	case customer.ConsentWithdrawn:
		b.Queue(e, `INSERT INTO rm_customer_consents (customer_id, contact_id, purpose, channel, granted, source, withdrawn_at, updated_at)
			VALUES ($1, $2, $3, $4, false, $5, $6, $6)
			ON CONFLICT (customer_id, contact_id, purpose, channel) DO UPDATE SET granted = false, source = EXCLUDED.source,
			withdrawn_at = EXCLUDED.withdrawn_at, updated_at = EXCLUDED.updated_at`,
			d.CustomerID, d.ContactID, d.Purpose, string(d.Channel), d.Source, d.At)
	case order.OrderPlaced:
		b.Queue(e, `INSERT INTO rm_customer_orders (order_id, customer_id, opportunity_id, customer_reference, status, revision,
			total_minor, currency, lines, requested_delivery, placed_at, updated_at)
			VALUES ($1, $2, $3, $4, 'placed', $5, $6, $7, $8, $9::date, $10, $10)`,
			d.OrderID, d.CustomerID, projections.UUID(d.OpportunityID), projections.Text(d.CustomerReference), d.Revision,
			d.Total.Amount, d.Total.Currency, len(d.Lines), projections.Date(d.RequestedDelivery), d.At)
	case order.OrderAmended:
		b.QueueOne(e, `UPDATE rm_customer_orders SET revision = $2, customer_reference = $3, total_minor = $4, currency = $5,
			lines = $6, requested_delivery = $7::date, updated_at = $8 WHERE order_id = $1`,
			d.OrderID, d.Revision, projections.Text(d.CustomerReference), d.Total.Amount, d.Total.Currency, len(d.Lines),
			projections.Date(d.RequestedDelivery), d.At)
	case order.OrderReviewed:
		// Reviews are in the quality read model.
	case order.OrderConfirmed:
		b.QueueOne(e, `UPDATE rm_customer_orders SET status = 'confirmed', confirmed_at = $2, promised_delivery = $3::date,
			total_minor = $4, currency = $5, updated_at = $2 WHERE order_id = $1`,
			d.OrderID, d.At, projections.Date(d.PromisedDelivery), d.Total.Amount, d.Total.Currency)
	case order.OrderProductionStarted:
		b.QueueOne(e, `UPDATE rm_customer_orders SET status = 'in_production', production_started_at = $2, updated_at = $2
			WHERE order_id = $1`, d.OrderID, d.At)
	case order.OrderShipped:
		b.QueueOne(e, `UPDATE rm_customer_orders SET status = 'shipped', shipped_at = $2, carrier = $3, tracking_ref = $4,
			updated_at = $2 WHERE order_id = $1`, d.OrderID, d.At, projections.Text(d.Carrier), projections.Text(d.TrackingRef))
	case order.OrderDelivered:
		b.QueueOne(e, `UPDATE rm_customer_orders SET status = 'delivered', delivered_at = $2, updated_at = $2 WHERE order_id = $1`,
			d.OrderID, d.At)
	case order.OrderCancelled:
		b.QueueOne(e, `UPDATE rm_customer_orders SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3, updated_at = $2
			WHERE order_id = $1`, d.OrderID, d.At, d.Reason)
	case interaction.InteractionLogged:
		b.Queue(e, `INSERT INTO rm_customer_interactions (interaction_id, customer_id, channel, direction, subject, summary,
			occurred_at, duration_seconds, actor, logged_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			d.InteractionID, projections.UUID(d.CustomerID), string(d.Channel), string(d.Direction), d.Subject,
			projections.Text(d.Summary), d.OccurredAt, nullInt(d.DurationSeconds), d.Actor, d.At)
	case interaction.InteractionCorrected:
		b.QueueOne(e, `UPDATE rm_customer_interactions SET customer_id = $2, channel = $3, direction = $4, subject = $5, summary = $6,
			occurred_at = $7, duration_seconds = $8, actor = $9, corrections = $10, updated_at = $11 WHERE interaction_id = $1`,
			d.InteractionID, projections.UUID(d.CustomerID), string(d.Channel), string(d.Direction), d.Subject,
			projections.Text(d.Summary), d.OccurredAt, nullInt(d.DurationSeconds), d.Actor, d.Correction, d.At)
		// A correction may move the interaction to another customer: its
		// whole history follows it.
		if d.CustomerID != uuid.Nil {
			b.Queue(e, `INSERT INTO rm_customer_streams (stream_id, customer_id) VALUES ($1, $2)
				ON CONFLICT (stream_id) DO UPDATE SET customer_id = EXCLUDED.customer_id`, e.StreamID, d.CustomerID)
			b.Queue(e, `UPDATE rm_customer_timeline SET customer_id = $2 WHERE stream_id = $1 AND customer_id <> $2`, e.StreamID, d.CustomerID)
		}
	}
	return nil
}

// Erased is what a personal text column reads after its customer was erased.
const Erased = "[erased]"

// queueErasure blanks the customer's personal columns (docs/privacy.md).
// Every value is a constant, whatever the column held: a rebuild, which
// reads the erased events as nulls, then writes exactly the same rows. The
// timeline keeps its rows (who did what, when) without the personal fields.
func queueErasure(b *projections.Batch, e *projections.Event, id uuid.UUID) {
	b.Queue(e, `UPDATE rm_customer_profiles SET display_name = $2, legal_name = NULL, emails = '{}', phones = '{}',
		tax_id = NULL, address = NULL WHERE customer_id = $1`, id, Erased)
	b.Queue(e, `UPDATE rm_customer_contacts SET name = $2, role = NULL, emails = '{}', phones = '{}' WHERE customer_id = $1`, id, Erased)
	b.Queue(e, `UPDATE rm_customer_consents SET evidence = NULL WHERE customer_id = $1`, id)
	b.Queue(e, `UPDATE rm_customer_interactions SET subject = $2, summary = NULL WHERE customer_id = $1`, id, Erased)
	for _, typ := range domain.Events.Types() {
		p, _ := domain.Events.Personal(typ)
		if len(p.Fields) == 0 {
			continue
		}
		var keys []string
		for _, f := range p.Fields {
			top, _, _ := strings.Cut(f, ".")
			keys = append(keys, strings.TrimSuffix(top, "[]"))
		}
		b.Queue(e, `UPDATE rm_customer_timeline SET data = data - $3::text[], summary = $2 || ' (personal data erased)'
			WHERE customer_id = $1 AND event_type = $2`, id, typ, keys)
	}
}

func address(d customer.Details) (any, error) {
	if d.Address.IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(d.Address)
	if err != nil {
		return nil, fmt.Errorf("encoding address: %w", err)
	}
	return b, nil
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// summary is a one-line description of an event for timelines: its type in
// words, with the most telling field when there is one. data is e as JSON.
func summary(e domain.Event, data []byte) string {
	words := humanize(e.EventType())
	var detail string
	switch d := e.(type) {
	case customer.CustomerRegistered:
		detail = d.DisplayName
	case customer.CustomerDetailsChanged:
		detail = d.DisplayName
	case customer.ContactPersonAdded:
		detail = d.Name
	case customer.ConsentGiven:
		detail = d.Purpose + " by " + string(d.Channel)
	case customer.ConsentWithdrawn:
		detail = d.Purpose + " by " + string(d.Channel)
	case interaction.InteractionLogged:
		detail = string(d.Direction) + " " + string(d.Channel) + ": " + d.Subject
	case interaction.InteractionCorrected:
		detail = d.Reason
	default:
		detail = genericDetail(data)
	}
	if detail = strings.TrimSpace(detail); detail != "" {
		return truncate(words+": "+detail, 300)
	}
	return words
}

// genericDetail picks a telling field of events this package does not
// know by type (data is the event as JSON): subject, reference, name,
// stage, status, reason.
func genericDetail(data []byte) string {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	for _, k := range []string{"subject", "reference", "name", "title", "stage", "status", "outcome", "result", "reason"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// humanize turns "CaseFirstResponseGiven" into "Case first response given".
func humanize(typ string) string {
	var b strings.Builder
	for i, r := range typ {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utfStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }
