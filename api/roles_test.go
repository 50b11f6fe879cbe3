package api_test

import (
	"context"

	"github.com/evcrm/evcrm/domain/access"
	"github.com/evcrm/evcrm/internal/apistore"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

type openAPIDoc struct {
	Paths map[string]map[string]struct {
		OperationID string              `json:"operationId"`
		Roles       []string            `json:"x-evcrm-roles"`
		Security    []map[string][]any  `json:"security"`
		Responses   map[string]struct{} `json:"responses"`
	} `json:"paths"`
}

// TestEveryRouteEnforcesRoles walks every operation of the OpenAPI document:
// each declares its roles, refuses a request without token or with a bad
// token (401), refuses every other role (403), and lets its roles through.
func TestEveryRouteEnforcesRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withQueries(t, b, time.Second)
	var doc openAPIDoc
	res := b.do(req{method: http.MethodGet, path: "/openapi.json"})
	if res.status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", res.status)
	}
	res.json(t, &doc)
	if len(doc.Paths) < 80 {
		t.Fatalf("only %d paths in the OpenAPI document", len(doc.Paths))
	}
	badToken, _ := auth.NewToken()
	// A customer access token (of some customer of the tenant): refused by
	// every operation that does not list the customer role.
	customerToken, _, err := apistore.NewTokens(b.db.Pool).CreateCustomerToken(context.Background(), "acme", uuid.New(), "test", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	operations := 0
	for _, p := range paths {
		for method, op := range doc.Paths[p] {
			operations++
			method = strings.ToUpper(method)
			path := strings.NewReplacer("{id}", uuid.NewString(), "{stream}", "customer-"+uuid.NewString(), "{queue}", "support", "{token_id}", uuid.NewString()).Replace(p)
			if strings.Contains(path, "{") {
				t.Errorf("%s %s: no value for a path parameter", method, p)
				continue
			}
			var body any
			if method == http.MethodPost {
				body = map[string]any{}
			}
			name := method + " " + p
			if len(op.Roles) == 0 {
				t.Errorf("%s declares no roles", name)
				continue
			}
			if len(op.Security) == 0 || op.Security[0][api.SecurityScheme] == nil {
				t.Errorf("%s declares no bearer security", name)
			}
			for _, code := range []string{"401", "403"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s does not document %s", name, code)
				}
			}

			res := b.do(req{method: method, path: path, body: body})
			if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s without token: %d (WWW-Authenticate %q), want 401", name, res.status, res.header.Get("WWW-Authenticate"))
			} else {
				res.problem(t)
			}
			if res := b.do(req{method: method, path: path, body: body, token: badToken}); res.status != http.StatusUnauthorized {
				t.Errorf("%s with an unknown token: %d, want 401", name, res.status)
			}
			if res := b.do(req{method: method, path: path, body: body, token: "Basic xyz"}); res.status != http.StatusUnauthorized {
				t.Errorf("%s with a malformed token: %d, want 401", name, res.status)
			}
			res = b.do(req{method: method, path: path, body: body, token: customerToken})
			switch {
			case !slices.Contains(op.Roles, string(auth.Customer)) && res.status != http.StatusForbidden:
				t.Errorf("%s as a customer: %d, want 403", name, res.status)
			case slices.Contains(op.Roles, string(auth.Customer)) && res.status != http.StatusOK:
				t.Errorf("%s as a customer (allowed): %d %s", name, res.status, res.body)
			}
			for _, role := range auth.Roles {
				res := b.do(req{method: method, path: path, body: body, role: role})
				allowed := slices.Contains(op.Roles, string(role))
				switch {
				case !allowed && res.status != http.StatusForbidden:
					t.Errorf("%s as %s: %d, want 403", name, role, res.status)
				case !allowed:
					if p := res.problem(t); p.Code != "forbidden" {
						t.Errorf("%s as %s: code %q", name, role, p.Code)
					}
				case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status >= 500:
					t.Errorf("%s as %s (allowed): %d %s", name, role, res.status, res.body)
				}
			}
		}
	}
	t.Logf("%d operations checked, each with %d roles", operations, len(auth.Roles))

	// Auditors and analysts never write.
	for _, p := range paths {
		for method, op := range doc.Paths[p] {
			if strings.EqualFold(method, http.MethodGet) {
				continue
			}
			if slices.Contains(op.Roles, string(auth.Auditor)) || slices.Contains(op.Roles, string(auth.Analyst)) {
				t.Errorf("%s %s admits a read-only role: %v", method, p, op.Roles)
			}
		}
	}
}

// TestEveryCommandHasAnEndpoint: each command the dispatcher handles is
// reachable over HTTP.
func TestEveryCommandHasAnEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Command string `json:"x-evcrm-command"`
		} `json:"paths"`
	}
	b.do(req{method: http.MethodGet, path: "/openapi.json"}).json(t, &doc)
	exposed := map[string]bool{}
	for _, ops := range doc.Paths {
		for _, op := range ops {
			if op.Command != "" {
				exposed[op.Command] = true
			}
		}
	}
	for _, typ := range b.dispatcher.CommandTypes() {
		if typ == (access.RecordRead{}).CommandType() {
			continue // the read log is written by the server itself (Server.RecordRead), never by a client
		}
		if !exposed[typ] {
			t.Errorf("command %s has no endpoint", typ)
		}
	}
	if len(exposed) < 70 {
		t.Errorf("only %d commands exposed", len(exposed))
	}
}
