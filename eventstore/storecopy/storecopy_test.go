package storecopy_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/esdb/esdbtest"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/eventstore/storecopy"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"github.com/google/uuid"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fill writes interleaved streams with batches of several events.
func fill(t *testing.T, s eventstore.Store, streams, rounds int) {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, streams)
	for i := range ids {
		ids[i] = eventstore.StreamID("copy", uuid.New())
	}
	for r := range rounds {
		for i, id := range ids {
			evs := storetest.Events("Happened", 1+(r+i)%3)
			evs[0].SchemaVersion = 1 + i%3
			if _, err := s.Append(ctx, id, eventstore.Any, evs...); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	after := eventstore.Start
	for {
		page, err := s.ReadAll(context.Background(), eventstore.ReadAllOptions{After: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Position
	}
}

// same checks two logs hold the same events in the same order.
func same(t *testing.T, a, b []eventstore.RecordedEvent) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d events, want %d", len(b), len(a))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.StreamID != y.StreamID || x.Version != y.Version || x.Type != y.Type || x.SchemaVersion != y.SchemaVersion ||
			!eventstore.JSONEqual(x.Data, y.Data) || !x.Metadata.OccurredAt.Equal(y.Metadata.OccurredAt) || x.Metadata.Actor != y.Metadata.Actor ||
			x.Metadata.CorrelationID != y.Metadata.CorrelationID || x.Metadata.Tenant != y.Metadata.Tenant || x.Metadata.Extra["n"] != y.Metadata.Extra["n"] {
			t.Fatalf("event %d: %+v, want %+v", i, y, x)
		}
	}
}

func TestCopyResumesAndNeverWritesTwice(t *testing.T) {
	ctx := context.Background()
	src := memory.New()
	defer src.Close()
	fill(t, src, 5, 8)
	srv := esdbtest.New(t)
	dst, err := esdb.New(esdb.Config{ConnectionString: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	var progress []int64
	st, err := storecopy.Copy(ctx, src, dst, storecopy.Options{PageSize: 7, Progress: func(s storecopy.Stats) { progress = append(progress, s.Events) }})
	if err != nil {
		t.Fatal(err)
	}
	want := readAll(t, src)
	if st.Copied != int64(len(want)) || st.Present != 0 || len(progress) < 2 || !slices.IsSorted(progress) {
		t.Fatalf("first run: %+v, progress %v", st, progress)
	}
	same(t, want, readAll(t, dst))

	// Again, with other page boundaries, after more events: only those are new.
	fill(t, src, 2, 3)
	st, err = storecopy.Copy(ctx, src, dst, storecopy.Options{PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	want = readAll(t, src)
	if st.Present+st.Copied != int64(len(want)) || st.Copied != int64(len(want))-int64(st.Present) || st.Present == 0 {
		t.Fatalf("second run: %+v", st)
	}
	same(t, want, readAll(t, dst))
	n := srv.Len()
	if st, err := storecopy.Copy(ctx, src, dst, storecopy.Options{PageSize: 3}); err != nil || st.Copied != 0 || srv.Len() != n {
		t.Fatalf("third run copied %+v, %v; the server grew from %d to %d events", st, err, n, srv.Len())
	}
}

func TestCopyStopsWhereTheDestinationDiffers(t *testing.T) {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	defer src.Close()
	defer dst.Close()
	stream := eventstore.StreamID("copy", uuid.New())
	if _, err := src.Append(ctx, stream, eventstore.NoStream, storetest.Events("A", 3)...); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Append(ctx, stream, eventstore.NoStream, storetest.Event("Other", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := storecopy.Copy(ctx, src, dst, storecopy.Options{}); !errors.Is(err, storecopy.ErrDiverged) {
		t.Fatalf("Copy = %v, want ErrDiverged", err)
	}
	if v, _ := dst.StreamVersion(ctx, stream); v != 1 {
		t.Fatalf("destination stream at version %d after a refused copy", v)
	}
}
