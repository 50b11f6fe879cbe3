package queries

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DailyCount counts one event type on one UTC day.
type DailyCount struct {
	Day      string `json:"day"` // 2026-01-31
	Type     string `json:"type"`
	Category string `json:"category"`
	Events   int64  `json:"events"`
}

// DailyEvents returns the events per day and type in a period, optionally
// of some types only. The days are the whole UTC days the period touches:
// from the day containing From to the day containing To, the latter
// included unless To is its midnight (the period ends before it starts).
// So the default period, ending now, includes today (so far).
func (q *Queries) DailyEvents(ctx context.Context, p Period, types []string) ([]DailyCount, error) {
	out := []DailyCount{}
	if err := p.check(); err != nil {
		return out, err
	}
	to := p.To.UTC()
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC) // first day not reported
	if to.After(end) {
		end = end.AddDate(0, 0, 1)
	}
	rows, err := q.db.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), event_type, category, events FROM rm_analytics_daily_events
		WHERE tenant = $tenant AND day >= $1::date AND day < $2::date AND (cardinality($3::text[]) = 0 OR event_type = ANY($3))
		ORDER BY day, event_type`, p.From.UTC().Format(time.DateOnly), end.Format(time.DateOnly), nonNil(types))
	if err != nil {
		return out, fmt.Errorf("queries: daily events: %w", err)
	}
	var d DailyCount
	if _, err := pgx.ForEachRow(rows, []any{&d.Day, &d.Type, &d.Category, &d.Events}, func() error {
		out = append(out, d)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: daily events: %w", err)
	}
	return out, nil
}

// Revenue is the revenue won in one currency.
type Revenue struct {
	Currency    string `json:"currency"`
	Won         int64  `json:"won"`
	AmountMinor Minor  `json:"amount_minor"`
}

// CampaignFunnel is one campaign's funnel: leads → qualified → converted
// → opportunities → won, with the revenue won per currency.
type CampaignFunnel struct {
	CampaignID    uuid.UUID `json:"campaign_id"`
	Name          string    `json:"name"`
	Channel       string    `json:"channel"`
	Status        string    `json:"status"`
	Budget        Money     `json:"budget"`
	Responses     int64     `json:"responses" doc:"Responses recorded for the campaign (sent, opened, clicked, replied, opted out)"`
	Leads         int64     `json:"leads" doc:"Leads attributed to the campaign"`
	Qualified     int64     `json:"qualified" doc:"Of the leads, those ever qualified (or converted), even if disqualified afterwards: how many reached the stage"`
	Disqualified  int64     `json:"disqualified" doc:"Of the leads, those disqualified now (some of them may have been qualified before)"`
	Converted     int64     `json:"converted" doc:"Of the leads, those converted into a customer and an opportunity"`
	Opportunities int64     `json:"opportunities" doc:"Opportunities opened from the campaign's leads"`
	Open          int64     `json:"open" doc:"Of the opportunities, those open now"`
	Won           int64     `json:"won" doc:"Of the opportunities, those won"`
	Lost          int64     `json:"lost" doc:"Of the opportunities, those lost"`
	Revenue       []Revenue `json:"revenue"`
	// LeadToWon = won ÷ leads, in percent.
	LeadToWon *float64 `json:"lead_to_won_percent"`
}

// Funnel returns the funnel of every campaign (or one), by planning date.
// An opportunity belongs to the campaign of the lead it came from.
func (q *Queries) Funnel(ctx context.Context, campaign uuid.UUID) ([]CampaignFunnel, error) {
	out := []CampaignFunnel{}
	var one any
	if campaign != uuid.Nil {
		one = campaign
	}
	rows, err := q.db.Query(ctx, `
		WITH l AS (
			SELECT campaign_id, count(*) AS leads, count(*) FILTER (WHERE qualified_at IS NOT NULL OR status IN ('qualified', 'converted')) AS qualified,
				count(*) FILTER (WHERE status = 'disqualified') AS disqualified, count(*) FILTER (WHERE status = 'converted') AS converted
			FROM rm_analytics_leads WHERE tenant = $tenant AND campaign_id IS NOT NULL GROUP BY campaign_id
		), o AS (
			SELECT COALESCE((SELECT campaign_id FROM rm_analytics_leads WHERE tenant = $tenant AND lead_id = o.lead_id),
				(SELECT campaign_id FROM rm_analytics_leads WHERE tenant = $tenant AND opportunity_id = o.opportunity_id ORDER BY lead_id LIMIT 1)) AS campaign_id,
				o.status
			FROM rm_analytics_opportunities o WHERE o.tenant = $tenant
		), os AS (
			SELECT campaign_id, count(*) AS opps, count(*) FILTER (WHERE status = 'open') AS open,
				count(*) FILTER (WHERE status = 'won') AS won, count(*) FILTER (WHERE status = 'lost') AS lost
			FROM o WHERE campaign_id IS NOT NULL GROUP BY campaign_id
		)
		SELECT c.campaign_id, c.name, c.channel, c.status, c.budget_minor, c.currency, c.responses,
			COALESCE(l.leads, 0), COALESCE(l.qualified, 0), COALESCE(l.disqualified, 0), COALESCE(l.converted, 0),
			COALESCE(os.opps, 0), COALESCE(os.open, 0), COALESCE(os.won, 0), COALESCE(os.lost, 0)
		FROM rm_analytics_campaigns c LEFT JOIN l ON l.campaign_id = c.campaign_id LEFT JOIN os ON os.campaign_id = c.campaign_id
		WHERE c.tenant = $tenant AND ($1::uuid IS NULL OR c.campaign_id = $1)
		ORDER BY c.planned_at, c.campaign_id`, one)
	if err != nil {
		return out, fmt.Errorf("queries: funnel: %w", err)
	}
	var f CampaignFunnel
	index := map[uuid.UUID]int{}
	if _, err := pgx.ForEachRow(rows, []any{&f.CampaignID, &f.Name, &f.Channel, &f.Status, &f.Budget.AmountMinor, &f.Budget.Currency,
		&f.Responses, &f.Leads, &f.Qualified, &f.Disqualified, &f.Converted, &f.Opportunities, &f.Open, &f.Won, &f.Lost}, func() error {
		f.Revenue = []Revenue{}
		f.LeadToWon = ratio(f.Won, f.Leads)
		index[f.CampaignID] = len(out)
		out = append(out, f)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: funnel: %w", err)
	}
	rows, err = q.db.Query(ctx, `
		SELECT l.campaign_id, o.currency, count(*), sum(o.amount_minor)::text
		FROM rm_analytics_opportunities o
		JOIN rm_analytics_leads l ON l.tenant = $tenant AND (l.lead_id = o.lead_id OR (o.lead_id IS NULL AND l.opportunity_id = o.opportunity_id))
		WHERE o.tenant = $tenant AND o.status = 'won' AND l.campaign_id IS NOT NULL AND ($1::uuid IS NULL OR l.campaign_id = $1)
		GROUP BY 1, 2 ORDER BY 1, 2`, one)
	if err != nil {
		return out, fmt.Errorf("queries: funnel revenue: %w", err)
	}
	var id uuid.UUID
	var r Revenue
	if _, err := pgx.ForEachRow(rows, []any{&id, &r.Currency, &r.Won, &r.AmountMinor}, func() error {
		if i, ok := index[id]; ok {
			out[i].Revenue = append(out[i].Revenue, r)
		}
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: funnel revenue: %w", err)
	}
	return out, nil
}
