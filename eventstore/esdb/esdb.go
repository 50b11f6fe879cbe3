// Package esdb is the EventStoreDB / KurrentDB backend of the evcrm event
// store contract, on github.com/EventStore/EventStore-Client-Go/v4.
//
// Mapping to the contract:
//   - Versions: EventStoreDB revisions are 0-based, evcrm versions 1-based
//     (version = revision + 1).
//   - Positions: EventStoreDB's (commit, prepare) pair is used as is. The
//     server's $all order is its commit order, so subscribers never skip a
//     late commit.
//   - Schema version and evcrm metadata travel in the event's user metadata
//     as JSON; event data is JSON.
//   - Idempotency: EventStoreDB makes a re-sent append with the same event IDs
//     a no-op, but it neither compares content nor looks far back. The adapter
//     reads the written range back after each append (Config.VerifyAppends,
//     on by default) and reports ErrDuplicateEventID when an ID already stood
//     for other content, so both backends pass one contract suite.
//   - Client error types never leave this package: a wrong expected version
//     becomes *eventstore.VersionError with the actual version read back.
//   - System events ($-prefixed types and streams) are never returned.
package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/evcrm/evcrm/eventstore"
)

// Config configures the store.
type Config struct {
	// ConnectionString, e.g. "esdb://localhost:2113?tls=false".
	ConnectionString string
	// VerifyAppends reads back each append to detect an event ID reused for
	// other content (see the package doc). Default true.
	VerifyAppends *bool
	// PageSize for ReadAll and stream reads without a limit. Default 1000.
	PageSize int
}

// Validate reports configuration problems.
func (c Config) Validate() error {
	var errs []error
	if c.ConnectionString == "" {
		errs = append(errs, errors.New("esdb: connection string is required"))
	}
	if c.PageSize < 0 {
		errs = append(errs, errors.New("esdb: page size must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is the EventStoreDB backend.
type Store struct {
	client   *esdb.Client
	verify   bool
	pageSize int
}

var _ eventstore.Store = (*Store)(nil)

// New connects to EventStoreDB.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conf, err := esdb.ParseConnectionString(cfg.ConnectionString)
	if err != nil {
		return nil, fmt.Errorf("esdb: parsing connection string: %w", err)
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("esdb: creating client: %w", err)
	}
	s := &Store{client: client, verify: true, pageSize: cfg.PageSize}
	if cfg.VerifyAppends != nil {
		s.verify = *cfg.VerifyAppends
	}
	if s.pageSize == 0 {
		s.pageSize = 1000
	}
	return s, nil
}

// Close closes the client.
func (s *Store) Close() { _ = s.client.Close() }

// userMeta is what evcrm writes into EventStoreDB's user metadata.
type userMeta struct {
	SchemaVersion int `json:"schema_version"`
	eventstore.Metadata
}

func expectedRevision(e eventstore.ExpectedVersion) esdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	}
	if v, ok := e.Exact(); ok {
		return esdb.Revision(v - 1)
	}
	return esdb.Any{}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return eventstore.AppendResult{}, err
	}
	if strings.HasPrefix(streamID, "$") {
		return eventstore.AppendResult{}, fmt.Errorf("%w: names starting with $ are reserved", eventstore.ErrInvalidStreamID)
	}
	if err := eventstore.ValidateEvents(events); err != nil {
		return eventstore.AppendResult{}, err
	}
	data := make([]esdb.EventData, len(events))
	for i, e := range events {
		md, err := json.Marshal(userMeta{SchemaVersion: e.SchemaVersion, Metadata: e.Metadata})
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("%w: metadata: %v", eventstore.ErrInvalidEvent, err)
		}
		data[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: md}
	}
	res, err := s.client.AppendToStream(ctx, streamID, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, data...)
	if err != nil {
		var esErr *esdb.Error
		if errors.As(err, &esErr) && esErr.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion) {
			actual, verr := s.StreamVersion(ctx, streamID)
			if verr != nil {
				return eventstore.AppendResult{}, fmt.Errorf("esdb: appending to %q: wrong expected version (reading actual: %v): %w", streamID, verr, eventstore.ErrWrongExpectedVersion)
			}
			return eventstore.AppendResult{}, &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: actual}
		}
		return eventstore.AppendResult{}, s.wrap(ctx, "appending to "+streamID, err)
	}
	result := eventstore.AppendResult{
		StreamID: streamID,
		Version:  res.NextExpectedVersion + 1,
		Position: eventstore.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition},
	}
	if s.verify {
		return s.verifyAppend(ctx, streamID, expected, events, result)
	}
	return result, nil
}

// verifyAppend reads back the events the append claims to have written and
// checks they are ours: same IDs, types and data, consecutive.
func (s *Store) verifyAppend(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events []eventstore.EventData, result eventstore.AppendResult) (eventstore.AppendResult, error) {
	// Find each event by ID in the stream's tail; the server may have
	// treated the append as idempotent and written nothing.
	first := uint64(1)
	if result.Version > uint64(len(events)) {
		first = result.Version - uint64(len(events)) + 1
	}
	got, err := s.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{From: first, Limit: len(events)})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(got) == len(events) && sameEvents(got, events) {
		result.Version = got[len(got)-1].Version
		result.Position = got[len(got)-1].Position
		return result, nil
	}
	// The tail holds something else: the server found our IDs earlier in
	// the stream (an idempotent replay further back) or it wrote nothing.
	all, err := s.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	for i := range all {
		if all[i].ID != events[0].ID {
			continue
		}
		if i+len(events) <= len(all) && sameEvents(all[i:i+len(events)], events) {
			if v, ok := expected.Exact(); ok && v != all[i].Version-1 {
				return eventstore.AppendResult{}, &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: all[len(all)-1].Version}
			}
			last := all[i+len(events)-1]
			return eventstore.AppendResult{StreamID: streamID, Version: last.Version, Position: last.Position}, nil
		}
	}
	return eventstore.AppendResult{}, fmt.Errorf("stream %q: %w", streamID, eventstore.ErrDuplicateEventID)
}

func sameEvents(got []eventstore.RecordedEvent, want []eventstore.EventData) bool {
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Type != want[i].Type || !eventstore.JSONEqual(got[i].Data, want[i].Data) {
			return false
		}
	}
	return true
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, streamID string) (uint64, error) {
	evs, err := s.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return evs[0].Version, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return nil, err
	}
	ro := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Start{}}
	if opts.Direction == eventstore.Backwards {
		ro.Direction = esdb.Backwards
		ro.From = esdb.End{}
	}
	if opts.From > 0 {
		ro.From = esdb.Revision(opts.From - 1)
	}
	count := uint64(opts.Limit)
	if count == 0 {
		count = ^uint64(0) >> 1
	}
	rs, err := s.client.ReadStream(ctx, streamID, ro, count)
	if err != nil {
		return nil, s.wrap(ctx, "reading "+streamID, err)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var esErr *esdb.Error
			if errors.As(err, &esErr) && (esErr.IsErrorCode(esdb.ErrorCodeResourceNotFound) || esErr.IsErrorCode(esdb.ErrorCodeStreamDeleted)) {
				return nil, fmt.Errorf("stream %q: %w", streamID, eventstore.ErrStreamNotFound)
			}
			return nil, s.wrap(ctx, "reading "+streamID, err)
		}
		rec, err := toRecorded(ev.OriginalEvent())
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	if len(out) == 0 && opts.From <= 1 {
		return nil, fmt.Errorf("stream %q: %w", streamID, eventstore.ErrStreamNotFound)
	}
	return out, nil
}

// ReadAll implements eventstore.Store. Filters apply on the client side.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = s.pageSize
	}
	var from esdb.AllPosition = esdb.Start{}
	if !opts.After.IsZero() {
		from = esdb.Position{Commit: opts.After.Commit, Prepare: opts.After.Prepare}
	}
	var out []eventstore.RecordedEvent
	for len(out) < limit {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, uint64(s.pageSize))
		if err != nil {
			return nil, s.wrap(ctx, "reading $all", err)
		}
		n, last, err := s.drainAll(rs, opts, &out, limit)
		rs.Close()
		if err != nil {
			return nil, err
		}
		if n < s.pageSize {
			break
		}
		from = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
		opts.After = last
	}
	return out, nil
}

func (s *Store) drainAll(rs *esdb.ReadStream, opts eventstore.ReadAllOptions, out *[]eventstore.RecordedEvent, limit int) (int, eventstore.Position, error) {
	n := 0
	var last eventstore.Position
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, last, nil
		}
		if err != nil {
			return n, last, fmt.Errorf("esdb: reading $all: %w", err)
		}
		n++
		e := ev.OriginalEvent()
		last = eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}
		if !opts.After.Less(last) || isSystem(e) || !opts.Filter.Match(e.StreamID, e.EventType) || len(*out) >= limit {
			continue
		}
		rec, err := toRecorded(e)
		if err != nil {
			return n, last, err
		}
		*out = append(*out, rec)
	}
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 64)
	if err != nil {
		return eventstore.Position{}, s.wrap(ctx, "reading $all", err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return eventstore.Start, nil
		}
		if err != nil {
			return eventstore.Position{}, s.wrap(ctx, "reading $all", err)
		}
		if e := ev.OriginalEvent(); !isSystem(e) {
			return eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}, nil
		}
	}
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	batch := opts.BatchSize
	if batch <= 0 {
		batch = 500
	}
	so := esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: esdb.ExcludeSystemEventsFilter()}
	if !opts.After.IsZero() {
		so.From = esdb.Position{Commit: opts.After.Commit, Prepare: opts.After.Prepare}
	}
	if len(opts.Filter.Categories) > 0 {
		prefixes := make([]string, len(opts.Filter.Categories))
		for i, c := range opts.Filter.Categories {
			prefixes[i] = c + "-"
		}
		so.Filter = &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: prefixes}
	}
	sub, err := s.client.SubscribeToAll(ctx, so)
	if err != nil {
		return s.wrap(ctx, "subscribing to $all", err)
	}
	defer sub.Close()

	type item struct {
		ev  *esdb.RecordedEvent
		err error
	}
	ch := make(chan item, batch)
	go func() {
		defer close(ch)
		for {
			se := sub.Recv()
			switch {
			case se.SubscriptionDropped != nil:
				select {
				case ch <- item{err: se.SubscriptionDropped.Error}:
				case <-ctx.Done():
				}
				return
			case se.EventAppeared != nil:
				select {
				case ch <- item{ev: se.EventAppeared.OriginalEvent()}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	last := opts.After
	buf := make([]eventstore.RecordedEvent, 0, batch)
	for {
		var it item
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it, ok = <-ch:
		}
		for {
			if !ok {
				return ctx.Err()
			}
			if it.err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("esdb: subscription dropped: %w", it.err)
			}
			pos := eventstore.Position{Commit: it.ev.Position.Commit, Prepare: it.ev.Position.Prepare}
			if last.Less(pos) && !isSystem(it.ev) && opts.Filter.Match(it.ev.StreamID, it.ev.EventType) {
				rec, err := toRecorded(it.ev)
				if err != nil {
					return err
				}
				buf = append(buf, rec)
				last = pos
			}
			if len(buf) >= batch {
				break
			}
			select { // take what is already there, without waiting
			case it, ok = <-ch:
				continue
			default:
			}
			break
		}
		if len(buf) > 0 {
			if err := h(ctx, buf); err != nil {
				return err
			}
			buf = make([]eventstore.RecordedEvent, 0, batch)
		}
	}
}

func isSystem(e *esdb.RecordedEvent) bool {
	return strings.HasPrefix(e.EventType, "$") || strings.HasPrefix(e.StreamID, "$")
}

func toRecorded(e *esdb.RecordedEvent) (eventstore.RecordedEvent, error) {
	var md userMeta
	if len(e.UserMetadata) > 0 {
		if err := json.Unmarshal(e.UserMetadata, &md); err != nil {
			return eventstore.RecordedEvent{}, fmt.Errorf("esdb: event %s in %q: metadata is not evcrm's: %w", e.EventID, e.StreamID, err)
		}
	}
	if md.SchemaVersion == 0 {
		md.SchemaVersion = 1
	}
	return eventstore.RecordedEvent{
		ID:            e.EventID,
		StreamID:      e.StreamID,
		Version:       e.EventNumber + 1,
		Position:      eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare},
		Type:          e.EventType,
		SchemaVersion: md.SchemaVersion,
		Data:          e.Data,
		Metadata:      md.Metadata,
		RecordedAt:    e.CreatedDate.UTC(),
	}, nil
}

func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("esdb: %s: %w", op, ctxErr)
	}
	var esErr *esdb.Error
	if errors.As(err, &esErr) && esErr.IsErrorCode(esdb.ErrorCodeDeadlineExceeded) {
		return fmt.Errorf("esdb: %s: %w", op, context.DeadlineExceeded)
	}
	return fmt.Errorf("esdb: %s: %w", op, err)
}

// DialTimeout is a convenience for callers that want to fail fast at start.
const DialTimeout = 10 * time.Second
