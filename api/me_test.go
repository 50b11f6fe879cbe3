package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

// meRecords are one customer's records, made over HTTP in its tenant.
type meRecords struct {
	customer, order, kase, complaint string
	token                            string // its customer access token
	tokenID                          string
}

// TestCustomerAccessTokens: two customers in each of two tenants; each
// customer token sees exactly its customer's orders, cases and complaints,
// with status and next step and without internal fields; every read is in
// the read log; revoked and expired tokens are refused; a customer token
// gets nothing from any staff route (TestEveryRouteEnforcesRoles walks them).
func TestCustomerAccessTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	rt := withQueries(t, b, 10*time.Second)

	// Staff tokens of tenant globex (acme's are b.tokens).
	tokens := apistore.NewTokens(b.db.Pool)
	staff := map[string]map[auth.Role]string{"acme": b.tokens, "globex": {}}
	for _, r := range []auth.Role{auth.Admin, auth.Sales, auth.Service, auth.Quality} {
		tok, _, err := tokens.Create(ctx, "globex-"+string(r), r, "globex", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		staff["globex"][r] = tok
	}
	post := func(tenant string, role auth.Role, path string, body any) string {
		t.Helper()
		res := b.do(req{method: http.MethodPost, path: path, token: staff[tenant][role], body: body})
		if res.status != http.StatusOK && res.status != http.StatusCreated {
			t.Fatalf("%s POST %s: %d %s", tenant, path, res.status, res.body)
		}
		var out struct {
			ID       string `json:"id"`
			Position string `json:"position"`
		}
		res.json(t, &out)
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		pos, err := eventstore.ParsePosition(out.Position)
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.WaitFor(wctx, nil, pos); err != nil {
			t.Fatal(err)
		}
		return out.ID
	}
	const internalRootCause = "INTERNAL-root-cause-text"
	mk := func(tenant, name string) *meRecords {
		r := &meRecords{}
		r.customer = post(tenant, auth.Sales, "/v1/customers", map[string]any{"kind": "organisation", "display_name": name})
		r.order = post(tenant, auth.Sales, "/v1/orders", map[string]any{"customer_id": r.customer, "customer_reference": "PO-" + name,
			"lines": []map[string]any{{"product_id": "P-1", "description": "Widget", "quantity": 2,
				"unit_price": map[string]any{"amount_minor": 1000, "currency": "EUR"}}}})
		post(tenant, auth.Sales, "/v1/orders/"+r.order+"/review", map[string]any{"revision": 1, "reviewer": "staff", "result": "approved"})
		post(tenant, auth.Sales, "/v1/orders/"+r.order+"/confirm", map[string]any{"promised_delivery": time.Now().Add(20 * 24 * time.Hour).Format(time.RFC3339)})
		r.kase = post(tenant, auth.Service, "/v1/cases", map[string]any{"customer_id": r.customer, "queue": "support", "priority": "P3",
			"channel": "email", "subject": "Widget squeaks (" + name + ")"})
		r.complaint = post(tenant, auth.Service, "/v1/complaints", map[string]any{"customer_id": r.customer, "channel": "email",
			"severity": "low", "description": "Late delivery"})
		post(tenant, auth.Service, "/v1/complaints/"+r.complaint+"/acknowledge", nil)
		post(tenant, auth.Quality, "/v1/complaints/"+r.complaint+"/investigation", map[string]any{"root_cause": internalRootCause, "findings": "x"})

		res := b.do(req{method: http.MethodPost, path: "/v1/customers/" + r.customer + "/access-tokens", token: staff[tenant][auth.Service], body: map[string]any{}})
		if res.status != http.StatusCreated {
			t.Fatalf("create customer token: %d %s", res.status, res.body)
		}
		var tok struct {
			Token      string    `json:"token"`
			ID         string    `json:"id"`
			CustomerID string    `json:"customer_id"`
			ExpiresAt  time.Time `json:"expires_at"`
		}
		res.json(t, &tok)
		if !strings.HasPrefix(tok.Token, auth.CustomerTokenPrefix) || tok.CustomerID != r.customer ||
			tok.ExpiresAt.Before(time.Now().Add(29*24*time.Hour)) || tok.ExpiresAt.After(time.Now().Add(31*24*time.Hour)) {
			t.Fatalf("customer token %+v", tok)
		}
		r.token, r.tokenID = tok.Token, tok.ID
		return r
	}
	all := []*meRecords{mk("acme", "A1"), mk("acme", "A2"), mk("globex", "G1"), mk("globex", "G2")}

	for i, r := range all {
		var orders struct{ Orders []queries.MyOrder }
		var cases struct{ Cases []queries.MyCase }
		var complaints struct{ Complaints []queries.MyComplaint }
		bodies := ""
		for path, v := range map[string]any{"/v1/me/orders": &orders, "/v1/me/cases": &cases, "/v1/me/complaints": &complaints} {
			res := b.do(req{method: http.MethodGet, path: path, token: r.token})
			if res.status != http.StatusOK {
				t.Fatalf("customer %d GET %s: %d %s", i, path, res.status, res.body)
			}
			res.json(t, v)
			bodies += string(res.body)
		}
		if len(orders.Orders) != 1 || orders.Orders[0].OrderID.String() != r.order || orders.Orders[0].Status != "confirmed" ||
			orders.Orders[0].Next.Step != "production" || orders.Orders[0].Next.Due == nil || orders.Orders[0].PromisedDelivery == "" {
			t.Errorf("customer %d orders %+v", i, orders.Orders)
		}
		if len(cases.Cases) != 1 || cases.Cases[0].CaseID.String() != r.kase || cases.Cases[0].Status != "open" || cases.Cases[0].Next.Step != "first_response" {
			t.Errorf("customer %d cases %+v", i, cases.Cases)
		}
		if len(complaints.Complaints) != 1 || complaints.Complaints[0].ComplaintID.String() != r.complaint ||
			complaints.Complaints[0].Status != "acknowledged" || complaints.Complaints[0].Next.Step != "response" || complaints.Complaints[0].AcknowledgedAt == nil {
			t.Errorf("customer %d complaints %+v", i, complaints.Complaints)
		}
		if strings.Contains(bodies, internalRootCause) || strings.Contains(bodies, "test-") || strings.Contains(bodies, "globex-") {
			t.Errorf("customer %d sees internal fields: %s", i, bodies)
		}
		for j, o := range all {
			if j == i {
				continue
			}
			for _, id := range []string{o.customer, o.order, o.kase, o.complaint} {
				if strings.Contains(bodies, id) {
					t.Errorf("customer %d sees customer %d's record %s", i, j, id)
				}
			}
		}
	}

	// Every read is in the read log, as the customer, in its tenant. The
	// global log shows an event once no older transaction anywhere in the
	// cluster is still open (other packages' tests hold some open), so the
	// count is read again until it is complete or 30 s have passed.
	countReads := func() map[string]int {
		events, err := b.store.ReadAll(ctx, eventstore.ReadAllOptions{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		reads := map[string]int{}
		for _, e := range events {
			if e.Type != "RecordsRead" || e.Metadata.ActorRole != "customer" {
				continue
			}
			reads[e.Metadata.Tenant+"/"+e.Metadata.Actor]++
		}
		return reads
	}
	tenantOf := func(i int) string {
		if i >= 2 {
			return "globex"
		}
		return "acme"
	}
	complete := func(reads map[string]int) bool {
		for i, r := range all {
			if reads[tenantOf(i)+"/customer:"+r.customer] < 3 {
				return false
			}
		}
		return true
	}
	reads := countReads()
	for deadline := time.Now().Add(30 * time.Second); !complete(reads) && time.Now().Before(deadline); reads = countReads() {
		time.Sleep(50 * time.Millisecond)
	}
	for i, r := range all {
		if got := reads[tenantOf(i)+"/customer:"+r.customer]; got != 3 {
			t.Errorf("customer %d: %d reads recorded, want 3 (%v)", i, got, reads)
		}
	}

	// Staff of one tenant cannot hand out tokens for another's customer.
	if res := b.do(req{method: http.MethodPost, path: "/v1/customers/" + all[0].customer + "/access-tokens", token: staff["globex"][auth.Admin], body: map[string]any{}}); res.status != http.StatusNotFound {
		t.Errorf("globex creates a token for acme's customer: %d %s", res.status, res.body)
	}
	if res := b.do(req{method: http.MethodDelete, path: "/v1/customers/" + all[0].customer + "/access-tokens/" + all[0].tokenID, token: staff["globex"][auth.Admin]}); res.status != http.StatusNotFound {
		t.Errorf("globex revokes acme's customer token: %d %s", res.status, res.body)
	}
	// Bounds of expires_in; quality and marketing may not hand out tokens;
	// a customer may not make itself another.
	for _, bad := range []string{"0s", "30s", "4321h", "forever", "-1h"} {
		res := b.do(req{method: http.MethodPost, path: "/v1/customers/" + all[0].customer + "/access-tokens", role: auth.Sales, body: map[string]any{"expires_in": bad}})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("expires_in %q: %d %s", bad, res.status, res.body)
		}
	}
	for _, role := range auth.Roles {
		res := b.do(req{method: http.MethodPost, path: "/v1/customers/" + all[0].customer + "/access-tokens", role: role, body: map[string]any{"expires_in": "1h"}})
		want := http.StatusForbidden
		if slices.Contains([]auth.Role{auth.Admin, auth.Sales, auth.Service}, role) {
			want = http.StatusCreated
		}
		if res.status != want {
			t.Errorf("create token as %s: %d, want %d", role, res.status, want)
		}
	}
	if res := b.do(req{method: http.MethodPost, path: "/v1/customers/" + all[0].customer + "/access-tokens", token: all[0].token, body: map[string]any{}}); res.status != http.StatusForbidden {
		t.Errorf("customer makes a token: %d", res.status)
	}

	// Revoked: refused at once, and only that token.
	if res := b.do(req{method: http.MethodDelete, path: "/v1/customers/" + all[0].customer + "/access-tokens/" + all[0].tokenID, role: auth.Service}); res.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if res := b.do(req{method: http.MethodDelete, path: "/v1/customers/" + all[0].customer + "/access-tokens/" + all[0].tokenID, role: auth.Service}); res.status != http.StatusNotFound {
		t.Errorf("revoke twice: %d %s", res.status, res.body)
	}
	if res := b.do(req{method: http.MethodGet, path: "/v1/me/orders", token: all[0].token}); res.status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d %s", res.status, res.body)
	}
	if res := b.do(req{method: http.MethodGet, path: "/v1/me/orders", token: all[1].token}); res.status != http.StatusOK {
		t.Errorf("the other customer's token after a revocation: %d %s", res.status, res.body)
	}
	// Expired: refused.
	secret, _, err := tokens.CreateCustomerToken(ctx, "acme", uuid.MustParse(all[1].customer), "test", time.Now().Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res := b.do(req{method: http.MethodGet, path: "/v1/me/cases", token: secret}); res.status != http.StatusUnauthorized {
		t.Errorf("expired token: %d %s", res.status, res.body)
	}
	// A well-formed but unknown customer token, a mangled one.
	unknown, _ := auth.NewCustomerToken()
	for _, tok := range []string{unknown, all[1].token + "x", strings.Replace(all[1].token, auth.CustomerTokenPrefix, auth.TokenPrefix, 1)} {
		if res := b.do(req{method: http.MethodGet, path: "/v1/me/complaints", token: tok}); res.status != http.StatusUnauthorized {
			t.Errorf("token %q: %d", tok, res.status)
		}
	}
	// A customer token is refused on a staff route even for its own record.
	for _, p := range []string{"/v1/customers/" + all[1].customer, "/v1/orders/" + all[1].order + "/confirm"} {
		method := http.MethodGet
		var body any
		if strings.HasSuffix(p, "confirm") {
			method, body = http.MethodPost, map[string]any{}
		}
		if res := b.do(req{method: method, path: p, token: all[1].token, body: body}); res.status != http.StatusForbidden {
			t.Errorf("%s %s as customer: %d %s", method, p, res.status, res.body)
		}
	}
}
