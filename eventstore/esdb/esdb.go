// Package esdb is the EventStoreDB / KurrentDB backend of the evcrm event
// store contract, on github.com/EventStore/EventStore-Client-Go/v4. Its
// tests run the whole contract suite through the real client against the
// in-process test server of package esdbtest, and against a real node when
// EVCRM_TEST_ESDB_URL is set.
//
// Mapping to the contract:
//   - Versions: EventStoreDB revisions are 0-based, evcrm versions 1-based
//     (version = revision + 1).
//   - Positions: EventStoreDB's (commit, prepare) pair is used as is. The
//     server's $all order is its commit order, so subscribers never skip a
//     late commit. An append's result is the position of its last event,
//     read back (the server answers with the transaction's position, which
//     is no event's, and with none at all for an idempotent replay).
//   - Schema version and evcrm metadata travel in the event's user metadata
//     as JSON; event data is JSON.
//   - Idempotency: EventStoreDB recognises a re-sent append by event IDs
//     only, never compares content, and with the expectations any and
//     stream-exists writes a batch whose first ID is new even when later IDs
//     repeat. With Config.VerifyAppends (the default) the adapter decides
//     instead: it reads the stream, returns the original result for a replay
//     (same IDs, types, schema versions and data, at a place where the
//     expectation held), reports ErrDuplicateEventID for any other reuse of
//     an ID in the stream, and otherwise appends at the exact revision it
//     read, deciding again if the stream moved meanwhile. So every append
//     reads its whole stream once: cheap for evcrm's aggregate streams,
//     which commands read anyway. An event ID is unique within its stream
//     only: EventStoreDB has no index by event ID, so an ID used in another
//     stream is not noticed.
//   - Client error types never leave this package: a wrong expected version
//     becomes *eventstore.VersionError with the actual version read back.
//   - System events ($-prefixed types and streams) are never returned.
//   - Subscribe filters on the server (stream-name or event-type regular
//     expressions, system events excluded) and again on the client, and
//     resubscribes from the last delivered position when the server drops
//     the subscription, so only the context, the handler or Close end it.
package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// Config configures the store.
type Config struct {
	// ConnectionString, e.g. "esdb://localhost:2113?tls=false".
	ConnectionString string
	// VerifyAppends makes the adapter enforce the contract's idempotency
	// rules within a stream (see the package doc). Default true. Without
	// it, appends follow EventStoreDB's own rules.
	VerifyAppends *bool
	// PageSize for ReadAll and stream reads without a limit. Default 1000.
	PageSize int
	// Logger receives warnings about dropped subscriptions. Default slog.Default().
	Logger *slog.Logger
	// ResubscribeDelay is the first wait before resubscribing after a drop;
	// it doubles up to 5 s while the server keeps failing. Default 100ms.
	ResubscribeDelay time.Duration
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
	logger   *slog.Logger
	delay    time.Duration

	closeOnce sync.Once
	closed    atomic.Bool
	done      chan struct{} // closed by Close
}

var _ eventstore.Store = (*Store)(nil)

// New connects to EventStoreDB. The connection is made lazily, by the
// first call.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conf, err := esdb.ParseConnectionString(cfg.ConnectionString)
	if err != nil {
		return nil, fmt.Errorf("esdb: parsing connection string: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// The client logs to stdout by default, an error for every subscription
	// its caller ends; the adapter reports what matters itself.
	conf.Logger = func(level esdb.LogLevel, format string, args ...any) {
		if logger.Enabled(context.Background(), slog.LevelDebug) {
			logger.Debug(fmt.Sprintf(format, args...), "component", "esdb-client", "client_level", level)
		}
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("esdb: creating client: %w", err)
	}
	s := &Store{client: client, verify: true, pageSize: cfg.PageSize, logger: logger, delay: cfg.ResubscribeDelay, done: make(chan struct{})}
	if cfg.VerifyAppends != nil {
		s.verify = *cfg.VerifyAppends
	}
	if s.pageSize == 0 {
		s.pageSize = 1000
	}
	if s.delay <= 0 {
		s.delay = 100 * time.Millisecond
	}
	return s, nil
}

// Close closes the client; running subscriptions end with ErrClosed.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		_ = s.client.Close()
	})
}

func (s *Store) checkOpen(ctx context.Context) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return ctx.Err()
}

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

// exactRevision expects a stream at version v exactly.
func exactRevision(v uint64) esdb.ExpectedRevision {
	if v == 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(v - 1)
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
	if err := s.checkOpen(ctx); err != nil {
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
	if s.verify {
		return s.appendChecked(ctx, streamID, expected, events, data)
	}
	res, err := s.client.AppendToStream(ctx, streamID, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, data...)
	if err != nil {
		if isWrongVersion(err) {
			return eventstore.AppendResult{}, s.versionError(ctx, streamID, expected)
		}
		return eventstore.AppendResult{}, s.wrap(ctx, "appending to "+streamID, err)
	}
	// The server's position is the transaction's, or none for an idempotent
	// replay: the last event's own position is read back.
	return s.resultAt(ctx, streamID, res.NextExpectedVersion+1)
}

// appendChecked decides idempotency by reading the stream, then appends at
// the exact revision it read; if the stream moved meanwhile, it decides again.
func (s *Store) appendChecked(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events []eventstore.EventData, data []esdb.EventData) (eventstore.AppendResult, error) {
	for {
		existing, err := s.readWhole(ctx, streamID)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if res, err, seen := replay(streamID, expected, existing, events); seen {
			return res, err
		}
		var cur uint64 // the stream's version: its last revision + 1
		if n := len(existing); n > 0 {
			cur = existing[n-1].EventNumber + 1
		}
		if !expected.Matches(cur) {
			return eventstore.AppendResult{}, &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: cur}
		}
		res, err := s.client.AppendToStream(ctx, streamID, esdb.AppendToStreamOptions{ExpectedRevision: exactRevision(cur)}, data...)
		if isWrongVersion(err) {
			continue // another writer got there first: decide again
		}
		if err != nil {
			return eventstore.AppendResult{}, s.wrap(ctx, "appending to "+streamID, err)
		}
		if res.CommitPosition == 0 && res.PreparePosition == 0 {
			continue // the server saw a replay: the same batch was written meanwhile
		}
		return s.resultAt(ctx, streamID, cur+uint64(len(events)))
	}
}

// replay looks for the batch's IDs among the stream's events. seen is false
// when none of them is there. Otherwise the batch is a replay (the original
// result) if the stream holds exactly these events, in order, at a place
// where the expectation held; anything else is ErrDuplicateEventID.
func replay(streamID string, expected eventstore.ExpectedVersion, existing []*esdb.RecordedEvent, events []eventstore.EventData) (res eventstore.AppendResult, err error, seen bool) {
	at := make(map[uuid.UUID]int, len(existing))
	for i, e := range existing {
		at[e.EventID] = i
	}
	for _, e := range events {
		if _, ok := at[e.ID]; ok {
			seen = true
			break
		}
	}
	if !seen {
		return res, nil, false
	}
	dup := fmt.Errorf("stream %q: %w", streamID, eventstore.ErrDuplicateEventID)
	i, ok := at[events[0].ID]
	// The expectation must have held where the events were written, at the
	// version before the first of them.
	if !ok || i+len(events) > len(existing) || !expected.Matches(existing[i].EventNumber) {
		return res, dup, true
	}
	var last eventstore.RecordedEvent
	for j, want := range events {
		got, err := toRecorded(existing[i+j])
		if err != nil {
			return res, err, true
		}
		if got.ID != want.ID || got.Type != want.Type || got.SchemaVersion != want.SchemaVersion || !eventstore.JSONEqual(got.Data, want.Data) {
			return res, dup, true
		}
		last = got
	}
	return eventstore.AppendResult{StreamID: streamID, Version: last.Version, Position: last.Position}, nil, true
}

// resultAt reads the event at version v of a stream, which an append has
// just written or found, and returns the append's result.
func (s *Store) resultAt(ctx context.Context, streamID string, v uint64) (eventstore.AppendResult, error) {
	evs, err := s.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{From: v, Limit: 1})
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(evs) != 1 || evs[0].Version != v {
		return eventstore.AppendResult{}, fmt.Errorf("esdb: appending to %q: version %d not found after the append", streamID, v)
	}
	return eventstore.AppendResult{StreamID: streamID, Version: v, Position: evs[0].Position}, nil
}

func (s *Store) versionError(ctx context.Context, streamID string, expected eventstore.ExpectedVersion) error {
	actual, err := s.StreamVersion(ctx, streamID)
	if err != nil {
		return fmt.Errorf("esdb: appending to %q: wrong expected version (reading actual: %v): %w", streamID, err, eventstore.ErrWrongExpectedVersion)
	}
	return &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: actual}
}

func isWrongVersion(err error) bool {
	var esErr *esdb.Error
	return errors.As(err, &esErr) && esErr.IsErrorCode(esdb.ErrorCodeWrongExpectedVersion)
}

// readWhole reads a whole stream without decoding it; nil if it has no
// events.
func (s *Store) readWhole(ctx context.Context, streamID string) ([]*esdb.RecordedEvent, error) {
	rs, err := s.client.ReadStream(ctx, streamID, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Start{}}, ^uint64(0)>>1)
	if err != nil {
		return nil, s.wrap(ctx, "reading "+streamID, err)
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case isNotFound(err):
			return nil, nil
		case err != nil:
			return nil, s.wrap(ctx, "reading "+streamID, err)
		}
		out = append(out, ev.OriginalEvent())
	}
}

func isNotFound(err error) bool {
	var esErr *esdb.Error
	return errors.As(err, &esErr) && (esErr.IsErrorCode(esdb.ErrorCodeResourceNotFound) || esErr.IsErrorCode(esdb.ErrorCodeStreamDeleted))
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
	if err := s.checkOpen(ctx); err != nil {
		return nil, s.wrap(ctx, "reading "+streamID, err)
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
			if isNotFound(err) {
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
	if err := s.checkOpen(ctx); err != nil {
		return nil, s.wrap(ctx, "reading $all", err)
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = s.pageSize
	}
	filtered := len(opts.Filter.Categories) > 0 || len(opts.Filter.EventTypes) > 0
	var from esdb.AllPosition = esdb.Start{}
	if !opts.After.IsZero() {
		from = esdb.Position{Commit: opts.After.Commit, Prepare: opts.After.Prepare}
	}
	var out []eventstore.RecordedEvent
	for len(out) < limit {
		// A read from a position includes the event there: one more. A
		// filter throws events away on this side: whole pages.
		count := min(s.pageSize, limit-len(out)+1)
		if filtered {
			count = s.pageSize
		}
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, uint64(count))
		if err != nil {
			return nil, s.wrap(ctx, "reading $all", err)
		}
		n, last, err := s.drainAll(ctx, rs, opts, &out, limit)
		rs.Close()
		if err != nil {
			return nil, err
		}
		if n < count {
			break
		}
		from = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
		opts.After = last
	}
	return out, nil
}

func (s *Store) drainAll(ctx context.Context, rs *esdb.ReadStream, opts eventstore.ReadAllOptions, out *[]eventstore.RecordedEvent, limit int) (int, eventstore.Position, error) {
	n := 0
	var last eventstore.Position
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, last, nil
		}
		if err != nil {
			return n, last, s.wrap(ctx, "reading $all", err)
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

// headPage is how many events Head reads backwards at a time.
const headPage = 64

// Head implements eventstore.Store: the position of the last event that is
// not a system event, however many system events follow it.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.checkOpen(ctx); err != nil {
		return eventstore.Position{}, s.wrap(ctx, "reading $all", err)
	}
	var from esdb.AllPosition = esdb.End{}
	var cursor *eventstore.Position
	for {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, headPage)
		if err != nil {
			return eventstore.Position{}, s.wrap(ctx, "reading $all", err)
		}
		n := 0
		var last eventstore.Position
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return eventstore.Position{}, s.wrap(ctx, "reading $all", err)
			}
			n++
			e := ev.OriginalEvent()
			last = eventstore.Position{Commit: e.Position.Commit, Prepare: e.Position.Prepare}
			if cursor != nil && !last.Less(*cursor) {
				continue // a server that reads backwards from a position inclusively
			}
			if !isSystem(e) {
				rs.Close()
				return last, nil
			}
		}
		rs.Close()
		if n < headPage {
			return eventstore.Start, nil
		}
		cursor = &last
		from = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
	}
}

// Subscribe implements eventstore.Store. When the server drops the
// subscription (a restart, a leader change, a slow subscriber), it
// subscribes again after the last event it delivered, so it ends only
// when ctx ends, h fails or the store is closed.
func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	if err := s.checkOpen(ctx); err != nil {
		return err
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = 500
	}
	last := opts.After
	delay := s.delay
	for {
		delivered, err := s.subscribeOnce(ctx, opts, &last, batch, h)
		var he handlerError
		switch {
		case errors.As(err, &he):
			return he.err
		case ctx.Err() != nil:
			return ctx.Err()
		case s.closed.Load() || errors.Is(err, eventstore.ErrClosed):
			return eventstore.ErrClosed
		}
		if delivered {
			delay = s.delay
		}
		s.logger.Warn("esdb: subscription dropped, subscribing again", "after", last.String(), "in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.done:
			t.Stop()
			return eventstore.ErrClosed
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// handlerError carries the handler's error out of subscribeOnce.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// serverFilter narrows a subscription on the server: to the categories
// (stream names "<category>" or "<category>-..."), else to the event
// types, else to non-system events. The client filters again.
func serverFilter(f eventstore.Filter) *esdb.SubscriptionFilter {
	quote := func(names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = regexp.QuoteMeta(n)
		}
		return strings.Join(q, "|")
	}
	switch {
	case len(f.Categories) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: "^(?:" + quote(f.Categories) + ")(?:-|$)"}
	case len(f.EventTypes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^(?:" + quote(f.EventTypes) + ")$"}
	}
	return esdb.ExcludeSystemEventsFilter()
}

// subscribeOnce runs one server subscription after *last until it drops
// (its error), ctx ends, the store closes or h fails (a handlerError). It
// reports whether it delivered anything. Its reader goroutine has ended
// when it returns.
func (s *Store) subscribeOnce(ctx context.Context, opts eventstore.SubscribeOptions, last *eventstore.Position, batch int, h eventstore.Handler) (delivered bool, err error) {
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	so := esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: serverFilter(opts.Filter)}
	if !last.IsZero() {
		so.From = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
	}
	sub, err := s.client.SubscribeToAll(subCtx, so)
	if err != nil {
		return false, s.wrap(ctx, "subscribing to $all", err)
	}

	type item struct {
		ev  *esdb.RecordedEvent
		err error
	}
	ch := make(chan item, batch)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		for {
			se := sub.Recv()
			var it item
			switch {
			case se.SubscriptionDropped != nil:
				it.err = se.SubscriptionDropped.Error
			case se.EventAppeared != nil:
				it.ev = se.EventAppeared.OriginalEvent()
			default:
				continue // checkpoints, caught-up and fell-behind notices
			}
			select {
			case ch <- it:
			case <-subCtx.Done():
				return
			}
			if it.err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		_ = sub.Close()
		wg.Wait()
	}()

	buf := make([]eventstore.RecordedEvent, 0, batch)
	for {
		var it item
		var ok bool
		select {
		case <-ctx.Done():
			return delivered, ctx.Err()
		case <-s.done:
			return delivered, eventstore.ErrClosed
		case it, ok = <-ch:
		}
		for {
			if !ok {
				return delivered, errors.New("subscription ended")
			}
			if it.err != nil {
				return delivered, fmt.Errorf("esdb: subscription dropped: %w", it.err)
			}
			pos := eventstore.Position{Commit: it.ev.Position.Commit, Prepare: it.ev.Position.Prepare}
			if last.Less(pos) && !isSystem(it.ev) && opts.Filter.Match(it.ev.StreamID, it.ev.EventType) {
				rec, err := toRecorded(it.ev)
				if err != nil {
					return delivered, handlerError{err}
				}
				buf = append(buf, rec)
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
				return delivered, handlerError{err}
			}
			*last = buf[len(buf)-1].Position
			delivered = true
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
	if s.closed.Load() {
		return fmt.Errorf("esdb: %s: %w", op, eventstore.ErrClosed)
	}
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
