package queries

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CurrencyTotal sums opportunities of one currency.
type CurrencyTotal struct {
	Currency      string `json:"currency"`
	Count         int64  `json:"count"`
	TotalMinor    Minor  `json:"total_minor"`
	WeightedMinor Minor  `json:"weighted_minor"` // Σ amount × probability, rounded to the minor unit
}

// StageSummary is one stage of a pipeline with its open opportunities.
type StageSummary struct {
	Stage       string          `json:"stage"`
	Index       int             `json:"index"`       // position in the pipeline, 0 first (-1: not a known stage)
	Probability int             `json:"probability"` // the stage's default probability
	Totals      []CurrencyTotal `json:"totals"`
}

// PipelineStages is one pipeline's open opportunities by stage.
type PipelineStages struct {
	Pipeline string          `json:"pipeline"`
	Stages   []StageSummary  `json:"stages"`
	Totals   []CurrencyTotal `json:"totals"`
}

// ForecastMonth sums the open opportunities expected to close in a month.
type ForecastMonth struct {
	Month string `json:"month"` // "2026-03"; "none" for opportunities without an expected close
	CurrencyTotal
}

// PipelineSummary is the open pipeline: per pipeline and stage, count,
// total and weighted value, per currency; and the forecast by
// expected-close month.
type PipelineSummary struct {
	AsOf      time.Time        `json:"as_of"`
	Pipelines []PipelineStages `json:"pipelines"`
	Forecast  []ForecastMonth  `json:"forecast"`
}

// PipelineFilter narrows the pipeline figures.
type PipelineFilter struct {
	Pipeline string // one pipeline (default: all)
	Owner    string // one owner's opportunities (default: all)
}

// PipelineSummary returns the open pipeline.
func (q *Queries) PipelineSummary(ctx context.Context, f PipelineFilter) (PipelineSummary, error) {
	out := PipelineSummary{AsOf: q.now(), Pipelines: []PipelineStages{}, Forecast: []ForecastMonth{}}
	// Every known stage, so empty stages show.
	rows, err := q.db.Query(ctx, `SELECT pipeline, stage, stage_index, probability FROM rm_pipeline_stages
		WHERE tenant = $tenant AND ($1 = '' OR pipeline = $1) ORDER BY pipeline, stage_index, stage`, f.Pipeline)
	if err != nil {
		return out, fmt.Errorf("queries: pipeline stages: %w", err)
	}
	byPipeline := map[string]*PipelineStages{}
	var order []string
	get := func(p string) *PipelineStages {
		ps, ok := byPipeline[p]
		if !ok {
			ps = &PipelineStages{Pipeline: p, Stages: []StageSummary{}, Totals: []CurrencyTotal{}}
			byPipeline[p] = ps
			order = append(order, p)
		}
		return ps
	}
	var pl, st string
	var idx, prob int
	if _, err := pgx.ForEachRow(rows, []any{&pl, &st, &idx, &prob}, func() error {
		ps := get(pl)
		ps.Stages = append(ps.Stages, StageSummary{Stage: st, Index: idx, Probability: prob, Totals: []CurrencyTotal{}})
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: pipeline stages: %w", err)
	}

	// rm_pipeline_open_totals holds the open opportunities already summed.
	rows, err = q.db.Query(ctx, `
		SELECT o.pipeline, o.stage, o.currency, sum(o.opportunities)::bigint, sum(o.total_minor)::text, round(sum(o.weighted_minor))::text
		FROM rm_pipeline_open_totals o
		LEFT JOIN rm_pipeline_stages s ON s.tenant = $tenant AND s.pipeline = o.pipeline AND s.stage = o.stage
		WHERE o.tenant = $tenant AND ($1 = '' OR o.pipeline = $1) AND ($2 = '' OR o.owner_id = $2)
		GROUP BY o.pipeline, o.stage, o.currency, s.stage_index
		HAVING sum(o.opportunities) > 0
		ORDER BY o.pipeline, s.stage_index NULLS LAST, o.stage, o.currency`, f.Pipeline, f.Owner)
	if err != nil {
		return out, fmt.Errorf("queries: pipeline summary: %w", err)
	}
	var t CurrencyTotal
	if _, err := pgx.ForEachRow(rows, []any{&pl, &st, &t.Currency, &t.Count, &t.TotalMinor, &t.WeightedMinor}, func() error {
		ps := get(pl)
		i := -1
		for j := range ps.Stages {
			if ps.Stages[j].Stage == st {
				i = j
			}
		}
		if i < 0 {
			ps.Stages = append(ps.Stages, StageSummary{Stage: st, Index: -1, Totals: []CurrencyTotal{}})
			i = len(ps.Stages) - 1
		}
		ps.Stages[i].Totals = append(ps.Stages[i].Totals, t)
		ps.Totals = addTotal(ps.Totals, t)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: pipeline summary: %w", err)
	}
	for _, p := range order {
		out.Pipelines = append(out.Pipelines, *byPipeline[p])
	}

	rows, err = q.db.Query(ctx, `
		SELECT close_month, currency, sum(opportunities)::bigint, sum(total_minor)::text, round(sum(weighted_minor))::text
		FROM rm_pipeline_open_totals
		WHERE tenant = $tenant AND ($1 = '' OR pipeline = $1) AND ($2 = '' OR owner_id = $2)
		GROUP BY 1, 2 HAVING sum(opportunities) > 0 ORDER BY 1, 2`, f.Pipeline, f.Owner)
	if err != nil {
		return out, fmt.Errorf("queries: forecast: %w", err)
	}
	var m ForecastMonth
	if _, err := pgx.ForEachRow(rows, []any{&m.Month, &m.Currency, &m.Count, &m.TotalMinor, &m.WeightedMinor}, func() error {
		out.Forecast = append(out.Forecast, m)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: forecast: %w", err)
	}
	return out, nil
}

// addTotal adds t into the total of its currency, keeping currencies sorted.
func addTotal(list []CurrencyTotal, t CurrencyTotal) []CurrencyTotal {
	for i := range list {
		if list[i].Currency == t.Currency {
			list[i].Count += t.Count
			list[i].TotalMinor = list[i].TotalMinor.Add(t.TotalMinor)
			list[i].WeightedMinor = list[i].WeightedMinor.Add(t.WeightedMinor)
			return list
		}
	}
	list = append(list, t)
	for i := len(list) - 1; i > 0 && list[i].Currency < list[i-1].Currency; i-- {
		list[i], list[i-1] = list[i-1], list[i]
	}
	return list
}

// Opportunity is one row of the opportunity list.
type Opportunity struct {
	ID            uuid.UUID  `json:"opportunity_id"`
	Name          string     `json:"name"`
	CustomerID    uuid.UUID  `json:"customer_id"`
	CustomerName  string     `json:"customer_name,omitempty"`
	Pipeline      string     `json:"pipeline"`
	Stage         string     `json:"stage"`
	Status        string     `json:"status"`
	Probability   int        `json:"probability"`
	Amount        Money      `json:"amount"`
	WeightedMinor int64      `json:"weighted_minor"`
	OwnerID       string     `json:"owner_id,omitempty"`
	ExpectedClose string     `json:"expected_close,omitempty"` // a date, 2026-03-31
	OpenedAt      time.Time  `json:"opened_at"`
	StageEntered  time.Time  `json:"stage_entered_at"`
	DaysInStage   int        `json:"days_in_stage"` // whole days since it entered its stage (for closed ones: until closed)
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	Requirements  string     `json:"requirements_status"`
}

// OpportunityFilter selects opportunities. Status defaults to open.
type OpportunityFilter struct {
	Status     string // open, won or lost
	Pipeline   string
	Stage      string
	Owner      string
	CustomerID uuid.UUID
	Currency   string
	Limit      int
	Cursor     string
}

// Page is a page of a list: pass Next back as the cursor for the next one.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"` // empty on the last page
}

// Opportunities lists opportunities by expected close date (those without
// one last), then ID.
func (q *Queries) Opportunities(ctx context.Context, f OpportunityFilter) (Page[Opportunity], error) {
	page := Page[Opportunity]{Items: []Opportunity{}}
	n, err := limit(f.Limit)
	if err != nil {
		return page, err
	}
	if f.Status == "" {
		f.Status = "open"
	}
	if f.Status != "open" && f.Status != "won" && f.Status != "lost" {
		return page, invalid("status", "must be open, won or lost")
	}
	var afterClose *string
	var afterID uuid.UUID
	if f.Cursor != "" {
		var c string
		if err := decodeCursor(f.Cursor, &c, &afterID); err != nil {
			return page, err
		}
		if err := parseCursorTime(time.DateOnly, c); err != nil && c != "infinity" {
			return page, invalid("cursor", "is not a cursor of this list")
		}
		afterClose = &c
	}
	var cust any
	if f.CustomerID != uuid.Nil {
		cust = f.CustomerID
	}
	rows, err := q.db.Query(ctx, `
		SELECT o.opportunity_id, o.name, o.customer_id, COALESCE(c.display_name, ''), o.pipeline, o.stage, o.status, o.probability,
			o.amount_minor, o.currency, round(o.weighted_minor)::bigint, COALESCE(o.owner_id, ''),
			COALESCE(to_char(o.expected_close, 'YYYY-MM-DD'), ''), o.opened_at, o.stage_entered_at,
			floor(extract(epoch FROM (COALESCE(o.closed_at, $9) - o.stage_entered_at)) / 86400)::int,
			o.closed_at, o.requirements_status
		FROM rm_pipeline_opportunities o
		LEFT JOIN rm_customer_profiles c ON c.tenant = $tenant AND c.customer_id = o.customer_id
		WHERE o.tenant = $tenant AND o.status = $1 AND ($2 = '' OR o.pipeline = $2) AND ($3 = '' OR o.stage = $3) AND ($4 = '' OR o.owner_id = $4)
			AND ($5::uuid IS NULL OR o.customer_id = $5) AND ($6 = '' OR o.currency = $6)
			AND ($7::date IS NULL OR (COALESCE(o.expected_close, 'infinity'::date), o.opportunity_id) > ($7::date, $8::uuid))
		ORDER BY COALESCE(o.expected_close, 'infinity'::date), o.opportunity_id
		LIMIT $10`,
		f.Status, f.Pipeline, f.Stage, f.Owner, cust, f.Currency, afterClose, afterID, q.now(), n+1)
	if err != nil {
		return page, fmt.Errorf("queries: opportunities: %w", err)
	}
	var o Opportunity
	if _, err := pgx.ForEachRow(rows, []any{&o.ID, &o.Name, &o.CustomerID, &o.CustomerName, &o.Pipeline, &o.Stage, &o.Status,
		&o.Probability, &o.Amount.AmountMinor, &o.Amount.Currency, &o.WeightedMinor, &o.OwnerID, &o.ExpectedClose, &o.OpenedAt,
		&o.StageEntered, &o.DaysInStage, &o.ClosedAt, &o.Requirements}, func() error {
		if len(page.Items) == n {
			last := page.Items[n-1]
			lastKey := last.ExpectedClose
			if lastKey == "" {
				lastKey = "infinity"
			}
			page.Next = encodeCursor(lastKey, last.ID)
			return nil
		}
		page.Items = append(page.Items, o)
		return nil
	}); err != nil {
		return page, fmt.Errorf("queries: opportunities: %w", err)
	}
	return page, nil
}

// StageMetrics are the conversion and time figures of one stage.
type StageMetrics struct {
	Pipeline string `json:"pipeline"`
	Stage    string `json:"stage"`
	Index    int    `json:"index"`
	// Every figure counts opportunities, never visits: an opportunity that
	// enters a stage twice in the period counts once.
	Entered     int64    `json:"entered" doc:"Opportunities that entered the stage in the period (each counted once, however often it came back)"`
	Advanced    int64    `json:"advanced" doc:"Of those, the opportunities that afterwards reached a later stage of the pipeline or were won"`
	Rate        *float64 `json:"conversion_percent" doc:"advanced ÷ entered × 100, to one decimal; null when none entered"`
	Exits       int64    `json:"exits" doc:"Opportunities that left the stage (to another stage, won or lost) after entering it in the period, each counted once"`
	MeanHours   *float64 `json:"mean_hours_in_stage" doc:"Mean, over the opportunities counted in exits, of the total hours each spent in the stage (all its visits that began in the period and ended); one decimal"`
	MedianHours *float64 `json:"median_hours_in_stage" doc:"Median of the same per-opportunity hours; one decimal"`
}

// Velocity is the sales velocity of one currency.
type Velocity struct {
	Currency string   `json:"currency"`
	Open     int64    `json:"open" doc:"Opportunities open now, in this currency"`
	Won      int64    `json:"-"` // won in the period
	Lost     int64    `json:"-"` // lost in the period
	WinRate  *float64 `json:"win_rate_percent" doc:"won ÷ (won + lost) × 100 over the opportunities closed in the period, to one decimal"`
	// AvgDealMinor is the mean amount won in the period; AvgCycleDays the
	// mean days from opening to winning. Both are rounded for display only.
	AvgDealMinor *int64   `json:"avg_deal_minor" doc:"Mean amount of the opportunities won in the period, rounded to the minor unit"`
	AvgCycleDays *float64 `json:"avg_cycle_days" doc:"Mean days from opening to winning of the opportunities won in the period, to one decimal"`
	PerDayMinor  *int64   `json:"velocity_per_day_minor" doc:"Sales velocity: open × mean amount won × (won ÷ (won + lost)) ÷ mean cycle days, computed from the exact means and rounded to the nearest minor unit at the end; null without a won opportunity in the period"`
}

// PipelineMetrics are the pipeline's performance figures over a period.
type PipelineMetrics struct {
	Period   Period         `json:"period"`
	Pipeline string         `json:"pipeline,omitempty"`
	Won      int64          `json:"won"`
	Lost     int64          `json:"lost"`
	WinRate  *float64       `json:"win_rate_percent"` // won ÷ (won + lost), closed in the period
	Stages   []StageMetrics `json:"stages"`
	Velocity []Velocity     `json:"velocity"`
}

// PipelineMetrics computes win rate, stage conversion, time in stage and
// sales velocity over a period.
func (q *Queries) PipelineMetrics(ctx context.Context, f PipelineFilter, p Period) (PipelineMetrics, error) {
	out := PipelineMetrics{Period: p, Pipeline: f.Pipeline, Stages: []StageMetrics{}, Velocity: []Velocity{}}
	if err := p.check(); err != nil {
		return out, err
	}
	err := q.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'won'), count(*) FILTER (WHERE status = 'lost')
		FROM rm_pipeline_opportunities WHERE tenant = $tenant AND status IN ('won', 'lost') AND closed_at >= $1 AND closed_at < $2
		AND ($3 = '' OR pipeline = $3) AND ($4 = '' OR owner_id = $4)`, p.From, p.To, f.Pipeline, f.Owner).Scan(&out.Won, &out.Lost)
	if err != nil {
		return out, fmt.Errorf("queries: win rate: %w", err)
	}
	out.WinRate = ratio(out.Won, out.Won+out.Lost)

	rows, err := q.db.Query(ctx, `
		WITH h AS (
			SELECT h.opportunity_id, h.pipeline, h.stage, h.seq, h.entered_at, h.exited_at, h.exit_to,
				COALESCE(s.stage_index, -1) AS idx
			FROM rm_pipeline_stage_history h
			JOIN rm_pipeline_opportunities o ON o.tenant = $tenant AND o.opportunity_id = h.opportunity_id
			LEFT JOIN rm_pipeline_stages s ON s.tenant = $tenant AND s.pipeline = h.pipeline AND s.stage = h.stage
			WHERE h.tenant = $tenant AND ($3 = '' OR h.pipeline = $3) AND ($4 = '' OR o.owner_id = $4)
		), entered AS (
			SELECT opportunity_id, pipeline, stage, idx, min(seq) AS first_seq
			FROM h WHERE entered_at >= $1 AND entered_at < $2 GROUP BY 1, 2, 3, 4
		), conv AS (
			SELECT e.pipeline, e.stage, e.idx, count(*) AS entered,
				count(*) FILTER (WHERE EXISTS (SELECT 1 FROM h l WHERE l.opportunity_id = e.opportunity_id AND l.seq >= e.first_seq
					AND (l.exit_to = 'won' OR (l.seq > e.first_seq AND l.idx > e.idx)))) AS advanced
			FROM entered e GROUP BY 1, 2, 3
		), left_stage AS (
			-- per opportunity: the total time of its ended visits that began in the period
			SELECT opportunity_id, pipeline, stage, sum(extract(epoch FROM exited_at - entered_at)) / 3600 AS hours
			FROM h WHERE exited_at IS NOT NULL AND entered_at >= $1 AND entered_at < $2 GROUP BY 1, 2, 3
		), stay AS (
			SELECT pipeline, stage, count(*) AS exits, avg(hours) AS mean_h,
				percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median_h
			FROM left_stage GROUP BY 1, 2
		)
		SELECT c.pipeline, c.stage, c.idx, c.entered, c.advanced, COALESCE(s.exits, 0), s.mean_h::float8, s.median_h::float8
		FROM conv c LEFT JOIN stay s ON s.pipeline = c.pipeline AND s.stage = c.stage
		ORDER BY c.pipeline, c.idx, c.stage`, p.From, p.To, f.Pipeline, f.Owner)
	if err != nil {
		return out, fmt.Errorf("queries: stage conversion: %w", err)
	}
	var sm StageMetrics
	if _, err := pgx.ForEachRow(rows, []any{&sm.Pipeline, &sm.Stage, &sm.Index, &sm.Entered, &sm.Advanced, &sm.Exits,
		&sm.MeanHours, &sm.MedianHours}, func() error {
		sm.Rate = ratio(sm.Advanced, sm.Entered)
		sm.MeanHours, sm.MedianHours = round1p(sm.MeanHours), round1p(sm.MedianHours)
		out.Stages = append(out.Stages, sm)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: stage conversion: %w", err)
	}

	rows, err = q.db.Query(ctx, `
		SELECT currency,
			count(*) FILTER (WHERE status = 'open'),
			count(*) FILTER (WHERE status = 'won' AND closed_at >= $1 AND closed_at < $2),
			count(*) FILTER (WHERE status = 'lost' AND closed_at >= $1 AND closed_at < $2),
			(avg(amount_minor) FILTER (WHERE status = 'won' AND closed_at >= $1 AND closed_at < $2))::float8,
			(avg(extract(epoch FROM closed_at - opened_at)) FILTER (WHERE status = 'won' AND closed_at >= $1 AND closed_at < $2) / 86400)::float8
		FROM rm_pipeline_opportunities
		WHERE tenant = $tenant AND ($3 = '' OR pipeline = $3) AND ($4 = '' OR owner_id = $4)
		GROUP BY currency ORDER BY currency`, p.From, p.To, f.Pipeline, f.Owner)
	if err != nil {
		return out, fmt.Errorf("queries: sales velocity: %w", err)
	}
	var v Velocity
	var avgDeal *float64
	if _, err := pgx.ForEachRow(rows, []any{&v.Currency, &v.Open, &v.Won, &v.Lost, &avgDeal, &v.AvgCycleDays}, func() error {
		v.WinRate = ratio(v.Won, v.Won+v.Lost)
		v.PerDayMinor, v.AvgDealMinor = nil, nil
		if avgDeal != nil {
			rounded := int64(math.Round(*avgDeal))
			v.AvgDealMinor = &rounded
		}
		if avgDeal != nil && v.AvgCycleDays != nil && *v.AvgCycleDays > 0 && v.Won+v.Lost > 0 {
			// From the exact means; rounded once, at the end.
			perDay := int64(math.Round(float64(v.Open) * *avgDeal * (float64(v.Won) / float64(v.Won+v.Lost)) / *v.AvgCycleDays))
			v.PerDayMinor = &perDay
		}
		v.AvgCycleDays = round1p(v.AvgCycleDays)
		out.Velocity = append(out.Velocity, v)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: sales velocity: %w", err)
	}
	return out, nil
}

// PipelineStage is one stage of a pipeline.
type PipelineStage struct {
	Name        string `json:"name"`
	Index       int    `json:"index" doc:"Position in the pipeline, 0 first"`
	Probability int    `json:"probability" doc:"Percent chance that an opportunity at this stage is won: its weighted value is amount × probability ÷ 100"`
}

// Pipeline is a sales pipeline: its open stages in order. Won and lost are
// outcomes, not stages.
type Pipeline struct {
	Name    string          `json:"name"`
	Current bool            `json:"current" doc:"New opportunities open in this pipeline"`
	Stages  []PipelineStage `json:"stages"`
}

// Pipelines returns current, the pipeline new opportunities open in, first,
// then every other pipeline opportunities were opened in, by name, with
// their stages as the opportunities recorded them.
func (q *Queries) Pipelines(ctx context.Context, current Pipeline) ([]Pipeline, error) {
	current.Current = true
	out := []Pipeline{current}
	rows, err := q.db.Query(ctx, `SELECT pipeline, stage, stage_index, probability FROM rm_pipeline_stages
		WHERE tenant = $tenant AND pipeline <> $1 ORDER BY pipeline, stage_index, stage`, current.Name)
	if err != nil {
		return out, fmt.Errorf("queries: pipelines: %w", err)
	}
	var name string
	var st PipelineStage
	if _, err := pgx.ForEachRow(rows, []any{&name, &st.Name, &st.Index, &st.Probability}, func() error {
		if out[len(out)-1].Name != name {
			out = append(out, Pipeline{Name: name, Stages: []PipelineStage{}})
		}
		out[len(out)-1].Stages = append(out[len(out)-1].Stages, st)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: pipelines: %w", err)
	}
	return out, nil
}
