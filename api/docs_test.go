package api_test

import (
	"fmt"
	"github.com/evcrm/evcrm/projections/projectiontest"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// update is projectiontest.Update (one -update flag per test binary): it
// rewrites docs/api-endpoints.md from the OpenAPI document.
var update = projectiontest.Update

// TestEndpointsDocUpToDate keeps docs/api-endpoints.md equal to the
// operations the server registers.
func TestEndpointsDocUpToDate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withQueries(t, b, time.Second)
	withAudit(t, b, nil, "")
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Summary     string   `json:"summary"`
			Tags        []string `json:"tags"`
			Command     string   `json:"x-evcrm-command"`
			Roles       []string `json:"x-evcrm-roles"`
		} `json:"paths"`
	}
	b.do(req{method: http.MethodGet, path: "/openapi.json"}).json(t, &doc)

	type row struct{ tag, method, path, command, roles, summary string }
	var rows []row
	for p, ops := range doc.Paths {
		for m, op := range ops {
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			cmd := op.Command
			if cmd == "" {
				cmd = "—"
			}
			rows = append(rows, row{tag, strings.ToUpper(m), p, cmd, strings.Join(op.Roles, ", "), op.Summary})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].tag != rows[j].tag {
			return rows[i].tag < rows[j].tag
		}
		if rows[i].path != rows[j].path {
			return rows[i].path < rows[j].path
		}
		return rows[i].method < rows[j].method // GET and POST of one path
	})
	var sb strings.Builder
	sb.WriteString("# HTTP API endpoints\n\n")
	sb.WriteString("<!-- Generated from the OpenAPI document by `go test ./api -run TestEndpointsDocUpToDate -update`. Do not edit. -->\n\n")
	fmt.Fprintf(&sb, "%d operations. See [api.md](api.md) for authentication, idempotency, concurrency and errors; the full\n", len(rows))
	sb.WriteString("schemas are in the OpenAPI document the server publishes at `/openapi.json` (readable at `/docs`).\n")
	tag := ""
	for _, r := range rows {
		if r.tag != tag {
			tag = r.tag
			fmt.Fprintf(&sb, "\n## %s\n\n| method | path | command | roles | summary |\n|---|---|---|---|---|\n", tag)
		}
		fmt.Fprintf(&sb, "| %s | `%s` | %s | %s | %s |\n", r.method, r.path, r.command, r.roles, r.summary)
	}
	const file = "../docs/api-endpoints.md"
	if *update {
		if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != sb.String() {
		t.Fatalf("docs/api-endpoints.md is out of date: go test ./api -run TestEndpointsDocUpToDate -update")
	}
}
