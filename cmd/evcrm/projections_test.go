package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestBenchProjectionsRegistered(t *testing.T) {
	cmd, _, err := newRootCmd().Find([]string{"bench", "projections"})
	if err != nil || cmd.Name() != "projections" || cmd.Parent().Name() != "bench" {
		t.Fatalf("evcrm bench projections: %v, %v", cmd, err)
	}
}

func TestProjectionsCommands(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	url := "--database-url=" + db.URL
	if out, _, err := runCLI(t, "migrate", url); err != nil || !strings.Contains(out, "projections") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i := range 30 {
		data := fmt.Sprintf(`{"customer_id":%q,"kind":"person","display_name":"P%d","at":"2026-01-05T09:00:00Z"}`, uuid.New(), i)
		if _, err := store.Append(ctx, "customer-"+uuid.NewString(), eventstore.NoStream, eventstore.EventData{ID: uuid.New(),
			Type: "CustomerRegistered", SchemaVersion: 2, Data: json.RawMessage(data)}); err != nil {
			t.Fatal(err)
		}
	}

	// The store hands out an event once no older transaction, anywhere on
	// the server, is still running: wait for the 30.
	for deadline := time.Now().Add(30 * time.Second); ; {
		evs, err := store.ReadAll(ctx, eventstore.ReadAllOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 30 events visible", len(evs))
		}
		time.Sleep(20 * time.Millisecond)
	}

	out, _, err := runCLI(t, "projections", "status", url)
	if err != nil || strings.Count(out, "missing") != len(readmodels.All()) {
		t.Fatalf("status before any build: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "projections", "rebuild", url); err == nil {
		t.Fatal("rebuild with no name succeeded")
	}
	if _, _, err := runCLI(t, "projections", "rebuild", url, "nope"); err == nil || !strings.Contains(err.Error(), "unknown projection") {
		t.Fatalf("rebuild nope: %v", err)
	}
	out, _, err = runCLI(t, "projections", "rebuild", url, "customer", "analytics")
	if err != nil || !strings.Contains(out, "customer: generation") || !strings.Contains(out, "30 events") {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "projections", "status", url, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st []projections.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	byName := map[string]projections.Status{}
	for _, s := range st {
		byName[s.Name] = s
	}
	if c := byName["customer"]; c.State != projections.StateActive || c.EventsApplied != 30 || c.LagEvents != 0 || byName["pipeline"].State != "missing" {
		t.Fatalf("status: %+v", st)
	}
	out, _, err = runCLI(t, "projections", "list", url)
	if err != nil || !strings.Contains(out, "rm_customer_profiles") || !strings.Contains(out, "(not built yet)") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	// The events carry no tenant: their rows are visible only to a session
	// that sees every tenant (row-level security).
	var n int
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config($1, 'on', true)", projections.AllTenantsSetting); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT count(*) FROM rm_customer_profiles").Scan(&n)
	}); err != nil || n != 30 {
		t.Fatalf("rm_customer_profiles: %d rows, %v", n, err)
	}
}
