package queries_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/projectiontest"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

// now is the clock of the golden files: the day after the fixture ends.
var now = time.Date(2026, 2, 4, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *queries.Queries {
	t.Helper()
	q, _ := setupFixture(t, true)
	return q
}

// setupFixture projects the fixture, as tenant projectiontest.Tenant (or,
// without acme, as tenant "initech") and returns the queries over it.
func setupFixture(t *testing.T, acme bool) (*queries.Queries, *pgtest.DB) {
	t.Helper()
	tenant := ""
	if !acme {
		tenant = "initech"
	}
	return setupScenario(t, tenant, projectiontest.Fixture)
}

// setupWith runs scenario from projectiontest.FixtureStart and returns
// queries over its read models, at now.
func setupWith(t *testing.T, scenario func(*projectiontest.Scenario)) *queries.Queries {
	t.Helper()
	q, _ := setupScenario(t, "", scenario)
	return q
}

// setupScenario runs scenario as tenant (empty: projectiontest.Tenant) and
// returns queries over its read models, at now, and the database.
func setupScenario(t *testing.T, tenant string, scenario func(*projectiontest.Scenario)) (*queries.Queries, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	store := memory.New(memory.WithClock(func() time.Time { return projectiontest.FixtureStart }))
	t.Cleanup(store.Close)
	s := projectiontest.NewScenario(t, store, projectiontest.FixtureStart)
	if tenant != "" {
		s.Tenant = tenant
	}
	scenario(s)
	rt, err := projections.New(context.Background(), projections.Config{Pool: db.Pool, Store: store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: 20 * time.Millisecond}, readmodels.All()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	err = rt.WaitFor(wctx, nil, s.Last())
	wcancel()
	cancel()
	if rerr := <-done; rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	q := queries.New(db.Pool)
	q.Now = func() time.Time { return now }
	return q, db
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	projectiontest.Golden(t, name, append(b, '\n'))
}

var january = queries.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}

func TestGolden(t *testing.T) {
	t.Parallel()
	q := setup(t)
	ctx := tenant.WithContext(context.Background(), projectiontest.Tenant)
	acme := projectiontest.ID("acme")
	for _, tc := range []struct {
		name string
		run  func() (any, error)
	}{
		{"pipeline_summary", func() (any, error) { return q.PipelineSummary(ctx, queries.PipelineFilter{}) }},
		{"pipeline_opportunities_open", func() (any, error) { return q.Opportunities(ctx, queries.OpportunityFilter{}) }},
		{"pipeline_opportunities_won", func() (any, error) { return q.Opportunities(ctx, queries.OpportunityFilter{Status: "won"}) }},
		{"pipeline_metrics", func() (any, error) { return q.PipelineMetrics(ctx, queries.PipelineFilter{}, january) }},
		{"service_queues", func() (any, error) { return q.Queues(ctx) }},
		{"service_queue_support", func() (any, error) { return q.QueueCases(ctx, queries.QueueFilter{Queue: "support"}) }},
		{"service_metrics", func() (any, error) { return q.ServiceMetrics(ctx, "", january) }},
		{"quality_report", func() (any, error) { return q.QualityReport(ctx, january) }},
		{"quality_complaints", func() (any, error) { return q.Complaints(ctx, queries.ComplaintFilter{Period: january}) }},
		{"customer_360", func() (any, error) { return q.Customer360(ctx, acme) }},
		{"customer_timeline", func() (any, error) { return q.Timeline(ctx, acme, queries.TimelineFilter{Limit: 500}) }},
		{"analytics_daily", func() (any, error) { return q.DailyEvents(ctx, january, nil) }},
		{"analytics_funnel", func() (any, error) { return q.Funnel(ctx, uuid.Nil) }},
		{"quality_objectives", func() (any, error) {
			return q.ObjectivesReview(ctx, queries.Period{From: january.From, To: january.From.AddDate(0, 2, 0)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.run()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, v)
		})
	}
}

func TestKeysetPagination(t *testing.T) {
	t.Parallel()
	q := setup(t)
	ctx := tenant.WithContext(context.Background(), projectiontest.Tenant)
	acme := projectiontest.ID("acme")

	all, err := q.Timeline(ctx, acme, queries.TimelineFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var paged []queries.TimelineEntry
	cursor := ""
	for range 100 {
		p, err := q.Timeline(ctx, acme, queries.TimelineFilter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p.Items...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(paged) != len(all.Items) || len(paged) < 10 {
		t.Fatalf("paged %d entries, want %d", len(paged), len(all.Items))
	}
	for i := range paged {
		if paged[i].EventID != all.Items[i].EventID {
			t.Fatalf("entry %d differs", i)
		}
	}

	for _, status := range []string{"open", "won", "lost"} {
		all, err := q.Opportunities(ctx, queries.OpportunityFilter{Status: status})
		if err != nil {
			t.Fatal(err)
		}
		var ids []uuid.UUID
		cursor := ""
		for {
			p, err := q.Opportunities(ctx, queries.OpportunityFilter{Status: status, Limit: 1, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Items {
				ids = append(ids, o.ID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if len(ids) != len(all.Items) {
			t.Fatalf("%s: paged %d, want %d", status, len(ids), len(all.Items))
		}
	}

	cases, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support"})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Limit: 1, Cursor: p1.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases.Items) != 2 || p1.Items[0].CaseID != cases.Items[0].CaseID || p2.Items[0].CaseID != cases.Items[1].CaseID || p2.Next != "" {
		t.Fatalf("queue pages: %+v / %+v / %+v", cases, p1, p2)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	q := setup(t)
	ctx := tenant.WithContext(context.Background(), projectiontest.Tenant)
	for name, err := range map[string]error{
		"cursor":       second(q.Timeline(ctx, projectiontest.ID("acme"), queries.TimelineFilter{Cursor: "!!not base64"})),
		"cursor shape": second(q.Opportunities(ctx, queries.OpportunityFilter{Cursor: "WyJ4Il0"})),
		"limit":        second(q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Limit: 100000})),
		"no queue":     second(q.QueueCases(ctx, queries.QueueFilter{})),
		"status":       second(q.Opportunities(ctx, queries.OpportunityFilter{Status: "maybe"})),
		"period":       second(q.QualityReport(ctx, queries.Period{From: now, To: now.Add(-time.Hour)})),
		"empty period": second(q.ServiceMetrics(ctx, "", queries.Period{})),
		"huge period":  second(q.DailyEvents(ctx, queries.Period{From: now, To: now.AddDate(10, 0, 0)}, nil)),
		"queue cursor": second(q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Cursor: "WyJub3QgYSB0aW1lIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0"})),
	} {
		if !errors.Is(err, domain.ErrValidation) {
			t.Errorf("%s: err = %v, want a validation error", name, err)
		}
	}
	if _, err := q.Customer360(ctx, uuid.New()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}
	if _, err := q.Timeline(ctx, uuid.New(), queries.TimelineFilter{}); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown customer timeline: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
