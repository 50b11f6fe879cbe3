// Package storetest is the contract suite every eventstore.Store backend
// passes. A backend's test calls
//
//	storetest.Run(t, func(t *testing.T) eventstore.Store { ... })
//
// The factory returns a store for one test's exclusive use and registers its
// own cleanup (the suite closes the store too, Close must tolerate that). The
// store may share its log with other tests (EventStoreDB's $all is global):
// the suite never assumes an empty log, each test writes to streams of
// categories of its own and reads the global log through a category filter.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// Factory returns a store for one test.
type Factory func(t *testing.T) eventstore.Store

// Wait bounds every wait for a subscription to deliver. It is a safeguard
// against hanging tests, not a speed target: a healthy backend delivers in
// milliseconds.
var Wait = 20 * time.Second

// Options describe where a backend's guarantees legitimately differ.
type Options struct {
	// EventIDsPerStream: the backend checks event IDs within a stream only,
	// as EventStoreDB does (it has no index by event ID). The suite then
	// expects an ID reused in another stream to be written there as a new
	// event, instead of ErrDuplicateEventID; every rule within a stream is
	// tested as for the other backends.
	EventIDsPerStream bool
}

// Run runs the whole contract suite against the stores newStore returns.
func Run(t *testing.T, newStore Factory) { RunWith(t, newStore, Options{}) }

// RunWith runs the whole contract suite with the given options.
func RunWith(t *testing.T, newStore Factory, opts Options) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Append", appendTests},
		{"Idempotency", idempotencyTests},
		{"Concurrency", concurrencyTests},
		{"Validation", validationTests},
		{"ReadStream", readStreamTests},
		{"ReadAll", readAllTests},
		{"Subscribe", subscribeTests},
		{"Lifecycle", lifecycleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := newStore(t)
					t.Cleanup(s.Close)
					f := newFixture(t, s)
					f.opts = opts
					tc.fn(f)
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(f *fixture)
}

// fixture bundles what one test needs.
type fixture struct {
	t     *testing.T
	s     eventstore.Store
	ctx   context.Context
	cat   string              // a category of this test's own
	start eventstore.Position // the head when the test began
	opts  Options
}

func newFixture(t *testing.T, s eventstore.Store) *fixture {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return &fixture{t: t, s: s, ctx: ctx, cat: NewCategory(), start: start}
}

// NewCategory returns a fresh category name ("c" and 12 hex digits).
func NewCategory() string { return "c" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] }

// stream returns a new stream ID in the fixture's category.
func (f *fixture) stream() string { return eventstore.StreamID(f.cat, uuid.New()) }

// Event returns a valid event of type typ whose data records n.
func Event(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          typ,
		SchemaVersion: 1,
		Data:          json.RawMessage(fmt.Sprintf(`{"n": %d, "text": "event %d", "nested": {"ok": true, "list": [1, 2.5, "three"]}}`, n, n)),
		Metadata: eventstore.Metadata{
			CorrelationID: uuid.New(),
			CausationID:   uuid.New(),
			Actor:         "user-42",
			ActorRole:     "sales",
			Source:        "storetest",
			Tenant:        "acme",
			OccurredAt:    time.Date(2025, 3, 3, 9, 30, 0, 123456789, time.UTC),
			Extra:         map[string]string{"n": fmt.Sprint(n)},
		},
	}
}

// Events returns n valid events of type typ numbered from 1.
func Events(typ string, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = Event(typ, i+1)
	}
	return out
}

func (f *fixture) append(stream string, exp eventstore.ExpectedVersion, events ...eventstore.EventData) eventstore.AppendResult {
	f.t.Helper()
	res, err := f.s.Append(f.ctx, stream, exp, events...)
	if err != nil {
		f.t.Fatalf("Append(%q, %s, %d events): %v", stream, exp, len(events), err)
	}
	return res
}

func (f *fixture) readStream(stream string, opts eventstore.ReadStreamOptions) []eventstore.RecordedEvent {
	f.t.Helper()
	evs, err := f.s.ReadStream(f.ctx, stream, opts)
	if err != nil {
		f.t.Fatalf("ReadStream(%q, %+v): %v", stream, opts, err)
	}
	return evs
}

func (f *fixture) version(stream string) uint64 {
	f.t.Helper()
	v, err := f.s.StreamVersion(f.ctx, stream)
	if err != nil {
		f.t.Fatalf("StreamVersion(%q): %v", stream, err)
	}
	return v
}

// settle waits until ReadAll returns everything appended so far: it reads
// the log written since the test began, unfiltered, until it reaches the
// head. (A backend may hold back events while older transactions run.)
func (f *fixture) settle() {
	f.t.Helper()
	head, err := f.s.Head(f.ctx)
	if err != nil {
		f.t.Fatalf("Head: %v", err)
	}
	after := f.start
	deadline := time.Now().Add(Wait)
	for after.Less(head) {
		evs, err := f.s.ReadAll(f.ctx, eventstore.ReadAllOptions{After: after})
		if err != nil {
			f.t.Fatalf("ReadAll(after %s): %v", after, err)
		}
		if len(evs) > 0 {
			after = evs[len(evs)-1].Position
			continue
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("ReadAll did not reach the head %s in %v (stuck at %s)", head, Wait, after)
		}
		time.Sleep(time.Millisecond)
	}
}

// readAll pages through the global log with filter (which must name
// categories of this test) and returns everything appended so far.
func (f *fixture) readAll(filter eventstore.Filter, page int) []eventstore.RecordedEvent {
	f.t.Helper()
	f.settle()
	var out []eventstore.RecordedEvent
	after := eventstore.Start
	for i := 0; ; i++ {
		evs, err := f.s.ReadAll(f.ctx, eventstore.ReadAllOptions{After: after, Limit: page, Filter: filter})
		if err != nil {
			f.t.Fatalf("ReadAll(after %s): %v", after, err)
		}
		if len(evs) == 0 {
			return out
		}
		if page > 0 && len(evs) > page {
			f.t.Fatalf("ReadAll returned %d events, limit %d", len(evs), page)
		}
		out = append(out, evs...)
		after = evs[len(evs)-1].Position
		if i > 100000 {
			f.t.Fatal("ReadAll does not end")
		}
	}
}

func (f *fixture) catFilter() eventstore.Filter {
	return eventstore.Filter{Categories: []string{f.cat}}
}

// wantVersionError checks err is a *VersionError with the given actual version.
func wantVersionError(t *testing.T, err error, stream string, exp eventstore.ExpectedVersion, actual uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("error = %v, want ErrWrongExpectedVersion", err)
	}
	var ve *eventstore.VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *VersionError", err)
	}
	if ve.StreamID != stream || ve.Expected != exp || ve.Actual != actual {
		t.Fatalf("VersionError = {%q, %s, %d}, want {%q, %s, %d}", ve.StreamID, ve.Expected, ve.Actual, stream, exp, actual)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// JSONEqual reports whether two JSON documents have the same value.
func JSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// sameEvent checks a recorded event against what was appended.
func sameEvent(t *testing.T, got eventstore.RecordedEvent, want eventstore.EventData, stream string, version uint64) {
	t.Helper()
	if got.ID != want.ID || got.StreamID != stream || got.Version != version || got.Type != want.Type || got.SchemaVersion != want.SchemaVersion {
		t.Fatalf("event = {id %s, stream %q, v%d, %s/%d}, want {id %s, stream %q, v%d, %s/%d}",
			got.ID, got.StreamID, got.Version, got.Type, got.SchemaVersion, want.ID, stream, version, want.Type, want.SchemaVersion)
	}
	if !JSONEqual(got.Data, want.Data) {
		t.Fatalf("event %s data = %s, want %s", got.ID, got.Data, want.Data)
	}
	gm, wm := got.Metadata, want.Metadata
	if !gm.OccurredAt.Equal(wm.OccurredAt) {
		t.Fatalf("event %s occurred at %v, want %v", got.ID, gm.OccurredAt, wm.OccurredAt)
	}
	gm.OccurredAt, wm.OccurredAt = time.Time{}, time.Time{}
	if len(gm.Extra) == 0 && len(wm.Extra) == 0 {
		gm.Extra, wm.Extra = nil, nil
	}
	if !reflect.DeepEqual(gm, wm) {
		t.Fatalf("event %s metadata = %+v, want %+v", got.ID, gm, wm)
	}
	if got.Position.IsZero() {
		t.Fatalf("event %s has no position", got.ID)
	}
	if got.RecordedAt.IsZero() || got.RecordedAt.Location() != time.UTC {
		t.Fatalf("event %s recorded at %v, want a UTC time", got.ID, got.RecordedAt)
	}
	if d := time.Since(got.RecordedAt); d > time.Hour || d < -time.Hour {
		t.Fatalf("event %s recorded at %v, far from now", got.ID, got.RecordedAt)
	}
}

// checkLogOrder checks events are in strictly increasing Position order and
// that each stream's versions increase by one, starting at firstVersion[stream]
// (1 when absent).
func checkLogOrder(t *testing.T, events []eventstore.RecordedEvent) {
	t.Helper()
	last := map[string]uint64{}
	for i, e := range events {
		if i > 0 && !events[i-1].Position.Less(e.Position) {
			t.Fatalf("event %d at %s does not come after %s", i, e.Position, events[i-1].Position)
		}
		if prev, ok := last[e.StreamID]; ok && e.Version != prev+1 {
			t.Fatalf("stream %q: version %d follows %d", e.StreamID, e.Version, prev)
		}
		last[e.StreamID] = e.Version
	}
}

func ids(events []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func dataIDs(events []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// collector records what a subscription delivers.
type collector struct {
	mu       sync.Mutex
	events   []eventstore.RecordedEvent
	batches  []int
	changed  chan struct{}
	inside   int // handlers running now, to catch concurrent calls
	overlaps int
	handle   func(ctx context.Context, events []eventstore.RecordedEvent) error // optional hook
}

func (c *collector) handler(ctx context.Context, events []eventstore.RecordedEvent) error {
	c.mu.Lock()
	c.inside++
	if c.inside > 1 {
		c.overlaps++
	}
	c.mu.Unlock()
	var err error
	if c.handle != nil {
		err = c.handle(ctx, events)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inside--
	if err != nil {
		return err
	}
	c.events = append(c.events, events...)
	c.batches = append(c.batches, len(events))
	close(c.changed)
	c.changed = make(chan struct{})
	return nil
}

func (c *collector) snapshot() ([]eventstore.RecordedEvent, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events), c.changed
}

// subscription is a running Subscribe call.
type subscription struct {
	*collector
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
}

func (f *fixture) subscribe(opts eventstore.SubscribeOptions) *subscription {
	return f.subscribeWith(opts, nil)
}

func (f *fixture) subscribeWith(opts eventstore.SubscribeOptions, hook func(context.Context, []eventstore.RecordedEvent) error) *subscription {
	ctx, cancel := context.WithCancel(f.ctx)
	s := &subscription{
		collector: &collector{changed: make(chan struct{}), handle: hook},
		t:         f.t,
		cancel:    cancel,
		done:      make(chan error, 1),
	}
	go func() { s.done <- f.s.Subscribe(ctx, opts, s.handler) }()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(Wait):
			f.t.Error("Subscribe did not return after its context was cancelled")
		}
	})
	return s
}

// waitFor waits until the subscription has delivered at least n events and
// returns them. It fails the test if the subscription ends first.
func (s *subscription) waitFor(n int) []eventstore.RecordedEvent {
	s.t.Helper()
	deadline := time.After(Wait)
	for {
		evs, changed := s.snapshot()
		if len(evs) >= n {
			return evs
		}
		select {
		case <-changed:
		case err := <-s.done:
			s.done <- err
			s.t.Fatalf("subscription ended after %d of %d events: %v", len(evs), n, err)
		case <-deadline:
			s.t.Fatalf("subscription delivered %d of %d events in %v", len(evs), n, Wait)
		}
	}
}

// stop cancels the subscription and returns what Subscribe returned.
func (s *subscription) stop() error {
	s.t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(Wait):
		s.t.Fatalf("Subscribe did not return within %v of cancellation", Wait)
		return nil
	}
}

// result waits for Subscribe to return on its own.
func (s *subscription) result() error {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(Wait):
		s.t.Fatalf("Subscribe did not return within %v", Wait)
		return nil
	}
}
