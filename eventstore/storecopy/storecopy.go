// Package storecopy copies the whole event log from one event store to
// another (PostgreSQL to EventStoreDB and back), keeping every event's ID,
// stream, version, type, schema version, data and metadata, and the global
// order.
//
// The copy appends, in the source's global order, each run of consecutive
// events of one stream as one batch with the exact expected version the
// events had in the source. Appends are idempotent by event ID, so running
// the copy again (after an interruption, or to pick up events written
// since) finds what is already there as replays and writes nothing twice;
// a destination stream that holds other events stops the copy with
// ErrDiverged before anything is overwritten. The recording time of each
// event is the destination's own (stores stamp it themselves); the source's
// time stays in the metadata's OccurredAt when the application set it.
package storecopy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/eventstore"
)

// ErrDiverged: the destination holds events the source does not have at the
// same place, so the copy cannot continue without losing one or the other.
var ErrDiverged = errors.New("the destination's log differs from the source's")

// maxWait bounds the wait for a source that lags behind its own head.
const maxWait = time.Minute

// Options tune Copy.
type Options struct {
	// PageSize is the number of events read from the source at a time
	// (default 500).
	PageSize int
	// Progress, if set, is called after every page with the counts so far.
	Progress func(Stats)
}

// Stats counts what a copy did.
type Stats struct {
	Events  int64 // events read from the source
	Copied  int64 // events written to the destination
	Present int64 // events the destination already held (an earlier run)
	// Last is the source position of the last event handled.
	Last eventstore.Position
}

// Counter is implemented by stores that count events cheaply (the
// PostgreSQL store); Total uses it.
type Counter interface {
	CountEvents(ctx context.Context, after, upTo eventstore.Position) (int64, error)
}

// Total returns the number of events in src up to its head, or -1 when
// src cannot count them cheaply.
func Total(ctx context.Context, src eventstore.Store) (int64, error) {
	c, ok := src.(Counter)
	if !ok {
		return -1, nil
	}
	head, err := src.Head(ctx)
	if err != nil {
		return 0, err
	}
	return c.CountEvents(ctx, eventstore.Start, head)
}

// Copy copies every event src holds up to its head (as of the call) into
// dst, in order. Events appended to src meanwhile are left for the next run.
func Copy(ctx context.Context, src, dst eventstore.Store, opts Options) (Stats, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	var st Stats
	head, err := src.Head(ctx)
	if err != nil {
		return st, fmt.Errorf("reading the source's head: %w", err)
	}
	after := eventstore.Start
	var waited time.Duration
	for after.Less(head) {
		page, err := src.ReadAll(ctx, eventstore.ReadAllOptions{After: after, Limit: opts.PageSize})
		if err != nil {
			return st, fmt.Errorf("reading the source after %s: %w", after, err)
		}
		if len(page) == 0 {
			// PostgreSQL holds back events while older transactions run:
			// wait until the source hands out everything up to its head.
			if waited > maxWait {
				return st, fmt.Errorf("the source stopped at %s before its head %s for %v", after, head, maxWait)
			}
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
			waited += 10 * time.Millisecond
			continue
		}
		waited = 0
		for len(page) > 0 && !head.Less(page[0].Position) {
			run := 1
			for run < len(page) && page[run].StreamID == page[0].StreamID && page[run].Version == page[run-1].Version+1 && !head.Less(page[run].Position) {
				run++
			}
			if err := copyRun(ctx, dst, page[:run], &st); err != nil {
				return st, err
			}
			page = page[run:]
		}
		after = st.Last
		if len(page) > 0 { // past the head
			break
		}
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
	if opts.Progress != nil {
		opts.Progress(st)
	}
	return st, nil
}

// copyRun appends consecutive events of one stream at their source versions.
func copyRun(ctx context.Context, dst eventstore.Store, run []eventstore.RecordedEvent, st *Stats) error {
	first, last := run[0], run[len(run)-1]
	evs := make([]eventstore.EventData, len(run))
	for i, e := range run {
		evs[i] = eventstore.EventData{ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata}
	}
	before, err := dst.StreamVersion(ctx, first.StreamID)
	if err != nil {
		return fmt.Errorf("reading %q in the destination: %w", first.StreamID, err)
	}
	if before >= first.Version && before < last.Version {
		// An earlier run copied the start of this run (its pages ended
		// elsewhere): confirm that part, then copy the rest.
		k := before - first.Version + 1
		if err := copyRun(ctx, dst, run[:k], st); err != nil {
			return err
		}
		return copyRun(ctx, dst, run[k:], st)
	}
	res, err := dst.Append(ctx, first.StreamID, eventstore.Exact(first.Version-1), evs...)
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion), errors.Is(err, eventstore.ErrDuplicateEventID):
		return fmt.Errorf("%w: stream %q at versions %d..%d (event %s): %v", ErrDiverged, first.StreamID, first.Version, last.Version, first.ID, err)
	case err != nil:
		return fmt.Errorf("copying %q versions %d..%d: %w", first.StreamID, first.Version, last.Version, err)
	case res.Version != last.Version:
		return fmt.Errorf("%w: stream %q: copied up to version %d, the source has %d", ErrDiverged, first.StreamID, res.Version, last.Version)
	}
	n := int64(len(run))
	st.Events += n
	if before >= last.Version {
		st.Present += n
	} else {
		st.Copied += n
	}
	st.Last = last.Position
	return nil
}
