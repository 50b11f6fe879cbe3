package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/esdb/esdbtest"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/config"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/google/uuid"
)

// TestEndToEndOnEventStoreDB runs the application with EVCRM_EVENTSTORE=esdb
// on the in-process EventStoreDB test server: commands over HTTP append
// through the real client, the read models catch up from $all, and the
// lead conversion process manager reacts to a conversion by registering the
// customer and opening the opportunity. The server drops every
// subscription once on the way; nothing is lost.
func TestEndToEndOnEventStoreDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := esdbtest.New(t)
	db := pgtest.New(t)
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	cfg := config.FromEnv()
	cfg.DatabaseURL = db.URL
	cfg.EventStore = "esdb"
	cfg.ESDBURL = srv.URL()
	cfg.Bus = "inprocess"
	cfg.ShutdownTimeout = 5 * time.Second
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if _, ok := a.Store.(*esdb.Store); !ok {
		t.Fatalf("the app runs on %T, want the esdb store", a.Store)
	}
	tok, _, err := a.Tokens.Create(ctx, "tester", auth.Admin, "acme", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	call := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		if res.StatusCode >= 300 {
			t.Logf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		return res.StatusCode, out
	}
	waitReady(t, base)

	// Commands: a lead is captured, qualified and converted into a new customer.
	code, captured := call(http.MethodPost, "/v1/leads", map[string]any{
		"source": "web", "company_name": "Analytical Engines Ltd", "contact_name": "Ada Lovelace", "email": "ada@example.com",
	})
	if code != http.StatusCreated {
		t.Fatalf("capture: %d", code)
	}
	leadID := captured["id"].(string)
	if code, _ := call(http.MethodPost, "/v1/leads/"+leadID+"/qualify", map[string]any{"score": 80}); code != http.StatusOK {
		t.Fatalf("qualify: %d", code)
	}
	// Every projection, the forwarder and the audit log builder subscribe
	// once they hold their lease (after its grace period): wait for them,
	// then drop them all.
	subscribers := len(readmodels.All()) + 2
	for deadline := time.Now().Add(30 * time.Second); srv.Subscriptions() < subscribers; {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions on the server, want %d: every projection, the forwarder and the audit log builder", srv.Subscriptions(), subscribers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.DropSubscriptions(); n < subscribers {
		t.Fatalf("dropped %d subscriptions, want %d", n, subscribers)
	}
	custID, oppID := uuid.New(), uuid.New()
	code, converted := call(http.MethodPost, "/v1/leads/"+leadID+"/convert", map[string]any{
		"customer_id": custID, "opportunity_id": oppID, "opportunity_name": "Engines",
		"amount": map[string]any{"amount_minor": 1_000_000, "currency": "EUR"},
	})
	if code != http.StatusOK {
		t.Fatalf("convert: %d", code)
	}
	pos, err := eventstore.ParsePosition(converted["position"].(string))
	if err != nil || pos.IsZero() {
		t.Fatalf("convert position %v: %v", converted["position"], err)
	}

	// The process manager opens the opportunity; the read models show it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, page := call(http.MethodGet, "/v1/pipeline/opportunities?customer_id="+custID.String(), nil)
		if code == http.StatusOK {
			if items, _ := page["items"].([]any); len(items) == 1 {
				// The customer's name comes from another read model (customer
				// profiles), which may apply the registration a little later.
				opp := items[0].(map[string]any)
				name, _ := opp["customer_name"].(string)
				if opp["opportunity_id"] != oppID.String() || (name != "" && name != "Analytical Engines Ltd") {
					t.Fatalf("opportunity row %v", opp)
				}
				if name != "" {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the opportunity of the converted lead never reached the pipeline read model (last: %d %v)", code, page)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, cust := call(http.MethodGet, "/v1/customers/"+custID.String()+"?after="+pos.String(), nil)
	if code != http.StatusOK || !strings.Contains(toJSON(cust), "Analytical Engines Ltd") {
		t.Fatalf("customer 360: %d %v", code, cust)
	}

	// Every event is in EventStoreDB; the process manager's follow-ups
	// carry the conversion as their cause.
	evs, err := a.Store.ReadStream(ctx, "opportunity-"+oppID.String(), eventstore.ReadStreamOptions{})
	if err != nil || len(evs) != 1 || evs[0].Type != "OpportunityOpened" {
		t.Fatalf("opportunity stream: %v, %v", evs, err)
	}
	if evs[0].Metadata.Actor != "system:lead-conversion" {
		t.Fatalf("opportunity opened by %q", evs[0].Metadata.Actor)
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not OK after 30 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
