package esdb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/esdb/esdbtest"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"github.com/google/uuid"
	"go.uber.org/goleak"
)

// The defects of issue 12, each shown on the test server.

func TestHeadPastTrailingSystemEvents(t *testing.T) {
	srv := esdbtest.New(t)
	s := open(t, srv.URL())
	ctx := context.Background()
	if h, err := s.Head(ctx); err != nil || !h.IsZero() {
		t.Fatalf("Head of a log of system events = %s, %v; want Start", h, err)
	}
	res, err := s.Append(ctx, eventstore.StreamID("head", uuid.New()), eventstore.NoStream, storetest.Events("A", 2)...)
	if err != nil {
		t.Fatal(err)
	}
	for range 300 { // more than a page of Head's backward reads
		srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected", []byte(`{}`))
	}
	if h, err := s.Head(ctx); err != nil || h != res.Position {
		t.Fatalf("Head = %s, %v; want the last event's position %s", h, err, res.Position)
	}
}

func TestReadAllLimitReadsLittle(t *testing.T) {
	srv := esdbtest.New(t)
	s := open(t, srv.URL())
	ctx := context.Background()
	for range 20 {
		if _, err := s.Append(ctx, eventstore.StreamID("lim", uuid.New()), eventstore.NoStream, storetest.Events("A", 50)...); err != nil {
			t.Fatal(err)
		}
	}
	before := srv.EventsSent()
	evs, err := s.ReadAll(ctx, eventstore.ReadAllOptions{Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("ReadAll(Limit 1) = %d events, %v", len(evs), err)
	}
	evs, err = s.ReadAll(ctx, eventstore.ReadAllOptions{After: evs[0].Position, Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("ReadAll(After, Limit 1) = %d events, %v", len(evs), err)
	}
	// Two system events come first in a fresh log.
	if n := srv.EventsSent() - before; n > 6 {
		t.Fatalf("two reads of one event each transferred %d events", n)
	}
}

func TestReplayPositionWithoutVerify(t *testing.T) {
	srv := esdbtest.New(t)
	off := false
	s, err := esdb.New(esdb.Config{ConnectionString: srv.URL(), VerifyAppends: &off})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	stream := eventstore.StreamID("raw", uuid.New())
	batch := storetest.Events("A", 3)
	first, err := s.Append(ctx, stream, eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Append(ctx, stream, eventstore.NoStream, batch...)
	if err != nil || again != first || again.Position.IsZero() {
		t.Fatalf("replay = %+v, %v; want the original %+v", again, err, first)
	}
	got, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	if err != nil || len(got) != 3 || got[2].Position != first.Position {
		t.Fatalf("stream %d events (%v); append said %s", len(got), err, first.Position)
	}
	if _, err := s.Append(ctx, stream, eventstore.Exact(1), storetest.Event("B", 1)); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("stale exact version: %v", err)
	}
}

// TestSubscribeSurvivesDrops: the server drops the subscription again and
// again; Subscribe resubscribes after the last event it delivered, so the
// handler sees every event once, in order, and Subscribe keeps running.
func TestSubscribeSurvivesDrops(t *testing.T) {
	srv := esdbtest.New(t)
	s, err := esdb.New(esdb.Config{ConnectionString: srv.URL(), ResubscribeDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cat := storetest.NewCategory()
	var (
		mu  sync.Mutex
		got []eventstore.RecordedEvent
	)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, eventstore.SubscribeOptions{Filter: eventstore.Filter{Categories: []string{cat}}, BatchSize: 3}, func(_ context.Context, evs []eventstore.RecordedEvent) error {
			mu.Lock()
			got = append(got, evs...)
			mu.Unlock()
			return nil
		})
	}()
	var want []uuid.UUID
	drops := 0
	for round := range 10 {
		evs := storetest.Events("A", 7)
		if _, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, evs...); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			want = append(want, e.ID)
		}
		if round%2 == 0 {
			drops += waitDrop(t, srv)
		}
	}
	deadline := time.Now().Add(storetest.Wait)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Subscribe ended after %d of %d events: %v", n, len(want), err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("delivered %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("event %d is %s, want %s (a drop lost or repeated events)", i, got[i].ID, want[i])
		}
	}
	if drops < 5 {
		t.Fatalf("only %d drops happened", drops)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
}

// waitDrop drops the running subscription as soon as there is one.
func waitDrop(t *testing.T, srv *esdbtest.Server) int {
	t.Helper()
	deadline := time.Now().Add(storetest.Wait)
	for srv.Subscriptions() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no subscription to drop")
		}
		time.Sleep(time.Millisecond)
	}
	return srv.DropSubscriptions()
}

// TestSubscribeHandlerErrorLeaksNothing: a handler that fails while the
// reader has a full buffer and the server more to send leaves no goroutine
// behind.
func TestSubscribeHandlerErrorLeaksNothing(t *testing.T) {
	srv := esdbtest.New(t)
	s := open(t, srv.URL())
	ctx := context.Background()
	cat := storetest.NewCategory()
	if _, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, storetest.Events("A", 200)...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx); err != nil { // connected: its goroutines are not the subscription's
		t.Fatal(err)
	}
	ignore := goleak.IgnoreCurrent()
	boom := errors.New("boom")
	err := s.Subscribe(ctx, eventstore.SubscribeOptions{Filter: eventstore.Filter{Categories: []string{cat}}, BatchSize: 1}, func(context.Context, []eventstore.RecordedEvent) error {
		time.Sleep(10 * time.Millisecond) // let the reader fill its buffer
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Subscribe = %v, want the handler's error", err)
	}
	goleak.VerifyNone(t, ignore)
}
