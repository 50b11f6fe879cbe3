package demo_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	_ "github.com/evcrm/evcrm/domain/all"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/config"
	"github.com/evcrm/evcrm/internal/demo"
	"github.com/evcrm/evcrm/internal/pgtest"
)

var end = time.Date(2026, 6, 30, 17, 0, 0, 0, time.UTC)

func planJSON(t *testing.T, cfg demo.Config) []byte {
	t.Helper()
	steps, err := demo.Plan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type wire struct {
		Type string
		Cmd  any
		At   time.Time
		Key  string
		Who  string
	}
	out := make([]wire, len(steps))
	for i, s := range steps {
		out[i] = wire{s.Command.CommandType(), s.Command, s.OccurredAt, s.Key, s.Actor}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPlanIsDeterministic(t *testing.T) {
	t.Parallel()
	a := planJSON(t, demo.Config{Customers: 40, Seed: 7, End: end})
	b := planJSON(t, demo.Config{Customers: 40, Seed: 7, End: end})
	if string(a) != string(b) {
		t.Fatal("the same seed gave two plans")
	}
	if c := planJSON(t, demo.Config{Customers: 40, Seed: 8, End: end}); string(a) == string(c) {
		t.Fatal("another seed gave the same plan")
	}
}

func TestPlanShape(t *testing.T) {
	t.Parallel()
	steps, err := demo.Plan(demo.Config{Customers: 200, Seed: 1, End: end})
	if err != nil {
		t.Fatal(err)
	}
	sum := demo.Summary(steps)
	// The whole cycle is there.
	for _, typ := range []string{"PlanCampaign", "CaptureLead", "ConvertLead", "DisqualifyLead", "RegisterCustomer",
		"OpenOpportunity", "CaptureRequirements", "ReviewRequirements", "WinOpportunity", "LoseOpportunity", "PlaceOrder",
		"ConfirmOrder", "ShipOrder", "DeliverOrder", "OpenCase", "RecordFirstResponse", "WaitOnCustomer", "ResolveCase",
		"CloseCase", "ReceiveComplaint", "AcknowledgeComplaint", "CloseComplaint", "RaiseNonconformity",
		"PlanCorrectiveAction", "VerifyEffectiveness", "SubmitFeedback", "LogInteraction"} {
		if sum[typ] == 0 {
			t.Errorf("no %s in the plan", typ)
		}
	}
	if sum["RegisterCustomer"] != 200 {
		t.Errorf("%d customers registered, want 200", sum["RegisterCustomer"])
	}
	for i, s := range steps {
		if s.OccurredAt.After(end) || (i > 0 && s.OccurredAt.Before(steps[i-1].OccurredAt)) {
			t.Fatalf("step %d at %s is out of order", i, s.OccurredAt)
		}
	}
	if _, err := demo.Plan(demo.Config{Customers: 0}); err == nil {
		t.Error("planned zero customers")
	}
}

// TestLoadDirect loads a plan through the dispatcher on the PostgreSQL
// event store: every step is accepted, and loading it again writes nothing.
func TestLoadDirect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := commands.NewDispatcher(store, commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
		t.Fatal(err)
	}
	steps, err := demo.Plan(demo.Config{Customers: 25, Seed: 3, End: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	rep, err := demo.Load(ctx, steps, demo.Direct{Dispatcher: d}, func(int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refused) != 0 || rep.Sent != len(steps) || calls != len(steps) {
		t.Fatalf("sent %d of %d, refused %v %v", rep.Sent, len(steps), rep.Refused, rep.Examples)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := demo.Load(ctx, steps, demo.Direct{Dispatcher: d}, nil)
	if err != nil || len(again.Refused) != 0 {
		t.Fatalf("second load: %v %v", again.Refused, err)
	}
	if head2, _ := store.Head(ctx); head2 != head {
		t.Fatalf("loading the same plan again wrote events: head %s → %s", head, head2)
	}
}

// TestLoadHTTP loads a plan through a running server's HTTP API.
func TestLoadHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	cfg := config.FromEnv()
	cfg.DatabaseURL, cfg.EventStore, cfg.Bus = db.URL, "postgres", "inprocess"
	t0 := time.Now()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), "test")
	t.Logf("app.New: %v", time.Since(t0))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Server.Handler())
	defer srv.Close()
	tok, _, err := a.Tokens.Create(ctx, "demo", auth.Admin, "default", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := demo.NewHTTP(ctx, srv.URL, tok, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	steps, err := demo.Plan(demo.Config{Customers: 6, Seed: 11, End: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := demo.Load(ctx, steps, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d steps over HTTP in %v", len(steps), time.Since(start))
	if len(rep.Refused) != 0 || rep.Sent != len(steps) {
		t.Fatalf("sent %d of %d, refused %v", rep.Sent, len(steps), rep.Refused)
	}
}
