// Package memory is an in-memory event store for unit tests and demos. It
// has the same semantics as the PostgreSQL backend (it passes the same
// contract suite, eventstore/storetest) and keeps everything in one process:
// nothing survives Close.
//
// Positions are a single counter: an event's Position has Commit and
// Prepare both set to its 1-based sequence number in the global log. Appends
// are serialised by a mutex, so an event is visible to readers and
// subscribers as soon as its Append returns, and never before.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// DefaultPageSize is the ReadAll page size when the caller gives no limit,
// and the largest batch a subscription hands over by default.
const DefaultPageSize = 1000

// Store is an in-memory eventstore.Store. The zero value is not usable;
// call New. It is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu      sync.RWMutex
	log     []eventstore.RecordedEvent // the global log; log[i] has sequence i+1
	streams map[string][]int           // stream ID -> indexes into log, in version order
	ids     map[uuid.UUID]int          // event ID -> index into log
	wake    chan struct{}              // closed (and replaced) by every append
	closed  bool
	done    chan struct{} // closed by Close
}

var _ eventstore.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock that stamps RecordedAt (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:     time.Now,
		streams: map[string][]int{},
		ids:     map[uuid.UUID]int{},
		wake:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close ends running subscriptions (they return eventstore.ErrClosed) and
// makes every later call fail with eventstore.ErrClosed.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateEvents(events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("appending to stream %q: %w", streamID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	stream := s.streams[streamID]
	current := uint64(len(stream))

	if at, ok := s.ids[events[0].ID]; ok {
		return s.replay(streamID, expected, events, at, current)
	}
	if !expected.Matches(current) {
		return eventstore.AppendResult{}, &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: current}
	}
	for _, e := range events[1:] {
		if _, ok := s.ids[e.ID]; ok {
			return eventstore.AppendResult{}, fmt.Errorf("stream %q: event %s: %w", streamID, e.ID, eventstore.ErrDuplicateEventID)
		}
	}
	now := s.now().UTC()
	for i, e := range events {
		idx := len(s.log)
		seq := uint64(idx + 1)
		s.log = append(s.log, eventstore.RecordedEvent{
			ID:            e.ID,
			StreamID:      streamID,
			Version:       current + uint64(i) + 1,
			Position:      eventstore.Position{Commit: seq, Prepare: seq},
			Type:          e.Type,
			SchemaVersion: e.SchemaVersion,
			Data:          bytes.Clone(e.Data),
			Metadata:      cloneMetadata(e.Metadata),
			RecordedAt:    now,
		})
		s.ids[e.ID] = idx
		stream = append(stream, idx)
	}
	s.streams[streamID] = stream
	close(s.wake)
	s.wake = make(chan struct{})
	last := s.log[len(s.log)-1]
	return eventstore.AppendResult{StreamID: streamID, Version: last.Version, Position: last.Position}, nil
}

// replay handles an append whose first event ID is already stored: the same
// batch sent again at the place it was written returns the original result.
func (s *Store) replay(streamID string, expected eventstore.ExpectedVersion, events []eventstore.EventData, at int, current uint64) (eventstore.AppendResult, error) {
	first := s.log[at]
	if first.StreamID != streamID {
		return eventstore.AppendResult{}, fmt.Errorf("stream %q: event %s is in another stream: %w", streamID, first.ID, eventstore.ErrDuplicateEventID)
	}
	stream := s.streams[streamID]
	for i, e := range events {
		v := first.Version + uint64(i)
		if v > uint64(len(stream)) {
			return eventstore.AppendResult{}, fmt.Errorf("stream %q: events only partly written before: %w", streamID, eventstore.ErrDuplicateEventID)
		}
		got := s.log[stream[v-1]]
		if got.ID != e.ID || got.Type != e.Type || got.SchemaVersion != e.SchemaVersion || !eventstore.JSONEqual(got.Data, e.Data) {
			return eventstore.AppendResult{}, fmt.Errorf("stream %q: event %s was written with other content: %w", streamID, e.ID, eventstore.ErrDuplicateEventID)
		}
	}
	if !expected.Matches(first.Version - 1) {
		return eventstore.AppendResult{}, fmt.Errorf("stream %q: events already written at version %d, not where expected version %s points: %w",
			streamID, first.Version, expected, eventstore.ErrDuplicateEventID)
	}
	last := s.log[stream[first.Version+uint64(len(events))-2]]
	return eventstore.AppendResult{StreamID: streamID, Version: last.Version, Position: last.Position}, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("reading stream %q: negative limit", streamID)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	stream := s.streams[streamID]
	if len(stream) == 0 {
		return nil, fmt.Errorf("stream %q: %w", streamID, eventstore.ErrStreamNotFound)
	}
	n := uint64(len(stream))
	var idx []int
	if opts.Direction == eventstore.Backwards {
		from := opts.From
		if from == 0 || from > n {
			from = n
		}
		for v := from; v >= 1 && (opts.Limit == 0 || len(idx) < opts.Limit); v-- {
			idx = append(idx, stream[v-1])
		}
	} else {
		from := max(opts.From, 1)
		for v := from; v <= n && (opts.Limit == 0 || len(idx) < opts.Limit); v++ {
			idx = append(idx, stream[v-1])
		}
	}
	out := make([]eventstore.RecordedEvent, len(idx))
	for i, j := range idx {
		out[i] = clone(s.log[j])
	}
	return out, nil
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, streamID string) (uint64, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return 0, err
	}
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.streams[streamID])), nil
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out, _ := s.scan(opts.After, opts.Filter, limit)
	return out, nil
}

// scan returns up to limit events after pos that pass f, and the position
// of the last event examined. The caller holds s.mu.
func (s *Store) scan(after eventstore.Position, f eventstore.Filter, limit int) ([]eventstore.RecordedEvent, eventstore.Position) {
	// Position (n, n) is log[n-1]; anything after (c, p) starts at
	// sequence c+1, or c itself when p < c (a position between events).
	start := after.Commit
	if after.Prepare < after.Commit {
		start--
	}
	var out []eventstore.RecordedEvent
	scanned := after
	for i := start; i < uint64(len(s.log)) && len(out) < limit; i++ {
		e := &s.log[i]
		scanned = e.Position
		if f.Match(e.StreamID, e.Type) {
			out = append(out, clone(*e))
		}
	}
	return out, scanned
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.check(ctx); err != nil {
		return eventstore.Position{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.log) == 0 {
		return eventstore.Start, nil
	}
	return s.log[len(s.log)-1].Position, nil
}

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultPageSize
	}
	after := opts.After
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.RLock()
		closed, wake := s.closed, s.wake
		events, scanned := s.scan(after, opts.Filter, batch)
		s.mu.RUnlock()
		if closed {
			return eventstore.ErrClosed
		}
		after = scanned
		if len(events) > 0 {
			if err := h(ctx, events); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return eventstore.ErrClosed
		case <-wake:
		}
	}
}

func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	return nil
}

// clone copies the parts of an event a caller could modify, so no caller
// can change what the store holds.
func clone(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.Data = bytes.Clone(e.Data)
	e.Metadata = cloneMetadata(e.Metadata)
	return e
}

func cloneMetadata(m eventstore.Metadata) eventstore.Metadata {
	if m.Extra != nil {
		m.Extra = maps.Clone(m.Extra)
	}
	m.OccurredAt = m.OccurredAt.UTC()
	return m
}
