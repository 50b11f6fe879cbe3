package apistore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
)

func TestSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migrated(t)
	s := apistore.NewSnapshots(db.Pool)
	const stream = "campaign-ca000000-0000-4000-8000-000000000001"

	if _, ok, err := s.Load(ctx, "acme", stream); ok || err != nil {
		t.Fatalf("Load of nothing = %v, %v", ok, err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.FixedZone("CET", 3600))
	want := commands.Snapshot{Tenant: "acme", StreamID: stream, Version: 200, Position: eventstore.Position{Commit: 1 << 40, Prepare: 7},
		Schema: 1, State: []byte(`{"id":"x","responses":{"opened":199}}`), TakenAt: at}
	if err := s.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	check := func(want commands.Snapshot) {
		t.Helper()
		got, ok, err := s.Load(ctx, "acme", stream)
		if err != nil || !ok {
			t.Fatalf("Load = %v, %v", ok, err)
		}
		var g, w any
		_ = json.Unmarshal(got.State, &g)
		_ = json.Unmarshal(want.State, &w)
		if !reflect.DeepEqual(g, w) || got.Version != want.Version || got.Position != want.Position ||
			got.Schema != want.Schema || !got.TakenAt.Equal(want.TakenAt) || got.TakenAt.Location() != time.UTC {
			t.Fatalf("Load = %+v (%s), want %+v", got, got.State, want)
		}
	}
	check(want)
	if _, ok, err := s.Load(ctx, "globex", stream); ok || err != nil {
		t.Fatalf("another tenant loads the snapshot: %v, %v", ok, err)
	}

	older := want
	older.Version, older.State = 150, []byte(`{"older":true}`)
	if err := s.Save(ctx, older); err != nil {
		t.Fatal(err)
	}
	check(want) // an older snapshot of the same schema does not replace a newer one

	other := older
	other.Schema = 2
	if err := s.Save(ctx, other); err != nil {
		t.Fatal(err)
	}
	check(other) // a snapshot of another schema (a new release) replaces it

	for name, bad := range map[string]commands.Snapshot{
		"not JSON":  {StreamID: stream, Version: 300, Schema: 2, State: []byte(`{"id":`), TakenAt: at},
		"version 0": {StreamID: stream, Version: 0, Schema: 2, State: []byte(`{}`), TakenAt: at},
		"too big":   {StreamID: stream, Version: 1 << 63, Schema: 2, State: []byte(`{}`), TakenAt: at},
	} {
		if err := s.Save(ctx, bad); err == nil {
			t.Errorf("%s: Save accepted %+v", name, bad)
		}
	}
	check(other)

	// Concurrent savers: the highest version wins.
	var wg sync.WaitGroup
	for v := range uint64(20) {
		wg.Go(func() {
			snap := commands.Snapshot{Tenant: "acme", StreamID: stream, Version: 1000 + v, Schema: 2,
				State: []byte(fmt.Sprintf(`{"v":%d}`, v)), TakenAt: at}
			if err := s.Save(ctx, snap); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	check(commands.Snapshot{Tenant: "acme", Version: 1019, Schema: 2, State: []byte(`{"v":19}`), TakenAt: at})
}
