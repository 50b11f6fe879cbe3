package projectiontest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// Scenario writes a deterministic event history through the real
// aggregates: each command is decided against the stream's current state at
// the scenario's clock, and the events it decides are appended with
// metadata (actor, occurred-at) and event IDs derived from a counter. The
// same scenario code always writes the same log.
type Scenario struct {
	tb    testing.TB
	Store eventstore.Store
	// Now is the decision time of the next command; advance it with Advance.
	Now time.Time
	// Actor and Role stamp the metadata of the next events.
	Actor, Role string
	// Tenant stamps the metadata of the next events (default Tenant).
	Tenant string

	// Via, when set, sends every command of Do and Try through the real
	// command path instead of deciding it here (Mutate, when set, first
	// rewrites the command). It returns the number of events recorded, or
	// the refusal; Last then is the position it returns.
	Via func(ctx context.Context, cmd domain.Command, occurredAt time.Time) (int, eventstore.Position, error)
	// Mutate rewrites each command before it is decided (nil: as is).
	Mutate func(cmd domain.Command) domain.Command

	states   map[string]domain.Decider
	versions map[string]uint64
	n        int
	last     eventstore.Position
}

// NewScenario starts a scenario at now.
func NewScenario(tb testing.TB, store eventstore.Store, now time.Time) *Scenario {
	return &Scenario{tb: tb, Store: store, Now: now.UTC(), Actor: "user:test", Role: "admin", Tenant: Tenant,
		states: map[string]domain.Decider{}, versions: map[string]uint64{}}
}

// Tenant is the tenant of a scenario's events unless it says otherwise.
const Tenant = "acme"

// Advance moves the clock forward.
func (s *Scenario) Advance(d time.Duration) *Scenario { s.Now = s.Now.Add(d); return s }

// Last is the position of the last event appended.
func (s *Scenario) Last() eventstore.Position { return s.last }

// ID returns a stable UUID for a name, so scenarios can refer to things by name.
func ID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("evcrm-test/"+name))
}

// Do decides cmd on the aggregate whose state is S (streams
// "<category>-<id>") and appends the events; a refused command fails the
// test. It returns the events decided.
func Do[S any, P interface {
	*S
	domain.Decider
}](s *Scenario, category string, cmd domain.Command) []domain.Event {
	s.tb.Helper()
	evs, err := Try[S, P](s, category, cmd)
	if err != nil {
		s.tb.Fatalf("%s %s: %v", cmd.CommandType(), cmd.AggregateID(), err)
	}
	return evs
}

// Try is Do, returning the aggregate's refusal instead of failing.
func Try[S any, P interface {
	*S
	domain.Decider
}](s *Scenario, category string, cmd domain.Command) ([]domain.Event, error) {
	s.tb.Helper()
	if s.Mutate != nil {
		cmd = s.Mutate(cmd)
	}
	if s.Via != nil {
		n, pos, err := s.Via(context.Background(), cmd, s.Now)
		if err != nil || n == 0 {
			return nil, err
		}
		if s.last.Less(pos) {
			s.last = pos
		}
		// The events are in the store; their payloads are not returned.
		return make([]domain.Event, n), nil
	}
	stream := category + "-" + cmd.AggregateID().String()
	st, ok := s.states[stream]
	if !ok {
		st = P(new(S))
		s.states[stream] = st
	}
	evs, err := st.Decide(cmd, s.Now)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, nil
	}
	data := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		typ, ver, raw, err := domain.Events.Encode(e)
		if err != nil {
			s.tb.Fatalf("encoding %T: %v", e, err)
		}
		s.n++
		data[i] = eventstore.EventData{
			ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte("evcrm-test-event/"+strconv.Itoa(s.n))), Type: typ, SchemaVersion: ver, Data: raw,
			Metadata: eventstore.Metadata{Actor: s.Actor, ActorRole: s.Role, Source: "test", Tenant: s.Tenant, OccurredAt: s.Now,
				CorrelationID: uuid.NewSHA1(uuid.NameSpaceOID, []byte("evcrm-test-command/"+strconv.Itoa(s.n)))},
		}
	}
	res, err := s.Store.Append(context.Background(), stream, eventstore.Exact(s.versions[stream]), data...)
	if err != nil {
		s.tb.Fatalf("appending to %s: %v", stream, err)
	}
	for _, e := range evs {
		st.Apply(e)
	}
	s.versions[stream] = res.Version
	s.last = res.Position
	return evs, nil
}

// Raw appends an event as is (for events no command decides, or old
// schema versions): it bypasses the aggregate, whose state does not see it.
func (s *Scenario) Raw(stream string, typ string, version int, data string) eventstore.Position {
	s.tb.Helper()
	s.n++
	res, err := s.Store.Append(context.Background(), stream, eventstore.Any, eventstore.EventData{
		ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte("evcrm-test-event/"+strconv.Itoa(s.n))), Type: typ, SchemaVersion: version,
		Data: []byte(data), Metadata: eventstore.Metadata{Actor: s.Actor, ActorRole: s.Role, Source: "test", Tenant: s.Tenant, OccurredAt: s.Now},
	})
	if err != nil {
		s.tb.Fatalf("appending to %s: %v", stream, err)
	}
	s.versions[stream] = res.Version
	s.last = res.Position
	return res.Position
}

// String helps logging.
func (s *Scenario) String() string {
	return fmt.Sprintf("scenario at %s, %d events", s.Now.Format(time.RFC3339), s.n)
}
