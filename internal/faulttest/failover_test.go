package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections"
)

// singletons are the leases (package internal/lease) of the background
// services that run in one evcrm process at a time, besides one per
// projection generation: the forwarder of the log to the bus, the SLA
// watcher's ticker, the idempotency-key purger and the audit log builder.
// (The audit checkpointer also runs under a lease, but only while it has a
// signing key; without one it ends at once.)
var singletons = []string{"evcrm.events", "process.sla-watcher", "app.idempotency-key-purger", "app.audit-log"}

// leaseHolders maps every lease held in the database to the evcrm instance
// holding it (the application_name its URL gave, which prefixes its lease
// sessions' names: "evcrm-a evcrm-lease/<lease>").
func leaseHolders(t *testing.T, db *pgtest.DB) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT DISTINCT a.application_name FROM pg_stat_activity a
		JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
		WHERE a.datname = current_database() AND a.application_name LIKE 'evcrm-_ evcrm-lease/%'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]string{}
	for _, n := range names {
		instance, lease, _ := strings.Cut(n, " evcrm-lease/")
		if prev, ok := held[lease]; ok && prev != instance {
			t.Errorf("lease %s held by %s and %s at once", lease, prev, instance)
		}
		held[lease] = instance
	}
	return held
}

// TestTwoInstancesFailOver runs two `evcrm serve` on one database, kills
// the one that holds the singleton leases with SIGKILL, and checks that the
// other takes over every singleton and every projection (each held by one
// instance at any moment), that both served commands, and that after the
// take-over every event is in the read model and the audit log exactly
// once.
func TestTwoInstancesFailOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the evcrm binary")
	}
	bin := buildEvcrm(t)
	db := pgtest.New(t, pgtest.Options{Settings: map[string]string{projections.AllTenantsSetting: "on"}})
	ctx := context.Background()
	cli(t, bin, db.URL, "migrate")
	token := strings.TrimSpace(cli(t, bin, db.URL, "token", "create", "--role", "admin", "--name", "failover-test"))
	url := func(instance string) string { return db.URL + "&application_name=" + instance }
	addrA, addrB := freeAddr(t), freeAddr(t)
	srvA := startServer(t, bin, url("evcrm-a"), addrA)
	srvB := startServer(t, bin, url("evcrm-b"), addrB)

	var gens int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM evcrm_projections WHERE state = 'active'").Scan(&gens); err != nil {
		t.Fatal(err)
	}
	want := len(singletons) + gens
	// waitHeld waits until every singleton and projection lease is held
	// (by instance, unless empty) and returns the holders.
	waitHeld := func(instance string) map[string]string {
		t.Helper()
		var held map[string]string
		for deadline := time.Now().Add(30 * time.Second); ; {
			held = leaseHolders(t, db)
			ok := len(held) >= want
			for _, s := range singletons {
				ok = ok && held[s] != "" && (instance == "" || held[s] == instance)
			}
			for _, h := range held {
				ok = ok && (instance == "" || h == instance)
			}
			if ok {
				return held
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 30 s, leases held: %v (want the %v and %d projections, by %q)", held, singletons, gens, instance)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	held := waitHeld("")
	count := map[string]int{}
	for _, h := range held {
		count[h]++
	}
	t.Logf("before the kill: %d leases, %v", len(held), count)

	client := &http.Client{Timeout: 10 * time.Second}
	register := func(base string, from, to int) {
		t.Helper()
		for n := from; n < to; n++ {
			body, _ := json.Marshal(map[string]any{"kind": "person", "display_name": fmt.Sprintf("Failover %d", n)})
			res, data, err := post(ctx, client, "http://"+base, token, fmt.Sprintf("failover-%d", n), body)
			if err != nil || res.StatusCode != http.StatusCreated {
				t.Fatalf("POST %d to %s: %v %s", n, base, err, data)
			}
		}
	}
	register(addrA, 0, 10)
	register(addrB, 10, 20)

	// Kill the instance holding the forwarder's lease (the first started,
	// as a rule, holds them all).
	victim, survivor, survivorAddr := srvA, "evcrm-b", addrB
	if held["evcrm.events"] == "evcrm-b" {
		victim, survivor, survivorAddr = srvB, "evcrm-a", addrA
	}
	victim.kill()
	start := time.Now()
	held = waitHeld(survivor)
	t.Logf("%s took over %d leases in %s", survivor, len(held), time.Since(start).Round(time.Millisecond))
	register(survivorAddr, 20, 30)

	// Every event is applied once: the read model holds each customer
	// once, and the audit log each event once.
	store, err := postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// (The global log shows an append once every older transaction has
	// ended: wait for it.)
	for deadline := time.Now().Add(30 * time.Second); ; {
		streams := registrations(t, store)
		if len(streams) == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d customers in the log, want 30", len(streams))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var events int64
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM evcrm_events").Scan(&events); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var customers, distinct, leaves, distinctLeaves int64
		err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_customer_profiles), (SELECT count(DISTINCT customer_id) FROM rm_customer_profiles),
			(SELECT count(*) FROM audit_leaves), (SELECT count(DISTINCT event_id) FROM audit_leaves)`).Scan(&customers, &distinct, &leaves, &distinctLeaves)
		if err != nil {
			t.Fatal(err)
		}
		if customers != distinct || leaves != distinctLeaves {
			t.Fatalf("applied twice: %d customer rows for %d customers, %d audit leaves for %d events", customers, distinct, leaves, distinctLeaves)
		}
		if customers == 30 && leaves == events && caughtUp(t, bin, url(survivor)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the take-over: %d customers in the read model, %d audit leaves for %d events", customers, leaves, events)
		}
		time.Sleep(100 * time.Millisecond)
	}
	names := make([]string, 0, len(held))
	for n := range held {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("leases held by %s: %v", survivor, names)
}
