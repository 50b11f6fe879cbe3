package console

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/queries"
)

type npsSeries struct {
	Series
	answers []int64
}

// overallNPS combines the segments of each month from their counts (never
// by averaging percentages).
func overallNPS(rows []queries.Satisfaction, ms []string) npsSeries {
	out := npsSeries{Series: Series{Name: "All segments", Values: make([]*float64, len(ms))}, answers: make([]int64, len(ms))}
	for i, m := range ms {
		var n, pro, det int64
		for _, r := range rows {
			if r.Month == m {
				n += r.NPSAnswers
				pro += r.Promoters
				det += r.Detractors
			}
		}
		out.answers[i] = n
		if n > 0 {
			v := math.Round((float64(pro)-float64(det))*1000/float64(n)) / 10
			out.Values[i] = &v
		}
	}
	return out
}

// bySegment makes one series per segment of a satisfaction figure.
func bySegment(rows []queries.Satisfaction, ms []string, pick func(queries.Satisfaction) *float64) []Series {
	var segs []string
	for _, r := range rows {
		if !slices.Contains(segs, r.Segment) {
			segs = append(segs, r.Segment)
		}
	}
	sort.Strings(segs)
	var out []Series
	for _, sg := range segs {
		s := Series{Name: sg, Values: make([]*float64, len(ms))}
		if sg == "" {
			s.Name = "(no segment)"
		}
		for _, r := range rows {
			if r.Segment != sg {
				continue
			}
			if i := slices.Index(ms, r.Month); i >= 0 {
				s.Values[i] = pick(r)
			}
		}
		out = append(out, s)
	}
	return out
}

// reportPeriod reads from= and to= (dates, of the query or a POST form); default: the six months up to
// now's, whole months.
func (c *Console) reportPeriod(r *http.Request) (from, to time.Time, err error) {
	_, from, to = months(c.opts.Now(), 6)
	if v := r.FormValue("from"); v != "" {
		if from, err = time.Parse(time.DateOnly, v); err != nil {
			return from, to, badRequest("from must be a date, 2026-01-31")
		}
	}
	if v := r.FormValue("to"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return from, to, badRequest("to must be a date, 2026-01-31")
		}
		to = t.AddDate(0, 0, 1) // inclusive on screen, exclusive in the API
	}
	if !from.Before(to) {
		return from, to, badRequest("the period must end after it starts")
	}
	return from, to, nil
}

// monthsBetween lists the months of [from, to).
func monthsBetween(from, to time.Time) []string {
	var out []string
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to) && len(out) < 72; m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}

type qualityData struct {
	Report    queries.QualityReport
	From, To  string
	Months    []string
	NPS, CSAT any
	NPSAll    any
	Board     []boardColumn
	CSVLink   string
	Customers bool
	// Downloads: the role may export the audit pack and its PDF report.
	Downloads bool
}

type boardColumn struct {
	Status string
	Items  []queries.Nonconformity
}

func (c *Console) quality(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, err := c.reportPeriod(r)
	if err != nil {
		return err
	}
	d := qualityData{From: day(from), To: day(to.AddDate(0, 0, -1)), Customers: s.principal.Allowed(api.CustomerReaders)}
	if err := c.get(r, s, "/v1/quality/report", period(from, to), &d.Report); err != nil {
		return err
	}
	d.Months = monthsBetween(from, to)
	label := d.From + " to " + d.To
	all := overallNPS(d.Report.Satisfaction, d.Months)
	d.NPSAll = LineChart("NPS per month, all segments, "+label, "NPS (−100 to 100)", d.Months, []Series{all.Series}, f64(-100), f64(100), "No NPS answers in this period.")
	d.NPS = LineChart("NPS per month by segment, "+label, "NPS (−100 to 100)", d.Months,
		bySegment(d.Report.Satisfaction, d.Months, func(s queries.Satisfaction) *float64 { return s.NPS }), f64(-100), f64(100), "No NPS answers in this period.")
	d.CSAT = LineChart("CSAT per month by segment (answers of 4 or 5), "+label, "% satisfied", d.Months,
		bySegment(d.Report.Satisfaction, d.Months, func(s queries.Satisfaction) *float64 { return s.CSAT }), f64(0), f64(100), "No CSAT answers in this period.")
	order := []string{}
	cols := map[string][]queries.Nonconformity{}
	for _, nc := range d.Report.Nonconformities {
		if _, ok := cols[nc.Status]; !ok {
			order = append(order, nc.Status)
		}
		cols[nc.Status] = append(cols[nc.Status], nc)
	}
	rank := map[string]int{"open": 0, "investigating": 1, "action_planned": 2, "actions_planned": 2, "verifying": 3, "closed": 9}
	sort.SliceStable(order, func(i, j int) bool { return rank[order[i]] < rank[order[j]] })
	for _, st := range order {
		d.Board = append(d.Board, boardColumn{st, cols[st]})
	}
	q := url.Values{"from": {d.From}, "to": {d.To}}
	d.CSVLink = c.opts.Base + "/quality/report.csv?" + q.Encode()
	d.Downloads = s.principal.Allowed(api.AuditReaders)
	c.render(w, r, s, http.StatusOK, "quality", "Quality report", "quality", d)
	return nil
}

// qualityCSV is the quality report of a period as CSV: one table per
// section, each row led by its section's name.
func (c *Console) qualityCSV(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, err := c.reportPeriod(r)
	if err != nil {
		return err
	}
	var rep queries.QualityReport
	if err := c.get(r, s, "/v1/quality/report", period(from, to), &rep); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="quality-report_%s_%s.csv"`, day(from), day(to.AddDate(0, 0, -1))))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	t := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.UTC().Format(time.RFC3339)
	}
	k := rep.Complaints
	rows := [][]string{
		{"section", "figure", "value"},
		{"period", "from", rep.Period.From.UTC().Format(time.RFC3339)},
		{"period", "to (exclusive)", rep.Period.To.UTC().Format(time.RFC3339)},
		{"period", "as of", rep.AsOf.UTC().Format(time.RFC3339)},
		{"complaints", "received", fmt.Sprint(k.Received)},
		{"complaints", "acknowledged", fmt.Sprint(k.Acknowledged)},
		{"complaints", "acknowledged on time %", f(k.AcknowledgedOnTimeRate)},
		{"complaints", "acknowledgement overdue", fmt.Sprint(k.AcknowledgementOverdue)},
		{"complaints", "hours to acknowledge, median", f(k.HoursToAcknowledge.Median)},
		{"complaints", "closed", fmt.Sprint(k.Closed)},
		{"complaints", "days to close, median", f(k.DaysToClose.Median)},
		{"complaints", "reopen rate %", f(k.ReopenRate)},
		{"complaints", "satisfied at closure %", f(k.SatisfiedRate)},
		{"complaints", "with a nonconformity", fmt.Sprint(k.WithNonconformity)},
		{"corrective actions", "overdue", fmt.Sprint(rep.OverdueActions)},
		{"requirements review", "won opportunities", fmt.Sprint(rep.Reviews.Opportunities)},
		{"requirements review", "confirmed orders", fmt.Sprint(rep.Reviews.Orders)},
		{"requirements review", "compliant", fmt.Sprint(rep.Reviews.Compliant)},
		{},
		{"satisfaction", "month", "segment", "csat answers", "csat %", "csat average", "nps answers", "promoters", "detractors", "nps"},
	}
	for _, sr := range rep.Satisfaction {
		rows = append(rows, []string{"satisfaction", sr.Month, sr.Segment, fmt.Sprint(sr.CSATAnswers), f(sr.CSAT), f(sr.CSATAverage),
			fmt.Sprint(sr.NPSAnswers), fmt.Sprint(sr.Promoters), fmt.Sprint(sr.Detractors), f(sr.NPS)})
	}
	rows = append(rows, []string{}, []string{"nonconformity", "id", "title", "severity", "status", "source", "source ref", "complaints",
		"raised at", "closed at", "effective", "verified at", "action", "action status", "action due", "action completed", "action overdue"})
	for _, nc := range rep.Nonconformities {
		base := []string{"nonconformity", nc.ID.String(), nc.Title, nc.Severity, nc.Status, nc.Source, nc.SourceRef,
			strings.Join(nc.Complaints, " "), nc.RaisedAt.UTC().Format(time.RFC3339), t(nc.ClosedAt), yesno(nc.Effective), t(nc.VerifiedAt)}
		if len(nc.Actions) == 0 {
			rows = append(rows, append(base, "", "", "", "", ""))
		}
		for _, a := range nc.Actions {
			rows = append(rows, append(slices.Clone(base), a.Description, a.Status, a.DueDate, t(a.CompletedAt), fmt.Sprint(a.Overdue)))
		}
	}
	rows = append(rows, []string{}, []string{"review exception", "kind", "id", "customer", "revision", "committed at", "last review"})
	for _, e := range rep.Reviews.Exceptions {
		cust := ""
		if e.CustomerID != nil {
			cust = e.CustomerID.String()
		}
		rows = append(rows, []string{"review exception", e.Kind, e.ID.String(), cust, fmt.Sprint(e.Revision), e.CommittedAt.UTC().Format(time.RFC3339), e.LastReview})
	}
	for _, row := range rows {
		for i, v := range row {
			row[i] = csvSafe(v)
		}
	}
	_ = cw.WriteAll(rows)
	return nil
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

type complaintsData struct {
	Page             queries.Page[queries.Complaint]
	From, To         string
	Status, Severity string
	NextLink         string
	Customers        bool
}

func (c *Console) complaints(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, err := c.reportPeriod(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := complaintsData{From: day(from), To: day(to.AddDate(0, 0, -1)), Status: q.Get("status"), Severity: q.Get("severity"),
		Customers: s.principal.Allowed(api.CustomerReaders)}
	aq := period(from, to)
	aq.Set("limit", "50")
	for _, k := range []string{"status", "severity", "cursor"} {
		if v := q.Get(k); v != "" {
			aq.Set(k, v)
		}
	}
	if err := c.get(r, s, "/v1/quality/complaints", aq, &d.Page); err != nil {
		return err
	}
	if d.Page.Next != "" {
		nq := url.Values{"from": {d.From}, "to": {d.To}, "status": {d.Status}, "severity": {d.Severity}, "cursor": {d.Page.Next}}
		d.NextLink = c.opts.Base + "/quality/complaints?" + nq.Encode()
	}
	c.render(w, r, s, http.StatusOK, "complaints", "Complaint register", "complaints", d)
	return nil
}

// storyStep is one step of a complaint's story, from the read models.
type storyStep struct {
	At     time.Time
	What   string
	Detail string
}

type complaintData struct {
	Complaint       queries.Complaint
	Story           []storyStep
	Nonconformities []queries.Nonconformity
	History         []api.AuditEvent
	CanAudit        bool
	Customers       bool
}

func (c *Console) complaint(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := idParam(r, "complaint")
	if err != nil {
		return err
	}
	received, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("received"))
	if err != nil {
		return notFound("open the complaint from the register (the link carries its receipt time)")
	}
	// The register lists complaints by receipt time: the one second of
	// its receipt holds it.
	var page queries.Page[queries.Complaint]
	q := period(received.Truncate(time.Second), received.Truncate(time.Second).Add(time.Second))
	q.Set("limit", "500")
	if err := c.get(r, s, "/v1/quality/complaints", q, &page); err != nil {
		return err
	}
	d := complaintData{CanAudit: s.principal.Allowed(api.AuditReaders), Customers: s.principal.Allowed(api.CustomerReaders)}
	found := false
	for _, k := range page.Items {
		if k.ID == id {
			d.Complaint, found = k, true
		}
	}
	if !found {
		return notFound("no such complaint")
	}
	k := d.Complaint
	add := func(t *time.Time, what, detail string) {
		if t != nil {
			d.Story = append(d.Story, storyStep{*t, what, detail})
		}
	}
	add(&k.ReceivedAt, "Complaint received", fmt.Sprintf("%s via %s, severity %s; acknowledgement due %s", k.Reference, k.Channel, k.Severity, when(k.AcknowledgementDue)))
	add(k.AcknowledgedAt, "Acknowledged", "on time: "+yesno(k.AcknowledgedOnTime))
	add(k.RespondedAt, "Responded", orDash(k.Outcome))
	add(k.ClosedAt, "Closed", "customer satisfied: "+yesno(k.CustomerSatisfied)+fmt.Sprintf("; reopened %d time(s)", k.ReopenCount))
	if len(k.Nonconformities) > 0 {
		var rep queries.QualityReport
		if err := c.get(r, s, "/v1/quality/report", period(k.ReceivedAt.Truncate(time.Second), c.opts.Now().UTC().Add(time.Second)), &rep); err != nil {
			return err
		}
		for _, nc := range rep.Nonconformities {
			if !slices.Contains(k.Nonconformities, nc.ID) {
				continue
			}
			d.Nonconformities = append(d.Nonconformities, nc)
			add(&nc.RaisedAt, "Nonconformity raised", nc.Title+" (severity "+nc.Severity+")")
			for _, a := range nc.Actions {
				add(a.CompletedAt, "Corrective action done", a.Description+" (due "+a.DueDate+", on time: "+yesno(a.OnTime)+")")
			}
			if nc.VerifiedAt != nil {
				add(nc.VerifiedAt, "Effectiveness checked", "effective: "+yesno(nc.Effective)+fmt.Sprintf("; ineffective reviews before: %d", nc.IneffectiveReviews))
			}
			add(nc.ClosedAt, "Nonconformity closed", orDash(nc.RootCause))
		}
	}
	sort.SliceStable(d.Story, func(i, j int) bool { return d.Story[i].At.Before(d.Story[j].At) })
	if d.CanAudit {
		streams := []string{"complaint-" + id.String()}
		for _, nc := range k.Nonconformities {
			streams = append(streams, "nonconformity-"+nc.String())
		}
		for _, st := range streams {
			var rec api.RecordAsOf
			if err := c.get(r, s, "/v1/audit/records/"+url.PathEscape(st), url.Values{"as_of": {c.opts.Now().UTC().Add(time.Minute).Format(time.RFC3339)}}, &rec); err != nil {
				if statusOf(err) == http.StatusNotFound {
					continue
				}
				return err
			}
			d.History = append(d.History, rec.Known...)
		}
		// In the order things happened (backdated facts at their time).
		occurred := func(e api.AuditEvent) time.Time {
			if !e.Metadata.OccurredAt.IsZero() {
				return e.Metadata.OccurredAt
			}
			return e.RecordedAt
		}
		sort.SliceStable(d.History, func(i, j int) bool { return occurred(d.History[i]).Before(occurred(d.History[j])) })
	}
	c.render(w, r, s, http.StatusOK, "complaint", "Complaint "+k.Reference, "complaints", d)
	return nil
}
