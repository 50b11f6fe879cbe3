// Package analytics is the analytics read model: daily event counts per
// type, and the marketing funnel campaign → lead → opportunity → won, with
// revenue per campaign and currency.
//
// Tables (served as views of the same names):
//
//	rm_analytics_daily_events     events per UTC day (of occurred-at) and type
//	rm_analytics_campaigns        campaigns: name, channel, status, budget, responses
//	rm_analytics_leads            leads with their campaign and conversion
//	rm_analytics_opportunities    opportunities with their lead and outcome
//
// The funnel joins the last three at query time (package queries), so the
// attribution does not depend on the order in which a lead's conversion and
// its opportunity's opening reach the log.
package analytics

import (
	"context"
	"sort"
	"time"

	"github.com/evcrm/evcrm/domain"
	_ "github.com/evcrm/evcrm/domain/all" // daily counts cover every event type
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5"
)

// Name of the projection.
const Name = "analytics"

// Projection builds the analytics tables. It counts every registered event type.
type Projection struct {
	// Registry lists the event types (default domain.Events).
	Registry *domain.Registry
}

var _ projections.Projection = Projection{}

func (Projection) Name() string { return Name }

// Version 2: qualified_at (a lead ever qualified, for the funnel); 3: tenant column and row-level security.
func (Projection) Version() int { return 4 } // 4: tenant-first indexes

func (p Projection) EventTypes() []string {
	if p.Registry == nil {
		return domain.Events.Types()
	}
	return p.Registry.Types()
}

func (Projection) Schema() string {
	return `
CREATE TABLE rm_analytics_daily_events (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	day        date NOT NULL,
	event_type text NOT NULL,
	category   text NOT NULL,
	events     bigint NOT NULL,
	PRIMARY KEY (tenant, day, event_type)
);
COMMENT ON TABLE rm_analytics_daily_events IS 'Events per UTC day (of the time they occurred) and type';

CREATE TABLE rm_analytics_campaigns (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	campaign_id   uuid PRIMARY KEY,
	name          text NOT NULL,
	channel       text NOT NULL,
	status        text NOT NULL,
	budget_minor  bigint NOT NULL,
	currency      text NOT NULL,
	planned_start date,
	planned_end   date,
	owner_id      text,
	responses     integer NOT NULL DEFAULT 0,
	planned_at    timestamptz NOT NULL,
	launched_at   timestamptz,
	ended_at      timestamptz,
	updated_at    timestamptz NOT NULL
);
COMMENT ON TABLE rm_analytics_campaigns IS 'Marketing campaigns: channel, status, budget (minor units) and responses';

CREATE TABLE rm_analytics_leads (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	lead_id        uuid PRIMARY KEY,
	campaign_id    uuid,
	source         text NOT NULL,
	status         text NOT NULL,
	score          integer,
	captured_at    timestamptz NOT NULL,
	qualified_at   timestamptz, -- first qualification (kept when later disqualified or converted)
	converted_at   timestamptz,
	opportunity_id uuid,
	customer_id    uuid,
	updated_at     timestamptz NOT NULL
);
COMMENT ON TABLE rm_analytics_leads IS 'Leads: campaign, source, status, conversion into an opportunity';
CREATE INDEX rm_analytics_leads_campaign ON rm_analytics_leads (tenant, campaign_id);
CREATE INDEX rm_analytics_leads_opportunity ON rm_analytics_leads (opportunity_id);

CREATE TABLE rm_analytics_opportunities (
	tenant text NOT NULL DEFAULT current_setting('evcrm.tenant'), -- the tenant of the events that wrote the row
	opportunity_id uuid PRIMARY KEY,
	lead_id        uuid,
	status         text NOT NULL,
	amount_minor   bigint NOT NULL,
	currency       text NOT NULL,
	opened_at      timestamptz NOT NULL,
	closed_at      timestamptz,
	updated_at     timestamptz NOT NULL
);
COMMENT ON TABLE rm_analytics_opportunities IS 'Opportunities: originating lead and outcome, for the campaign funnel';
CREATE INDEX rm_analytics_opportunities_lead ON rm_analytics_opportunities (lead_id);
`
}

type dayType struct {
	day time.Time
	typ string
}

func (p Projection) Apply(ctx context.Context, tx pgx.Tx, events []projections.Event) error {
	var b projections.Batch
	counts := map[dayType]int64{}
	first := map[dayType]*projections.Event{}
	for i := range events {
		e := &events[i]
		at := e.OccurredAt()
		k := dayType{time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC), e.Type}
		counts[k]++
		if first[k] == nil {
			first[k] = e
		}
		queue(&b, e)
	}
	keys := make([]dayType, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].day.Equal(keys[j].day) {
			return keys[i].day.Before(keys[j].day)
		}
		return keys[i].typ < keys[j].typ
	})
	for _, k := range keys {
		e := first[k]
		b.Queue(e, `INSERT INTO rm_analytics_daily_events (day, event_type, category, events) VALUES ($1::date, $2, $3, $4)
			ON CONFLICT (tenant, day, event_type) DO UPDATE SET events = rm_analytics_daily_events.events + EXCLUDED.events`,
			projections.Date(k.day), k.typ, eventstore.Category(e.StreamID), counts[k])
	}
	return b.Send(ctx, tx)
}

func queue(b *projections.Batch, e *projections.Event) {
	switch d := e.Data.(type) {
	case campaign.CampaignPlanned:
		b.Queue(e, `INSERT INTO rm_analytics_campaigns (campaign_id, name, channel, status, budget_minor, currency, planned_start,
			planned_end, owner_id, planned_at, updated_at) VALUES ($1, $2, $3, 'planned', $4, $5, $6::date, $7::date, $8, $9, $9)`,
			d.CampaignID, d.Name, string(d.Channel), d.Budget.Amount, d.Budget.Currency, projections.Date(d.PlannedStart),
			projections.Date(d.PlannedEnd), projections.Text(d.OwnerID), d.At)
	case campaign.CampaignBudgetChanged:
		b.QueueOne(e, `UPDATE rm_analytics_campaigns SET budget_minor = $2, currency = $3, updated_at = $4 WHERE campaign_id = $1`,
			d.CampaignID, d.Budget.Amount, d.Budget.Currency, d.At)
	case campaign.CampaignLaunched:
		b.QueueOne(e, `UPDATE rm_analytics_campaigns SET status = 'launched', launched_at = $2, updated_at = $2 WHERE campaign_id = $1`,
			d.CampaignID, d.At)
	case campaign.CampaignCompleted:
		b.QueueOne(e, `UPDATE rm_analytics_campaigns SET status = 'completed', ended_at = $2, updated_at = $2 WHERE campaign_id = $1`,
			d.CampaignID, d.At)
	case campaign.CampaignCancelled:
		b.QueueOne(e, `UPDATE rm_analytics_campaigns SET status = 'cancelled', ended_at = $2, updated_at = $2 WHERE campaign_id = $1`,
			d.CampaignID, d.At)
	case campaign.CampaignResponseRecorded:
		b.QueueOne(e, `UPDATE rm_analytics_campaigns SET responses = responses + 1, updated_at = $2 WHERE campaign_id = $1`,
			d.CampaignID, d.At)
	case lead.LeadCaptured:
		b.Queue(e, `INSERT INTO rm_analytics_leads (lead_id, campaign_id, source, status, captured_at, updated_at)
			VALUES ($1, $2, $3, 'new', $4, $4)`, d.LeadID, projections.UUID(d.CampaignID), d.Source, d.At)
	case lead.LeadQualified:
		b.QueueOne(e, `UPDATE rm_analytics_leads SET status = 'qualified', score = $2, qualified_at = COALESCE(qualified_at, $3),
			updated_at = $3 WHERE lead_id = $1`,
			d.LeadID, d.Score, d.At)
	case lead.LeadDisqualified:
		b.QueueOne(e, `UPDATE rm_analytics_leads SET status = 'disqualified', updated_at = $2 WHERE lead_id = $1`, d.LeadID, d.At)
	case lead.LeadConverted:
		b.QueueOne(e, `UPDATE rm_analytics_leads SET status = 'converted', converted_at = $2, opportunity_id = $3, customer_id = $4,
			qualified_at = COALESCE(qualified_at, $2),
			campaign_id = COALESCE(campaign_id, $5), updated_at = $2 WHERE lead_id = $1`,
			d.LeadID, d.At, d.OpportunityID, d.CustomerID, projections.UUID(d.CampaignID))
	case opportunity.OpportunityOpened:
		b.Queue(e, `INSERT INTO rm_analytics_opportunities (opportunity_id, lead_id, status, amount_minor, currency, opened_at, updated_at)
			VALUES ($1, $2, 'open', $3, $4, $5, $5)`, d.OpportunityID, projections.UUID(d.LeadID), d.Amount.Amount, d.Amount.Currency, d.At)
	case opportunity.OpportunityAmountChanged:
		b.QueueOne(e, `UPDATE rm_analytics_opportunities SET amount_minor = $2, currency = $3, updated_at = $4 WHERE opportunity_id = $1`,
			d.OpportunityID, d.Amount.Amount, d.Amount.Currency, d.At)
	case opportunity.OpportunityWon:
		b.QueueOne(e, `UPDATE rm_analytics_opportunities SET status = 'won', amount_minor = $2, currency = $3, closed_at = $4,
			updated_at = $4 WHERE opportunity_id = $1`, d.OpportunityID, d.Amount.Amount, d.Amount.Currency, d.At)
	case opportunity.OpportunityLost:
		b.QueueOne(e, `UPDATE rm_analytics_opportunities SET status = 'lost', closed_at = $2, updated_at = $2 WHERE opportunity_id = $1`,
			d.OpportunityID, d.At)
	case opportunity.OpportunityReopened:
		b.QueueOne(e, `UPDATE rm_analytics_opportunities SET status = 'open', closed_at = NULL, amount_minor = $2, currency = $3,
			updated_at = $4 WHERE opportunity_id = $1`, d.OpportunityID, d.Amount.Amount, d.Amount.Currency, d.At)
	}
}
