package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/queries"
)

// forbidden is the API's refusal, for a page whose area the role may not
// read (checked before any call, so the page never half-renders).
func forbidden() error {
	return &apiError{Status: http.StatusForbidden, Problem: api.Problem{Detail: "forbidden"}}
}

// idParam reads the {id} of the route: a UUID, or the page does not exist.
func idParam(r *http.Request, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		return uuid.Nil, notFound("no such " + what)
	}
	return id, nil
}

func notFound(msg string) error {
	return &apiError{Status: http.StatusNotFound, Problem: api.Problem{Detail: msg}}
}

func badRequest(msg string) error {
	return &apiError{Status: http.StatusBadRequest, Problem: api.Problem{Detail: msg}}
}

func period(from, to time.Time) url.Values {
	return url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
}

// ---- overview

type homeData struct {
	Pipeline *quarterFigures
	Service  *queries.QueueOverview
	Breached int64
	NPS      *monthNPS
}

type quarterFigures struct {
	Label    string
	Weighted []queries.CurrencyTotal
}

type monthNPS struct {
	Month   string
	NPS     *float64
	Answers int64
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) error {
	var d homeData
	now := c.opts.Now().UTC()
	if s.principal.Allowed(api.PipelineReaders) {
		var sum queries.PipelineSummary
		if err := c.get(r, s, "/v1/pipeline/summary", nil, &sum); err != nil {
			return err
		}
		q := thisQuarter(sum.Forecast, now)
		d.Pipeline = &q
	}
	if s.principal.Allowed(api.ServiceReaders) {
		var ov queries.QueueOverview
		if err := c.get(r, s, "/v1/service/queues", nil, &ov); err != nil {
			return err
		}
		d.Service = &ov
		for _, q := range ov.Queues {
			d.Breached += q.Breached
		}
	}
	if s.principal.Allowed(api.QualityReaders) {
		ms, from, to := months(now, 2)
		var rep queries.QualityReport
		if err := c.get(r, s, "/v1/quality/report", period(from, to), &rep); err != nil {
			return err
		}
		all := overallNPS(rep.Satisfaction, ms)
		d.NPS = &monthNPS{Month: ms[1], NPS: all.Values[1], Answers: all.answers[1]}
		if d.NPS.Answers == 0 {
			d.NPS = &monthNPS{Month: ms[0], NPS: all.Values[0], Answers: all.answers[0]}
		}
	}
	c.render(w, r, s, http.StatusOK, "home", "Overview", "home", d)
	return nil
}

// thisQuarter sums the weighted forecast of the months of now's quarter.
func thisQuarter(forecast []queries.ForecastMonth, now time.Time) quarterFigures {
	qStart := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	in := map[string]bool{}
	for i := range 3 {
		in[qStart.AddDate(0, i, 0).Format("2006-01")] = true
	}
	out := quarterFigures{Label: fmt.Sprintf("Q%d %d (%s to %s)", (int(now.Month())-1)/3+1, now.Year(),
		qStart.Format("2 Jan"), qStart.AddDate(0, 3, -1).Format("2 Jan"))}
	byCur := map[string]*queries.CurrencyTotal{}
	var order []string
	for _, f := range forecast {
		if !in[f.Month] {
			continue
		}
		t := byCur[f.Currency]
		if t == nil {
			t = &queries.CurrencyTotal{Currency: f.Currency, TotalMinor: "0", WeightedMinor: "0"}
			byCur[f.Currency] = t
			order = append(order, f.Currency)
		}
		t.Count += f.Count
		t.TotalMinor = t.TotalMinor.Add(f.TotalMinor)
		t.WeightedMinor = t.WeightedMinor.Add(f.WeightedMinor)
	}
	sort.Strings(order)
	for _, cur := range order {
		out.Weighted = append(out.Weighted, *byCur[cur])
	}
	return out
}

// ---- pipeline

type pipelineData struct {
	Summary    queries.PipelineSummary
	Quarter    quarterFigures
	Currency   string
	StageChart []stageChart
	Forecast   any
	WinRate    any
	Metrics    queries.PipelineMetrics
	Period     string
	Closing    []queries.Opportunity
	Customers  bool
}

type stageChart struct {
	Pipeline string
	Chart    any
}

// mainCurrency is the currency with the most open opportunities.
func mainCurrency(sum queries.PipelineSummary) string {
	counts := map[string]int64{}
	best, n := "", int64(-1)
	for _, p := range sum.Pipelines {
		for _, t := range p.Totals {
			counts[t.Currency] += t.Count
		}
	}
	for cur, c := range counts {
		if c > n || (c == n && cur < best) {
			best, n = cur, c
		}
	}
	return best
}

func (c *Console) pipeline(w http.ResponseWriter, r *http.Request, s *session) error {
	now := c.opts.Now().UTC()
	var d pipelineData
	if err := c.get(r, s, "/v1/pipeline/summary", nil, &d.Summary); err != nil {
		return err
	}
	d.Quarter = thisQuarter(d.Summary.Forecast, now)
	d.Currency = mainCurrency(d.Summary)
	cur := d.Currency
	for _, p := range d.Summary.Pipelines {
		var labels []string
		var vals []float64
		for _, st := range p.Stages {
			v := 0.0
			for _, t := range st.Totals {
				if t.Currency == cur {
					v = minorInt(t.WeightedMinor, cur)
				}
			}
			labels = append(labels, fmt.Sprintf("%s (%d%%)", st.Stage, st.Probability))
			vals = append(vals, v)
		}
		d.StageChart = append(d.StageChart, stageChart{p.Pipeline, BarChart(
			"Weighted open pipeline by stage, "+p.Pipeline+", as of "+day(d.Summary.AsOf), cur, labels, vals, "No open opportunities.")})
	}
	var fl []string
	var fv []float64
	for _, f := range d.Summary.Forecast {
		if f.Currency == cur && f.Month != "none" {
			fl = append(fl, f.Month)
			fv = append(fv, minorInt(f.WeightedMinor, cur))
		}
	}
	d.Forecast = BarChart("Weighted forecast by expected close month", cur, fl, fv, "No open opportunity has an expected close date.")

	ms, from, to := months(now, 6)
	d.Period = fmt.Sprintf("%s to %s", ms[0], ms[len(ms)-1])
	if err := c.get(r, s, "/v1/pipeline/metrics", period(from, to), &d.Metrics); err != nil {
		return err
	}
	rates := make([]*float64, len(ms))
	for i := range ms {
		start := from.AddDate(0, i, 0)
		var m queries.PipelineMetrics
		if err := c.get(r, s, "/v1/pipeline/metrics", period(start, start.AddDate(0, 1, 0)), &m); err != nil {
			return err
		}
		rates[i] = m.WinRate
	}
	d.WinRate = LineChart("Win rate per month (won ÷ closed), "+d.Period, "%", ms, []Series{{Name: "", Values: rates}}, f64(0), f64(100),
		"No opportunity was won or lost in these months.")
	var opps queries.Page[queries.Opportunity]
	if err := c.get(r, s, "/v1/pipeline/opportunities", url.Values{"limit": {"15"}}, &opps); err != nil {
		return err
	}
	d.Closing = opps.Items
	d.Customers = s.principal.Allowed(api.CustomerReaders)
	c.render(w, r, s, http.StatusOK, "pipeline", "Pipeline", "pipeline", d)
	return nil
}

// ---- service

type serviceData struct {
	Overview   queries.QueueOverview
	Soon       []queries.QueueCase
	Overdue    []queries.QueueCase
	Horizon    string
	Backlog    any
	BreachRate any
	Metrics    queries.ServiceMetrics
	Period     string
	Customers  bool
}

const breachHorizon = 24 * time.Hour

func (c *Console) service(w http.ResponseWriter, r *http.Request, s *session) error {
	now := c.opts.Now().UTC()
	d := serviceData{Horizon: "24 hours", Customers: s.principal.Allowed(api.CustomerReaders)}
	if err := c.get(r, s, "/v1/service/queues", nil, &d.Overview); err != nil {
		return err
	}
	var queues []string
	for _, q := range d.Overview.Queues {
		if !slices.Contains(queues, q.Queue) {
			queues = append(queues, q.Queue)
		}
	}
	for _, q := range queues {
		// Cases come by next deadline: the first page holds the urgent ones.
		var page queries.Page[queries.QueueCase]
		if err := c.get(r, s, "/v1/service/queues/"+url.PathEscape(q)+"/cases", url.Values{"limit": {"100"}}, &page); err != nil {
			return err
		}
		for _, k := range page.Items {
			switch {
			case k.NextDue == nil:
			case k.Overdue:
				d.Overdue = append(d.Overdue, k)
			case k.NextDue.Sub(now) <= breachHorizon:
				d.Soon = append(d.Soon, k)
			}
		}
	}
	byDue := func(list []queries.QueueCase) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].NextDue.Before(*list[j].NextDue) })
	}
	byDue(d.Soon)
	byDue(d.Overdue)
	labels := []string{"< 1 day", "1–3 days", "3–7 days", "7–30 days", "> 30 days"}
	vals := make([]float64, 5)
	for _, b := range d.Overview.Backlog {
		for i, n := range []int64{b.Under1Day, b.Days1To3, b.Days3To7, b.Days7To30, b.Over30Days} {
			vals[i] += float64(n)
		}
	}
	if len(d.Overview.Backlog) == 0 {
		vals = nil
	}
	d.Backlog = BarChart("Open cases by age, all queues, now", "cases", labels, vals, "No open cases.")
	ms, from, to := months(now, 6)
	d.Period = fmt.Sprintf("%s to %s", ms[0], ms[len(ms)-1])
	if err := c.get(r, s, "/v1/service/metrics", period(from, to), &d.Metrics); err != nil {
		return err
	}
	rates := make([]*float64, len(ms))
	for _, m := range d.Metrics.Months {
		for i := range ms {
			if ms[i] == m.Month {
				rates[i] = m.BreachRate
			}
		}
	}
	d.BreachRate = LineChart("SLA breach rate of the cases opened each month, "+d.Period, "% of cases under SLA", ms,
		[]Series{{Values: rates}}, f64(0), f64(100), "No case under SLA was opened in these months.")
	c.render(w, r, s, http.StatusOK, "service", "Service", "service", d)
	return nil
}
