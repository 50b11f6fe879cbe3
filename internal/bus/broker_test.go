package bus_test

// Integration tests of the broker transports against real servers on
// loopback. scripts/brokers-up.sh starts NATS (JetStream) and RabbitMQ, and
// `make test` sets EVCRM_TEST_NATS_URL and EVCRM_TEST_AMQP_URL; without them
// the tests skip. Every test works in a namespace of its own (a random
// prefix of every subject, stream, exchange and queue), so nothing left on
// the brokers by an earlier run can reach it, and deletes what it created.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/bus"
)

type broker struct{ name, transport, urlEnv string }

var brokers = []broker{
	{"NATS", bus.TransportNATS, "EVCRM_TEST_NATS_URL"},
	{"AMQP", bus.TransportAMQP, "EVCRM_TEST_AMQP_URL"},
}

// brokerTestTimeout bounds each broker test, waits included.
const brokerTestTimeout = 60 * time.Second

// TestBrokers runs the same table against each broker.
func TestBrokers(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*testing.T, *brokerEnv){
		"ForwarderPublishesTheLogInOrder":  testBrokerForwarder,
		"CommandRepliedFromAnotherProcess": testBrokerCommandReply,
		"OneHandlerNameSharesTheWork":      testBrokerSharedHandler,
		"GroupResumesWhereItStopped":       testBrokerResume,
		"MetadataSurvivesTheBroker":        testBrokerMetadata,
	}
	for _, br := range brokers {
		t.Run(br.name, func(t *testing.T) {
			t.Parallel()
			url := os.Getenv(br.urlEnv)
			if url == "" {
				t.Skipf("%s is not set: `make test` starts the brokers (scripts/brokers-up.sh) and sets it", br.urlEnv)
			}
			for name, test := range tests {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					test(t, newBrokerEnv(t, br, url))
				})
			}
		})
	}
}

// brokerEnv is one test's view of a broker: its namespace, its deadline,
// and what to delete at the end.
type brokerEnv struct {
	transport, url, namespace string
	ctx                       context.Context

	mu                sync.Mutex
	exchanges, queues []string // AMQP names to delete (AMQP cannot list them)
}

func newBrokerEnv(t *testing.T, br broker, url string) *brokerEnv {
	ctx, cancel := context.WithTimeout(context.Background(), brokerTestTimeout)
	t.Cleanup(cancel)
	e := &brokerEnv{
		transport: br.transport,
		url:       url,
		namespace: "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12],
		ctx:       ctx,
	}
	// Registered first, so it runs last: after every bus has stopped.
	t.Cleanup(func() { e.cleanup(t) })
	return e
}

func (e *brokerEnv) config(t *testing.T) bus.Config {
	return bus.Config{
		Transport:    e.transport,
		URL:          e.url,
		Namespace:    e.namespace,
		Retry:        bus.RetryConfig{MaxRetries: 2, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond},
		ReplyTimeout: 20 * time.Second,
		CloseTimeout: 10 * time.Second,
		Logger:       testLogger(t),
	}
}

// uses records a topic and the handlers subscribed to it, for the AMQP
// clean-up (see transport_amqp.go for the names).
func (e *brokerEnv) uses(topic string, handlers ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	exchange := e.namespace + "." + topic
	e.exchanges = append(e.exchanges, exchange)
	for _, h := range handlers {
		e.queues = append(e.queues, exchange+"_"+h)
	}
}

func (e *brokerEnv) cleanup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	switch e.transport {
	case bus.TransportNATS:
		nc, err := nats.Connect(e.url)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer nc.Close()
		js, err := nc.JetStream(nats.Context(ctx))
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		var names []string
		for name := range js.StreamNames(nats.Context(ctx)) {
			if strings.HasPrefix(name, e.namespace+"_") {
				names = append(names, name)
			}
		}
		for _, name := range names {
			if err := js.DeleteStream(name, nats.Context(ctx)); err != nil {
				t.Logf("cleanup: deleting stream %s: %v", name, err)
			}
		}
	case bus.TransportAMQP:
		conn, err := amqp091.Dial(e.url)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close()
		e.mu.Lock()
		defer e.mu.Unlock()
		// A failed operation closes its channel: one channel each.
		do := func(what, name string, op func(*amqp091.Channel) error) {
			ch, err := conn.Channel()
			if err == nil {
				err = op(ch)
				ch.Close()
			}
			if err != nil {
				t.Logf("cleanup: deleting %s %s: %v", what, name, err)
			}
		}
		for _, q := range e.queues {
			do("queue", q, func(ch *amqp091.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
		}
		for _, x := range e.exchanges {
			do("exchange", x, func(ch *amqp091.Channel) error { return ch.ExchangeDelete(x, false, false) })
		}
	}
}

// process is one evcrm process on the broker: a bus that runs until stop
// (or the end of the test).
type process struct {
	bus    *bus.Bus
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func (e *brokerEnv) start(t *testing.T, setup func(*bus.Bus)) *process {
	t.Helper()
	b, err := bus.New(e.config(t))
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{bus: b, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- b.Run(ctx) }()
	t.Cleanup(func() { p.stop(t) })
	select {
	case <-b.Running():
	case err := <-p.done:
		t.Fatalf("bus stopped: %v", err)
	case <-e.ctx.Done():
		t.Fatal("bus not running")
	}
	return p
}

func (p *process) stop(t *testing.T) {
	p.once.Do(func() {
		p.cancel()
		select {
		case err := <-p.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("bus.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("bus did not stop")
		}
	})
}

// client is a process that only sends: a bus that is never run.
func (e *brokerEnv) client(t *testing.T) *bus.Bus {
	t.Helper()
	b, err := bus.New(e.config(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// eventually polls cond until it holds or the test's deadline passes.
func (e *brokerEnv) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newThingDispatcher(t *testing.T, store eventstore.Store) *commands.Dispatcher {
	t.Helper()
	d, err := commands.NewDispatcher(store, commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	commands.Register[thing](d, thingCategory, []domain.Command{CreateThing{}, RenameThing{}})
	return d
}

// usesThingCommands records the command, reply and poison topics of the
// thing aggregate's commands.
func (e *brokerEnv) usesThingCommands() {
	for _, c := range []string{"BusTestCreateThing", "BusTestRenameThing"} {
		e.uses(bus.CommandTopicPrefix+c, bus.CommandHandlerName(c))
		e.uses(bus.ReplyTopicPrefix + c)
	}
	e.uses(bus.PoisonTopic)
}

// flakyCheckpoints fails one Save: a forwarder that crashed after
// publishing a batch and before checkpointing it.
type flakyCheckpoints struct {
	bus.CheckpointStore
	mu     sync.Mutex
	saves  int
	failAt int
}

func (c *flakyCheckpoints) Save(ctx context.Context, name string, p eventstore.Position) error {
	c.mu.Lock()
	c.saves++
	fail := c.saves == c.failAt
	c.mu.Unlock()
	if fail {
		return errors.New("crashed before saving the checkpoint")
	}
	return c.CheckpointStore.Save(ctx, name, p)
}

// forwardingProcess runs a forwarder on a transport of its own, as the
// process that forwards the log would.
type forwardingProcess struct {
	fwd       *runningForwarder
	closeOnce sync.Once
	transport bus.Transport
}

func (e *brokerEnv) forward(t *testing.T, store eventstore.Store, cp bus.CheckpointStore, batch int) *forwardingProcess {
	t.Helper()
	tr, err := bus.NewTransport(e.config(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &forwardingProcess{transport: tr}
	t.Cleanup(func() { p.stop(t) })
	p.fwd = startForwarder(t, store, tr.Publisher(), cp, batch)
	return p
}

func (p *forwardingProcess) stop(t *testing.T) {
	p.fwd.stop(t)
	p.closeOnce.Do(func() {
		if err := p.transport.Close(); err != nil {
			t.Errorf("closing the forwarder's transport: %v", err)
		}
	})
}

// testBrokerForwarder: the forwarder publishes the PostgreSQL event store's
// global log to the broker and a consumer in another process receives each
// event, in order per stream, with its ID as message UUID and its stable
// type name, across a crash between publishing and checkpointing and a
// restart of the forwarder half-way.
func testBrokerForwarder(t *testing.T, e *brokerEnv) {
	store, cp := pgStore(t)
	categories := []string{"case", "complaint"}
	for _, c := range categories {
		e.uses(bus.EventTopicPrefix+c, "test.consumer."+c)
	}
	e.uses(bus.PoisonTopic)

	var (
		mu  sync.Mutex
		got = map[string][]eventstore.RecordedEvent{}
	)
	unique := func() int {
		mu.Lock()
		defer mu.Unlock()
		seen := map[uuid.UUID]bool{}
		for _, es := range got {
			for _, ev := range es {
				seen[ev.ID] = true
			}
		}
		return len(seen)
	}
	e.start(t, func(b *bus.Bus) {
		for _, c := range categories {
			err := b.AddEventConsumer("test.consumer."+c, c, func(_ context.Context, ev domain.Event, env eventstore.RecordedEvent) error {
				mu.Lock()
				got[c] = append(got[c], env)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	// appendEvents writes round-robin to streams case, complaint, case.
	var want []uuid.UUID
	wantCat := map[string][]uuid.UUID{}
	add := func(n int) {
		ids := appendEvents(t, store, n)
		for i, id := range ids {
			c := "case"
			if i%3 == 1 {
				c = "complaint"
			}
			wantCat[c] = append(wantCat[c], id)
		}
		want = append(want, ids...)
	}

	const batch = 7
	add(40)
	// The second checkpoint fails: batch 2 (events 8..14) is published
	// again by the restarted subscription.
	first := e.forward(t, store, &flakyCheckpoints{CheckpointStore: cp, failAt: 2}, batch)
	e.eventually(t, "half of the first 40 events", func() bool { return unique() >= 20 })
	first.stop(t) // wherever it is
	add(25)       // written while no forwarder runs
	second := e.forward(t, store, cp, batch)
	e.eventually(t, "all 65 events", func() bool { return unique() == len(want) })
	second.stop(t)
	time.Sleep(100 * time.Millisecond) // anything published twice has arrived by now

	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, c := range categories {
		ids := make([]uuid.UUID, len(got[c]))
		for i, ev := range got[c] {
			ids[i] = ev.ID
			if ev.Type != "Something" || ev.SchemaVersion != 1 || ev.Metadata.Actor != "ann" ||
				ev.Metadata.CorrelationID == uuid.Nil || ev.Position.IsZero() || eventstore.Category(ev.StreamID) != c {
				t.Fatalf("%s event %d: envelope %+v", c, i, ev)
			}
		}
		total += len(ids)
		assertExactly(t, dedupe(ids), wantCat[c])
		// In order per stream: versions 1, 2, 3... once duplicates are dropped.
		versions := map[string]uint64{}
		seen := map[uuid.UUID]bool{}
		for _, ev := range got[c] {
			if seen[ev.ID] {
				continue
			}
			seen[ev.ID] = true
			if ev.Version != versions[ev.StreamID]+1 {
				t.Fatalf("stream %s: version %d after %d", ev.StreamID, ev.Version, versions[ev.StreamID])
			}
			versions[ev.StreamID] = ev.Version
		}
	}
	switch e.transport {
	case bus.TransportNATS:
		// JetStream drops the republished batch by event ID (Nats-Msg-Id).
		if total != len(want) {
			t.Errorf("received %d messages for %d events: duplicates got through", total, len(want))
		}
	default:
		// At least once: the republished batch, at most.
		if total < len(want) || total > len(want)+batch {
			t.Errorf("received %d messages for %d events", total, len(want))
		}
	}
	t.Logf("%d events forwarded, %d messages received", len(want), total)
}

// testBrokerCommandReply: a command sent over the broker by one process is
// dispatched by the command processor of another, and the reply comes back.
func testBrokerCommandReply(t *testing.T, e *brokerEnv) {
	e.usesThingCommands()
	store := memory.New()
	e.start(t, func(b *bus.Bus) {
		if err := b.ServeCommands(newThingDispatcher(t, store)); err != nil {
			t.Fatal(err)
		}
	})
	client := e.client(t)

	id := uuid.New()
	md := commands.Metadata{CommandID: uuid.New(), Actor: "integration:erp", Role: "system", Source: "erp", Tenant: "acme"}
	r, err := client.SendWithReply(e.ctx, CreateThing{ID: id, Name: "pump"}, md)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Error != nil || r.Version != 1 || r.AggregateID != id || len(r.EventIDs) != 1 || r.Replayed {
		t.Fatalf("reply = %+v", r)
	}
	events, err := store.ReadStream(e.ctx, eventstore.StreamID(thingCategory, id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].ID != r.EventIDs[0] {
		t.Fatalf("stream = %+v", events)
	}
	if m := events[0].Metadata; m.Actor != "integration:erp" || m.ActorRole != "system" || m.Source != "erp" ||
		m.Tenant != "acme" || m.CorrelationID != md.CommandID {
		t.Errorf("event metadata = %+v", m)
	}

	// The same command ID again (a sender that timed out and retries): the
	// broker delivers it, the handler replays the original result.
	again, err := client.SendWithReply(e.ctx, CreateThing{ID: id, Name: "pump"}, md)
	if err != nil {
		t.Fatal(err)
	}
	if !again.OK || !again.Replayed || len(again.EventIDs) != 1 || again.EventIDs[0] != r.EventIDs[0] {
		t.Fatalf("replayed reply = %+v", again)
	}

	// Refusals come back as replies.
	r, err = client.SendWithReply(e.ctx, CreateThing{ID: uuid.New()}, commands.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Error == nil || r.Error.Outcome != commands.OutcomeInvalid || len(r.Error.Fields) != 1 {
		t.Fatalf("reply = %+v (error %+v)", r, r.Error)
	}
	r, err = client.SendWithReply(e.ctx, RenameThing{ID: uuid.New(), Name: "x"}, commands.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Error == nil || r.Error.Outcome != commands.OutcomeNotFound || r.Error.Code != "thing_not_found" {
		t.Fatalf("reply = %+v (error %+v)", r, r.Error)
	}

	// Concurrent requests each get their own reply.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := uuid.New()
			r, err := client.SendWithReply(e.ctx, CreateThing{ID: id, Name: fmt.Sprint("valve ", i)}, commands.Metadata{})
			if err != nil || !r.OK || r.AggregateID != id {
				t.Errorf("concurrent request %d: %+v, %v", i, r, err)
			}
		}()
	}
	wg.Wait()
}

// countingDispatcher records which process dispatched each command (once
// dispatched), and takes its time, as real handlers do.
type countingDispatcher struct {
	*commands.Dispatcher
	process string
	delay   time.Duration
	record  func(commandID uuid.UUID, process string)
}

func (d countingDispatcher) Dispatch(ctx context.Context, cmd domain.Command, md commands.Metadata) (commands.Result, error) {
	time.Sleep(d.delay)
	res, err := d.Dispatcher.Dispatch(ctx, cmd, md)
	d.record(md.CommandID, d.process)
	return res, err
}

// testBrokerSharedHandler: two processes serving the same commands (same
// handler names) share one queue: each command is handled once, by one of
// them; when one stops, the other takes over at once.
func testBrokerSharedHandler(t *testing.T, e *brokerEnv) {
	e.usesThingCommands()
	store := memory.New() // the database both processes share
	var (
		mu      sync.Mutex
		handled = map[uuid.UUID][]string{}
	)
	record := func(id uuid.UUID, process string) {
		mu.Lock()
		defer mu.Unlock()
		handled[id] = append(handled[id], process)
	}
	countHandled := func(ids []uuid.UUID) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, id := range ids {
			if len(handled[id]) > 0 {
				n++
			}
		}
		return n
	}
	serve := func(name string) func(*bus.Bus) {
		return func(b *bus.Bus) {
			d := countingDispatcher{Dispatcher: newThingDispatcher(t, store), process: name, delay: 10 * time.Millisecond, record: record}
			if err := b.ServeCommands(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := e.start(t, serve("a"))
	e.start(t, serve("b"))
	client := e.client(t)

	things := map[uuid.UUID]uuid.UUID{} // command ID → thing ID
	send := func(n int) []uuid.UUID {
		var ids []uuid.UUID
		for i := range n {
			cmdID, thingID := uuid.New(), uuid.New()
			if err := client.Send(e.ctx, CreateThing{ID: thingID, Name: fmt.Sprint("thing ", i)}, commands.Metadata{CommandID: cmdID}); err != nil {
				t.Fatal(err)
			}
			things[cmdID] = thingID
			ids = append(ids, cmdID)
		}
		return ids
	}

	first := send(20)
	e.eventually(t, "the first 20 commands handled", func() bool { return countHandled(first) == len(first) })
	time.Sleep(200 * time.Millisecond) // a duplicate delivery would show by now
	mu.Lock()
	by := map[string]int{}
	for _, id := range first {
		if len(handled[id]) != 1 {
			t.Errorf("command %s handled by %v, want exactly one process", id, handled[id])
		}
		by[handled[id][0]]++
	}
	mu.Unlock()
	t.Logf("first 20 commands handled by %v", by)

	// One process stops while commands keep coming: the other takes over,
	// well before a broker's ack deadline would hand the work over.
	second := send(20)
	e.eventually(t, "some of the next commands handled", func() bool { return countHandled(second) >= 3 })
	stopped := time.Now()
	a.stop(t)
	e.eventually(t, "every command handled after process a stopped", func() bool { return countHandled(second) == len(second) })
	if took := time.Since(stopped); took > 15*time.Second {
		t.Errorf("the survivor took %v to handle the rest", took)
	}
	// At least once on a hand-over, but applied once: one event per thing.
	for _, id := range append(first, second...) {
		v, err := store.StreamVersion(e.ctx, eventstore.StreamID(thingCategory, things[id]))
		if err != nil || v != 1 {
			t.Errorf("thing of command %s at version %d (%v), want 1", id, v, err)
		}
	}
}

// testBrokerResume: when every process of a handler has stopped, what is
// sent meanwhile waits on the broker, and the next process resumes where
// the group stopped: nothing lost, nothing handled again.
func testBrokerResume(t *testing.T, e *brokerEnv) {
	e.usesThingCommands()
	store := memory.New()
	var (
		mu      sync.Mutex
		handled = map[uuid.UUID]int{}
	)
	serve := func(b *bus.Bus) {
		d := countingDispatcher{Dispatcher: newThingDispatcher(t, store), record: func(id uuid.UUID, _ string) {
			mu.Lock()
			handled[id]++
			mu.Unlock()
		}}
		if err := b.ServeCommands(d); err != nil {
			t.Fatal(err)
		}
	}
	client := e.client(t)
	var ids []uuid.UUID
	send := func(n int) {
		for range n {
			id := uuid.New()
			if err := client.Send(e.ctx, CreateThing{ID: uuid.New(), Name: "x"}, commands.Metadata{CommandID: id}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	all := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if handled[id] == 0 {
				return false
			}
		}
		return true
	}

	first := e.start(t, serve)
	send(5)
	e.eventually(t, "the first commands handled", all)
	first.stop(t)
	send(5) // nobody serves these yet
	e.start(t, serve)
	e.eventually(t, "the commands sent while no process served them", all)
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i, id := range ids {
		if handled[id] != 1 {
			t.Errorf("command %d handled %d times", i, handled[id])
		}
	}
}

// testBrokerMetadata: a message's UUID, payload and metadata arrive exactly
// as sent, hostile values included.
func testBrokerMetadata(t *testing.T, e *brokerEnv) {
	const topic = "evcrm.test.metadata"
	e.uses(topic, "test.metadata")
	tr, err := bus.NewTransport(e.config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	sub, err := tr.Subscriber("test.metadata")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(e.ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	md := message.Metadata{
		bus.KeyName:       "CaseOpened",
		bus.KeyActor:      "  padded\t",
		"x-note":          "line one\r\nline two",
		"x-empty":         "",
		"x-spaced key":    "v",
		"x-colon:key":     "v",
		"Nats-Msg-Id":     "forged",
		"_evcrm_metadata": "forged",
		"x-unicode":       "Zürich – ok",
		"x-long":          strings.Repeat("é", 2000),
	}
	sent := message.NewMessage(uuid.NewString(), []byte(`{"payload":"\u0000 bytes \r\n"}`))
	for k, v := range md {
		sent.Metadata.Set(k, v)
	}
	if err := tr.Publisher().Publish(topic, sent); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-msgs:
		got.Ack()
		if got.UUID != sent.UUID || string(got.Payload) != string(sent.Payload) {
			t.Fatalf("got %s %q", got.UUID, got.Payload)
		}
		var keys []string
		for k, v := range md {
			keys = append(keys, k)
			if got.Metadata[k] != v {
				t.Errorf("metadata %q = %q, want %q", k, got.Metadata[k], v)
			}
		}
		for k := range got.Metadata {
			if !slices.Contains(keys, k) {
				t.Errorf("unexpected metadata %q = %q", k, got.Metadata[k])
			}
		}
	case <-e.ctx.Done():
		t.Fatal("the message did not arrive")
	}
}
