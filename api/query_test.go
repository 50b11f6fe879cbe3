package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
)

// withQueries adds the read side to a test server: the projection runtime
// over the server's event store, running until the test ends.
func withQueries(t *testing.T, b *bundle, maxWait time.Duration) *projections.Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := projections.New(ctx, projections.Config{Pool: b.db.Pool, Store: b.store, Logger: testLogger(t),
		PollInterval: 20 * time.Millisecond}, readmodels.All()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	if err := rt.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := api.RegisterQueries(b.server, api.QueryOptions{Queries: queries.New(b.db.Pool), Waiter: rt, MaxWait: maxWait}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return rt
}

func (b *bundle) get(role auth.Role, path string, headers ...string) response {
	b.t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return b.do(req{method: http.MethodGet, path: path, role: role, headers: h})
}

func TestQueriesReadYourWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Generous: the store hands out an event only once no older
	// transaction anywhere on the server is running, and other packages'
	// tests hold some open on purpose (late-commit cases).
	withQueries(t, b, 3*time.Second)

	created := b.mustPost(auth.Sales, "/v1/customers", map[string]any{"kind": "person", "display_name": "Ann Example", "segment": "smb"})
	// Without after=, the read model may lag; with it, the query waits.
	for _, r := range []response{
		b.get(auth.Sales, fmt.Sprintf("/v1/customers/%s?after=%s", created.ID, created.Position)),
		b.get(auth.Analyst, fmt.Sprintf("/v1/customers/%s", created.ID), "Read-After", created.Position),
	} {
		if r.status != http.StatusOK {
			t.Fatalf("GET customer: %d %s", r.status, r.body)
		}
		var c queries.Customer360
		r.json(t, &c)
		if c.Profile.DisplayName != "Ann Example" || c.Profile.Segment != "smb" {
			t.Fatalf("customer 360 = %+v", c.Profile)
		}
	}
	tl := b.get(auth.Admin, fmt.Sprintf("/v1/customers/%s/timeline?after=%s&data=true", created.ID, created.Position))
	if tl.status != http.StatusOK || !strings.Contains(string(tl.body), `"type":"CustomerRegistered"`) {
		t.Fatalf("timeline: %d %s", tl.status, tl.body)
	}

	// A position the read models never reach: 504 after the bound.
	r := b.get(auth.Analyst, "/v1/pipeline/summary?after=999999999/999999999")
	if r.status != http.StatusGatewayTimeout || r.problem(t).Code != "read_model_behind" {
		t.Fatalf("far position: %d %s", r.status, r.body)
	}
	r = b.get(auth.Analyst, "/v1/pipeline/summary?after=yesterday")
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad position: %d %s", r.status, r.body)
	}
}

func TestQueriesRolesAndErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withQueries(t, b, time.Second)
	for _, tc := range []struct {
		path   string
		ok     []auth.Role
		denied []auth.Role
	}{
		{"/v1/pipeline/summary", []auth.Role{auth.Admin, auth.Analyst, auth.Auditor, auth.Sales}, []auth.Role{auth.Service, auth.Quality, auth.Marketing}},
		{"/v1/pipeline/opportunities?status=won", []auth.Role{auth.Sales}, []auth.Role{auth.Service}},
		{"/v1/pipeline/metrics?from=2026-01-01&to=2026-02-01", []auth.Role{auth.Analyst}, []auth.Role{auth.Quality}},
		{"/v1/service/queues", []auth.Role{auth.Service, auth.Auditor}, []auth.Role{auth.Sales}},
		{"/v1/service/queues/support/cases?priority=P1", []auth.Role{auth.Service}, []auth.Role{auth.Marketing}},
		{"/v1/service/metrics", []auth.Role{auth.Service}, []auth.Role{auth.Sales}},
		{"/v1/quality/report?from=2026-01-01", []auth.Role{auth.Quality, auth.Auditor}, []auth.Role{auth.Sales, auth.Service}},
		{"/v1/quality/complaints", []auth.Role{auth.Quality}, []auth.Role{auth.Marketing}},
		{"/v1/analytics/daily-events", []auth.Role{auth.Marketing, auth.Analyst}, []auth.Role{auth.Service}},
		{"/v1/analytics/funnel", []auth.Role{auth.Marketing}, []auth.Role{auth.Quality}},
	} {
		for _, role := range tc.ok {
			if r := b.get(role, tc.path); r.status != http.StatusOK {
				t.Errorf("%s as %s: %d %s", tc.path, role, r.status, r.body)
			}
		}
		for _, role := range tc.denied {
			if r := b.get(role, tc.path); r.status != http.StatusForbidden {
				t.Errorf("%s as %s: %d, want 403", tc.path, role, r.status)
			}
		}
		if r := b.get("", tc.path); r.status != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", tc.path, r.status)
		}
	}
	for path, want := range map[string]int{
		"/v1/customers/6f1c5a8e-0000-4000-8000-000000000000":          http.StatusNotFound,
		"/v1/customers/6f1c5a8e-0000-4000-8000-000000000000/timeline": http.StatusNotFound,
		"/v1/pipeline/opportunities?cursor=garbage":                   http.StatusUnprocessableEntity,
		"/v1/quality/report?from=2026-02-01&to=2026-01-01":            http.StatusUnprocessableEntity,
		"/v1/quality/report?from=last+week":                           http.StatusUnprocessableEntity,
		"/v1/service/queues/support/cases?limit=100000":               http.StatusUnprocessableEntity,
	} {
		if r := b.get(auth.Admin, path); r.status != want {
			t.Errorf("%s: %d, want %d (%s)", path, r.status, want, r.body)
		}
	}

	// The operations are in the OpenAPI document with their roles.
	r := b.get("", "/openapi.json")
	if r.status != http.StatusOK {
		t.Fatalf("openapi: %d", r.status)
	}
	for _, op := range []string{"getPipelineSummary", "listOpportunities", "getPipelineMetrics", "getQueues", "listQueueCases",
		"getServiceMetrics", "getQualityReport", "listComplaints", "getCustomer", "getCustomerTimeline", "getDailyEvents", "getCampaignFunnel"} {
		if !strings.Contains(string(r.body), `"operationId":"`+op+`"`) {
			t.Errorf("OpenAPI lacks %s", op)
		}
	}
}
