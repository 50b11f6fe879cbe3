package projections

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Progress reports a build's advance, after every batch.
type Progress struct {
	Projection string
	Generation int64
	// Events is the number of events read (handled or not) by this run.
	Events int64
	// Position is the checkpoint reached; Target the log head when the
	// generation was created.
	Position, Target eventstore.Position
	// Served is true once the generation has been swapped in.
	Served bool
}

// worker applies the log to one generation.
type worker struct {
	r     *Runtime
	p     Projection
	gen   generation
	types map[string]bool
	pos   eventstore.Position
	// skip holds the events an operator made this projection skip
	// (reloaded on every (re)start of the worker's loop).
	skip map[uuid.UUID]bool

	failures    int
	maxFailures int // 0: retry forever
	events      int64
	// stopWhenServed ends run once a building generation has been swapped
	// in (Rebuild); otherwise the worker goes on following the log.
	stopWhenServed bool
	progress       func(Progress)
}

func (r *Runtime) newWorker(p Projection, g generation) *worker {
	types := make(map[string]bool, len(p.EventTypes()))
	for _, t := range p.EventTypes() {
		types[t] = true
	}
	return &worker{r: r, p: p, gen: g, types: types, pos: g.Position}
}

// run works until ctx ends, the generation is retired, or (with
// stopWhenServed) it has been swapped in. Failures are recorded and retried
// with exponential backoff from the last checkpoint: nothing is skipped.
func (w *worker) run(ctx context.Context) error {
	for {
		err := w.once(ctx)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errRetired):
			w.r.log.Info("projections: generation retired; worker stops", "projection", w.p.Name(), "generation", w.gen.ID)
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		}
		w.failures++
		w.r.recordFailure(context.WithoutCancel(ctx), w, err)
		if w.maxFailures > 0 && w.failures >= w.maxFailures {
			return err
		}
		d := w.r.cfg.RetryMin << min(w.failures-1, 16)
		if d > w.r.cfg.RetryMax || d <= 0 {
			d = w.r.cfg.RetryMax
		}
		d = d/2 + rand.N(d/2+1) // jitter: several processes must not retry in step
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

func (w *worker) once(ctx context.Context) error {
	g, err := w.r.loadGen(ctx, w.r.cfg.Pool, w.gen.ID)
	if err != nil {
		return err
	}
	if g.State == StateRetired {
		return errRetired
	}
	w.gen, w.pos = g, g.Position
	if w.skip, err = w.r.skipSet(ctx, w.p.Name()); err != nil {
		return err
	}
	if g.State == StateBuilding {
		if err := w.catchUp(ctx); err != nil {
			return err
		}
		if w.stopWhenServed {
			return nil
		}
	}
	err = w.r.cfg.Store.Subscribe(ctx, eventstore.SubscribeOptions{After: w.pos, BatchSize: w.r.cfg.BatchSize},
		func(ctx context.Context, events []eventstore.RecordedEvent) error { return w.apply(ctx, events, false) })
	var ee *EventError
	if err != nil && ctx.Err() == nil && !errors.Is(err, errRetired) && !errors.As(err, &ee) {
		return fmt.Errorf("projection %s: following the log from %s: %w", w.p.Name(), w.pos, err)
	}
	return err
}

// catchUpGrowth bounds how far catchUp grows its pages (a multiple of
// BatchSize) once a build chases the live log past its target.
const catchUpGrowth = 16

// catchUp reads the log page by page up to its end, then swaps the
// generation in, in the transaction of its last page.
//
// Past the build's target (the log head when it was created) the build
// chases the events appended meanwhile, and on a busy log it would never
// see an empty page. There, "the end" is the head read before each page:
// once a page reaches it the generation is as current as a served one
// that applied its last batch, and is swapped in with that page. A full
// page there means the log grew about as fast as the build applied it, so
// the page doubles after each full one, up to catchUpGrowth x BatchSize,
// and the build outgrows the rate of appends and ends.
func (w *worker) catchUp(ctx context.Context) error {
	limit := w.r.cfg.BatchSize
	for {
		chasing := !w.pos.Less(w.gen.Target)
		var head eventstore.Position
		if chasing {
			var err error
			if head, err = w.r.cfg.Store.Head(ctx); err != nil {
				return fmt.Errorf("projection %s: reading the log head: %w", w.p.Name(), err)
			}
		}
		evs, err := w.r.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{After: w.pos, Limit: limit})
		if err != nil {
			return fmt.Errorf("projection %s: reading the log after %s: %w", w.p.Name(), w.pos, err)
		}
		end := len(evs) == 0 || (chasing && !evs[len(evs)-1].Position.Less(head))
		if err := w.apply(ctx, evs, end); err != nil {
			return err
		}
		if end {
			return nil
		}
		if chasing && len(evs) == limit {
			limit = min(2*limit, catchUpGrowth*w.r.cfg.BatchSize)
		}
	}
}

// apply folds events (any types, in log order) into the generation and
// moves its checkpoint past them, in one transaction; with swap, the same
// transaction makes the generation the served one.
func (w *worker) apply(ctx context.Context, evs []eventstore.RecordedEvent, swap bool) error {
	start := time.Now()
	decoded := make([]Event, 0, len(evs))
	for _, e := range evs {
		if w.skip[e.ID] {
			continue // skipped by an operator (Runtime.Skip)
		}
		if !w.types[e.Type] {
			// Not handled here; but a type this binary does not know at
			// all means the log holds facts it cannot interpret (written by
			// a newer release?): stop rather than skip.
			if _, known := w.r.cfg.Registry.CurrentVersion(e.Type); !known {
				return &EventError{Projection: w.p.Name(), Position: e.Position, Type: e.Type, StreamID: e.StreamID, Version: e.Version,
					Err: fmt.Errorf("%w %q: this release cannot interpret it", domain.ErrUnknownEventType, e.Type)}
			}
			continue
		}
		data, err := w.r.cfg.Registry.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return &EventError{Projection: w.p.Name(), Position: e.Position, Type: e.Type, StreamID: e.StreamID, Version: e.Version,
				Err: fmt.Errorf("decoding: %w", err)}
		}
		decoded = append(decoded, Event{RecordedEvent: e, Data: data})
	}
	next := w.pos
	var lastAt *time.Time
	if n := len(evs); n > 0 {
		next = evs[n-1].Position
		at := evs[n-1].RecordedAt
		lastAt = &at
		if !w.pos.Less(evs[0].Position) {
			return fmt.Errorf("projection %s: the store delivered %s at or before the checkpoint %s", w.p.Name(), evs[0].Position, w.pos)
		}
	}
	swapped := false
	err := pgx.BeginFunc(ctx, w.r.cfg.Pool, func(tx pgx.Tx) error {
		var state string
		var at eventstore.Position
		b := &pgx.Batch{}
		b.Queue("SELECT set_config('search_path', $1, true)", pgx.Identifier{w.gen.Schema}.Sanitize())
		// The commit does not wait for its WAL to reach the disk: rows and
		// checkpoint still commit or vanish together, and a crash of
		// PostgreSQL can only lose the newest batches, which the worker
		// then applies again from the older checkpoint (see asyncCommitSQL).
		b.Queue(asyncCommitSQL)
		b.Queue(`SELECT state, position_commit, position_prepare FROM `+w.r.catalog+` WHERE generation = $1 FOR UPDATE`, w.gen.ID).
			QueryRow(func(row pgx.Row) error { return row.Scan(&state, &at.Commit, &at.Prepare) })
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return errRetired
			}
			return fmt.Errorf("projection %s: locking checkpoint: %w", w.p.Name(), err)
		}
		if state == StateRetired {
			return errRetired
		}
		if at != w.pos {
			return fmt.Errorf("projection %s: %w (expected %s, found %s)", w.p.Name(), errMoved, w.pos, at)
		}
		if len(decoded) > 0 {
			if err := applyByTenant(ctx, tx, w.p, decoded); err != nil {
				return w.attribute(err, decoded)
			}
		}
		if len(evs) > 0 {
			_, err := tx.Exec(ctx, `UPDATE `+w.r.catalog+` SET position_commit = $2, position_prepare = $3,
				events_seen = events_seen + $4, events_applied = events_applied + $5, last_event_at = $6,
				updated_at = now(), failures = 0, last_error = NULL, last_error_at = NULL
				WHERE generation = $1`, w.gen.ID, next.Commit, next.Prepare, len(evs), len(decoded), lastAt)
			if err != nil {
				return fmt.Errorf("projection %s: saving checkpoint: %w", w.p.Name(), err)
			}
		}
		if swap && state == StateBuilding {
			if err := w.r.activate(ctx, tx, w.p, w.gen); err != nil {
				return fmt.Errorf("projection %s: swapping in generation %d: %w", w.p.Name(), w.gen.ID, err)
			}
			swapped = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.pos = next
	w.events += int64(len(evs))
	if w.failures > 0 {
		w.failures = 0
		if len(evs) == 0 {
			// The checkpoint did not move, so the transaction did not clear
			// the error this retry overcame.
			w.r.clearFailure(ctx, w)
		}
	}
	w.r.metrics.batch(w.p.Name(), len(evs), len(decoded), time.Since(start))
	if swapped {
		w.gen.State = StateActive
		w.r.log.Info("projections: new generation swapped in", "projection", w.p.Name(), "version", w.p.Version(),
			"generation", w.gen.ID, "position", w.pos.String())
		if err := w.r.dropRetired(ctx); err != nil {
			w.r.log.Warn("projections: dropping the replaced generation; will retry", "err", err)
		}
	}
	if w.gen.State == StateActive {
		w.r.setServed(w.p.Name(), w.gen.ID, w.pos)
	}
	if w.progress != nil {
		w.progress(Progress{Projection: w.p.Name(), Generation: w.gen.ID, Events: w.events, Position: w.pos,
			Target: w.gen.Target, Served: w.gen.State == StateActive})
	}
	return nil
}

// asyncCommitSQL makes the transaction it runs in commit without waiting
// for the WAL flush (synchronous_commit = off, for this transaction only).
// That is safe for a projection batch: its rows and its checkpoint are one
// transaction, so a crash of PostgreSQL loses both or neither, and losses
// are always a suffix of the WAL (everything committed before a durable
// commit, such as the next append, is durable with it). The events are
// appended with a synchronous commit, so after a crash the worker finds its
// checkpoint behind and applies the lost batches again. Visibility is not
// delayed: other sessions see the batch at once. It saves one WAL sync per
// batch per projection, which competed with the appends of the commands.
const asyncCommitSQL = "SELECT set_config('synchronous_commit', 'off', true)"

// attribute makes sure a projection's error names an event and the projection.
func (w *worker) attribute(err error, batch []Event) error {
	var ee *EventError
	if !errors.As(err, &ee) {
		first, last := batch[0], batch[len(batch)-1]
		return &EventError{Projection: w.p.Name(), Position: first.Position, Type: first.Type, StreamID: first.StreamID, Version: first.Version,
			Err: fmt.Errorf("in a batch of %d events up to %s: %w", len(batch), last.Position, err)}
	}
	if ee.Projection == "" {
		ee.Projection = w.p.Name()
	}
	return err
}

func (r *Runtime) recordFailure(ctx context.Context, w *worker, err error) {
	r.metrics.failure(w.p.Name())
	attrs := []any{"projection", w.p.Name(), "generation", w.gen.ID, "position", w.pos.String(), "failures", w.failures, "err", err}
	var ee *EventError
	if errors.As(err, &ee) {
		attrs = append(attrs, "event_position", ee.Position.String(), "event_type", ee.Type, "stream", ee.StreamID)
	}
	r.log.Error("projections: batch failed; retrying from the checkpoint", attrs...)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, dbErr := r.cfg.Pool.Exec(ctx, `UPDATE `+r.catalog+` SET failures = failures + 1, last_error = $2, last_error_at = now()
		WHERE generation = $1`, w.gen.ID, err.Error())
	if dbErr != nil {
		r.log.Warn("projections: recording the failure", "err", dbErr)
	}
}

func (r *Runtime) clearFailure(ctx context.Context, w *worker) {
	_, _ = r.cfg.Pool.Exec(ctx, `UPDATE `+r.catalog+` SET failures = 0, last_error = NULL, last_error_at = NULL WHERE generation = $1`, w.gen.ID)
}
