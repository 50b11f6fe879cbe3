package queries

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ComplaintKPIs are ISO 10002 figures of the complaints received in a period.
type ComplaintKPIs struct {
	Received     int64 `json:"received"`
	Acknowledged int64 `json:"acknowledged"`
	// AcknowledgedOnTime ÷ Acknowledged, in percent.
	AcknowledgedOnTime     int64    `json:"acknowledged_on_time"`
	AcknowledgedOnTimeRate *float64 `json:"acknowledged_on_time_percent"`
	// AcknowledgementOverdue: not acknowledged and past the deadline now.
	AcknowledgementOverdue int64     `json:"acknowledgement_overdue"`
	HoursToAcknowledge     Durations `json:"hours_to_acknowledge"`
	// Closed counts those closed now; DaysToClose runs from receipt to the
	// last closure.
	Closed      int64     `json:"closed"`
	DaysToClose Durations `json:"days_to_close"`
	// Reopened: closed at least once, then reopened; ReopenRate = reopened
	// ÷ closed at least once.
	Reopened   int64    `json:"reopened"`
	ReopenRate *float64 `json:"reopen_rate_percent"`
	// Satisfied ÷ Closed: the customer was satisfied at closure.
	Satisfied     int64            `json:"satisfied"`
	SatisfiedRate *float64         `json:"satisfied_percent"`
	BySeverity    map[string]int64 `json:"by_severity"`
	// WithNonconformity: complaints that raised at least one nonconformity.
	WithNonconformity int64 `json:"with_nonconformity"`
}

// Satisfaction is CSAT and NPS of one month and segment.
type Satisfaction struct {
	Month       string   `json:"month"`   // 2026-01
	Segment     string   `json:"segment"` // "" when the customer had none
	CSATAnswers int64    `json:"csat_answers" doc:"Feedback with a CSAT score (1-5), not withdrawn, submitted in the month"`
	CSAT        *float64 `json:"csat_percent" doc:"Share of CSAT answers of 4 or 5, × 100, to one decimal; null without answers"`
	CSATAverage *float64 `json:"csat_average" doc:"Mean CSAT score (1-5) of the answers, to two decimals; null without answers"`
	NPSAnswers  int64    `json:"nps_answers" doc:"Feedback with an NPS score (0-10), not withdrawn, submitted in the month"`
	Promoters   int64    `json:"promoters" doc:"NPS answers of 9 or 10"`
	Detractors  int64    `json:"detractors" doc:"NPS answers of 0 to 6"`
	NPS         *float64 `json:"nps" doc:"% promoters − % detractors (-100 to 100), from the exact shares, to one decimal; null without answers"`
}

// CorrectiveAction is one action of the nonconformity log.
type CorrectiveAction struct {
	ActionID    uuid.UUID  `json:"action_id"`
	Description string     `json:"description"`
	OwnerID     string     `json:"owner_id"`
	DueDate     string     `json:"due_date"`
	Status      string     `json:"status"` // planned, approved, done, reopened
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	OnTime      *bool      `json:"on_time,omitempty"`
	Overdue     bool       `json:"overdue"` // not done and due before today
}

// Nonconformity is one entry of the nonconformity log.
type Nonconformity struct {
	ID                 uuid.UUID          `json:"nonconformity_id"`
	Source             string             `json:"source"`
	SourceRef          string             `json:"source_ref,omitempty"`
	Severity           string             `json:"severity"`
	Title              string             `json:"title"`
	Status             string             `json:"status"`
	CustomerID         *uuid.UUID         `json:"customer_id,omitempty"`
	RootCause          string             `json:"root_cause,omitempty"`
	RaisedAt           time.Time          `json:"raised_at"`
	ClosedAt           *time.Time         `json:"closed_at,omitempty"`
	Effective          *bool              `json:"effective,omitempty"` // the last effectiveness review
	VerifiedAt         *time.Time         `json:"verified_at,omitempty"`
	IneffectiveReviews int                `json:"ineffective_reviews"`
	Complaints         []string           `json:"complaints"` // references of the complaints that raised it
	Actions            []CorrectiveAction `json:"actions"`
}

// ReviewException is a commitment without a positive requirements review.
type ReviewException struct {
	Kind        string     `json:"kind"` // opportunity or order
	ID          uuid.UUID  `json:"id"`
	CustomerID  *uuid.UUID `json:"customer_id,omitempty"`
	Revision    int        `json:"revision"`
	CommittedAt time.Time  `json:"committed_at"`
	LastReview  string     `json:"last_review_result,omitempty"` // "" when the revision was never reviewed
}

// ReviewCompliance is ISO 9001 8.2.3 compliance: commitments (won
// opportunities, confirmed orders) in the period and those made without an
// approved review of their requirements, which must be zero.
type ReviewCompliance struct {
	Opportunities int64             `json:"won_opportunities"`
	Orders        int64             `json:"confirmed_orders"`
	Exceptions    []ReviewException `json:"exceptions"`
	Compliant     bool              `json:"compliant"`
}

// QualityReport is the quality report of a period, for management review
// and auditors (ISO 9001 9.1.2, 9.1.3, 10.2; ISO 10002).
type QualityReport struct {
	Period       Period         `json:"period"`
	AsOf         time.Time      `json:"as_of"`
	Complaints   ComplaintKPIs  `json:"complaints"`
	Satisfaction []Satisfaction `json:"satisfaction"`
	// Nonconformities raised in the period, or still open.
	Nonconformities []Nonconformity  `json:"nonconformities"`
	OverdueActions  int64            `json:"overdue_actions"`
	Reviews         ReviewCompliance `json:"requirements_review"`
}

// QualityReport computes the report of a period.
func (q *Queries) QualityReport(ctx context.Context, p Period) (QualityReport, error) {
	now := q.now()
	out := QualityReport{Period: p, AsOf: now, Satisfaction: []Satisfaction{}, Nonconformities: []Nonconformity{},
		Reviews: ReviewCompliance{Exceptions: []ReviewException{}}}
	if err := p.check(); err != nil {
		return out, err
	}
	c := &out.Complaints
	c.BySeverity = map[string]int64{}
	ack, clo := &c.HoursToAcknowledge, &c.DaysToClose
	var everClosed int64
	err := q.db.QueryRow(ctx, `
		WITH c AS (SELECT * FROM rm_quality_complaints WHERE tenant = $tenant AND received_at >= $1 AND received_at < $2),
		a AS (SELECT extract(epoch FROM acknowledged_at - received_at) / 3600 AS h FROM c WHERE acknowledged_at IS NOT NULL),
		d AS (SELECT extract(epoch FROM closed_at - received_at) / 86400 AS d FROM c WHERE status = 'closed')
		SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM c WHERE acknowledged_at IS NOT NULL),
			(SELECT count(*) FROM c WHERE acknowledged_on_time),
			(SELECT count(*) FROM c WHERE acknowledged_at IS NULL AND acknowledgement_due < $3),
			(SELECT count(*) FROM a), (SELECT avg(h) FROM a)::float8, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h) FROM a)::float8,
			(SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY h) FROM a)::float8,
			(SELECT count(*) FROM c WHERE status = 'closed'),
			(SELECT count(*) FROM d), (SELECT avg(d) FROM d)::float8, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM d)::float8,
			(SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY d) FROM d)::float8,
			(SELECT count(*) FROM c WHERE reopen_count > 0), (SELECT count(*) FROM c WHERE first_closed_at IS NOT NULL),
			(SELECT count(*) FROM c WHERE status = 'closed' AND customer_satisfied),
			(SELECT count(*) FROM c WHERE nonconformity_count > 0)`, p.From, p.To, now).
		Scan(&c.Received, &c.Acknowledged, &c.AcknowledgedOnTime, &c.AcknowledgementOverdue,
			&ack.Count, &ack.Mean, &ack.Median, &ack.P90, &c.Closed, &clo.Count, &clo.Mean, &clo.Median, &clo.P90,
			&c.Reopened, &everClosed, &c.Satisfied, &c.WithNonconformity)
	if err != nil {
		return out, fmt.Errorf("queries: complaint figures: %w", err)
	}
	for _, d := range []*Durations{ack, clo} {
		d.Mean, d.Median, d.P90 = round1p(d.Mean), round1p(d.Median), round1p(d.P90)
	}
	c.AcknowledgedOnTimeRate = ratio(c.AcknowledgedOnTime, c.Acknowledged)
	c.ReopenRate = ratio(c.Reopened, everClosed)
	c.SatisfiedRate = ratio(c.Satisfied, c.Closed)
	rows, err := q.db.Query(ctx, `SELECT severity, count(*) FROM rm_quality_complaints WHERE tenant = $tenant AND received_at >= $1 AND received_at < $2
		GROUP BY severity`, p.From, p.To)
	if err != nil {
		return out, fmt.Errorf("queries: complaints by severity: %w", err)
	}
	var sev string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&sev, &n}, func() error { c.BySeverity[sev] = n; return nil }); err != nil {
		return out, fmt.Errorf("queries: complaints by severity: %w", err)
	}

	rows, err = q.db.Query(ctx, `
		SELECT to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM'), COALESCE(segment, ''),
			count(csat), count(*) FILTER (WHERE csat >= 4), avg(csat)::float8, count(nps), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6)
		FROM rm_quality_feedback WHERE tenant = $tenant AND withdrawn_at IS NULL AND submitted_at >= $1 AND submitted_at < $2
		GROUP BY 1, 2 ORDER BY 1, 2`, p.From, p.To)
	if err != nil {
		return out, fmt.Errorf("queries: satisfaction: %w", err)
	}
	var s Satisfaction
	var satisfied int64
	var csatMean *float64
	if _, err := pgx.ForEachRow(rows, []any{&s.Month, &s.Segment, &s.CSATAnswers, &satisfied, &csatMean, &s.NPSAnswers, &s.Promoters, &s.Detractors}, func() error {
		s.CSAT = ratio(satisfied, s.CSATAnswers)
		s.CSATAverage = nil
		if csatMean != nil {
			v := math.Round(*csatMean*100) / 100
			s.CSATAverage = &v
		}
		s.NPS = nil
		if s.NPSAnswers > 0 {
			v := round1(float64(s.Promoters-s.Detractors) * 100 / float64(s.NPSAnswers))
			s.NPS = &v
		}
		out.Satisfaction = append(out.Satisfaction, s)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: satisfaction: %w", err)
	}

	if err := q.nonconformities(ctx, p, now, &out); err != nil {
		return out, err
	}

	r := &out.Reviews
	if err := q.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE subject_kind = 'opportunity'), count(*) FILTER (WHERE subject_kind = 'order')
		FROM rm_quality_commitments WHERE tenant = $tenant AND committed_at >= $1 AND committed_at < $2`, p.From, p.To).Scan(&r.Opportunities, &r.Orders); err != nil {
		return out, fmt.Errorf("queries: review compliance: %w", err)
	}
	rows, err = q.db.Query(ctx, `SELECT subject_kind, subject_id, customer_id, revision, committed_at, COALESCE(last_review_result, '')
		FROM rm_quality_commitments WHERE tenant = $tenant AND committed_at >= $1 AND committed_at < $2 AND NOT approved_review
		ORDER BY committed_at, subject_kind, subject_id`, p.From, p.To)
	if err != nil {
		return out, fmt.Errorf("queries: review exceptions: %w", err)
	}
	var x ReviewException
	if _, err := pgx.ForEachRow(rows, []any{&x.Kind, &x.ID, &x.CustomerID, &x.Revision, &x.CommittedAt, &x.LastReview}, func() error {
		r.Exceptions = append(r.Exceptions, x)
		return nil
	}); err != nil {
		return out, fmt.Errorf("queries: review exceptions: %w", err)
	}
	r.Compliant = len(r.Exceptions) == 0
	return out, nil
}

func (q *Queries) nonconformities(ctx context.Context, p Period, now time.Time, out *QualityReport) error {
	today := now.Format(time.DateOnly)
	rows, err := q.db.Query(ctx, `
		SELECT n.nonconformity_id, n.source, COALESCE(n.source_ref, ''), n.severity, n.title, n.status, n.customer_id,
			COALESCE(n.root_cause, ''), n.raised_at, n.closed_at, n.effective, n.verified_at, n.ineffective_reviews,
			COALESCE((SELECT array_agg(c.reference ORDER BY c.reference) FROM rm_quality_complaint_links l
				JOIN rm_quality_complaints c ON c.tenant = $tenant AND c.complaint_id = l.complaint_id
				WHERE l.tenant = $tenant AND l.nonconformity_id = n.nonconformity_id), '{}')
		FROM rm_quality_nonconformities n
		WHERE n.tenant = $tenant AND ((n.raised_at >= $1 AND n.raised_at < $2) OR (n.status <> 'closed' AND n.raised_at < $2))
		ORDER BY n.raised_at, n.nonconformity_id`, p.From, p.To)
	if err != nil {
		return fmt.Errorf("queries: nonconformity log: %w", err)
	}
	var nc Nonconformity
	index := map[uuid.UUID]int{}
	if _, err := pgx.ForEachRow(rows, []any{&nc.ID, &nc.Source, &nc.SourceRef, &nc.Severity, &nc.Title, &nc.Status, &nc.CustomerID,
		&nc.RootCause, &nc.RaisedAt, &nc.ClosedAt, &nc.Effective, &nc.VerifiedAt, &nc.IneffectiveReviews, &nc.Complaints}, func() error {
		nc.Actions = []CorrectiveAction{}
		index[nc.ID] = len(out.Nonconformities)
		out.Nonconformities = append(out.Nonconformities, nc)
		return nil
	}); err != nil {
		return fmt.Errorf("queries: nonconformity log: %w", err)
	}
	ids := make([]uuid.UUID, 0, len(index))
	for id := range index {
		ids = append(ids, id)
	}
	rows, err = q.db.Query(ctx, `
		SELECT nonconformity_id, action_id, description, owner_id, to_char(due_date, 'YYYY-MM-DD'), status, completed_at, on_time,
			status <> 'done' AND due_date < $2::date
		FROM rm_quality_corrective_actions WHERE tenant = $tenant AND nonconformity_id = ANY($1)
		ORDER BY due_date, action_id`, ids, today)
	if err != nil {
		return fmt.Errorf("queries: corrective actions: %w", err)
	}
	var ncID uuid.UUID
	var a CorrectiveAction
	if _, err := pgx.ForEachRow(rows, []any{&ncID, &a.ActionID, &a.Description, &a.OwnerID, &a.DueDate, &a.Status, &a.CompletedAt,
		&a.OnTime, &a.Overdue}, func() error {
		i := index[ncID]
		out.Nonconformities[i].Actions = append(out.Nonconformities[i].Actions, a)
		return nil
	}); err != nil {
		return fmt.Errorf("queries: corrective actions: %w", err)
	}
	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM rm_quality_corrective_actions WHERE tenant = $tenant AND status <> 'done' AND due_date < $1::date`,
		today).Scan(&out.OverdueActions); err != nil {
		return fmt.Errorf("queries: overdue actions: %w", err)
	}
	return nil
}

// Complaint is one entry of the complaint register (ISO 10002).
type Complaint struct {
	ID                 uuid.UUID   `json:"complaint_id"`
	Reference          string      `json:"reference"`
	CustomerID         uuid.UUID   `json:"customer_id"`
	CustomerName       string      `json:"customer_name,omitempty"`
	Channel            string      `json:"channel"`
	Severity           string      `json:"severity"`
	Urgency            string      `json:"urgency,omitempty"`
	Status             string      `json:"status"`
	RemedySought       string      `json:"remedy_sought,omitempty"`
	ReceivedAt         time.Time   `json:"received_at"`
	AcknowledgementDue time.Time   `json:"acknowledgement_due"`
	AcknowledgedAt     *time.Time  `json:"acknowledged_at,omitempty"`
	AcknowledgedOnTime *bool       `json:"acknowledged_on_time,omitempty"`
	RespondedAt        *time.Time  `json:"responded_at,omitempty"`
	Outcome            string      `json:"outcome,omitempty"`
	ClosedAt           *time.Time  `json:"closed_at,omitempty"`
	CustomerSatisfied  *bool       `json:"customer_satisfied,omitempty"`
	ReopenCount        int         `json:"reopen_count"`
	Nonconformities    []uuid.UUID `json:"nonconformities"`
}

// ComplaintFilter selects complaints received in a period.
type ComplaintFilter struct {
	Period
	Status   string // received, acknowledged, responded, closed (default: all)
	Severity string
	Limit    int
	Cursor   string
}

// Complaints lists the complaint register of a period by receipt time.
func (q *Queries) Complaints(ctx context.Context, f ComplaintFilter) (Page[Complaint], error) {
	page := Page[Complaint]{Items: []Complaint{}}
	if err := f.Period.check(); err != nil {
		return page, err
	}
	n, err := limit(f.Limit)
	if err != nil {
		return page, err
	}
	var afterAt *time.Time
	var afterID uuid.UUID
	if f.Cursor != "" {
		var at time.Time
		if err := decodeCursor(f.Cursor, &at, &afterID); err != nil {
			return page, err
		}
		afterAt = &at
	}
	rows, err := q.db.Query(ctx, `
		SELECT c.complaint_id, c.reference, c.customer_id, COALESCE(p.display_name, ''), c.channel, c.severity, COALESCE(c.urgency, ''),
			c.status, COALESCE(c.remedy_sought, ''), c.received_at, c.acknowledgement_due, c.acknowledged_at, c.acknowledged_on_time,
			c.responded_at, COALESCE(c.outcome, ''), c.closed_at, c.customer_satisfied, c.reopen_count,
			COALESCE((SELECT array_agg(l.nonconformity_id ORDER BY l.raised_at, l.nonconformity_id) FROM rm_quality_complaint_links l
				WHERE l.tenant = $tenant AND l.complaint_id = c.complaint_id), '{}')
		FROM rm_quality_complaints c LEFT JOIN rm_customer_profiles p ON p.tenant = $tenant AND p.customer_id = c.customer_id
		WHERE c.tenant = $tenant AND c.received_at >= $1 AND c.received_at < $2 AND ($3 = '' OR c.status = $3) AND ($4 = '' OR c.severity = $4)
			AND ($5::timestamptz IS NULL OR (c.received_at, c.complaint_id) > ($5, $6::uuid))
		ORDER BY c.received_at, c.complaint_id LIMIT $7`, f.From, f.To, f.Status, f.Severity, afterAt, afterID, n+1)
	if err != nil {
		return page, fmt.Errorf("queries: complaints: %w", err)
	}
	var c Complaint
	if _, err := pgx.ForEachRow(rows, []any{&c.ID, &c.Reference, &c.CustomerID, &c.CustomerName, &c.Channel, &c.Severity, &c.Urgency,
		&c.Status, &c.RemedySought, &c.ReceivedAt, &c.AcknowledgementDue, &c.AcknowledgedAt, &c.AcknowledgedOnTime, &c.RespondedAt,
		&c.Outcome, &c.ClosedAt, &c.CustomerSatisfied, &c.ReopenCount, &c.Nonconformities}, func() error {
		if len(page.Items) == n {
			last := page.Items[n-1]
			page.Next = encodeCursor(last.ReceivedAt, last.ID)
			return nil
		}
		page.Items = append(page.Items, c)
		return nil
	}); err != nil {
		return page, fmt.Errorf("queries: complaints: %w", err)
	}
	return page, nil
}
