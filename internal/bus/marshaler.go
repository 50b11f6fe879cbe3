package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/evcrm/evcrm/domain"
)

// Marshaler is the cqrs.CommandEventMarshaler of evcrm. Messages are named by
// the domain's stable names — CommandType() and EventType() — never by Go
// type paths, so a renamed or moved struct does not change the wire format.
//
// Events are decoded through the event registry, which upcasts old schema
// versions; commands are decoded strictly (an unknown field is an error, as a
// misspelt field silently ignored would change what the sender asked for).
type Marshaler struct {
	// Events is the event registry; nil means domain.Events.
	Events *domain.Registry
	// Open, if set, decrypts an event's published data before decoding.
	Open func(ctx context.Context, data []byte) ([]byte, error)
}

// payload returns the data of an event message to decode.
func (m Marshaler) payload(msg *message.Message) ([]byte, error) {
	if m.Open == nil {
		return msg.Payload, nil
	}
	return m.Open(msg.Context(), msg.Payload)
}

var _ cqrs.CommandEventMarshaler = Marshaler{}

func (m Marshaler) registry() *domain.Registry {
	if m.Events != nil {
		return m.Events
	}
	return domain.Events
}

// Marshal encodes a command or an event. Commands get a random message UUID
// (Send replaces it with one derived from the idempotency key, if any).
func (m Marshaler) Marshal(v any) (*message.Message, error) {
	switch x := v.(type) {
	case domain.Event:
		typ, version, data, err := m.registry().Encode(deref(x).(domain.Event))
		if err != nil {
			return nil, err
		}
		msg := message.NewMessage(watermill.NewUUID(), data)
		msg.Metadata.Set(KeyKind, KindEvent)
		msg.Metadata.Set(KeyName, typ)
		msg.Metadata.Set(KeySchemaVersion, strconv.Itoa(version))
		return msg, nil
	case domain.Command:
		data, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("encoding command %s: %w", x.CommandType(), err)
		}
		msg := message.NewMessage(watermill.NewUUID(), data)
		msg.Metadata.Set(KeyKind, KindCommand)
		msg.Metadata.Set(KeyName, x.CommandType())
		return msg, nil
	}
	return nil, fmt.Errorf("bus: cannot marshal %T: neither a domain.Command nor a domain.Event", v)
}

// Unmarshal decodes msg into v, a pointer to a command or event struct.
func (m Marshaler) Unmarshal(msg *message.Message, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("bus: unmarshal target %T must be a non-nil pointer", v)
	}
	if msg.Metadata.Get(KeyKind) == KindEvent {
		if _, ok := v.(domain.Event); !ok {
			return fmt.Errorf("bus: unmarshal target %T is not a domain.Event", v)
		}
		version, err := strconv.Atoi(msg.Metadata.Get(KeySchemaVersion))
		if err != nil {
			return fmt.Errorf("%w: event %s: schema version %q", ErrMalformedMessage, msg.UUID, msg.Metadata.Get(KeySchemaVersion))
		}
		payload, err := m.payload(msg)
		if err != nil {
			return fmt.Errorf("event %s: %w", msg.UUID, err)
		}
		e, err := m.registry().Decode(m.NameFromMessage(msg), version, payload)
		if err != nil {
			return fmt.Errorf("%w: event %s: %w", ErrMalformedMessage, msg.UUID, err)
		}
		ev := reflect.ValueOf(e)
		if ev.Type() != rv.Elem().Type() {
			return fmt.Errorf("bus: event %s decodes to %s, not %s", msg.UUID, ev.Type(), rv.Elem().Type())
		}
		rv.Elem().Set(ev)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(msg.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: command %s (%s): %w", ErrMalformedMessage, msg.UUID, m.NameFromMessage(msg), err)
	}
	if dec.More() {
		return fmt.Errorf("%w: command %s: trailing data after the JSON object", ErrMalformedMessage, msg.UUID)
	}
	return nil
}

// Name returns the stable name of a command or event (value or pointer).
func (Marshaler) Name(v any) string {
	switch x := v.(type) {
	case domain.Event:
		return x.EventType()
	case domain.Command:
		return x.CommandType()
	}
	// Not ours: a name that can never match a real message.
	return "unnamed:" + cqrs.FullyQualifiedStructName(v)
}

// NameFromMessage returns the name carried in the message metadata.
func (Marshaler) NameFromMessage(msg *message.Message) string { return msg.Metadata.Get(KeyName) }

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}
