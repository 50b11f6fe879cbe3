// Package eventstore defines the contract every evcrm event store backend
// fulfils, and the types that cross it.
//
// # Streams, versions and positions
//
// Events live in streams named "<category>-<id>" (for example
// "customer-6f1c…"). Within a stream, events carry a 1-based Version with
// no gaps: a stream at version N holds exactly N events. Across streams,
// every event has a global Position in the log. Positions are totally
// ordered and a subscriber receives events in Position order, which always
// preserves the order within a stream.
//
// A Position is a pair (Commit, Prepare), as in EventStoreDB. Backends that
// can order by a single counter set both to the same value. The PostgreSQL
// backend sets Commit to the id of the transaction that wrote the event and
// Prepare to a per-event sequence number, and only hands out events whose
// transaction id is below the snapshot xmin, so an event whose transaction
// commits late is never skipped (see package eventstore/postgres).
//
// # Appends
//
// Append writes events to one stream atomically, guarded by an
// ExpectedVersion. A mismatch returns a *VersionError that wraps
// ErrWrongExpectedVersion and carries the actual version.
//
// Appends are idempotent by event ID, as in EventStoreDB: sending the same
// events (same IDs, types, schema versions and data, in the same order)
// again to the same stream, with an expectation that held where they were
// first written, succeeds and returns the original result without writing
// twice. This makes a retry after a timeout safe. Metadata is not compared.
// Anything else that reuses an event ID fails with ErrDuplicateEventID: other
// content, another stream, another place in the stream, or a batch that only
// partly overlaps an earlier one. An ID is unique in the whole store.
//
// An Append whose context ends while the request is in flight may still have
// been written; retrying it with the same event IDs settles the question.
//
// # Subscriptions
//
// Subscribe catches up from a checkpoint, then follows the log live. A
// handler that stores the Position of the last event it handled, and
// resubscribes after it, sees every event exactly once.
package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Sentinel errors. Backends wrap them; callers match with errors.Is.
var (
	// ErrWrongExpectedVersion: the stream is not at the version the caller expected.
	ErrWrongExpectedVersion = errors.New("wrong expected version")
	// ErrDuplicateEventID: an event ID was reused for different content or another place.
	ErrDuplicateEventID = errors.New("event id already used for different content")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrInvalidEvent: an event to append is malformed (no ID, no type, data not a JSON object...).
	ErrInvalidEvent = errors.New("invalid event")
	// ErrInvalidStreamID: the stream ID is empty, too long or contains control characters.
	ErrInvalidStreamID = errors.New("invalid stream id")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("event store closed")
)

// VersionError reports a failed expected-version check.
type VersionError struct {
	StreamID string
	Expected ExpectedVersion
	Actual   uint64 // 0 when the stream does not exist
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("stream %q: expected version %s, actual %d", e.StreamID, e.Expected, e.Actual)
}

func (e *VersionError) Unwrap() error { return ErrWrongExpectedVersion }

// ExpectedVersion guards an append. The zero value is Any.
type ExpectedVersion struct {
	kind    expectKind
	version uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

var (
	// Any appends whatever the stream's version.
	Any = ExpectedVersion{kind: expectAny}
	// NoStream appends only if the stream has no events.
	NoStream = ExpectedVersion{kind: expectNoStream}
	// StreamExists appends only if the stream has at least one event.
	StreamExists = ExpectedVersion{kind: expectStreamExists}
)

// Exact appends only if the stream is at version v (v == 0 is the same as NoStream).
func Exact(v uint64) ExpectedVersion {
	if v == 0 {
		return NoStream
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// IsAny, IsNoStream, IsStreamExists report the kind of the expectation.
func (e ExpectedVersion) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedVersion) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedVersion) IsStreamExists() bool { return e.kind == expectStreamExists }

// Exact returns the exact version expected and true, or 0 and false.
func (e ExpectedVersion) Exact() (uint64, bool) { return e.version, e.kind == expectExact }

// Matches reports whether a stream at version actual satisfies the expectation.
func (e ExpectedVersion) Matches(actual uint64) bool {
	switch e.kind {
	case expectNoStream:
		return actual == 0
	case expectStreamExists:
		return actual > 0
	case expectExact:
		return actual == e.version
	default:
		return true
	}
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no-stream"
	case expectStreamExists:
		return "stream-exists"
	case expectExact:
		return strconv.FormatUint(e.version, 10)
	default:
		return "any"
	}
}

// Position is a place in the global log. Positions are ordered by Commit,
// then Prepare. The zero Position is before the first event.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Start is the position before the first event.
var Start = Position{}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

// Compare returns -1, 0 or +1.
func (p Position) Compare(q Position) int {
	switch {
	case p.Less(q):
		return -1
	case q.Less(p):
		return 1
	}
	return 0
}

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Position{} }

// String renders p as "commit/prepare", the form ParsePosition reads.
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads "commit/prepare" (or a single number, meaning both).
func ParsePosition(s string) (Position, error) {
	c, pr, found := strings.Cut(strings.TrimSpace(s), "/")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("invalid position %q: want commit/prepare", s)
	}
	if !found {
		return Position{Commit: commit, Prepare: commit}, nil
	}
	prepare, err := strconv.ParseUint(pr, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("invalid position %q: want commit/prepare", s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// Metadata travels with every event. Event ID and recorded-at live on the
// event itself (EventData.ID, RecordedEvent.RecordedAt).
type Metadata struct {
	CorrelationID uuid.UUID         `json:"correlation_id,omitzero"`
	CausationID   uuid.UUID         `json:"causation_id,omitzero"`
	Actor         string            `json:"actor,omitempty"`      // user or system principal
	ActorRole     string            `json:"actor_role,omitempty"` // role the actor acted in
	Source        string            `json:"source,omitempty"`     // app or integration that sent the command
	Tenant        string            `json:"tenant,omitempty"`
	OccurredAt    time.Time         `json:"occurred_at,omitzero"` // when it happened in the world
	Extra         map[string]string `json:"extra,omitempty"`
}

// EventData is an event to append.
type EventData struct {
	ID            uuid.UUID
	Type          string // stable type name, e.g. "CaseOpened"
	SchemaVersion int    // >= 1
	Data          json.RawMessage
	Metadata      Metadata
}

// RecordedEvent is an event read back from the store.
type RecordedEvent struct {
	ID            uuid.UUID
	StreamID      string
	Version       uint64 // 1-based, within the stream
	Position      Position
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	RecordedAt    time.Time
}

// AppendResult tells where an append landed.
type AppendResult struct {
	StreamID string
	// Version is the stream's version after the append (the last event's version).
	Version uint64
	// Position is the global position of the last event appended.
	Position Position
}

// Direction of a stream read.
type Direction uint8

const (
	Forwards Direction = iota
	Backwards
)

// ReadStreamOptions select a slice of a stream.
type ReadStreamOptions struct {
	Direction Direction
	// From is the first version to return (inclusive). 0 means the start
	// (forwards) or the end (backwards).
	From uint64
	// Limit caps the number of events; 0 means no limit.
	Limit int
}

// Filter restricts a global read or subscription. Empty fields match all.
type Filter struct {
	Categories []string // stream categories, e.g. "customer"
	EventTypes []string // stable event type names
}

// Match reports whether an event passes the filter.
func (f Filter) Match(streamID, eventType string) bool {
	if len(f.Categories) > 0 && !slices.Contains(f.Categories, Category(streamID)) {
		return false
	}
	if len(f.EventTypes) > 0 && !slices.Contains(f.EventTypes, eventType) {
		return false
	}
	return true
}

// ReadAllOptions select a page of the global log.
type ReadAllOptions struct {
	// After: return events strictly after this position.
	After  Position
	Limit  int // 0 means a backend default page size
	Filter Filter
}

// SubscribeOptions configure a subscription to the global log.
type SubscribeOptions struct {
	// After: deliver events strictly after this checkpoint.
	After  Position
	Filter Filter
	// BatchSize caps the events handed to the handler at once (0: backend default).
	BatchSize int
}

// Handler receives batches of events, in Position order. Returning an error
// ends the subscription with that error. The handler is never called
// concurrently with itself.
type Handler func(ctx context.Context, events []RecordedEvent) error

// Store is the event store contract.
type Store interface {
	// Append writes events to a stream atomically if expected matches.
	Append(ctx context.Context, streamID string, expected ExpectedVersion, events ...EventData) (AppendResult, error)
	// ReadStream reads events of one stream. A stream with no events gives ErrStreamNotFound.
	ReadStream(ctx context.Context, streamID string, opts ReadStreamOptions) ([]RecordedEvent, error)
	// StreamVersion returns the stream's current version (0 if it has no events).
	StreamVersion(ctx context.Context, streamID string) (uint64, error)
	// ReadAll reads a page of the global log after a position. It returns
	// only events that no later-committing transaction can precede, so an
	// event appended a moment ago may be missing for a moment (the
	// PostgreSQL backend waits for older transactions to end); paging until
	// Head reads everything appended before Head was called.
	ReadAll(ctx context.Context, opts ReadAllOptions) ([]RecordedEvent, error)
	// Head returns the position of the latest event written so far (Start
	// when there is none). Every event appended before the call is at or
	// before it, so a reader that has handled an event at Head (or after
	// it) has handled them all. Readers may need a moment to reach it.
	Head(ctx context.Context) (Position, error)
	// Subscribe catches up from opts.After, then delivers new events live,
	// until ctx ends (it then returns ctx.Err()), h fails (it returns h's
	// error), the store is closed (ErrClosed) or it cannot read the log (a
	// server that drops the subscription is not a reason: the esdb backend
	// subscribes again). Every event is delivered exactly once, in Position
	// order.
	Subscribe(ctx context.Context, opts SubscribeOptions, h Handler) error
	// Close releases the store's resources.
	Close()
}

// MaxStreamIDLength bounds stream IDs.
const MaxStreamIDLength = 256

// Category returns the part of a stream ID before the first '-'
// ("customer-6f1c…" → "customer"), or the whole ID when it has none.
func Category(streamID string) string {
	if i := strings.IndexByte(streamID, '-'); i >= 0 {
		return streamID[:i]
	}
	return streamID
}

// StreamID builds "<category>-<id>".
func StreamID(category string, id uuid.UUID) string { return category + "-" + id.String() }

// ValidateStreamID checks a stream ID: non-empty, at most
// MaxStreamIDLength bytes, valid UTF-8, no control characters.
func ValidateStreamID(id string) error {
	if id == "" || len(id) > MaxStreamIDLength {
		return fmt.Errorf("%w: length must be 1..%d bytes", ErrInvalidStreamID, MaxStreamIDLength)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidStreamID)
	}
	for _, r := range id {
		if isControl(r) {
			return fmt.Errorf("%w: control character", ErrInvalidStreamID)
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// MaxEventTypeLength bounds event type names.
const MaxEventTypeLength = 128

// ValidateEvents checks events before an append: at least one, each with an
// ID (unique in the batch), a type (1..MaxEventTypeLength bytes of printable
// UTF-8), a schema version >= 1 and a JSON object body. JSON that no backend
// can store faithfully is rejected too: invalid UTF-8, the escape \u0000 and
// unpaired UTF-16 surrogate escapes (PostgreSQL's jsonb refuses them), in the
// data or in the metadata. Every error wraps ErrInvalidEvent.
func ValidateEvents(events []EventData) error {
	if len(events) == 0 {
		return fmt.Errorf("%w: no events", ErrInvalidEvent)
	}
	var seen map[uuid.UUID]struct{} // for batches too long to compare pairwise
	if len(events) > 16 {
		seen = make(map[uuid.UUID]struct{}, len(events))
	}
	for i, e := range events {
		if e.ID == uuid.Nil {
			return fmt.Errorf("%w: event %d has no id", ErrInvalidEvent, i)
		}
		dup := false
		if seen != nil {
			_, dup = seen[e.ID]
			seen[e.ID] = struct{}{}
		} else {
			for _, earlier := range events[:i] {
				dup = dup || earlier.ID == e.ID
			}
		}
		if dup {
			return fmt.Errorf("%w: event id %s appears twice in one append", ErrInvalidEvent, e.ID)
		}
		if e.Type == "" || len(e.Type) > MaxEventTypeLength {
			return fmt.Errorf("%w: event %d: type must be 1..%d bytes", ErrInvalidEvent, i, MaxEventTypeLength)
		}
		if !utf8.ValidString(e.Type) || strings.IndexFunc(e.Type, isControl) >= 0 {
			return fmt.Errorf("%w: event %d: type must be printable UTF-8", ErrInvalidEvent, i)
		}
		if e.SchemaVersion < 1 || e.SchemaVersion > math.MaxInt32 {
			return fmt.Errorf("%w: event %d: schema version must be 1..%d", ErrInvalidEvent, i, math.MaxInt32)
		}
		if !isJSONObject(e.Data) {
			return fmt.Errorf("%w: event %d: data must be a JSON object", ErrInvalidEvent, i)
		}
		if err := checkStorableJSON(e.Data); err != nil {
			return fmt.Errorf("%w: event %d: data: %v", ErrInvalidEvent, i, err)
		}
		if err := e.Metadata.validate(); err != nil {
			return fmt.Errorf("%w: event %d: metadata: %v", ErrInvalidEvent, i, err)
		}
	}
	return nil
}

// JSONEqual reports whether two JSON documents are equal by value, as
// PostgreSQL's jsonb equality sees them (key order and white space do not
// matter). Stores use it to recognise a retried append of the same events.
func JSONEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func isJSONObject(b json.RawMessage) bool {
	s := strings.TrimSpace(string(b))
	return strings.HasPrefix(s, "{") && json.Valid(b)
}

// checkStorableJSON rejects valid JSON that a backend cannot store as is:
// invalid UTF-8, \u0000, and \uD800-\uDFFF escapes not forming a pair.
// b must be valid JSON (backslashes then only occur inside strings).
func checkStorableJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8")
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if b[i] != 'u' {
			continue
		}
		r := hex4(b[i+1 : i+5])
		i += 4
		switch {
		case r == 0:
			return errors.New(`the escape \u0000 (NUL) is not allowed`)
		case r >= 0xdc00 && r <= 0xdfff:
			return errors.New("unpaired UTF-16 surrogate escape")
		case r >= 0xd800 && r <= 0xdbff:
			// A high surrogate must be followed by \u and a low surrogate.
			if i+6 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
				return errors.New("unpaired UTF-16 surrogate escape")
			}
			if lo := hex4(b[i+3 : i+7]); lo < 0xdc00 || lo > 0xdfff {
				return errors.New("unpaired UTF-16 surrogate escape")
			}
			i += 6
		}
	}
	return nil
}

// hex4 decodes four hex digits (already validated by json.Valid).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// validate rejects metadata strings containing NUL, which PostgreSQL's jsonb
// cannot store.
func (m Metadata) validate() error {
	bad := func(s string) bool { return strings.IndexByte(s, 0) >= 0 }
	if bad(m.Actor) || bad(m.ActorRole) || bad(m.Source) || bad(m.Tenant) {
		return errors.New("NUL character in a string")
	}
	for k, v := range m.Extra {
		if bad(k) || bad(v) {
			return errors.New("NUL character in extra")
		}
	}
	return nil
}
