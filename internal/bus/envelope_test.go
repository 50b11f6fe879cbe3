package bus_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/bus"
)

func TestEventMessageRoundTrip(t *testing.T) {
	t.Parallel()
	e := eventstore.RecordedEvent{
		ID: uuid.New(), StreamID: "case-" + uuid.NewString(), Version: 7,
		Position: eventstore.Position{Commit: 812, Prepare: 3}, Type: "CaseOpened", SchemaVersion: 2,
		Data: json.RawMessage(`{"a":1}`),
		Metadata: eventstore.Metadata{
			CorrelationID: uuid.New(), CausationID: uuid.New(), Actor: "ann", ActorRole: "agent", Source: "web",
			Tenant: "acme", OccurredAt: time.Date(2026, 3, 1, 9, 30, 0, 123, time.UTC), Extra: map[string]string{"command": "OpenCase"},
		},
		RecordedAt: time.Date(2026, 3, 1, 9, 30, 1, 0, time.UTC),
	}
	msg := bus.EventMessage(e)
	if msg.UUID != e.ID.String() || msg.Metadata.Get(bus.KeyName) != "CaseOpened" {
		t.Fatalf("message %s %v", msg.UUID, msg.Metadata)
	}
	got, err := bus.EventFromMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}

	for name, spoil := range map[string]func(*message.Message){
		"BadUUID":          func(m *message.Message) { m.UUID = "x" },
		"NoName":           func(m *message.Message) { m.Metadata.Set(bus.KeyName, "") },
		"BadSchemaVersion": func(m *message.Message) { m.Metadata.Set(bus.KeySchemaVersion, "0") },
		"BadPosition":      func(m *message.Message) { m.Metadata.Set(bus.KeyPosition, "a/b") },
		"BadCorrelation":   func(m *message.Message) { m.Metadata.Set(bus.KeyCorrelationID, "nope") },
		"BadOccurredAt":    func(m *message.Message) { m.Metadata.Set(bus.KeyOccurredAt, "yesterday") },
		"NotJSON":          func(m *message.Message) { m.Payload = []byte("{") },
	} {
		t.Run(name, func(t *testing.T) {
			m := bus.EventMessage(e)
			spoil(m)
			if _, err := bus.EventFromMessage(m); !errors.Is(err, bus.ErrMalformedMessage) || !bus.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent ErrMalformedMessage", err)
			}
		})
	}
}

func TestCommandMetadataRoundTrip(t *testing.T) {
	t.Parallel()
	md := commands.Metadata{
		CommandID: commands.CommandIDFromKey("system:sla-watcher", "sla/first_response/x"), CorrelationID: uuid.New(),
		CausationID: uuid.New(), Actor: "system:sla-watcher", Role: "system", Source: "evcrm", Tenant: "acme",
		OccurredAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Expected: eventstore.Exact(4),
		Extra: map[string]string{"k": "v"},
	}
	msg := message.NewMessage(uuid.NewString(), nil)
	bus.SetCommandMetadata(msg, md)
	if msg.UUID != md.CommandID.String() {
		t.Fatalf("message UUID %s, want the command ID", msg.UUID)
	}
	got, err := bus.CommandMetadata(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, md) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, md)
	}

	// A foreign, non-UUID message ID maps to a stable command ID.
	foreign := message.NewMessage("01HZX3J5Q6R7S8T9V0W1X2Y3Z4", nil)
	a, err := bus.CommandMetadata(foreign)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bus.CommandMetadata(message.NewMessage("01HZX3J5Q6R7S8T9V0W1X2Y3Z4", nil))
	if a.CommandID == uuid.Nil || a.CommandID != b.CommandID {
		t.Fatalf("command IDs %s %s", a.CommandID, b.CommandID)
	}
	bad := message.NewMessage(uuid.NewString(), nil)
	bad.Metadata.Set(bus.KeyExpectedVersion, "-1")
	if _, err := bus.CommandMetadata(bad); !errors.Is(err, bus.ErrMalformedMessage) {
		t.Fatalf("err = %v", err)
	}
}

// v1 of BusTestPriced had "price" in whole units; v2 has "price_minor".
type pricedV2 struct {
	PriceMinor int64 `json:"price_minor"`
}

func (pricedV2) EventType() string { return "BusTestPriced" }

func TestMarshaler(t *testing.T) {
	t.Parallel()
	reg := domain.NewRegistry()
	reg.Register(domain.Registration{Event: pricedV2{}, Version: 2, Aggregate: "x", Upcasters: map[int]domain.Upcaster{
		1: func(data json.RawMessage) (json.RawMessage, error) {
			var v1 struct{ Price int64 }
			if err := json.Unmarshal(data, &v1); err != nil {
				return nil, err
			}
			return json.Marshal(pricedV2{PriceMinor: v1.Price * 100})
		},
	}})
	m := bus.Marshaler{Events: reg}

	if m.Name(pricedV2{}) != "BusTestPriced" || m.Name(&pricedV2{}) != "BusTestPriced" || m.Name(CreateThing{}) != "BusTestCreateThing" {
		t.Fatal("names are not the domain's stable names")
	}
	if m.Name(struct{}{}) == "" {
		t.Fatal("foreign types need a non-matching name")
	}

	// An old event on the bus is upcast on the way in.
	old := bus.EventMessage(eventstore.RecordedEvent{ID: uuid.New(), Type: "BusTestPriced", SchemaVersion: 1, Data: json.RawMessage(`{"price":12}`)})
	var got pricedV2
	if err := m.Unmarshal(old, &got); err != nil || got.PriceMinor != 1200 {
		t.Fatalf("upcast = %+v, %v", got, err)
	}
	future := bus.EventMessage(eventstore.RecordedEvent{ID: uuid.New(), Type: "BusTestPriced", SchemaVersion: 3, Data: json.RawMessage(`{}`)})
	if err := m.Unmarshal(future, &got); !bus.IsPermanent(err) {
		t.Fatalf("a future schema version: err = %v, want permanent", err)
	}

	// Events marshal with their registered version; commands by name.
	msg, err := m.Marshal(pricedV2{PriceMinor: 5})
	if err != nil || msg.Metadata.Get(bus.KeySchemaVersion) != "2" || msg.Metadata.Get(bus.KeyKind) != bus.KindEvent {
		t.Fatalf("marshal event: %v %v", msg.Metadata, err)
	}
	msg, err = m.Marshal(CreateThing{ID: uuid.New(), Name: "a"})
	if err != nil || msg.Metadata.Get(bus.KeyName) != "BusTestCreateThing" || msg.Metadata.Get(bus.KeyKind) != bus.KindCommand {
		t.Fatalf("marshal command: %v %v", msg.Metadata, err)
	}
	var c CreateThing
	if err := m.Unmarshal(msg, &c); err != nil || c.Name != "a" {
		t.Fatalf("unmarshal command: %+v %v", c, err)
	}
	msg.Payload = []byte(`{"id":"` + uuid.NewString() + `","nmae":"typo"}`)
	if err := m.Unmarshal(msg, &c); !errors.Is(err, bus.ErrMalformedMessage) {
		t.Fatalf("unknown field: err = %v", err)
	}
	if _, err := m.Marshal(42); err == nil {
		t.Fatal("marshalled a non-command")
	}
}
