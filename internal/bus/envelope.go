package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/eventstore"
)

// Message metadata keys. They are part of the wire format that other
// processes read: never rename one.
const (
	// KeyName is the stable command or event type name ("OpenCase",
	// "CaseOpened"), the key watermill's cqrs component reads.
	KeyName = "name"
	// KeyKind is "command" or "event".
	KeyKind = "kind"

	KeySchemaVersion = "schema_version"
	KeyStreamID      = "stream_id"
	KeyStreamVersion = "stream_version"
	KeyPosition      = "position" // "commit/prepare"
	KeyRecordedAt    = "recorded_at"

	// KeyCorrelationID is the same key as watermill's correlation middleware
	// (middleware.CorrelationIDMetadataKey), so both agree.
	KeyCorrelationID = "correlation_id"
	KeyCausationID   = "causation_id"
	KeyActor         = "actor"
	KeyActorRole     = "actor_role"
	KeySource        = "source"
	KeyTenant        = "tenant"
	KeyOccurredAt    = "occurred_at"
	// KeyExpectedVersion is a command's optional precondition: the stream
	// version the sender based it on ("0": the stream must not exist).
	KeyExpectedVersion = "expected_version"
	// KeyExtraPrefix prefixes the entries of eventstore.Metadata.Extra.
	KeyExtraPrefix = "x-"
)

// Kinds of message.
const (
	KindCommand = "command"
	KindEvent   = "event"
)

// ErrMalformedMessage is returned for a message whose metadata cannot be read
// (a missing name, an unparsable UUID or position...). Such a message will
// never succeed: the middleware sends it to the poison queue.
var ErrMalformedMessage = errors.New("malformed message")

// EventMessage turns a recorded event into a message: the event ID is the
// message UUID (consumers deduplicate by it), the payload is the event data
// as stored (at its schema version; Marshaler.Unmarshal upcasts), and the
// metadata carries the type name, the stream coordinates and the event's
// metadata.
func EventMessage(e eventstore.RecordedEvent) *message.Message {
	msg := message.NewMessage(e.ID.String(), message.Payload(e.Data))
	md := msg.Metadata
	md.Set(KeyKind, KindEvent)
	md.Set(KeyName, e.Type)
	md.Set(KeySchemaVersion, strconv.Itoa(e.SchemaVersion))
	md.Set(KeyStreamID, e.StreamID)
	md.Set(KeyStreamVersion, strconv.FormatUint(e.Version, 10))
	md.Set(KeyPosition, e.Position.String())
	if !e.RecordedAt.IsZero() {
		md.Set(KeyRecordedAt, e.RecordedAt.UTC().Format(time.RFC3339Nano))
	}
	setMetadata(md, e.Metadata)
	return msg
}

// EventFromMessage reads back the recorded event a message carries (the
// inverse of EventMessage).
func EventFromMessage(msg *message.Message) (eventstore.RecordedEvent, error) {
	var e eventstore.RecordedEvent
	id, err := uuid.Parse(msg.UUID)
	if err != nil {
		return e, fmt.Errorf("%w: event message uuid %q: %v", ErrMalformedMessage, msg.UUID, err)
	}
	md := msg.Metadata
	e.ID = id
	e.Type = md.Get(KeyName)
	if e.Type == "" {
		return e, fmt.Errorf("%w: event message %s has no %q", ErrMalformedMessage, msg.UUID, KeyName)
	}
	e.StreamID = md.Get(KeyStreamID)
	if e.SchemaVersion, err = strconv.Atoi(md.Get(KeySchemaVersion)); err != nil || e.SchemaVersion < 1 {
		return e, fmt.Errorf("%w: event message %s: schema version %q", ErrMalformedMessage, msg.UUID, md.Get(KeySchemaVersion))
	}
	if v := md.Get(KeyStreamVersion); v != "" {
		if e.Version, err = strconv.ParseUint(v, 10, 64); err != nil {
			return e, fmt.Errorf("%w: event message %s: stream version %q", ErrMalformedMessage, msg.UUID, v)
		}
	}
	if p := md.Get(KeyPosition); p != "" {
		if e.Position, err = eventstore.ParsePosition(p); err != nil {
			return e, fmt.Errorf("%w: event message %s: %v", ErrMalformedMessage, msg.UUID, err)
		}
	}
	if t := md.Get(KeyRecordedAt); t != "" {
		if e.RecordedAt, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return e, fmt.Errorf("%w: event message %s: recorded at %q", ErrMalformedMessage, msg.UUID, t)
		}
	}
	if e.Metadata, err = readMetadata(md); err != nil {
		return e, fmt.Errorf("%w: event message %s: %v", ErrMalformedMessage, msg.UUID, err)
	}
	if !json.Valid(msg.Payload) {
		return e, fmt.Errorf("%w: event message %s: payload is not JSON", ErrMalformedMessage, msg.UUID)
	}
	e.Data = json.RawMessage(msg.Payload)
	return e, nil
}

// CommandMetadata reads the metadata of a command message as the
// dispatcher's commands.Metadata. The message UUID is the command ID: a
// sender that resends a command with the same UUID (after a timeout, or a
// broker's redelivery) gets the original result and nothing is written
// twice. A UUID that is not a UUID (some brokers' clients use ULIDs) is
// mapped to a command ID deterministically.
func CommandMetadata(msg *message.Message) (commands.Metadata, error) {
	md, err := readMetadata(msg.Metadata)
	if err != nil {
		return commands.Metadata{}, fmt.Errorf("%w: command message %s: %v", ErrMalformedMessage, msg.UUID, err)
	}
	cm := commands.Metadata{
		CorrelationID: md.CorrelationID,
		CausationID:   md.CausationID,
		Actor:         md.Actor,
		Role:          md.ActorRole,
		Source:        md.Source,
		Tenant:        md.Tenant,
		OccurredAt:    md.OccurredAt,
		Extra:         md.Extra,
	}
	if cm.CommandID, err = uuid.Parse(msg.UUID); err != nil || msg.UUID == "" {
		if msg.UUID == "" {
			return commands.Metadata{}, fmt.Errorf("%w: command message has no uuid", ErrMalformedMessage)
		}
		cm.CommandID = commands.CommandIDFromKey("bus/"+md.Source, msg.UUID)
	}
	if s := msg.Metadata.Get(KeyExpectedVersion); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return commands.Metadata{}, fmt.Errorf("%w: command message %s: expected version %q", ErrMalformedMessage, msg.UUID, s)
		}
		cm.Expected = eventstore.Exact(v)
	}
	return cm, nil
}

// SetCommandMetadata writes a command's metadata into msg; a non-zero
// CommandID becomes the message UUID.
func SetCommandMetadata(msg *message.Message, cm commands.Metadata) {
	msg.Metadata.Set(KeyKind, KindCommand)
	if cm.CommandID != uuid.Nil {
		msg.UUID = cm.CommandID.String()
	}
	setMetadata(msg.Metadata, eventstore.Metadata{
		CorrelationID: cm.CorrelationID,
		CausationID:   cm.CausationID,
		Actor:         cm.Actor,
		ActorRole:     cm.Role,
		Source:        cm.Source,
		Tenant:        cm.Tenant,
		OccurredAt:    cm.OccurredAt,
		Extra:         cm.Extra,
	})
	if v, ok := cm.Expected.Exact(); ok {
		msg.Metadata.Set(KeyExpectedVersion, strconv.FormatUint(v, 10))
	} else if cm.Expected.IsNoStream() {
		msg.Metadata.Set(KeyExpectedVersion, "0")
	}
}

func setMetadata(md message.Metadata, m eventstore.Metadata) {
	if m.CorrelationID != uuid.Nil {
		md.Set(KeyCorrelationID, m.CorrelationID.String())
	}
	if m.CausationID != uuid.Nil {
		md.Set(KeyCausationID, m.CausationID.String())
	}
	setIf(md, KeyActor, m.Actor)
	setIf(md, KeyActorRole, m.ActorRole)
	setIf(md, KeySource, m.Source)
	setIf(md, KeyTenant, m.Tenant)
	if !m.OccurredAt.IsZero() {
		md.Set(KeyOccurredAt, m.OccurredAt.UTC().Format(time.RFC3339Nano))
	}
	for k, v := range m.Extra {
		md.Set(KeyExtraPrefix+k, v)
	}
}

func setIf(md message.Metadata, k, v string) {
	if v != "" {
		md.Set(k, v)
	}
}

func readMetadata(md message.Metadata) (eventstore.Metadata, error) {
	var m eventstore.Metadata
	var err error
	if s := md.Get(KeyCorrelationID); s != "" {
		if m.CorrelationID, err = uuid.Parse(s); err != nil {
			return m, fmt.Errorf("correlation id %q: %w", s, err)
		}
	}
	if s := md.Get(KeyCausationID); s != "" {
		if m.CausationID, err = uuid.Parse(s); err != nil {
			return m, fmt.Errorf("causation id %q: %w", s, err)
		}
	}
	m.Actor = md.Get(KeyActor)
	m.ActorRole = md.Get(KeyActorRole)
	m.Source = md.Get(KeySource)
	m.Tenant = md.Get(KeyTenant)
	if s := md.Get(KeyOccurredAt); s != "" {
		if m.OccurredAt, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return m, fmt.Errorf("occurred at %q: %w", s, err)
		}
		m.OccurredAt = m.OccurredAt.UTC()
	}
	for k, v := range md {
		if name, ok := strings.CutPrefix(k, KeyExtraPrefix); ok && name != "" {
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[name] = v
		}
	}
	return m, nil
}
