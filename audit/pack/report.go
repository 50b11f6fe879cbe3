package pack

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/queries"
)

// Source is where a pack and its report come from.
type Source struct {
	Log     *auditlog.Log
	Queries *queries.Queries
	// PublicKey is the verifier key of the log's signing key.
	PublicKey string
	// BackdatedAfter: an event recorded this long after it occurred is a
	// backdated fact (0: audit.BackdatedAfter, 24 h).
	BackdatedAfter time.Duration
}

func (s Source) backdatedAfter() time.Duration {
	if s.BackdatedAfter <= 0 {
		return audit.BackdatedAfter
	}
	return s.BackdatedAfter
}

// BackdatedFact is an event of the period recorded well after it occurred.
type BackdatedFact struct {
	LeafIndex  int64
	Stream     string
	Version    uint64
	EventID    string
	Type       string
	Actor      string
	OccurredAt time.Time
	RecordedAt time.Time
}

// Report is the quality report of one tenant and period: the read models'
// figures (package queries, the same as GET /v1/quality/...) and the
// backdated facts recorded in the period (from the transparency log).
type Report struct {
	Tenant         string
	Period         queries.Period
	GeneratedAt    time.Time
	Quality        queries.QualityReport
	Complaints     []queries.Complaint // the register: every complaint received in the period
	Service        queries.ServiceMetrics
	Events         int // events of the tenant recorded in the period (logged)
	Backdated      []BackdatedFact
	BackdatedAfter time.Duration
}

// CollectReport computes the quality report of tenant for period p.
func CollectReport(ctx context.Context, src Source, tenantID string, p queries.Period) (Report, error) {
	leaves, err := src.Log.Leaves(ctx, auditlog.LeafQuery{From: 0, To: 1 << 62, Tenant: &tenantID, RecordedFrom: p.From, RecordedTo: p.To})
	if err != nil {
		return Report{}, err
	}
	return collectReport(ctx, src, tenantID, p, leaves)
}

func collectReport(ctx context.Context, src Source, tenantID string, p queries.Period, leaves []auditlog.LeafRecord) (Report, error) {
	if src.Queries == nil {
		return Report{}, errors.New("pack: the read-model queries are required for the report")
	}
	ctx = tenant.WithContext(ctx, tenantID)
	r := Report{Tenant: tenantID, Period: p, GeneratedAt: time.Now().UTC(), Events: len(leaves), BackdatedAfter: src.backdatedAfter()}
	var err error
	if r.Quality, err = src.Queries.QualityReport(ctx, p); err != nil {
		return r, err
	}
	r.GeneratedAt = r.Quality.AsOf.UTC()
	for cursor := ""; ; {
		page, err := src.Queries.Complaints(ctx, queries.ComplaintFilter{Period: p, Limit: 500, Cursor: cursor})
		if err != nil {
			return r, err
		}
		r.Complaints = append(r.Complaints, page.Items...)
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if r.Service, err = src.Queries.ServiceMetrics(ctx, "", p); err != nil {
		return r, err
	}
	for _, l := range leaves {
		e, err := audit.DecodeLeaf(l.Leaf)
		if err != nil {
			return r, fmt.Errorf("pack: leaf %d does not decode: %w", l.Index, err)
		}
		if audit.BackdatedBy(e, r.BackdatedAfter) {
			r.Backdated = append(r.Backdated, BackdatedFact{LeafIndex: l.Index, Stream: e.StreamID, Version: e.Version, EventID: e.ID.String(),
				Type: e.Type, Actor: e.Metadata.Actor, OccurredAt: e.Metadata.OccurredAt.UTC(), RecordedAt: e.RecordedAt.UTC()})
		}
	}
	return r, nil
}

// CSV files of the report, by name under report/.
func (r Report) CSV() (map[string][]byte, error) {
	q := r.Quality
	c := q.Complaints
	files := map[string][][]string{}
	files["summary.csv"] = [][]string{
		{"metric", "value"},
		{"tenant", r.Tenant},
		{"period_from", ts(r.Period.From)},
		{"period_to", ts(r.Period.To)},
		{"as_of", ts(r.GeneratedAt)},
		{"events_recorded", itoa(int64(r.Events))},
		{"complaints_received", itoa(c.Received)},
		{"complaints_acknowledged", itoa(c.Acknowledged)},
		{"complaints_acknowledged_on_time", itoa(c.AcknowledgedOnTime)},
		{"complaints_acknowledged_on_time_percent", fp(c.AcknowledgedOnTimeRate)},
		{"complaints_acknowledgement_overdue", itoa(c.AcknowledgementOverdue)},
		{"complaints_closed", itoa(c.Closed)},
		{"complaints_reopened", itoa(c.Reopened)},
		{"complaints_reopen_rate_percent", fp(c.ReopenRate)},
		{"complaints_satisfied", itoa(c.Satisfied)},
		{"complaints_satisfied_percent", fp(c.SatisfiedRate)},
		{"complaints_with_nonconformity", itoa(c.WithNonconformity)},
		{"nonconformities", itoa(int64(len(q.Nonconformities)))},
		{"overdue_corrective_actions", itoa(q.OverdueActions)},
		{"won_opportunities", itoa(q.Reviews.Opportunities)},
		{"confirmed_orders", itoa(q.Reviews.Orders)},
		{"commitments_without_approved_review", itoa(int64(len(q.Reviews.Exceptions)))},
		{"requirements_review_compliant", strconv.FormatBool(q.Reviews.Compliant)},
		{"backdated_facts", itoa(int64(len(r.Backdated)))},
		{"backdated_after_hours", strconv.FormatFloat(r.BackdatedAfter.Hours(), 'f', -1, 64)},
	}
	rows := [][]string{{"reference", "complaint_id", "customer_id", "customer", "channel", "severity", "urgency", "status", "remedy_sought",
		"received_at", "acknowledgement_due", "acknowledged_at", "acknowledged_on_time", "responded_at", "outcome", "closed_at",
		"customer_satisfied", "reopen_count", "nonconformities"}}
	for _, x := range r.Complaints {
		ncs := make([]string, len(x.Nonconformities))
		for i, id := range x.Nonconformities {
			ncs[i] = id.String()
		}
		rows = append(rows, []string{x.Reference, x.ID.String(), x.CustomerID.String(), x.CustomerName, x.Channel, x.Severity, x.Urgency, x.Status,
			x.RemedySought, ts(x.ReceivedAt), ts(x.AcknowledgementDue), tsp(x.AcknowledgedAt), bp(x.AcknowledgedOnTime), tsp(x.RespondedAt),
			x.Outcome, tsp(x.ClosedAt), bp(x.CustomerSatisfied), strconv.Itoa(x.ReopenCount), strings.Join(ncs, " ")})
	}
	files["complaints.csv"] = rows
	rows = [][]string{{"month", "segment", "csat_answers", "csat_percent", "csat_average", "nps_answers", "promoters", "detractors", "nps"}}
	for _, s := range q.Satisfaction {
		rows = append(rows, []string{s.Month, s.Segment, itoa(s.CSATAnswers), fp(s.CSAT), fp(s.CSATAverage), itoa(s.NPSAnswers),
			itoa(s.Promoters), itoa(s.Detractors), fp(s.NPS)})
	}
	files["satisfaction.csv"] = rows
	rows = [][]string{{"month", "cases_opened", "under_sla", "sla_breached", "sla_breach_rate_percent", "first_response_minutes_median",
		"first_response_minutes_p90", "resolution_hours_median", "resolution_hours_p90"}}
	for _, m := range r.Service.Months {
		rows = append(rows, []string{m.Month, itoa(m.Opened), itoa(m.UnderSLA), itoa(m.Breached), fp(m.BreachRate),
			fp(m.FirstResponseMinutes.Median), fp(m.FirstResponseMinutes.P90), fp(m.ResolutionHours.Median), fp(m.ResolutionHours.P90)})
	}
	files["sla.csv"] = rows
	rows = [][]string{{"nonconformity_id", "source", "source_ref", "severity", "title", "status", "root_cause", "raised_at", "closed_at",
		"effective", "verified_at", "ineffective_reviews", "complaints", "actions"}}
	actions := [][]string{{"nonconformity_id", "action_id", "description", "owner_id", "due_date", "status", "completed_at", "on_time", "overdue"}}
	for _, n := range q.Nonconformities {
		rows = append(rows, []string{n.ID.String(), n.Source, n.SourceRef, n.Severity, n.Title, n.Status, n.RootCause, ts(n.RaisedAt), tsp(n.ClosedAt),
			bp(n.Effective), tsp(n.VerifiedAt), strconv.Itoa(n.IneffectiveReviews), strings.Join(n.Complaints, " "), strconv.Itoa(len(n.Actions))})
		for _, a := range n.Actions {
			actions = append(actions, []string{n.ID.String(), a.ActionID.String(), a.Description, a.OwnerID, a.DueDate, a.Status, tsp(a.CompletedAt),
				bp(a.OnTime), strconv.FormatBool(a.Overdue)})
		}
	}
	files["nonconformities.csv"] = rows
	files["corrective-actions.csv"] = actions
	rows = [][]string{{"kind", "id", "customer_id", "revision", "committed_at", "last_review_result"}}
	for _, x := range q.Reviews.Exceptions {
		cust := ""
		if x.CustomerID != nil {
			cust = x.CustomerID.String()
		}
		rows = append(rows, []string{x.Kind, x.ID.String(), cust, strconv.Itoa(x.Revision), ts(x.CommittedAt), x.LastReview})
	}
	files["requirement-review-exceptions.csv"] = rows
	rows = [][]string{{"leaf_index", "stream", "version", "event_id", "type", "actor", "occurred_at", "recorded_at", "lag_hours"}}
	for _, b := range r.Backdated {
		rows = append(rows, []string{itoa(b.LeafIndex), b.Stream, strconv.FormatUint(b.Version, 10), b.EventID, b.Type, b.Actor,
			ts(b.OccurredAt), ts(b.RecordedAt), strconv.FormatFloat(b.RecordedAt.Sub(b.OccurredAt).Hours(), 'f', 1, 64)})
	}
	files["backdated-facts.csv"] = rows

	out := make(map[string][]byte, len(files))
	for name, rows := range files {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(rows); err != nil {
			return nil, fmt.Errorf("pack: writing %s: %w", name, err)
		}
		out[name] = buf.Bytes()
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

func fp(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func bp(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}
