package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// checkExactlyOnce checks that got holds the IDs of want, each once, in
// log order.
func checkExactlyOnce(t interface {
	Helper()
	Fatalf(string, ...any)
}, got []eventstore.RecordedEvent, want []uuid.UUID) {
	t.Helper()
	seen := map[uuid.UUID]int{}
	for i, e := range got {
		if j, dup := seen[e.ID]; dup {
			t.Fatalf("event %s delivered twice (#%d and #%d)", e.ID, j, i)
		}
		seen[e.ID] = i
	}
	for _, id := range want {
		if _, ok := seen[id]; !ok {
			t.Fatalf("event %s never delivered (%d of %d delivered)", id, len(got), len(want))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("delivered %d events, want %d", len(got), len(want))
	}
}

var subscribeTests = []test{
	{"CatchUp", func(f *fixture) {
		var want []uuid.UUID
		for range 6 {
			evs := Events("Old", 5)
			f.append(f.stream(), eventstore.NoStream, evs...)
			want = append(want, dataIDs(evs)...)
		}
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter()})
		got := sub.waitFor(len(want))
		if !slices.Equal(ids(got), want) {
			f.t.Fatalf("caught up with %v, want %v", ids(got), want)
		}
		checkLogOrder(f.t, got)
		if err := sub.stop(); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("Subscribe returned %v after cancel, want context.Canceled", err)
		}
	}},
	{"FromCheckpoint", func(f *fixture) {
		stream := f.stream()
		evs := Events("A", 20)
		f.append(stream, eventstore.NoStream, evs[:10]...)
		f.append(stream, eventstore.Exact(10), evs[10:]...)
		all := f.readAll(f.catFilter(), 0)
		sub := f.subscribe(eventstore.SubscribeOptions{After: all[6].Position, Filter: f.catFilter()})
		got := sub.waitFor(13)
		if !slices.Equal(ids(got), dataIDs(evs[7:])) {
			f.t.Fatalf("from checkpoint %s: %v, want %v", all[6].Position, ids(got), dataIDs(evs[7:]))
		}
	}},
	{"Live", func(f *fixture) {
		head, err := f.s.Head(f.ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		sub := f.subscribe(eventstore.SubscribeOptions{After: head, Filter: f.catFilter()})
		// Concurrent writers on several streams while the subscriber runs.
		const writers, appends = 4, 10
		var mu sync.Mutex
		var want []uuid.UUID
		var wg sync.WaitGroup
		for range writers {
			stream := f.stream()
			wg.Go(func() {
				for i := range appends {
					evs := Events("Live", 1+i%3)
					if _, err := f.s.Append(f.ctx, stream, eventstore.Any, evs...); err != nil {
						f.t.Error(err)
						return
					}
					mu.Lock()
					want = append(want, dataIDs(evs)...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		// A last event proves that whatever came before has been delivered.
		last := Event("Barrier", 0)
		f.append(f.stream(), eventstore.NoStream, last)
		want = append(want, last.ID)
		got := sub.waitFor(len(want))
		if got[len(got)-1].ID != last.ID {
			f.t.Fatalf("the barrier event is not last")
		}
		checkExactlyOnce(f.t, got, want)
		checkLogOrder(f.t, got)
		if !slices.Equal(ids(got), ids(f.readAll(f.catFilter(), 0))) {
			f.t.Fatal("subscription order differs from ReadAll order")
		}
		if sub.overlaps > 0 {
			f.t.Fatalf("handler called concurrently %d times", sub.overlaps)
		}
	}},
	{"CatchUpThenLive", func(f *fixture) {
		stream := f.stream()
		old := Events("Old", 25)
		f.append(stream, eventstore.NoStream, old...)
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter(), BatchSize: 4})
		sub.waitFor(10)
		fresh := Events("New", 25)
		for i, e := range fresh {
			f.append(stream, eventstore.Exact(uint64(25+i)), e)
		}
		got := sub.waitFor(50)
		checkExactlyOnce(f.t, got, append(dataIDs(old), dataIDs(fresh)...))
		checkLogOrder(f.t, got)
		for _, n := range sub.batches {
			if n < 1 || n > 4 {
				f.t.Fatalf("batch of %d events, BatchSize 4", n)
			}
		}
	}},
	{"FilterLive", func(f *fixture) {
		other := NewCategory()
		filter := eventstore.Filter{Categories: []string{f.cat}, EventTypes: []string{"Wanted"}}
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: filter})
		var want []uuid.UUID
		for i := range 30 {
			w := Event("Wanted", i)
			u := Event("Unwanted", i)
			f.append(f.stream(), eventstore.NoStream, u, w)
			f.append(eventstore.StreamID(other, uuid.New()), eventstore.NoStream, Event("Wanted", i))
			want = append(want, w.ID)
		}
		// A long run of events the filter skips, then one it wants: the
		// subscription must still notice it.
		noise := f.stream()
		for i := range 10 {
			f.append(noise, eventstore.Exact(uint64(i*50)), Events("Unwanted", 50)...)
		}
		last := Event("Wanted", 99)
		f.append(f.stream(), eventstore.NoStream, last)
		want = append(want, last.ID)
		got := sub.waitFor(len(want))
		checkExactlyOnce(f.t, got, want)
		for _, e := range got {
			if !filter.Match(e.StreamID, e.Type) {
				f.t.Fatalf("delivered %s/%s, which the filter rejects", e.StreamID, e.Type)
			}
		}
	}},
	{"BatchSize", func(f *fixture) {
		f.append(f.stream(), eventstore.NoStream, Events("A", 10)...)
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter(), BatchSize: 3})
		sub.waitFor(10)
		sub.stop()
		for _, n := range sub.batches {
			if n < 1 || n > 3 {
				f.t.Fatalf("batch sizes %v, BatchSize 3", sub.batches)
			}
		}
	}},
	{"Resume", func(f *fixture) {
		// A subscriber that stops, then resumes from the last position it
		// handled, sees every event once.
		stream := f.stream()
		evs := Events("A", 30)
		f.append(stream, eventstore.NoStream, evs[:15]...)
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter(), BatchSize: 5})
		sub.waitFor(10)
		sub.stop()
		first, _ := sub.snapshot()
		checkpoint := first[len(first)-1].Position
		f.append(stream, eventstore.Exact(15), evs[15:]...)
		sub2 := f.subscribe(eventstore.SubscribeOptions{After: checkpoint, Filter: f.catFilter()})
		rest := sub2.waitFor(30 - len(first))
		checkExactlyOnce(f.t, append(first, rest...), dataIDs(evs))
	}},
	{"Cancel", func(f *fixture) {
		f.append(f.stream(), eventstore.NoStream, Event("A", 1))
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter()})
		sub.waitFor(1)
		// Now idle and waiting for live events.
		time.Sleep(20 * time.Millisecond)
		err := sub.stop()
		if !errors.Is(err, context.Canceled) {
			f.t.Fatalf("Subscribe returned %v, want context.Canceled", err)
		}
	}},
	{"Deadline", func(f *fixture) {
		ctx, cancel := context.WithTimeout(f.ctx, 50*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- f.s.Subscribe(ctx, eventstore.SubscribeOptions{Filter: f.catFilter()}, func(context.Context, []eventstore.RecordedEvent) error { return nil })
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				f.t.Fatalf("Subscribe returned %v, want context.DeadlineExceeded", err)
			}
		case <-time.After(Wait):
			f.t.Fatal("Subscribe ignored its deadline")
		}
	}},
	{"CancelWhileHandling", func(f *fixture) {
		// The handler sees the subscription's context; when it returns
		// ctx.Err() the subscription ends with it.
		f.append(f.stream(), eventstore.NoStream, Events("A", 5)...)
		started := make(chan struct{}, 1) // buffered: the handler may run before the test waits
		sub := f.subscribeWith(eventstore.SubscribeOptions{Filter: f.catFilter(), BatchSize: 1}, func(ctx context.Context, _ []eventstore.RecordedEvent) error {
			select {
			case started <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return ctx.Err()
		})
		<-started
		if err := sub.stop(); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("Subscribe returned %v, want context.Canceled", err)
		}
	}},
	{"HandlerError", func(f *fixture) {
		f.append(f.stream(), eventstore.NoStream, Events("A", 5)...)
		boom := errors.New("boom")
		calls := 0
		sub := f.subscribeWith(eventstore.SubscribeOptions{Filter: f.catFilter(), BatchSize: 2}, func(context.Context, []eventstore.RecordedEvent) error {
			calls++
			if calls == 2 {
				return fmt.Errorf("projector failed: %w", boom)
			}
			return nil
		})
		if err := sub.result(); !errors.Is(err, boom) {
			f.t.Fatalf("Subscribe returned %v, want the handler's error", err)
		}
		if calls != 2 {
			f.t.Fatalf("handler called %d times after failing, want 2 calls in all", calls)
		}
		if evs, _ := sub.snapshot(); len(evs) != 2 {
			f.t.Fatalf("%d events recorded before the failure, want 2", len(evs))
		}
	}},
	{"ConcurrentSubscribers", func(f *fixture) {
		subs := make([]*subscription, 4)
		for i := range subs {
			subs[i] = f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter(), BatchSize: 1 + i})
		}
		var want []uuid.UUID
		for range 10 {
			evs := Events("A", 3)
			f.append(f.stream(), eventstore.NoStream, evs...)
			want = append(want, dataIDs(evs)...)
		}
		for _, s := range subs {
			got := s.waitFor(len(want))
			checkExactlyOnce(f.t, got, want)
			if !slices.Equal(ids(got), want) {
				f.t.Fatalf("subscribers disagree on order")
			}
		}
	}},
}

var lifecycleTests = []test{
	{"CancelledContext", func(f *fixture) {
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		stream := f.stream()
		if _, err := f.s.Append(ctx, stream, eventstore.Any, Event("A", 1)); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("Append: %v, want context.Canceled", err)
		}
		if v := f.version(stream); v != 0 {
			f.t.Fatalf("append with a cancelled context wrote to version %d", v)
		}
		f.append(stream, eventstore.NoStream, Event("A", 1))
		if _, err := f.s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{}); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("ReadStream: %v, want context.Canceled", err)
		}
		if _, err := f.s.StreamVersion(ctx, stream); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("StreamVersion: %v, want context.Canceled", err)
		}
		if _, err := f.s.ReadAll(ctx, eventstore.ReadAllOptions{}); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("ReadAll: %v, want context.Canceled", err)
		}
		if _, err := f.s.Head(ctx); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("Head: %v, want context.Canceled", err)
		}
		h := func(context.Context, []eventstore.RecordedEvent) error { return nil }
		if err := f.s.Subscribe(ctx, eventstore.SubscribeOptions{}, h); !errors.Is(err, context.Canceled) {
			f.t.Fatalf("Subscribe: %v, want context.Canceled", err)
		}
	}},
	{"Close", func(f *fixture) {
		stream := f.stream()
		f.append(stream, eventstore.NoStream, Event("A", 1))
		sub := f.subscribe(eventstore.SubscribeOptions{Filter: f.catFilter()})
		sub.waitFor(1)
		f.s.Close()
		if err := sub.result(); !errors.Is(err, eventstore.ErrClosed) {
			f.t.Fatalf("running subscription ended with %v, want ErrClosed", err)
		}
		if _, err := f.s.Append(f.ctx, stream, eventstore.Any, Event("A", 2)); !errors.Is(err, eventstore.ErrClosed) {
			f.t.Fatalf("Append after Close: %v, want ErrClosed", err)
		}
		if _, err := f.s.ReadStream(f.ctx, stream, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrClosed) {
			f.t.Fatalf("ReadStream after Close: %v, want ErrClosed", err)
		}
		h := func(context.Context, []eventstore.RecordedEvent) error { return nil }
		if err := f.s.Subscribe(f.ctx, eventstore.SubscribeOptions{}, h); !errors.Is(err, eventstore.ErrClosed) {
			f.t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
		}
		f.s.Close() // twice is fine
	}},
}
