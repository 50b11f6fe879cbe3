package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/eventstore"
)

// LeafFormat is the version of the leaf encoding, written into every leaf
// as "leaf_format". A change to the encoding gets a new number; leaves
// already in the log keep theirs.
const LeafFormat = 1

// Leaf is one recorded event as the transparency log covers it: every
// field of the event as stored, nothing derived.
type Leaf struct {
	Stream        string          `json:"stream"`
	Version       uint64          `json:"version"`
	EventID       uuid.UUID       `json:"event_id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
	Metadata      LeafMetadata    `json:"metadata"`
	RecordedAt    time.Time       `json:"recorded_at"`
}

// LeafMetadata is the part of an event's metadata a leaf covers. Empty
// fields are left out of the encoding, as the stream API leaves them out.
type LeafMetadata struct {
	CorrelationID uuid.UUID
	CausationID   uuid.UUID
	Actor         string
	ActorRole     string
	Source        string
	Tenant        string
	OccurredAt    time.Time
	Extra         map[string]string
}

// LeafOf returns the leaf of a recorded event.
func LeafOf(e eventstore.RecordedEvent) Leaf {
	m := e.Metadata
	return Leaf{
		Stream: e.StreamID, Version: e.Version, EventID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion,
		Data: e.Data, RecordedAt: e.RecordedAt,
		Metadata: LeafMetadata{
			CorrelationID: m.CorrelationID, CausationID: m.CausationID, Actor: m.Actor, ActorRole: m.ActorRole,
			Source: m.Source, Tenant: m.Tenant, OccurredAt: m.OccurredAt, Extra: m.Extra,
		},
	}
}

// APIEvent is an event as the stream API (GET /v1/streams/{stream}) and
// the audit API return it; only the fields a leaf covers are read.
type APIEvent struct {
	ID            uuid.UUID           `json:"id"`
	Version       uint64              `json:"version"`
	Type          string              `json:"type"`
	SchemaVersion int                 `json:"schema_version"`
	Data          json.RawMessage     `json:"data"`
	Metadata      eventstore.Metadata `json:"metadata"`
	RecordedAt    time.Time           `json:"recorded_at"`
}

// LeafFromAPI returns the leaf of an event of stream as the API returned it.
func LeafFromAPI(stream string, e APIEvent) Leaf {
	return LeafOf(eventstore.RecordedEvent{
		ID: e.ID, StreamID: stream, Version: e.Version, Type: e.Type, SchemaVersion: e.SchemaVersion,
		Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt,
	})
}

// Encode returns the canonical encoding of the leaf (docs/audit.md): a
// canonical JSON object whose keys are, in this order, data, event_id,
// leaf_format, metadata, recorded_at, schema_version, stream, type,
// version.
func (l Leaf) Encode() ([]byte, error) {
	buf := make([]byte, 0, 256+len(l.Data))
	buf = append(buf, `{"data":`...)
	var err error
	if buf, err = AppendCanonicalJSON(buf, l.Data); err != nil {
		return nil, fmt.Errorf("audit: event %s: data: %w", l.EventID, err)
	}
	buf = append(buf, `,"event_id":"`...)
	buf = append(buf, l.EventID.String()...)
	buf = append(buf, `","leaf_format":`...)
	buf = strconv.AppendInt(buf, LeafFormat, 10)
	buf = append(buf, `,"metadata":`...)
	buf = l.Metadata.appendCanonical(buf)
	buf = append(buf, `,"recorded_at":`...)
	buf = appendTime(buf, l.RecordedAt)
	buf = append(buf, `,"schema_version":`...)
	buf = strconv.AppendInt(buf, int64(l.SchemaVersion), 10)
	buf = append(buf, `,"stream":`...)
	buf = appendString(buf, l.Stream)
	buf = append(buf, `,"type":`...)
	buf = appendString(buf, l.Type)
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendUint(buf, l.Version, 10)
	return append(buf, '}'), nil
}

// Hash returns the RFC 6962 leaf hash of the encoding (SHA-256 of 0x00
// followed by it).
func (l Leaf) Hash() (tlog.Hash, error) {
	b, err := l.Encode()
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.RecordHash(b), nil
}

// appendCanonical writes the metadata object with its non-empty members
// in key order: actor, actor_role, causation_id, correlation_id, extra,
// occurred_at, source, tenant.
func (m LeafMetadata) appendCanonical(buf []byte) []byte {
	buf = append(buf, '{')
	first := true
	key := func(k string) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendString(buf, k)
		buf = append(buf, ':')
	}
	str := func(k, v string) {
		if v != "" {
			key(k)
			buf = appendString(buf, v)
		}
	}
	id := func(k string, v uuid.UUID) {
		if v != uuid.Nil {
			key(k)
			buf = append(buf, '"')
			buf = append(buf, v.String()...)
			buf = append(buf, '"')
		}
	}
	str("actor", m.Actor)
	str("actor_role", m.ActorRole)
	id("causation_id", m.CausationID)
	id("correlation_id", m.CorrelationID)
	if len(m.Extra) > 0 {
		key("extra")
		buf = appendObject(buf, m.Extra, appendString)
	}
	if !m.OccurredAt.IsZero() {
		key("occurred_at")
		buf = appendTime(buf, m.OccurredAt)
	}
	str("source", m.Source)
	str("tenant", m.Tenant)
	return append(buf, '}')
}

// appendTime writes t in UTC as RFC 3339 with the fraction of a second
// that t has, trailing zeros removed (Go's time.RFC3339Nano).
func appendTime(buf []byte, t time.Time) []byte {
	buf = append(buf, '"')
	buf = t.UTC().AppendFormat(buf, time.RFC3339Nano)
	return append(buf, '"')
}

// AppendCanonicalJSON appends the canonical form of the JSON document doc:
// no white space; object members sorted by key (byte order of the keys'
// UTF-8), a repeated key keeping its last value; strings with only '"',
// '\' and U+0000..U+001F escaped (\b \t \n \f \r, else \u00xx in lower
// case hex); numbers exactly as written in doc; true, false, null.
func AppendCanonicalJSON(buf []byte, doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not valid JSON: data after the value")
	}
	return appendValue(buf, v), nil
}

func appendValue(buf []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, v)
	case json.Number:
		return append(buf, v...)
	case string:
		return appendString(buf, v)
	case []any:
		buf = append(buf, '[')
		for i, x := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendValue(buf, x)
		}
		return append(buf, ']')
	case map[string]any:
		return appendObject(buf, v, appendValue)
	}
	panic(fmt.Sprintf("audit: unexpected JSON value %T", v))
}

// appendObject writes m as a JSON object, members sorted by key.
func appendObject[V any](buf []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, k)
		buf = append(buf, ':')
		buf = value(buf, m[k])
	}
	return append(buf, '}')
}

// appendString writes s as a canonical JSON string. Invalid UTF-8 (which
// decoded JSON never holds) is written as U+FFFD.
func appendString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\b':
				buf = append(buf, '\\', 'b')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\f':
				buf = append(buf, '\\', 'f')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, "\uFFFD"...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}

// DecodeLeaf reads a canonical leaf encoding back into the event it
// covers (the inverse of Encode for leaf format 1).
func DecodeLeaf(b []byte) (eventstore.RecordedEvent, error) {
	var l struct {
		Stream        string              `json:"stream"`
		Version       uint64              `json:"version"`
		EventID       uuid.UUID           `json:"event_id"`
		LeafFormat    int                 `json:"leaf_format"`
		Type          string              `json:"type"`
		SchemaVersion int                 `json:"schema_version"`
		Data          json.RawMessage     `json:"data"`
		Metadata      eventstore.Metadata `json:"metadata"`
		RecordedAt    time.Time           `json:"recorded_at"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("audit: not a leaf encoding: %w", err)
	}
	if l.LeafFormat != LeafFormat {
		return eventstore.RecordedEvent{}, fmt.Errorf("audit: leaf format %d is not %d", l.LeafFormat, LeafFormat)
	}
	return eventstore.RecordedEvent{
		ID: l.EventID, StreamID: l.Stream, Version: l.Version, Type: l.Type, SchemaVersion: l.SchemaVersion,
		Data: l.Data, Metadata: l.Metadata, RecordedAt: l.RecordedAt,
	}, nil
}

// BackdatedAfter is how much later than it occurred an event must have
// been recorded to count as a backdated fact, by default
// (EVCRM_AUDIT_BACKDATED_AFTER changes it).
const BackdatedAfter = 24 * time.Hour

// Backdated reports whether e was recorded more than BackdatedAfter after
// it occurred (by its metadata's occurred-at).
func Backdated(e eventstore.RecordedEvent) bool { return BackdatedBy(e, BackdatedAfter) }

// BackdatedBy reports whether e was recorded more than after (0:
// BackdatedAfter) after it occurred.
func BackdatedBy(e eventstore.RecordedEvent, after time.Duration) bool {
	if after <= 0 {
		after = BackdatedAfter
	}
	o := e.Metadata.OccurredAt
	return !o.IsZero() && e.RecordedAt.Sub(o) > after
}
