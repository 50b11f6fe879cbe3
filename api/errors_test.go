package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

func registerCustomerBody(id uuid.UUID) map[string]any {
	body := map[string]any{"kind": "organisation", "display_name": "Acme Tools Ltd", "emails": []string{"buyer@acme.example"}}
	if id != uuid.Nil {
		body["customer_id"] = id
	}
	return body
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cust := b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil))
	if cust.Version != 1 || !strings.HasPrefix(cust.Stream, "customer-") {
		t.Fatalf("registered: %+v", cust)
	}

	t.Run("400MalformedJSON", func(t *testing.T) {
		res := b.post(auth.Sales, "/v1/customers", `{"kind": "organisation", "display_name": `)
		p := expect(t, res, http.StatusBadRequest)
		if strings.Contains(string(res.body), "display_name\": ") {
			t.Errorf("the body is echoed back: %s", res.body)
		}
		_ = p
	})

	t.Run("400IfMatchMalformed", func(t *testing.T) {
		res := b.post(auth.Sales, "/v1/customers/"+cust.ID.String()+"/segment", map[string]any{"segment": "smb"}, "If-Match", "yesterday")
		if p := expect(t, res, http.StatusBadRequest); p.Code != "invalid_if_match" {
			t.Errorf("code %q", p.Code)
		}
	})

	t.Run("404UnknownRoute", func(t *testing.T) {
		res := b.do(req{method: http.MethodGet, path: "/v1/nothing-here", role: auth.Admin})
		if p := expect(t, res, http.StatusNotFound); p.Code != "no_route" {
			t.Errorf("code %q", p.Code)
		}
		if res.header.Get(api.CorrelationHeader) == "" {
			t.Error("no correlation ID on a 404")
		}
	})

	t.Run("404UnknownAggregate", func(t *testing.T) {
		res := b.post(auth.Service, "/v1/cases/"+uuid.NewString()+"/close", map[string]any{})
		if p := expect(t, res, http.StatusNotFound); p.Code != "case_not_found" {
			t.Errorf("code %q", p.Code)
		}
		res = b.do(req{method: http.MethodGet, path: "/v1/streams/case-" + uuid.NewString(), role: auth.Auditor})
		expect(t, res, http.StatusNotFound)
	})

	t.Run("405", func(t *testing.T) {
		res := b.do(req{method: http.MethodDelete, path: "/v1/customers", role: auth.Admin})
		expect(t, res, http.StatusMethodNotAllowed)
	})

	t.Run("409StateConflict", func(t *testing.T) {
		res := b.post(auth.Sales, "/v1/customers", registerCustomerBody(cust.ID))
		p := expect(t, res, http.StatusConflict)
		if p.Code != "customer_already_exists" {
			t.Errorf("code %q", p.Code)
		}
	})

	t.Run("412IfMatch", func(t *testing.T) {
		path := "/v1/customers/" + cust.ID.String() + "/segment"
		res := b.post(auth.Sales, path, map[string]any{"segment": "smb"}, "If-Match", `"7"`)
		p := expect(t, res, http.StatusPreconditionFailed)
		if p.CurrentVersion == nil || *p.CurrentVersion != 1 || p.Code != "precondition_failed" {
			t.Errorf("problem %+v, want current version 1", p)
		}
		ok := b.mustPost(auth.Sales, path, map[string]any{"segment": "smb"}, "If-Match", `"1"`)
		if ok.Version != 2 {
			t.Errorf("version %d", ok.Version)
		}
		res = b.post(auth.Sales, path, map[string]any{"segment": "enterprise"}, "If-Match", `"1"`)
		if p := expect(t, res, http.StatusPreconditionFailed); *p.CurrentVersion != 2 {
			t.Errorf("current version %d, want 2", *p.CurrentVersion)
		}
		// * means "exists": on a record that does not, 404 like without it.
		res = b.post(auth.Sales, "/v1/customers/"+uuid.NewString()+"/segment", map[string]any{"segment": "smb"}, "If-Match", "*")
		if p := expect(t, res, http.StatusNotFound); p.Code != "customer_not_found" {
			t.Errorf("If-Match * on a missing customer: code %q, want customer_not_found", p.Code)
		}
		ok = b.mustPost(auth.Sales, path, map[string]any{"segment": "enterprise"}, "If-Match", "*")
		if ok.Version != 3 {
			t.Errorf("If-Match * on an existing customer: version %d, want 3", ok.Version)
		}
	})

	t.Run("413", func(t *testing.T) {
		big := registerCustomerBody(uuid.Nil)
		big["legal_name"] = strings.Repeat("x", 70<<10)
		res := b.post(auth.Sales, "/v1/customers", big)
		expect(t, res, http.StatusRequestEntityTooLarge)

		// Without Content-Length (chunked), the limit still holds.
		data, _ := json.Marshal(big)
		hr, _ := http.NewRequest(http.MethodPost, b.http.URL+"/v1/customers", io.MultiReader(strings.NewReader(string(data))))
		hr.ContentLength = -1
		hr.Header.Set("Authorization", "Bearer "+b.tokens[auth.Sales])
		hr.Header.Set("Content-Type", "application/json")
		hres, err := b.http.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(hres.Body)
		hres.Body.Close()
		expect(t, response{status: hres.StatusCode, header: hres.Header, body: body}, http.StatusRequestEntityTooLarge)
	})

	t.Run("415", func(t *testing.T) {
		res := b.do(req{method: http.MethodPost, path: "/v1/customers", role: auth.Sales, body: registerCustomerBody(uuid.Nil),
			headers: map[string]string{"Content-Type": "text/plain"}})
		expect(t, res, http.StatusUnsupportedMediaType)
	})

	t.Run("422SchemaValidation", func(t *testing.T) {
		res := b.post(auth.Sales, "/v1/customers", map[string]any{"kind": "organisation", "display_name": 42, "colour": "red"})
		p := expect(t, res, http.StatusUnprocessableEntity)
		locs := locations(p)
		for _, want := range []string{"body.display_name", "body.colour"} {
			if !strings.Contains(locs, want) {
				t.Errorf("locations %s lack %s", locs, want)
			}
		}
	})

	t.Run("422DomainValidation", func(t *testing.T) {
		body := registerCustomerBody(uuid.Nil)
		body["emails"] = []string{"not-an-email"}
		body["display_name"] = "  "
		res := b.post(auth.Sales, "/v1/customers", body)
		p := expect(t, res, http.StatusUnprocessableEntity)
		locs := locations(p)
		if !strings.Contains(locs, "body.display_name") || !strings.Contains(locs, "body.emails[0]") {
			t.Errorf("locations %s", locs)
		}
	})

	t.Run("422PathAndBodyDisagree", func(t *testing.T) {
		res := b.post(auth.Sales, "/v1/customers/"+cust.ID.String()+"/segment", map[string]any{"customer_id": uuid.New(), "segment": "smb"})
		if p := expect(t, res, http.StatusUnprocessableEntity); !strings.Contains(locations(p), "body.customer_id") {
			t.Errorf("locations %s", locations(p))
		}
		res = b.post(auth.Sales, "/v1/customers/not-a-uuid/segment", map[string]any{"segment": "smb"})
		expect(t, res, http.StatusUnprocessableEntity)
	})

	t.Run("422UnknownReference", func(t *testing.T) {
		res := b.post(auth.Service, "/v1/cases", map[string]any{
			"customer_id": uuid.New(), "queue": "support", "priority": "P3", "channel": "email", "subject": "Broken",
		})
		if p := expect(t, res, http.StatusUnprocessableEntity); p.Code != "unknown_reference" || !strings.Contains(locations(p), "body.customer_id") {
			t.Errorf("problem %+v", p)
		}
	})

	t.Run("OccurredAtInTheFuture", func(t *testing.T) {
		res := b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Occurred-At", "2999-01-01T00:00:00Z")
		if p := expect(t, res, http.StatusUnprocessableEntity); !strings.Contains(locations(p), "header.Occurred-At") {
			t.Errorf("locations %s", locations(p))
		}
		res = b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Occurred-At", "last tuesday")
		expect(t, res, http.StatusUnprocessableEntity)
	})
}

func TestInternalErrorsStayInternal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	roles := []auth.Role{auth.Admin}
	type in struct{}
	type out struct{ Body struct{} }
	api.Register(b.server.API(), huma.Operation{OperationID: "testPanic", Method: http.MethodGet, Path: "/v1/test/panic"}, roles,
		func(context.Context, *in) (*out, error) { panic("secret stack material") })
	api.Register(b.server.API(), huma.Operation{OperationID: "testFail", Method: http.MethodGet, Path: "/v1/test/fail"}, roles,
		func(context.Context, *in) (*out, error) {
			return nil, fmt.Errorf("query failed: %w", errors.New(`ERROR: relation "secret_table" does not exist (SQLSTATE 42P01)`))
		})
	for _, path := range []string{"/v1/test/panic", "/v1/test/fail"} {
		res := b.do(req{method: http.MethodGet, path: path, role: auth.Admin})
		p := expect(t, res, http.StatusInternalServerError)
		for _, leak := range []string{"secret", "goroutine", ".go:", "SQLSTATE"} {
			if strings.Contains(string(res.body), leak) {
				t.Errorf("%s: response leaks %q: %s", path, leak, res.body)
			}
		}
		if p.CorrelationID == "" || p.CorrelationID != res.header.Get(api.CorrelationHeader) {
			t.Errorf("%s: correlation ID %q vs header %q", path, p.CorrelationID, res.header.Get(api.CorrelationHeader))
		}
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	corr := uuid.New()
	res := b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), api.CorrelationHeader, corr.String())
	if res.status != http.StatusCreated || res.header.Get(api.CorrelationHeader) != corr.String() {
		t.Fatalf("%d, correlation %q", res.status, res.header.Get(api.CorrelationHeader))
	}
	var out api.CommandResult
	res.json(t, &out)
	stream := b.do(req{method: http.MethodGet, path: "/v1/streams/" + out.Stream, role: auth.Auditor})
	var page api.StreamPage
	stream.json(t, &page)
	m := page.Events[0].Metadata
	if m.CorrelationID != corr || m.Actor != "test-sales" || m.ActorRole != "sales" || m.Tenant != "acme" || m.Source != "api" {
		t.Fatalf("metadata %+v", m)
	}
	// A malformed correlation ID is replaced, not refused.
	res = b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), api.CorrelationHeader, "not a uuid")
	if res.status != http.StatusCreated {
		t.Fatalf("%d", res.status)
	}
	if _, err := uuid.Parse(res.header.Get(api.CorrelationHeader)); err != nil {
		t.Fatalf("generated correlation ID %q", res.header.Get(api.CorrelationHeader))
	}
}

func expect(t *testing.T, res response, status int) api.Problem {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d: %s", res.status, status, res.body)
	}
	return res.problem(t)
}

func locations(p api.Problem) string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Location)
	}
	return strings.Join(out, " ")
}

// racingStore makes another writer append to a stream right before each of
// the handler's appends while races > 0.
type racingStore struct {
	eventstore.Store
	races atomic.Int32
}

func (s *racingStore) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.races.Add(-1) >= 0 && strings.HasPrefix(streamID, "customer-") {
		id := strings.TrimPrefix(streamID, "customer-")
		data := fmt.Sprintf(`{"customer_id":%q,"segment":"race-%d"}`, id, s.races.Load())
		if _, err := s.Store.Append(ctx, streamID, eventstore.StreamExists, eventstore.EventData{
			ID: uuid.New(), Type: "CustomerSegmentChanged", SchemaVersion: 1, Data: []byte(data)}); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	return s.Store.Append(ctx, streamID, expected, events...)
}

func TestConcurrencyConflicts(t *testing.T) {
	t.Parallel()
	rs := &racingStore{}
	b := setup(t, withStore(func(s eventstore.Store) eventstore.Store { rs.Store = s; return rs }))
	cust := b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil))
	path := "/v1/customers/" + cust.ID.String() + "/owner"

	// A few conflicts: the command is decided again and succeeds.
	rs.races.Store(2)
	ok := b.mustPost(auth.Sales, path, map[string]any{"owner_id": "ann"})
	if ok.Version != 4 {
		t.Fatalf("version %d, want 4 (two racing writes, then ours)", ok.Version)
	}

	// Conflicts that outlast the retries: 409 with the current version.
	rs.races.Store(100)
	res := b.post(auth.Sales, path, map[string]any{"owner_id": "bob"})
	p := expect(t, res, http.StatusConflict)
	if p.Code != "concurrency_conflict" || p.CurrentVersion == nil || *p.CurrentVersion < 5 {
		t.Fatalf("problem %+v", p)
	}

	// With If-Match the client decides: 412, no retry.
	rs.races.Store(1)
	v, _ := b.store.StreamVersion(context.Background(), cust.Stream)
	res = b.post(auth.Sales, path, map[string]any{"owner_id": "cid"}, "If-Match", fmt.Sprintf(`"%d"`, v))
	if p := expect(t, res, http.StatusPreconditionFailed); p.CurrentVersion == nil || *p.CurrentVersion != v+1 {
		t.Fatalf("problem %+v, want current version %d", p, v+1)
	}
	rs.races.Store(0)
}
