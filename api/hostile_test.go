package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestHostileInputIsRefused replays the inputs that answered 500 or were
// stored altered: each gets a 4xx problem naming the field or parameter.
func TestHostileInputIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := api.RegisterQueries(b.server, api.QueryOptions{Queries: queries.New(b.db.Pool)}); err != nil {
		t.Fatal(err)
	}
	opp := uuid.New()
	cases := []struct {
		name     string
		method   string
		path     string
		body     string
		headers  []string
		status   int
		location string
	}{
		{"NULInRequirementRef", http.MethodPost, "/v1/opportunities/" + opp.String() + "/requirements",
			`{"items":[{"ref":"R\u00001","description":"x","kind":"customer"}]}`, nil, 422, "body.items[0].ref"},
		{"NULInReviewer", http.MethodPost, "/v1/opportunities/" + opp.String() + "/requirements/review",
			`{"revision":1,"reviewer":"a\u0000","result":"approved"}`, nil, 422, "body.reviewer"},
		{"NULInOpenPoints", http.MethodPost, "/v1/opportunities/" + opp.String() + "/requirements/review",
			`{"revision":1,"reviewer":"a","result":"approved","open_points":["ok","\u0000"]}`, nil, 422, "body.open_points[1]"},
		{"InvalidUTF8", http.MethodPost, "/v1/customers", "{\"kind\":\"person\",\"display_name\":\"Ann \xff\"}", nil, 422, "body.display_name"},
		{"LoneSurrogate", http.MethodPost, "/v1/customers", `{"kind":"person","display_name":"Ann \ud800"}`, nil, 422, "body.display_name"},
		{"Year0OccurredAt", http.MethodPost, "/v1/customers", `{"kind":"person","display_name":"Ann"}`,
			[]string{"Occurred-At", "0000-01-01T00:00:00Z"}, 422, "header.Occurred-At"},
		{"Year0ByOffset", http.MethodPost, "/v1/customers", `{"kind":"person","display_name":"Ann"}`,
			[]string{"Occurred-At", "0001-01-01T00:30:00+01:00"}, 422, "header.Occurred-At"},
		{"MaxInt64Amount", http.MethodPost, "/v1/opportunities",
			`{"customer_id":"` + uuid.NewString() + `","name":"x","amount":{"amount_minor":9223372036854775807,"currency":"EUR"}}`, nil, 422, "body.amount.amount_minor"},
		{"QueueFF", http.MethodGet, "/v1/service/queues/%FF/cases", "", nil, 422, "path.queue"},
		{"QueueNUL", http.MethodGet, "/v1/service/queues/a%00/cases", "", nil, 422, "path.queue"},
		{"QueueParamFF", http.MethodGet, "/v1/service/metrics?queue=%FF", "", nil, 422, "query.queue"},
		{"OwnerNUL", http.MethodGet, "/v1/pipeline/summary?owner=%00", "", nil, 422, "query.owner"},
		{"PipelineFF", http.MethodGet, "/v1/pipeline/summary?pipeline=%FF", "", nil, 422, "query.pipeline"},
		{"StageFF", http.MethodGet, "/v1/pipeline/opportunities?stage=%FF", "", nil, 422, "query.stage"},
		{"CurrencyNUL", http.MethodGet, "/v1/pipeline/opportunities?currency=%00", "", nil, 422, "query.currency"},
		{"TimelineTypeFF", http.MethodGet, "/v1/customers/" + uuid.NewString() + "/timeline?type=%FF", "", nil, 422, "query.type"},
		{"TimelineCategoryNUL", http.MethodGet, "/v1/customers/" + uuid.NewString() + "/timeline?category=%00", "", nil, 422, "query.category"},
		{"DailyTypeFF", http.MethodGet, "/v1/analytics/daily-events?type=%FF", "", nil, 422, "query.type"},
		{"Year0From", http.MethodGet, "/v1/analytics/daily-events?from=0000-01-01", "", nil, 422, "query.from"},
		{"Year0ToByOffset", http.MethodGet, "/v1/service/metrics?to=0001-01-01T00:30:00%2B01:00", "", nil, 422, "query.to"},
		{"Year0Cursor", http.MethodGet, "/v1/service/queues/support/cases?cursor=WyIwMDAwLTAxLTAxVDAwOjAwOjAwWiIsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd", "", nil, 422, "query.cursor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{}
			for i := 0; i+1 < len(c.headers); i += 2 {
				h[c.headers[i]] = c.headers[i+1]
			}
			var body any
			if c.body != "" {
				body = c.body
			}
			res := b.do(req{method: c.method, path: c.path, role: auth.Admin, body: body, headers: h})
			p := expect(t, res, c.status)
			found := false
			for _, e := range p.Errors {
				found = found || e.Location == c.location
			}
			if !found {
				t.Fatalf("problem does not name %s: %s", c.location, res.body)
			}
		})
	}
}

// TestDatabaseOutageIs503: errors of an unreachable database are 503 with
// Retry-After, not 500.
func TestDatabaseOutageIs503(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("reading stream: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
		fmt.Errorf("appending: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}),
		fmt.Errorf("query: %w", io.ErrUnexpectedEOF),
	} {
		p := api.ToProblem(context.Background(), err)
		if p.Status != http.StatusServiceUnavailable || p.GetHeaders().Get("Retry-After") == "" {
			t.Errorf("%v: status %d, headers %v", err, p.Status, p.GetHeaders())
		}
	}
	if p := api.ToProblem(context.Background(), errors.New("boom")); p.Status != http.StatusInternalServerError {
		t.Errorf("a plain error: %d", p.Status)
	}
}
