package queries_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/projectiontest"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestTenantIsolation: through every query, tenant globex sees the same
// of acme's records as of initech's (nothing); and row-level security hides the
// rows even from a statement with no tenant filter at all.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	full, db := setupFixture(t, true)
	other, _ := setupFixture(t, false) // the same records, of tenant initech
	acme := projectiontest.ID("acme")
	globex := tenant.WithContext(context.Background(), "globex")
	for name, run := range everyQuery(acme) {
		got, gotErr := run(full, globex)
		want, wantErr := run(other, globex)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Errorf("%s as another tenant: %s, %v; want the same as over another tenant's data: %s, %v", name, g, gotErr, w, wantErr)
		}
		// And acme does see its records (so the comparison above is no
		// tautology: the two fixtures hold the same records).
		mine, _ := run(full, tenant.WithContext(context.Background(), projectiontest.Tenant))
		if m, _ := json.Marshal(mine); string(m) == string(g) {
			t.Errorf("%s: acme sees what globex sees: %s", name, m)
		}
		if _, err := run(full, context.Background()); !errors.Is(err, queries.ErrNoTenant) {
			t.Errorf("%s without a tenant: %v, want ErrNoTenant", name, err)
		}
	}

	// A statement that forgets its tenant filter still sees only its
	// tenant's rows; the owner of the tables (evcrm) included.
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT table_name::text FROM information_schema.views WHERE table_schema = current_schema() AND table_name LIKE 'rm\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 20 {
		t.Fatalf("read-model views: %v, %v", tables, err)
	}
	count := func(tn, table string) int {
		t.Helper()
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // read only
		if tn != "" {
			if err := projections.SetTenant(ctx, tx, tn); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	seen := 0
	for _, table := range tables {
		if n := count("globex", table); n != 0 {
			t.Errorf("%s: tenant globex sees %d rows of acme", table, n)
		}
		if n := count("", table); n != 0 {
			t.Errorf("%s: a session with no tenant sees %d rows", table, n)
		}
		seen += count(projectiontest.Tenant, table)
	}
	if seen == 0 {
		t.Fatal("acme sees no rows: the test proves nothing")
	}
}

type query = func(q *queries.Queries, ctx context.Context) (any, error)

// everyQuery returns every query, with arguments that find the fixture's
// records (acme is its customer).
func everyQuery(acme uuid.UUID) map[string]query {
	return map[string]query{
		"pipeline_summary": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.PipelineSummary(ctx, queries.PipelineFilter{})
		},
		"opportunities": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.Opportunities(ctx, queries.OpportunityFilter{})
		},
		"opportunities_won": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.Opportunities(ctx, queries.OpportunityFilter{Status: "won"})
		},
		"pipeline_metrics": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.PipelineMetrics(ctx, queries.PipelineFilter{}, january)
		},
		"service_queues": func(q *queries.Queries, ctx context.Context) (any, error) { return q.Queues(ctx) },
		"queue_cases": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.QueueCases(ctx, queries.QueueFilter{Queue: "support"})
		},
		"service_metrics": func(q *queries.Queries, ctx context.Context) (any, error) { return q.ServiceMetrics(ctx, "", january) },
		"quality_report":  func(q *queries.Queries, ctx context.Context) (any, error) { return q.QualityReport(ctx, january) },
		"complaints": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.Complaints(ctx, queries.ComplaintFilter{Period: january})
		},
		"customer_360": func(q *queries.Queries, ctx context.Context) (any, error) { return q.Customer360(ctx, acme) },
		"customer_timeline": func(q *queries.Queries, ctx context.Context) (any, error) {
			return q.Timeline(ctx, acme, queries.TimelineFilter{Limit: 500})
		},
		"analytics_daily":  func(q *queries.Queries, ctx context.Context) (any, error) { return q.DailyEvents(ctx, january, nil) },
		"analytics_funnel": func(q *queries.Queries, ctx context.Context) (any, error) { return q.Funnel(ctx, uuid.Nil) },
	}
}

// TestTenantIsolationWithoutRowLevelSecurity: every query is isolated by
// its own SQL (explicit tenant filters, joins included), not only by
// row-level security: with the policies' tables set to NO FORCE and
// DISABLE ROW LEVEL SECURITY (the owner then sees every row), tenant globex
// still sees nothing of acme's records, and acme sees the same as with
// row-level security on.
func TestTenantIsolationWithoutRowLevelSecurity(t *testing.T) {
	t.Parallel()
	full, db := setupFixture(t, true)
	other, _ := setupFixture(t, false)
	acme := projectiontest.ID("acme")
	globex := tenant.WithContext(context.Background(), "globex")
	mine := tenant.WithContext(context.Background(), projectiontest.Tenant)
	withRLS := map[string]string{}
	for name, run := range everyQuery(acme) {
		got, err := run(full, mine)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := json.Marshal(got)
		withRLS[name] = string(b)
	}
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
		WHERE starts_with(schemaname, $1) AND rowsecurity`, db.Schema+"__")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 20 {
		t.Fatalf("read-model tables under row-level security: %v, %v", tables, err)
	}
	for _, tb := range tables {
		if _, err := db.Pool.Exec(ctx, "ALTER TABLE "+tb+" NO FORCE ROW LEVEL SECURITY; ALTER TABLE "+tb+" DISABLE ROW LEVEL SECURITY"); err != nil {
			t.Fatal(err)
		}
	}
	// The walls are down: a statement without a filter sees acme's rows.
	var n int
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if err := projections.SetTenant(ctx, tx, "globex"); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM rm_customer_profiles").Scan(&n); err != nil || n == 0 {
		t.Fatalf("with row-level security disabled, an unfiltered count sees %d rows (%v): the test proves nothing", n, err)
	}
	for name, run := range everyQuery(acme) {
		got, gotErr := run(full, globex)
		want, wantErr := run(other, globex)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s as another tenant without row-level security: %s, %v; want %s, %v", name, g, gotErr, w, wantErr)
		}
		m, err := run(full, mine)
		if b, _ := json.Marshal(m); err != nil || string(b) != withRLS[name] {
			t.Errorf("%s as acme without row-level security: %s, %v; want as with it: %s", name, b, err, withRLS[name])
		}
	}
}
