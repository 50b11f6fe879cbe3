package queries

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// QueueCase is one open case of a queue.
type QueueCase struct {
	CaseID          uuid.UUID `json:"case_id"`
	CustomerID      uuid.UUID `json:"customer_id"`
	CustomerName    string    `json:"customer_name,omitempty"`
	Queue           string    `json:"queue"`
	Priority        string    `json:"priority"`
	Status          string    `json:"status"` // open or waiting_on_customer
	Subject         string    `json:"subject"`
	AgentID         string    `json:"agent_id,omitempty"`
	EscalationLevel int       `json:"escalation_level"`
	OpenedAt        time.Time `json:"opened_at"`
	// SLAPolicy is the case's SLA policy; "none" for a case opened without
	// one: it has no deadlines and is never overdue.
	SLAPolicy string `json:"sla_policy"`
	// NextDue is the next pending SLA deadline; none without SLA or while
	// waiting on the customer (the clocks are stopped).
	NextDue         *time.Time `json:"next_due,omitempty"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	WaitingSince    *time.Time `json:"waiting_since,omitempty"`
	// BreachRecorded: a deadline was missed (recorded by the SLA watcher or
	// at the response/resolution); Overdue: the next deadline has passed
	// now and the clock runs. Breached is either.
	BreachRecorded bool    `json:"breach_recorded"`
	Overdue        bool    `json:"overdue"`
	Breached       bool    `json:"breached"`
	AgeHours       float64 `json:"age_hours"`
}

// QueueFilter selects the open cases of a queue.
type QueueFilter struct {
	Queue    string // required
	Priority string // P1..P4 (default: all)
	Agent    string // an agent's cases; "-" for unassigned ones (default: all)
	Breached bool   // only breached or overdue cases
	Limit    int
	Cursor   string
}

// QueueCases lists a queue's open cases by next SLA deadline (cases with
// none last), then case ID.
func (q *Queries) QueueCases(ctx context.Context, f QueueFilter) (Page[QueueCase], error) {
	page := Page[QueueCase]{Items: []QueueCase{}}
	if f.Queue == "" {
		return page, invalid("queue", "is required")
	}
	n, err := limit(f.Limit)
	if err != nil {
		return page, err
	}
	var afterDue *string // RFC 3339, or "infinity" after the cases without a deadline
	var afterID uuid.UUID
	if f.Cursor != "" {
		var due string
		if err := decodeCursor(f.Cursor, &due, &afterID); err != nil {
			return page, err
		}
		if err := parseCursorTime(time.RFC3339Nano, due); err != nil && due != "infinity" {
			return page, invalid("cursor", "is not a cursor of this list")
		}
		afterDue = &due
	}
	now := q.now()
	rows, err := q.db.Query(ctx, `
		SELECT c.case_id, c.customer_id, COALESCE(p.display_name, ''), c.queue, c.priority, c.status, c.subject,
			COALESCE(c.agent_id, ''), c.escalation_level, c.opened_at, COALESCE(c.sla_policy, 'none'), c.next_due, c.first_response_at, c.waiting_since,
			c.first_response_breached OR c.resolution_breached,
			(c.status = 'open' AND c.next_due IS NOT NULL AND c.next_due < $5),
			extract(epoch FROM $5 - c.opened_at)::float8 / 3600
		FROM rm_service_cases c
		LEFT JOIN rm_customer_profiles p ON p.tenant = $tenant AND p.customer_id = c.customer_id
		WHERE c.tenant = $tenant AND c.status IN ('open', 'waiting_on_customer') AND c.queue = $1 AND ($2 = '' OR c.priority = $2)
			AND ($3 = '' OR ($3 = '-' AND c.agent_id IS NULL) OR c.agent_id = $3)
			AND (NOT $4 OR c.first_response_breached OR c.resolution_breached OR (c.status = 'open' AND c.next_due < $5))
			AND ($6::timestamptz IS NULL OR (COALESCE(c.next_due, 'infinity'::timestamptz), c.case_id) > ($6::timestamptz, $7::uuid))
		ORDER BY COALESCE(c.next_due, 'infinity'::timestamptz), c.case_id
		LIMIT $8`, f.Queue, f.Priority, f.Agent, f.Breached, now, afterDue, afterID, n+1)
	if err != nil {
		return page, fmt.Errorf("queries: queue cases: %w", err)
	}
	var c QueueCase
	if _, err := pgx.ForEachRow(rows, []any{&c.CaseID, &c.CustomerID, &c.CustomerName, &c.Queue, &c.Priority, &c.Status, &c.Subject,
		&c.AgentID, &c.EscalationLevel, &c.OpenedAt, &c.SLAPolicy, &c.NextDue, &c.FirstResponseAt, &c.WaitingSince, &c.BreachRecorded, &c.Overdue,
		&c.AgeHours}, func() error {
		if len(page.Items) == n {
			last := page.Items[n-1]
			key := "infinity"
			if last.NextDue != nil {
				key = last.NextDue.UTC().Format(time.RFC3339Nano)
			}
			page.Next = encodeCursor(key, last.CaseID)
			return nil
		}
		c.Breached = c.BreachRecorded || c.Overdue
		c.AgeHours = round1(c.AgeHours)
		page.Items = append(page.Items, c)
		return nil
	}); err != nil {
		return page, fmt.Errorf("queries: queue cases: %w", err)
	}
	return page, nil
}

// QueueLoad counts one queue's open cases of one priority.
type QueueLoad struct {
	Queue      string    `json:"queue"`
	Priority   string    `json:"priority"`
	Open       int64     `json:"open"`    // open or waiting on the customer
	Waiting    int64     `json:"waiting"` // waiting on the customer (clocks stopped)
	Unassigned int64     `json:"unassigned"`
	Breached   int64     `json:"breached"`    // breach recorded or overdue now
	WithoutSLA int64     `json:"without_sla"` // opened without SLA: no deadlines, never breached
	OldestAt   time.Time `json:"oldest_opened_at"`
}

// BacklogAge counts a queue's open cases by age (now − opened).
type BacklogAge struct {
	Queue      string  `json:"queue"`
	Under1Day  int64   `json:"under_1d"`
	Days1To3   int64   `json:"d1_3"`
	Days3To7   int64   `json:"d3_7"`
	Days7To30  int64   `json:"d7_30"`
	Over30Days int64   `json:"over_30d"`
	MedianDays float64 `json:"median_age_days"`
}

// AgentLoad is an agent's open workload.
type AgentLoad struct {
	AgentID  string `json:"agent_id"`
	Open     int64  `json:"open"`
	P1       int64  `json:"p1"`
	P2       int64  `json:"p2"`
	P3       int64  `json:"p3"`
	P4       int64  `json:"p4"`
	Breached int64  `json:"breached"`
}

// QueueOverview is the state of the service queues now.
type QueueOverview struct {
	AsOf    time.Time    `json:"as_of"`
	Queues  []QueueLoad  `json:"queues"`
	Backlog []BacklogAge `json:"backlog"`
	Agents  []AgentLoad  `json:"agents"`
}

// Queues summarises the open cases per queue and priority, the backlog age
// and the agents' workload.
func (q *Queries) Queues(ctx context.Context) (QueueOverview, error) {
	now := q.now()
	out := QueueOverview{AsOf: now, Queues: []QueueLoad{}, Backlog: []BacklogAge{}, Agents: []AgentLoad{}}
	const breached = `(first_response_breached OR resolution_breached OR COALESCE(status = 'open' AND next_due < $1, false))`
	rows, err := q.db.Query(ctx, `
		SELECT queue, priority, count(*), count(*) FILTER (WHERE status = 'waiting_on_customer'),
			count(*) FILTER (WHERE agent_id IS NULL), count(*) FILTER (WHERE `+breached+`), count(*) FILTER (WHERE sla_policy IS NULL),
			min(opened_at)
		FROM rm_service_cases WHERE tenant = $tenant AND status IN ('open', 'waiting_on_customer')
		GROUP BY 1, 2 ORDER BY 1, 2`, now)
	if err != nil {
		return out, fmt.Errorf("queries: queues: %w", err)
	}
	var l QueueLoad
	if _, err := pgx.ForEachRow(rows, []any{&l.Queue, &l.Priority, &l.Open, &l.Waiting, &l.Unassigned, &l.Breached, &l.WithoutSLA, &l.OldestAt}, func() error {
		out.Queues = append(out.Queues, l)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: queues: %w", err)
	}

	rows, err = q.db.Query(ctx, `
		WITH a AS (SELECT queue, extract(epoch FROM $1 - opened_at) / 86400 AS d FROM rm_service_cases
			WHERE tenant = $tenant AND status IN ('open', 'waiting_on_customer'))
		SELECT queue, count(*) FILTER (WHERE d < 1), count(*) FILTER (WHERE d >= 1 AND d < 3), count(*) FILTER (WHERE d >= 3 AND d < 7),
			count(*) FILTER (WHERE d >= 7 AND d < 30), count(*) FILTER (WHERE d >= 30),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::float8
		FROM a GROUP BY queue ORDER BY queue`, now)
	if err != nil {
		return out, fmt.Errorf("queries: backlog: %w", err)
	}
	var b BacklogAge
	if _, err := pgx.ForEachRow(rows, []any{&b.Queue, &b.Under1Day, &b.Days1To3, &b.Days3To7, &b.Days7To30, &b.Over30Days, &b.MedianDays}, func() error {
		b.MedianDays = round1(b.MedianDays)
		out.Backlog = append(out.Backlog, b)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: backlog: %w", err)
	}

	rows, err = q.db.Query(ctx, `
		SELECT agent_id, count(*), count(*) FILTER (WHERE priority = 'P1'), count(*) FILTER (WHERE priority = 'P2'),
			count(*) FILTER (WHERE priority = 'P3'), count(*) FILTER (WHERE priority = 'P4'), count(*) FILTER (WHERE `+breached+`)
		FROM rm_service_cases WHERE tenant = $tenant AND status IN ('open', 'waiting_on_customer') AND agent_id IS NOT NULL
		GROUP BY agent_id ORDER BY count(*) DESC, agent_id`, now)
	if err != nil {
		return out, fmt.Errorf("queries: agent workload: %w", err)
	}
	var a AgentLoad
	if _, err := pgx.ForEachRow(rows, []any{&a.AgentID, &a.Open, &a.P1, &a.P2, &a.P3, &a.P4, &a.Breached}, func() error {
		out.Agents = append(out.Agents, a)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: agent workload: %w", err)
	}
	return out, nil
}

// Durations summarises a distribution of durations.
type Durations struct {
	Count  int64    `json:"count"`
	Mean   *float64 `json:"mean"`
	Median *float64 `json:"median"`
	P90    *float64 `json:"p90"`
}

// ServiceMonth are the service figures of the cases opened in one month.
type ServiceMonth struct {
	Month  string `json:"month"` // 2026-01
	Opened int64  `json:"opened"`
	// FirstResponseMinutes: first response − opened.
	FirstResponseMinutes Durations `json:"first_response_minutes"`
	// ResolutionHours: resolved − opened − time waiting on the customer.
	ResolutionHours Durations `json:"resolution_hours"`
	// UnderSLA cases; Breached those with a missed deadline (recorded, or
	// overdue now); BreachRate = breached ÷ under SLA.
	UnderSLA   int64    `json:"under_sla"`
	Breached   int64    `json:"breached"`
	BreachRate *float64 `json:"breach_rate_percent"`
	// FirstResponseDue: cases under SLA whose first response was given or
	// is overdue now; FirstResponseOnTime those answered by the deadline.
	FirstResponseDue       int64    `json:"first_response_due"`
	FirstResponseOnTime    int64    `json:"first_response_on_time"`
	FirstResponseWithinSLA *float64 `json:"first_response_within_sla_percent"`
}

// ServiceMetrics are first-response and resolution times and SLA breach
// rates of the cases opened in a period, per month.
type ServiceMetrics struct {
	Period Period         `json:"period"`
	Queue  string         `json:"queue,omitempty"`
	Months []ServiceMonth `json:"months"`
}

// ServiceMetrics computes the service figures of a period (optionally one queue).
func (q *Queries) ServiceMetrics(ctx context.Context, queue string, p Period) (ServiceMetrics, error) {
	out := ServiceMetrics{Period: p, Queue: queue, Months: []ServiceMonth{}}
	if err := p.check(); err != nil {
		return out, err
	}
	rows, err := q.db.Query(ctx, `
		WITH c AS (
			SELECT to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
				extract(epoch FROM first_response_at - opened_at) / 60 AS fr,
				CASE WHEN resolved_at IS NOT NULL THEN (extract(epoch FROM resolved_at - opened_at) - paused_seconds) / 3600 END AS res,
				sla_policy IS NOT NULL AS sla,
				first_response_breached OR resolution_breached OR first_response_met = false OR resolution_met = false
					OR (status = 'open' AND next_due < $3) AS breached,
				sla_policy IS NOT NULL AND (first_response_met IS NOT NULL OR first_response_breached
					OR (first_response_at IS NULL AND first_response_due < $3)) AS fr_due,
				sla_policy IS NOT NULL AND first_response_met IS TRUE AND NOT first_response_breached AS fr_on_time
			FROM rm_service_cases WHERE tenant = $tenant AND opened_at >= $1 AND opened_at < $2 AND ($4 = '' OR queue = $4)
		)
		SELECT month, count(*),
			count(fr), avg(fr)::float8, (percentile_cont(0.5) WITHIN GROUP (ORDER BY fr))::float8, (percentile_cont(0.9) WITHIN GROUP (ORDER BY fr))::float8,
			count(res), avg(res)::float8, (percentile_cont(0.5) WITHIN GROUP (ORDER BY res))::float8, (percentile_cont(0.9) WITHIN GROUP (ORDER BY res))::float8,
			count(*) FILTER (WHERE sla), count(*) FILTER (WHERE sla AND breached),
			count(*) FILTER (WHERE fr_due), count(*) FILTER (WHERE fr_due AND fr_on_time)
		FROM c GROUP BY month ORDER BY month`, p.From, p.To, q.now(), queue)
	if err != nil {
		return out, fmt.Errorf("queries: service metrics: %w", err)
	}
	var m ServiceMonth
	fr, res := &m.FirstResponseMinutes, &m.ResolutionHours
	if _, err := pgx.ForEachRow(rows, []any{&m.Month, &m.Opened, &fr.Count, &fr.Mean, &fr.Median, &fr.P90,
		&res.Count, &res.Mean, &res.Median, &res.P90, &m.UnderSLA, &m.Breached, &m.FirstResponseDue, &m.FirstResponseOnTime}, func() error {
		for _, d := range []*Durations{fr, res} {
			d.Mean, d.Median, d.P90 = round1p(d.Mean), round1p(d.Median), round1p(d.P90)
		}
		m.BreachRate = ratio(m.Breached, m.UnderSLA)
		m.FirstResponseWithinSLA = ratio(m.FirstResponseOnTime, m.FirstResponseDue)
		out.Months = append(out.Months, m)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: service metrics: %w", err)
	}
	return out, nil
}
