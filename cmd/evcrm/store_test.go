package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb/esdbtest"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/google/uuid"
)

// TestStoreCopyRoundTrip moves a log from PostgreSQL to EventStoreDB (the
// test server) and back into another PostgreSQL schema: the result equals
// the original, and running a copy again writes nothing.
func TestStoreCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	orig, back := pgtest.New(t), pgtest.New(t)
	if err := postgres.Migrate(ctx, orig.Pool); err != nil {
		t.Fatal(err)
	}
	src, err := postgres.New(ctx, orig.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	streams := []string{eventstore.StreamID("customer", uuid.New()), eventstore.StreamID("lead", uuid.New()), eventstore.StreamID("campaign", uuid.New())}
	for r := range 12 {
		for i, s := range streams {
			evs := storetest.Events(fmt.Sprintf("Type%d", i), 1+r%3)
			evs[0].SchemaVersion = 1 + r%2
			if r == 5 {
				evs[0].Data = json.RawMessage(`{"name":"Zoë ☃ 😀","quote":"\"'\\","nested":{"a":[1,2.5,null]}}`)
			}
			if _, err := src.Append(ctx, s, eventstore.Any, evs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := readSettled(t, src)
	srv := esdbtest.New(t)

	out, _, err := runCLI(t, "store", "copy", "--from", "postgres", "--from-url", orig.URL, "--to", "esdb", "--to-url", srv.URL(), "--page-size", "10")
	if err != nil {
		t.Fatalf("postgres -> esdb: %v\n%s", err, out)
	}
	if !strings.Contains(out, fmt.Sprintf("%d events: %d copied, 0 already there", len(want), len(want))) || !strings.Contains(out, "evcrm projections rebuild --all") {
		t.Fatalf("postgres -> esdb said:\n%s", out)
	}
	out, _, err = runCLI(t, "store", "copy", "--from", "postgres", "--from-url", orig.URL, "--to", "esdb", "--to-url", srv.URL())
	if err != nil || !strings.Contains(out, fmt.Sprintf("%d events: 0 copied, %d already there", len(want), len(want))) {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "store", "copy", "--from", "esdb", "--from-url", srv.URL(), "--to", "postgres", "--to-url", back.URL)
	if err != nil {
		t.Fatalf("esdb -> postgres: %v\n%s", err, out)
	}
	dst, err := postgres.New(ctx, back.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got := readSettled(t, dst)
	if len(got) != len(want) {
		t.Fatalf("round trip has %d events, the original %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		w.Position, g.Position, w.RecordedAt, g.RecordedAt = eventstore.Position{}, eventstore.Position{}, time.Time{}, time.Time{}
		if !eventstore.JSONEqual(w.Data, g.Data) {
			t.Fatalf("event %d data %s, want %s", i, g.Data, w.Data)
		}
		w.Data, g.Data = nil, nil
		wm, _ := json.Marshal(w)
		gm, _ := json.Marshal(g)
		if string(wm) != string(gm) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, gm, wm)
		}
	}

	if _, _, err := runCLI(t, "store", "copy", "--from", "postgres", "--to", "postgres"); err == nil || !strings.Contains(err.Error(), "same store") {
		t.Fatalf("copy onto itself: %v", err)
	}
	if _, _, err := runCLI(t, "store", "copy", "--from", "mysql", "--to", "postgres", "--to-url", back.URL); err == nil || !strings.Contains(err.Error(), "unknown event store") {
		t.Fatalf("unknown source: %v", err)
	}
}

// readSettled reads the whole log once PostgreSQL hands it all out.
func readSettled(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []eventstore.RecordedEvent
	after := eventstore.Start
	for deadline := time.Now().Add(30 * time.Second); after.Less(head); {
		page, err := s.ReadAll(ctx, eventstore.ReadAllOptions{After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("stuck at %s before the head %s", after, head)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		out = append(out, page...)
		after = page[len(page)-1].Position
	}
	return out
}
