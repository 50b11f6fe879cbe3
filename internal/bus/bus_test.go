package bus_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/pgtest"
)

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("BUS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testBundle struct {
	bus        *bus.Bus
	store      eventstore.Store
	dispatcher *commands.Dispatcher
	poison     <-chan *message.Message
}

// setup builds an in-process bus serving the thing aggregate's commands.
// extra runs before Run (to add handlers); the bus stops at cleanup.
func setup(t *testing.T, store eventstore.Store, extra func(*bus.Bus)) *testBundle {
	t.Helper()
	d, err := commands.NewDispatcher(store, commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	commands.Register[thing](d, thingCategory, []domain.Command{CreateThing{}, RenameThing{}})
	b, err := bus.New(bus.Config{
		Retry:        bus.RetryConfig{MaxRetries: 2, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
		ReplyTimeout: 10 * time.Second,
		CloseTimeout: 5 * time.Second,
		Logger:       testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ServeCommands(d); err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		extra(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The poison queue has a subscriber so the test can see what lands there.
	poisonSub, err := b.Transport().Subscriber("test.poison")
	if err != nil {
		t.Fatal(err)
	}
	poison, err := poisonSub.Subscribe(ctx, bus.PoisonTopic)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("bus.Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("bus did not stop")
		}
	})
	waitRunning(t, b)
	return &testBundle{bus: b, store: store, dispatcher: d, poison: poison}
}

func waitRunning(t *testing.T, b *bus.Bus) {
	t.Helper()
	select {
	case <-b.Running():
	case <-time.After(10 * time.Second):
		t.Fatal("bus not running")
	}
}

func TestCommandProcessor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("DispatchesAndReplies", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, memory.New(), nil)
		id := uuid.New()
		md := commands.Metadata{CommandID: uuid.New(), Actor: "integration:erp", Role: "system", Source: "erp", Tenant: "acme"}
		r, err := tb.bus.SendWithReply(ctx, CreateThing{ID: id, Name: "pump"}, md)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK || r.Error != nil || r.Version != 1 || r.AggregateID != id || len(r.EventIDs) != 1 || r.Replayed {
			t.Fatalf("reply = %+v", r)
		}
		events, err := tb.store.ReadStream(ctx, eventstore.StreamID(thingCategory, id), eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].ID != r.EventIDs[0] {
			t.Fatalf("stream = %+v", events)
		}
		m := events[0].Metadata
		if m.Actor != "integration:erp" || m.ActorRole != "system" || m.Source != "erp" || m.Tenant != "acme" {
			t.Errorf("event metadata = %+v", m)
		}
		if m.CorrelationID != md.CommandID || m.CausationID != md.CommandID {
			t.Errorf("correlation/causation = %s/%s, want the command ID %s", m.CorrelationID, m.CausationID, md.CommandID)
		}

		// The same command ID again: the original result, nothing written.
		again, err := tb.bus.SendWithReply(ctx, CreateThing{ID: id, Name: "pump"}, md)
		if err != nil {
			t.Fatal(err)
		}
		if !again.OK || !again.Replayed || again.EventIDs[0] != r.EventIDs[0] {
			t.Fatalf("replayed reply = %+v", again)
		}
	})

	t.Run("RefusedCommandIsRepliedAndAcked", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, memory.New(), nil)
		r, err := tb.bus.SendWithReply(ctx, CreateThing{ID: uuid.New()}, commands.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		if r.OK || r.Error == nil || r.Error.Outcome != commands.OutcomeInvalid || len(r.Error.Fields) != 1 || r.Error.Fields[0].Field != "name" {
			t.Fatalf("reply = %+v (error %+v)", r, r.Error)
		}
		r, err = tb.bus.SendWithReply(ctx, RenameThing{ID: uuid.New(), Name: "x"}, commands.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Error == nil || r.Error.Outcome != commands.OutcomeNotFound || r.Error.Code != "thing_not_found" {
			t.Fatalf("reply = %+v (error %+v)", r, r.Error)
		}
		expectNoPoison(t, tb)
	})

	t.Run("SendReturnsOnceHandled", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, memory.New(), nil)
		id := uuid.New()
		// In-process, Send returns after the handler acknowledged.
		if err := tb.bus.Send(ctx, CreateThing{ID: id, Name: "valve"}, commands.Metadata{}); err != nil {
			t.Fatal(err)
		}
		if v, err := tb.store.StreamVersion(ctx, eventstore.StreamID(thingCategory, id)); err != nil || v != 1 {
			t.Fatalf("version = %d, %v", v, err)
		}
	})

	t.Run("MalformedCommandGoesToPoisonQueue", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, memory.New(), nil)
		msg := message.NewMessage(uuid.NewString(), []byte(`{"id": "not-a-uuid", "name": 3}`))
		msg.Metadata.Set(bus.KeyName, "BusTestCreateThing")
		msg.Metadata.Set(bus.KeyKind, bus.KindCommand)
		publishAsync(t, tb, bus.CommandTopicPrefix+"BusTestCreateThing", msg)
		p := expectPoison(t, tb)
		if p.UUID != msg.UUID || p.Metadata.Get(middleware.ReasonForPoisonedKey) == "" ||
			p.Metadata.Get(middleware.PoisonedHandlerKey) != bus.CommandHandlerName("BusTestCreateThing") {
			t.Fatalf("poisoned message = %s %v", p.UUID, p.Metadata)
		}
	})

	t.Run("BadMetadataGoesToPoisonQueue", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, memory.New(), nil)
		msg := message.NewMessage(uuid.NewString(), []byte(`{"id": "`+uuid.NewString()+`", "name": "x"}`))
		msg.Metadata.Set(bus.KeyName, "BusTestCreateThing")
		msg.Metadata.Set(bus.KeyCorrelationID, "nope")
		publishAsync(t, tb, bus.CommandTopicPrefix+"BusTestCreateThing", msg)
		if p := expectPoison(t, tb); p.UUID != msg.UUID {
			t.Fatalf("poisoned %s, want %s", p.UUID, msg.UUID)
		}
	})
}

// publishAsync publishes without waiting: in-process publishing blocks until
// the handler acknowledged, and the handler waits for the test to take the
// poison message.
func publishAsync(t *testing.T, tb *testBundle, topic string, msg *message.Message) {
	t.Helper()
	go func() {
		if err := tb.bus.Publisher().Publish(topic, msg); err != nil {
			t.Errorf("publish: %v", err)
		}
	}()
}

func expectPoison(t *testing.T, tb *testBundle) *message.Message {
	t.Helper()
	select {
	case m := <-tb.poison:
		m.Ack()
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the poison queue")
	}
	return nil
}

func expectNoPoison(t *testing.T, tb *testBundle) {
	t.Helper()
	select {
	case m := <-tb.poison:
		m.Ack()
		t.Fatalf("unexpected poison message %s: %v", m.UUID, m.Metadata)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestEventHandlers: events appended to the store reach an event handler
// group through the forwarder, in order, decoded, with their envelope, and
// commands sent from a handler inherit correlation and causation.
func TestEventHandlers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.New()
	var (
		mu   sync.Mutex
		seen []string
	)
	renamed := make(chan struct{}, 10)
	tb := setup(t, store, func(b *bus.Bus) {
		err := b.AddEventHandlers("test.renamer", thingCategory,
			bus.NewEventHandler(func(ctx context.Context, e ThingCreated, env eventstore.RecordedEvent) error {
				mu.Lock()
				seen = append(seen, "created:"+e.Name)
				mu.Unlock()
				if env.Version != 1 || env.Type != "BusTestThingCreated" {
					t.Errorf("envelope = %+v", env)
				}
				// A process-manager-like reaction: rename, caused by this event.
				return b.Send(ctx, RenameThing{ID: e.ID, Name: e.Name + "!"}, commands.Metadata{
					CommandID: commands.CommandIDFromKey("test", "rename/"+e.ID.String()),
					Actor:     "system:test",
				})
			}),
			bus.NewEventHandler(func(ctx context.Context, e ThingRenamed, env eventstore.RecordedEvent) error {
				mu.Lock()
				seen = append(seen, "renamed:"+e.Name)
				mu.Unlock()
				renamed <- struct{}{}
				return nil
			}),
		)
		if err != nil {
			t.Fatal(err)
		}
		db := pgtest.New(t)
		if err := bus.Migrate(ctx, db.Pool); err != nil {
			t.Fatal(err)
		}
		f, err := bus.NewForwarder(store, b.Publisher(), bus.NewCheckpoints(db.Pool), bus.ForwarderConfig{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		b.AddForwarder(f)
	})

	id := uuid.New()
	corr := uuid.New()
	res, err := tb.dispatcher.Dispatch(ctx, CreateThing{ID: id, Name: "pump"}, commands.Metadata{CorrelationID: corr})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-renamed:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's command was not handled")
	}
	events, err := store.ReadStream(ctx, eventstore.StreamID(thingCategory, id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("stream has %d events", len(events))
	}
	m := events[1].Metadata
	if m.CorrelationID != corr || m.CausationID != res.EventIDs[0] || m.Actor != "system:test" {
		t.Errorf("rename metadata = %+v; want correlation %s, causation %s", m, corr, res.EventIDs[0])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "created:pump" || seen[1] != "renamed:pump!" {
		t.Errorf("seen = %v", seen)
	}
}
