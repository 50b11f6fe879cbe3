package projections

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Projection folds events into PostgreSQL tables.
//
// The runtime calls Schema once per generation, with search_path set to the
// generation's own schema, then Apply for every batch of events whose type is
// in EventTypes, with the same search_path, inside the transaction that also
// moves the checkpoint. A projection therefore writes unqualified table
// names and never reads anything outside its own tables: that is what makes
// a rebuild from scratch give the same rows as incremental application.
//
// Apply must be deterministic: it may use the events (their data, metadata,
// position and recorded-at) but not the clock, random numbers or other
// projections' tables. Time-dependent figures (days in stage, backlog age)
// are computed by queries from the stored timestamps.
type Projection interface {
	// Name is stable and unique: [a-z][a-z0-9_]{0,23}. It names the
	// checkpoint and the physical schemas; renaming it means a new projection.
	Name() string
	// Version is raised whenever Schema or Apply change in a way that needs
	// the read model rebuilt; the runtime then rebuilds it in the background
	// and swaps it in when it has caught up.
	Version() int
	// EventTypes lists the stable event type names Apply handles. Other
	// events only advance the checkpoint.
	EventTypes() []string
	// Schema returns the DDL creating the projection's tables and indexes,
	// with unqualified names. Each table is exposed in the serving schema
	// as a view of the same name, so names are what BI tools see
	// (rm_<area>_<thing>).
	Schema() string
	// Apply folds a batch of events, in log order, into the tables. An
	// error aborts the whole batch (rows and checkpoint); return an
	// *EventError (see Each and Batch) so the failing event is named.
	Apply(ctx context.Context, tx pgx.Tx, events []Event) error
}

// Event is a recorded event together with its decoded (and upcast) payload.
type Event struct {
	eventstore.RecordedEvent
	// Data is the payload as its registered Go type, at the current schema version.
	Data domain.Event
}

// OccurredAt is the metadata occurred-at, or the recorded-at when the
// command did not say when it happened.
func (e *Event) OccurredAt() time.Time {
	if !e.Metadata.OccurredAt.IsZero() {
		return e.Metadata.OccurredAt.UTC()
	}
	return e.RecordedAt.UTC()
}

// EventError names the event a projection failed on. The runtime stops at
// that event, records the error and retries with backoff: it never skips.
type EventError struct {
	Projection string
	Position   eventstore.Position
	Type       string
	StreamID   string
	Version    uint64
	Err        error
}

func (e *EventError) Error() string {
	p := e.Projection
	if p == "" {
		p = "?"
	}
	return fmt.Sprintf("projection %s: event %s at position %s (stream %s v%d): %v", p, e.Type, e.Position, e.StreamID, e.Version, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// Time returns t for a nullable timestamp column: nil when t is zero, else t in UTC.
func Time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// Date returns t's UTC calendar date ("2006-01-02") for a date column
// (cast the parameter with ::date), or nil when t is zero. Passing the
// date as text keeps the session's TimeZone out of the read model.
func Date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.DateOnly)
}

// UUID returns id for a nullable uuid column: nil when id is uuid.Nil.
func UUID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

// Text returns s for a nullable text column: nil when s is empty.
func Text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Fail wraps err as an *EventError for e (nil stays nil; an *EventError is kept).
func Fail(e *Event, err error) error {
	if err == nil {
		return nil
	}
	var ee *EventError
	if errors.As(err, &ee) {
		return err
	}
	return &EventError{Position: e.Position, Type: e.Type, StreamID: e.StreamID, Version: e.Version, Err: err}
}

// Each calls fn for every event and attributes its error to the event. It
// suits projections that issue a few statements per event; Batch sends
// them all in one round trip.
func Each(ctx context.Context, tx pgx.Tx, events []Event, fn func(ctx context.Context, tx pgx.Tx, e *Event) error) error {
	for i := range events {
		if err := fn(ctx, tx, &events[i]); err != nil {
			return Fail(&events[i], err)
		}
	}
	return nil
}

// Batch queues the statements of many events and sends them in one
// pipelined round trip; a failing statement is reported as an *EventError
// for the event that queued it.
type Batch struct {
	b      pgx.Batch
	owners []owner
}

type owner struct {
	e   *Event
	one bool // the statement must affect exactly one row
}

// ErrNoRow is the error of a QueueOne statement that affected no row (or
// several): the read model misses the row the event is about.
var ErrNoRow = errors.New("statement affected no row: the read model has no row for this event")

// Queue adds a statement on behalf of e.
func (b *Batch) Queue(e *Event, sql string, args ...any) {
	b.b.Queue(sql, args...)
	b.owners = append(b.owners, owner{e: e})
}

// QueueOne adds a statement that must affect exactly one row (typically an
// UPDATE of the row the event is about); otherwise Send fails with ErrNoRow.
func (b *Batch) QueueOne(e *Event, sql string, args ...any) {
	b.b.Queue(sql, args...)
	b.owners = append(b.owners, owner{e: e, one: true})
}

// Len is the number of queued statements.
func (b *Batch) Len() int { return len(b.owners) }

// Send runs the queued statements in tx and resets the batch.
func (b *Batch) Send(ctx context.Context, tx pgx.Tx) error {
	if len(b.owners) == 0 {
		return nil
	}
	owners, batch := b.owners, b.b
	b.b, b.owners = pgx.Batch{}, nil
	br := tx.SendBatch(ctx, &batch)
	for _, o := range owners {
		tag, err := br.Exec()
		if err == nil && o.one && tag.RowsAffected() != 1 {
			err = fmt.Errorf("%w (%s affected %d)", ErrNoRow, tag.String(), tag.RowsAffected())
		}
		if err != nil {
			_ = br.Close()
			return Fail(o.e, err)
		}
	}
	return br.Close()
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,23}$`)

func validate(p Projection, reg *domain.Registry) error {
	var errs []error
	if !nameRE.MatchString(p.Name()) {
		errs = append(errs, fmt.Errorf("projection name %q: want [a-z][a-z0-9_]{0,23}", p.Name()))
	}
	if p.Version() < 1 {
		errs = append(errs, fmt.Errorf("projection %s: version must be >= 1", p.Name()))
	}
	if len(p.EventTypes()) == 0 {
		errs = append(errs, fmt.Errorf("projection %s: handles no event types", p.Name()))
	}
	for _, t := range p.EventTypes() {
		if _, ok := reg.CurrentVersion(t); !ok {
			errs = append(errs, fmt.Errorf("projection %s: %w: %q is not registered", p.Name(), domain.ErrUnknownEventType, t))
		}
	}
	return errors.Join(errs...)
}
