package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/demo"
	"github.com/evcrm/evcrm/queries"
)

// TestObjectivesFromDemoData: the demo's objectives show actual against
// target per period, computed from the read models; quality managers set,
// revise and retire objectives, auditors read them, others may not set them.
func TestObjectivesFromDemoData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	withQueries(t, b, 30*time.Second)
	steps, err := demo.Plan(demo.Config{Customers: 30, Seed: 5, End: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := demo.Load(ctx, steps, demo.Direct{Dispatcher: b.dispatcher, Tenant: "acme"}, nil)
	if err != nil || len(rep.Refused) != 0 {
		t.Fatalf("demo: %v %v %v", err, rep.Refused, rep.Examples)
	}
	head, err := b.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	review := func(role auth.Role, query string) (response, queries.ObjectivesReview) {
		t.Helper()
		res := b.get(role, "/v1/quality/objectives?after="+head.String()+query)
		var out queries.ObjectivesReview
		if res.status == http.StatusOK {
			res.json(t, &out)
		}
		return res, out
	}
	res, out := review(auth.Auditor, "")
	if res.status != http.StatusOK || len(out.Objectives) != 6 {
		t.Fatalf("%d: %d objectives: %s", res.status, len(out.Objectives), res.body)
	}
	withData := 0
	for _, o := range out.Objectives {
		if len(o.Periods) == 0 {
			t.Errorf("%s: no periods", o.Name)
		}
		for _, p := range o.Periods {
			if p.Actual != nil {
				withData++
				if p.Basis == 0 || p.Status == queries.PeriodNoData {
					t.Errorf("%s %s: actual %v over basis %d, status %s", o.Name, p.Period, *p.Actual, p.Basis, p.Status)
				}
			}
		}
		switch o.Metric {
		case "nps":
			if len(o.Targets) != 2 || o.Targets[1].Value != 35 || o.Periods[0].Target != 30 || o.Periods[len(o.Periods)-1].Target != 35 {
				t.Errorf("NPS targets %+v, periods %+v", o.Targets, o.Periods)
			}
		case "complaints_acknowledged_on_time_percent":
			if o.Granularity != "quarter" || o.Periods[0].Comparator != "at_least" || o.Periods[0].Target != 95 {
				t.Errorf("complaints objective %+v", o)
			}
		}
	}
	if withData < 6 {
		t.Errorf("only %d periods with an actual: %s", withData, res.body)
	}
	t.Logf("%d objectives, %d off track, %d periods with data", len(out.Objectives), out.OffTrack, withData)

	// Set, revise, retire.
	set := b.post(auth.Quality, "/v1/quality/objectives", map[string]any{"name": "Complaints closed satisfied",
		"metric": "complaints_satisfied_percent", "granularity": "quarter", "comparator": "at_least", "target": 80})
	if set.status != http.StatusCreated {
		t.Fatalf("set: %d %s", set.status, set.body)
	}
	var created struct {
		ID       string `json:"id"`
		Position string `json:"position"`
	}
	set.json(t, &created)
	if res := b.post(auth.Sales, "/v1/quality/objectives", map[string]any{"name": "x", "metric": "nps", "granularity": "month",
		"comparator": "at_least", "target": 1}); res.status != http.StatusForbidden {
		t.Fatalf("sales set an objective: %d", res.status)
	}
	if res := b.post(auth.Quality, "/v1/quality/objectives", map[string]any{"name": "x", "metric": "nps", "granularity": "month",
		"comparator": "at_least", "target": 500}); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("NPS target 500: %d %s", res.status, res.body)
	}
	b.mustPost(auth.Admin, "/v1/quality/objectives/"+created.ID+"/target", map[string]any{"comparator": "at_least", "target": 85, "reason": "raised"})
	last := b.mustPost(auth.Quality, "/v1/quality/objectives/"+created.ID+"/retire", map[string]any{"reason": "merged into another objective"})
	res = b.get(auth.Quality, "/v1/quality/objectives?after="+last.Position)
	out = queries.ObjectivesReview{}
	res.json(t, &out)
	found := false
	for _, o := range out.Objectives {
		if o.ID.String() == created.ID {
			found = true
			if o.RetiredAt == nil || len(o.Targets) != 1 || o.Targets[0].Value != 85 {
				t.Errorf("objective after revision and retirement: %+v", o)
			}
		}
	}
	if !found {
		t.Errorf("the new objective is not in the review: %s", res.body)
	}
	if res, _ := review(auth.Sales, ""); res.status != http.StatusForbidden {
		t.Errorf("sales read the objectives: %d", res.status)
	}
	if res, _ := review(auth.Auditor, "&from=2026-05-01&to=2026-01-01"); res.status != http.StatusUnprocessableEntity {
		t.Errorf("to before from: %d", res.status)
	}
}
