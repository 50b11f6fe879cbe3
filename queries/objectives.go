package queries

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/evcrm/evcrm/domain/objective"
)

// Statuses of an objective's period.
const (
	PeriodMet      = "met"       // a finished period whose actual meets the target
	PeriodMissed   = "missed"    // a finished period whose actual does not
	PeriodOnTrack  = "on_track"  // the running period, meeting the target so far
	PeriodOffTrack = "off_track" // the running period, not meeting it so far
	PeriodNoData   = "no_data"   // nothing to compute the metric from
)

// Trends of an objective, from its last two periods with data.
const (
	TrendImproving = "improving" // moving in the target's direction
	TrendWorsening = "worsening"
	TrendSteady    = "steady"
)

// ObjectiveTarget is one revision of an objective's target.
type ObjectiveTarget struct {
	EffectiveFrom time.Time `json:"effective_from"`
	Comparator    string    `json:"comparator" enum:"at_least,at_most"`
	Value         float64   `json:"value"`
	Reason        string    `json:"reason,omitempty"`
}

// ObjectivePeriod is an objective's actual against its target in one period.
type ObjectivePeriod struct {
	Period     string    `json:"period" doc:"2026-03 or 2026-Q1"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Complete   bool      `json:"complete" doc:"false for the running period: its actual is so far"`
	Comparator string    `json:"comparator" enum:"at_least,at_most"`
	Target     float64   `json:"target" doc:"The target in force at the start of the period"`
	Actual     *float64  `json:"actual" doc:"The metric over the period, from the read models; null without data"`
	Basis      int64     `json:"basis" doc:"How many answers, complaints, cases or opportunities the actual is computed over"`
	Status     string    `json:"status" enum:"met,missed,on_track,off_track,no_data"`
}

// Objective is one quality objective with its periods in a review window.
type Objective struct {
	ID            uuid.UUID         `json:"objective_id"`
	Name          string            `json:"name"`
	Metric        string            `json:"metric"`
	Granularity   string            `json:"granularity" enum:"month,quarter"`
	Owner         string            `json:"owner,omitempty"`
	Note          string            `json:"note,omitempty"`
	EffectiveFrom time.Time         `json:"effective_from"`
	RetiredAt     *time.Time        `json:"retired_at,omitempty"`
	Targets       []ObjectiveTarget `json:"targets" doc:"Every target revision, oldest first"`
	Periods       []ObjectivePeriod `json:"periods" doc:"The periods of the window the objective applied in, oldest first"`
	Trend         string            `json:"trend,omitempty" enum:"improving,worsening,steady" doc:"From the last two periods with data, in the target's direction; empty with fewer"`
	OffTrack      bool              `json:"off_track" doc:"The latest period with data does not meet its target (missed, or off track so far)"`
}

// ObjectivesReview is the management review input of a window: every
// objective that applied in it, actual against target per period.
type ObjectivesReview struct {
	Period     Period      `json:"period"`
	AsOf       time.Time   `json:"as_of"`
	Objectives []Objective `json:"objectives"`
	OffTrack   int         `json:"off_track" doc:"Objectives off track"`
}

// ObjectivesReview computes actual against target, per period, of every
// objective that applied in p (retired ones included, up to their
// retirement). The actuals come from the read models' own figures
// (QualityReport, PipelineMetrics, ServiceMetrics over each period).
func (q *Queries) ObjectivesReview(ctx context.Context, p Period) (ObjectivesReview, error) {
	now := q.now()
	out := ObjectivesReview{Period: p, AsOf: now, Objectives: []Objective{}}
	if err := p.check(); err != nil {
		return out, err
	}
	obs, err := q.objectives(ctx, p)
	if err != nil {
		return out, err
	}
	m := metricCache{q: q, values: map[string]metricValue{}}
	for _, o := range obs {
		g := objective.Granularity(o.Granularity)
		targets := make([]objective.Target, len(o.Targets))
		for i, t := range o.Targets {
			targets[i] = objective.Target{EffectiveFrom: t.EffectiveFrom, Comparator: objective.Comparator(t.Comparator), Value: t.Value}
		}
		first := g.PeriodStart(o.EffectiveFrom)
		for start := g.PeriodStart(p.From); start.Before(p.To) && !start.After(now); start = g.Next(start) {
			if start.Before(first) || (o.RetiredAt != nil && !start.Before(*o.RetiredAt)) {
				continue
			}
			t, ok := objective.TargetAt(targets, start)
			if !ok {
				continue
			}
			end := g.Next(start)
			v, err := m.get(ctx, objective.Metric(o.Metric), Period{From: start, To: end})
			if err != nil {
				return out, err
			}
			pe := ObjectivePeriod{Period: g.Label(start), From: start, To: end, Complete: !end.After(now),
				Comparator: string(t.Comparator), Target: t.Value, Actual: v.actual, Basis: v.basis}
			met := v.actual != nil && t.Comparator.Met(*v.actual, t.Value)
			switch {
			case v.actual == nil:
				pe.Status = PeriodNoData
			case pe.Complete && met:
				pe.Status = PeriodMet
			case pe.Complete:
				pe.Status = PeriodMissed
			case met:
				pe.Status = PeriodOnTrack
			default:
				pe.Status = PeriodOffTrack
			}
			o.Periods = append(o.Periods, pe)
		}
		o.Trend, o.OffTrack = trend(o.Periods)
		if o.OffTrack {
			out.OffTrack++
		}
		out.Objectives = append(out.Objectives, o)
	}
	return out, nil
}

// trend compares the last two periods with data, in the direction of the
// latest target; offTrack is whether the latest one falls short.
func trend(periods []ObjectivePeriod) (string, bool) {
	var last, prev *ObjectivePeriod
	for i := len(periods) - 1; i >= 0; i-- {
		if periods[i].Actual == nil {
			continue
		}
		if last == nil {
			last = &periods[i]
		} else {
			prev = &periods[i]
			break
		}
	}
	if last == nil {
		return "", false
	}
	off := last.Status == PeriodMissed || last.Status == PeriodOffTrack
	if prev == nil {
		return "", off
	}
	d := *last.Actual - *prev.Actual
	if objective.Comparator(last.Comparator) == objective.AtMost {
		d = -d
	}
	switch {
	case math.Abs(d) < 0.05:
		return TrendSteady, off
	case d > 0:
		return TrendImproving, off
	}
	return TrendWorsening, off
}

// objectives reads the objectives that applied in p, with their targets.
func (q *Queries) objectives(ctx context.Context, p Period) ([]Objective, error) {
	rows, err := q.db.Query(ctx, `
		SELECT o.objective_id, o.name, o.metric, o.granularity, COALESCE(o.owner, ''), COALESCE(o.note, ''), o.effective_from, o.retired_at,
			t.effective_from, t.comparator, t.target, COALESCE(t.reason, '')
		FROM rm_quality_objectives o JOIN rm_quality_objective_targets t ON t.tenant = $tenant AND t.objective_id = o.objective_id
		WHERE o.tenant = $tenant AND o.effective_from < $2 AND (o.retired_at IS NULL OR o.retired_at > $1)
		ORDER BY o.set_at, o.objective_id, t.effective_from`, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("queries: objectives: %w", err)
	}
	var out []Objective
	var o Objective
	var t ObjectiveTarget
	if _, err := pgx.ForEachRow(rows, []any{&o.ID, &o.Name, &o.Metric, &o.Granularity, &o.Owner, &o.Note, &o.EffectiveFrom, &o.RetiredAt,
		&t.EffectiveFrom, &t.Comparator, &t.Value, &t.Reason}, func() error {
		t.EffectiveFrom = t.EffectiveFrom.UTC()
		if n := len(out); n > 0 && out[n-1].ID == o.ID {
			out[n-1].Targets = append(out[n-1].Targets, t)
			return nil
		}
		o.EffectiveFrom = o.EffectiveFrom.UTC()
		out = append(out, Objective{ID: o.ID, Name: o.Name, Metric: o.Metric, Granularity: o.Granularity, Owner: o.Owner, Note: o.Note,
			EffectiveFrom: o.EffectiveFrom, RetiredAt: o.RetiredAt, Targets: []ObjectiveTarget{t}, Periods: []ObjectivePeriod{}})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("queries: objectives: %w", err)
	}
	return out, nil
}

type metricValue struct {
	actual *float64
	basis  int64
}

// metricCache computes each report once per period, whatever the number of
// objectives that need it.
type metricCache struct {
	q       *Queries
	values  map[string]metricValue
	quality map[Period]QualityReport
	sales   map[Period]PipelineMetrics
	service map[Period]ServiceMetrics
}

func (m *metricCache) get(ctx context.Context, metric objective.Metric, p Period) (metricValue, error) {
	key := string(metric) + "|" + p.From.String() + "|" + p.To.String()
	if v, ok := m.values[key]; ok {
		return v, nil
	}
	v, err := m.compute(ctx, metric, p)
	if err == nil {
		m.values[key] = v
	}
	return v, err
}

func (m *metricCache) compute(ctx context.Context, metric objective.Metric, p Period) (metricValue, error) {
	switch metric {
	case objective.ComplaintsAcknowledgedOnTime, objective.ComplaintsSatisfied, objective.ComplaintsReopened,
		objective.NPS, objective.CSAT, objective.CSATAverage:
		r, ok := m.quality[p]
		if !ok {
			var err error
			if r, err = m.q.QualityReport(ctx, p); err != nil {
				return metricValue{}, err
			}
			if m.quality == nil {
				m.quality = map[Period]QualityReport{}
			}
			m.quality[p] = r
		}
		return qualityMetric(metric, r), nil
	case objective.WinRate:
		r, ok := m.sales[p]
		if !ok {
			var err error
			if r, err = m.q.PipelineMetrics(ctx, PipelineFilter{}, p); err != nil {
				return metricValue{}, err
			}
			if m.sales == nil {
				m.sales = map[Period]PipelineMetrics{}
			}
			m.sales[p] = r
		}
		return metricValue{actual: r.WinRate, basis: r.Won + r.Lost}, nil
	case objective.FirstResponseWithinSLA, objective.SLABreachRate:
		r, ok := m.service[p]
		if !ok {
			var err error
			if r, err = m.q.ServiceMetrics(ctx, "", p); err != nil {
				return metricValue{}, err
			}
			if m.service == nil {
				m.service = map[Period]ServiceMetrics{}
			}
			m.service[p] = r
		}
		var part, whole int64
		for _, mo := range r.Months {
			if metric == objective.SLABreachRate {
				part, whole = part+mo.Breached, whole+mo.UnderSLA
			} else {
				part, whole = part+mo.FirstResponseOnTime, whole+mo.FirstResponseDue
			}
		}
		return metricValue{actual: ratio(part, whole), basis: whole}, nil
	}
	return metricValue{}, fmt.Errorf("queries: no figure for the objective metric %q", metric)
}

// qualityMetric reads a complaint or satisfaction figure of the quality
// report; CSAT and NPS of the period are combined from its rows per month
// and segment.
func qualityMetric(metric objective.Metric, r QualityReport) metricValue {
	c := r.Complaints
	switch metric {
	case objective.ComplaintsAcknowledgedOnTime:
		return metricValue{actual: c.AcknowledgedOnTimeRate, basis: c.Acknowledged}
	case objective.ComplaintsSatisfied:
		return metricValue{actual: c.SatisfiedRate, basis: c.Closed}
	case objective.ComplaintsReopened:
		return metricValue{actual: c.ReopenRate, basis: c.Closed}
	}
	var answers, promoters, detractors, csatAnswers int64
	var satisfied, sum float64
	for _, s := range r.Satisfaction {
		answers, promoters, detractors = answers+s.NPSAnswers, promoters+s.Promoters, detractors+s.Detractors
		if s.CSAT != nil && s.CSATAverage != nil {
			csatAnswers += s.CSATAnswers
			satisfied += math.Round(*s.CSAT * float64(s.CSATAnswers) / 100)
			sum += *s.CSATAverage * float64(s.CSATAnswers)
		}
	}
	switch metric {
	case objective.NPS:
		if answers == 0 {
			return metricValue{}
		}
		v := round1(float64(promoters-detractors) * 100 / float64(answers))
		return metricValue{actual: &v, basis: answers}
	case objective.CSAT:
		return metricValue{actual: ratio(int64(satisfied), csatAnswers), basis: csatAnswers}
	}
	if csatAnswers == 0 {
		return metricValue{}
	}
	v := math.Round(sum/float64(csatAnswers)*100) / 100
	return metricValue{actual: &v, basis: csatAnswers}
}
