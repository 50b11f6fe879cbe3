package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/pgtest"
)

// capture is a publisher that records what it is given, and can fail once
// after a number of messages (a broker that goes away mid-batch).
type capture struct {
	mu       sync.Mutex
	msgs     []*message.Message
	topics   []string
	failAt   int // fail the publish that would take the count past failAt (0: never)
	failed   bool
	progress chan struct{}
}

func newCapture() *capture { return &capture{progress: make(chan struct{}, 1)} }

func (c *capture) Publish(topic string, msgs ...*message.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		if c.failAt > 0 && !c.failed && len(c.msgs) >= c.failAt {
			c.failed = true
			return errors.New("broker went away")
		}
		c.msgs = append(c.msgs, m)
		c.topics = append(c.topics, topic)
	}
	select {
	case c.progress <- struct{}{}:
	default:
	}
	return nil
}

func (c *capture) Close() error { return nil }

func (c *capture) ids() []uuid.UUID {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]uuid.UUID, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = uuid.MustParse(m.UUID)
	}
	return out
}

// waitFor waits until c holds at least n messages.
func (c *capture) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.msgs)
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-c.progress:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("published %d messages, want %d", got, n)
		}
	}
}

// appendEvents writes n events round-robin over streams of two categories
// and returns their IDs in global order.
func appendEvents(t *testing.T, store eventstore.Store, n int) []uuid.UUID {
	t.Helper()
	ctx := context.Background()
	streams := []string{
		eventstore.StreamID("case", uuid.New()), eventstore.StreamID("complaint", uuid.New()),
		eventstore.StreamID("case", uuid.New()),
	}
	var ids []uuid.UUID
	for i := range n {
		id := uuid.New()
		data, _ := json.Marshal(map[string]int{"i": i})
		_, err := store.Append(ctx, streams[i%len(streams)], eventstore.Any, eventstore.EventData{
			ID: id, Type: "Something", SchemaVersion: 1, Data: data,
			Metadata: eventstore.Metadata{CorrelationID: uuid.New(), Actor: "ann"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

type runningForwarder struct {
	cancel context.CancelFunc
	done   chan error
}

func startForwarder(t *testing.T, store eventstore.Store, pub message.Publisher, cp bus.CheckpointStore, batch int) *runningForwarder {
	t.Helper()
	f, err := bus.NewForwarder(store, pub, cp, bus.ForwarderConfig{
		Name: "events", BatchSize: batch, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningForwarder{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- f.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *runningForwarder) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("forwarder: %v", err)
		}
		r.done <- context.Canceled // stop is idempotent
	case <-time.After(10 * time.Second):
		t.Fatal("forwarder did not stop")
	}
}

// pgStore is the PostgreSQL event store and the checkpoints in one schema.
func pgStore(t *testing.T) (eventstore.Store, *bus.Checkpoints) {
	t.Helper()
	store, cp, _ := pgStoreDB(t)
	return store, cp
}

// pgStoreDB is pgStore with its schema.
func pgStoreDB(t *testing.T) (eventstore.Store, *bus.Checkpoints, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := bus.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return store, bus.NewCheckpoints(db.Pool), db
}

func newCheckpoints(t *testing.T) *bus.Checkpoints {
	t.Helper()
	db := pgtest.New(t)
	if err := bus.Migrate(context.Background(), db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := bus.Migrate(context.Background(), db.Pool); err != nil {
		t.Fatalf("Migrate is not idempotent: %v", err)
	}
	return bus.NewCheckpoints(db.Pool)
}

func TestForwarder(t *testing.T) {
	t.Parallel()

	t.Run("ResumesFromCheckpointAfterRestart", func(t *testing.T) {
		t.Parallel()
		store, cp := pgStore(t)
		want := appendEvents(t, store, 40)

		pub := newCapture()
		first := startForwarder(t, store, pub, cp, 7)
		pub.waitFor(t, 40)
		first.stop(t)

		// While it is down, more events arrive; a new process resumes.
		want = append(want, appendEvents(t, store, 25)...)
		second := startForwarder(t, store, pub, cp, 7)
		pub.waitFor(t, 65)
		second.stop(t)

		assertExactly(t, pub.ids(), want)
		pub.mu.Lock()
		defer pub.mu.Unlock()
		for i, m := range pub.msgs {
			e, err := bus.EventFromMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			if pub.topics[i] != bus.EventTopicPrefix+eventstore.Category(e.StreamID) {
				t.Fatalf("event %d on topic %s, stream %s", i, pub.topics[i], e.StreamID)
			}
			if e.Metadata.Actor != "ann" || e.Version == 0 || e.Position.IsZero() {
				t.Fatalf("envelope %+v", e)
			}
		}
	})

	t.Run("StopMidStreamLosesNothing", func(t *testing.T) {
		t.Parallel()
		store, cp := pgStore(t)
		want := appendEvents(t, store, 60)
		pub := newCapture()
		first := startForwarder(t, store, pub, cp, 5)
		pub.waitFor(t, 12)
		first.stop(t) // wherever it is
		second := startForwarder(t, store, pub, cp, 5)
		pub.waitFor(t, 60)
		second.stop(t)
		assertExactly(t, pub.ids(), want)
	})

	t.Run("BrokerFailureMidBatchRepublishesThatBatchOnly", func(t *testing.T) {
		t.Parallel()
		store, cp := pgStore(t)
		want := appendEvents(t, store, 30)
		pub := newCapture()
		pub.failAt = 13 // inside the third batch of 5
		f := startForwarder(t, store, pub, cp, 5)
		pub.waitFor(t, 33) // 30 + the 3 events of the failed batch published before the failure
		f.stop(t)
		got := pub.ids()
		if len(got) != 33 {
			t.Fatalf("published %d messages, want 33", len(got))
		}
		// At least once: after dedup by message UUID (the event ID), the
		// sequence is exactly the log, in order.
		assertExactly(t, dedupe(got), want)
		for i := 10; i < 13; i++ {
			if got[i] != got[i+3] {
				t.Fatalf("message %d (%s) was not republished at %d (%s)", i, got[i], i+3, got[i+3])
			}
		}
	})

	t.Run("OneForwarderPerNameAcrossProcesses", func(t *testing.T) {
		t.Parallel()
		store, cp := pgStore(t)
		want := appendEvents(t, store, 20)
		pubA, pubB := newCapture(), newCapture()
		a := startForwarder(t, store, pubA, cp, 4)
		pubA.waitFor(t, 20)
		b := startForwarder(t, store, pubB, cp, 4)
		want = append(want, appendEvents(t, store, 5)...)
		pubA.waitFor(t, 25)
		if n := len(pubB.ids()); n != 0 {
			t.Fatalf("the standby forwarder published %d messages", n)
		}
		a.stop(t) // b takes over from a's checkpoint
		want = append(want, appendEvents(t, store, 5)...)
		pubB.waitFor(t, 5)
		b.stop(t)
		assertExactly(t, append(pubA.ids(), pubB.ids()...), want)
	})
}

func dedupe(ids []uuid.UUID) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func assertExactly(t *testing.T, got, want []uuid.UUID) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatal(fmt.Sprintf("event %d is %s, want %s", i, got[i], want[i]))
		}
	}
}

func TestCheckpointsNeverMoveBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cp := newCheckpoints(t)
	if p, err := cp.Load(ctx, "x"); err != nil || !p.IsZero() {
		t.Fatalf("fresh checkpoint = %v, %v", p, err)
	}
	for _, p := range []eventstore.Position{{Commit: 5, Prepare: 9}, {Commit: 5, Prepare: 3}, {Commit: 4, Prepare: 100}} {
		if err := cp.Save(ctx, "x", p); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := cp.Load(ctx, "x"); err != nil || p != (eventstore.Position{Commit: 5, Prepare: 9}) {
		t.Fatalf("checkpoint = %v, %v; want 5/9", p, err)
	}
	if err := cp.Save(ctx, "x", eventstore.Position{Commit: 1 << 63}); err == nil {
		t.Fatal("saved a position beyond bigint")
	}
}
