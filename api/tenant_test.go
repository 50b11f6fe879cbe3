package api_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/projections/projectiontest"
)

// TestEveryRouteIsolatesTenants walks every operation of the OpenAPI
// document as tenant globex, with the IDs of tenant acme's records (the
// projection fixture: customers, opportunities, orders, cases, complaints,
// nonconformities, feedback, interactions, leads, campaigns), and proves
// that globex reads nothing of acme's (404, or an answer that names none of
// acme's records) and changes nothing of acme's.
func TestEveryRouteIsolatesTenants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s := projectiontest.NewScenario(t, b.store, time.Now().UTC().Add(-40*24*time.Hour))
	projectiontest.Fixture(s) // tenant acme
	rt := withQueries(t, b, 10*time.Second)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := rt.WaitFor(wctx, nil, s.Last()); err != nil {
		t.Fatal(err)
	}

	// acme's records: one ID per category (the first stream of each), and
	// every aggregate ID, which globex must never see.
	all, err := b.store.ReadAll(ctx, eventstore.ReadAllOptions{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // category → an aggregate ID
	versions := map[string]uint64{}
	var secrets []string
	for _, e := range all {
		cat, id, _ := strings.Cut(e.StreamID, "-")
		if _, ok := ids[cat]; !ok {
			ids[cat] = id
		}
		versions[e.StreamID] = e.Version
		secrets = append(secrets, id)
	}
	if len(ids) < 9 {
		t.Fatalf("fixture categories: %v", ids)
	}
	collection := map[string]string{"customers": "customer", "cases": "case", "complaints": "complaint", "opportunities": "opportunity",
		"orders": "order", "leads": "lead", "campaigns": "campaign", "nonconformities": "nonconformity", "feedback": "feedback",
		"interactions": "interaction", "objectives": "objective"}

	// globex's tokens, one per role.
	tokens := apistore.NewTokens(b.db.Pool)
	globex := map[auth.Role]string{}
	for _, r := range auth.Roles {
		tok, _, err := tokens.Create(ctx, "globex-"+string(r), r, "globex", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		globex[r] = tok
	}
	// acme sees its records (so the walk is no tautology).
	acmeCustomer := "/v1/customers/" + ids["customer"]
	if res := b.do(req{method: http.MethodGet, path: acmeCustomer, role: auth.Admin}); res.status != http.StatusOK {
		t.Fatalf("acme reads its customer: %d %s", res.status, res.body)
	}

	var doc openAPIDoc
	b.do(req{method: http.MethodGet, path: "/openapi.json"}).json(t, &doc)
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	operations, notFound := 0, 0
	for _, p := range paths {
		for method, op := range doc.Paths[p] {
			method = strings.ToUpper(method)
			if !strings.HasPrefix(p, "/v1/") || len(op.Roles) == 0 {
				continue
			}
			operations++
			path := p
			if strings.Contains(p, "{id}") {
				// Quality objectives live under /v1/quality/.
				coll, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(p, "/v1/"), "quality/"), "/")
				cat, ok := collection[coll]
				if !ok {
					t.Errorf("%s %s: which records does {id} name?", method, p)
					continue
				}
				path = strings.ReplaceAll(path, "{id}", ids[cat])
			}
			path = strings.NewReplacer("{stream}", "customer-"+ids["customer"], "{queue}", "support").Replace(path)
			var body any
			if method == http.MethodPost {
				body = map[string]any{}
			}
			role := auth.Role(op.Roles[0])
			if slices.Contains(op.Roles, string(auth.Admin)) {
				role = auth.Admin
			}
			res := b.do(req{method: method, path: path, body: body, token: globex[role]})
			name := method + " " + p
			switch {
			case res.status == http.StatusNotFound:
				notFound++
			case method == http.MethodGet && (strings.Contains(p, "{id}") || strings.Contains(p, "{stream}")):
				t.Errorf("%s as globex on acme's record: %d %s, want 404", name, res.status, res.body)
			case res.status >= 200 && res.status < 300 && method == http.MethodPost:
				t.Errorf("%s as globex on acme's record: %d %s", name, res.status, res.body)
			case res.status >= 500:
				t.Errorf("%s as globex: %d %s", name, res.status, res.body)
			}
			for _, secret := range secrets {
				if strings.Contains(string(res.body), secret) {
					t.Errorf("%s as globex names acme's record %s: %s", name, secret, res.body)
					break
				}
			}
			// The timeline with data, the stream: also with acme's IDs in
			// the query string where an operation takes some.
		}
	}
	t.Logf("%d operations walked as tenant globex; %d answered 404", operations, notFound)

	// Timeline data (actor, role) is for the roles that may read streams.
	for role, want := range map[auth.Role]int{auth.Sales: http.StatusForbidden, auth.Analyst: http.StatusForbidden, auth.Auditor: http.StatusOK} {
		if res := b.do(req{method: http.MethodGet, path: acmeCustomer + "/timeline?data=true", role: role}); res.status != want {
			t.Errorf("timeline?data=true as %s: %d %s, want %d", role, res.status, res.body, want)
		}
	}
	if res := b.do(req{method: http.MethodGet, path: acmeCustomer + "/timeline", role: auth.Sales}); res.status != http.StatusOK {
		t.Errorf("timeline as sales: %d %s", res.status, res.body)
	}
	// No client claims to be one of evcrm's own processes.
	for _, app := range []string{"system:sla-watcher", " System:lead-conversion", "evcrm"} {
		res := b.post(auth.Service, "/v1/cases/"+ids["case"]+"/escalate", map[string]any{"reason": "x"}, "Source-App", app)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"location":"header.Source-App"`) {
			t.Errorf("Source-App %q: %d %s, want 422 naming the header", app, res.status, res.body)
		}
	}

	// Nothing of acme's changed.
	after, err := b.store.ReadAll(ctx, eventstore.ReadAllOptions{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range after {
		if v, ok := versions[e.StreamID]; ok && e.Version > v {
			t.Errorf("acme's %s changed: event %s by %s of tenant %q", e.StreamID, e.Type, e.Metadata.Actor, e.Metadata.Tenant)
		}
	}
}
