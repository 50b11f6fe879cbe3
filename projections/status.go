package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/lease"
)

// Status describes one generation of a projection (or, with Generation 0,
// a registered projection that has none yet).
type Status struct {
	Name        string `json:"name"`
	CodeVersion int    `json:"code_version"` // the version this binary builds
	Version     int    `json:"version"`      // the generation's version
	Generation  int64  `json:"generation"`
	// State is building, active or missing.
	State string `json:"state"`
	// Running: some process holds the generation's lock and works on it.
	Running  bool                `json:"running"`
	Position eventstore.Position `json:"position"`
	Head     eventstore.Position `json:"head"`
	// LagEvents counts the events after Position up to Head; when
	// LagCapped, there are at least that many.
	LagEvents int64 `json:"lag_events"`
	LagCapped bool  `json:"lag_capped,omitempty"`
	// LagSeconds is how long the oldest event not yet applied has waited
	// (0 when caught up).
	LagSeconds    float64    `json:"lag_seconds"`
	EventsSeen    int64      `json:"events_seen"`
	EventsApplied int64      `json:"events_applied"`
	LastEventAt   *time.Time `json:"last_event_at,omitempty"`
	Failures      int        `json:"failures"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_at,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// Target is the log head when the generation was created (progress of a build).
	Target eventstore.Position `json:"target"`
}

// Failing reports whether the last batch failed.
func (s Status) Failing() bool { return s.LastError != "" }

// EventCounter is implemented by event stores that can count the events
// between two positions cheaply; Status then reports an exact lag.
// Otherwise it pages through the log and stops counting at LagCountCap.
type EventCounter interface {
	CountEvents(ctx context.Context, after, upTo eventstore.Position) (int64, error)
}

// LagCountCap bounds the events Status reads to count a lag when the store
// cannot count them.
const LagCountCap = 10_000

// Status returns the served and building generations of every registered
// projection, with their lag behind the log head.
func (r *Runtime) Status(ctx context.Context) ([]Status, error) {
	head, err := r.cfg.Store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("projections: reading the log head: %w", err)
	}
	gens, err := r.liveGens(ctx, r.cfg.Pool)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []Status
	for _, p := range r.list {
		found := false
		for _, g := range gens {
			if g.Name != p.Name() {
				continue
			}
			found = true
			s := Status{
				Name: g.Name, CodeVersion: p.Version(), Version: g.Version, Generation: g.ID, State: g.State,
				Position: g.Position, Head: head, EventsSeen: g.EventsSeen, EventsApplied: g.Applied,
				LastEventAt: g.LastEventAt, Failures: g.Failures, LastErrorAt: g.LastErrorAt, UpdatedAt: g.UpdatedAt,
				Target: g.Target,
			}
			if g.LastError != nil {
				s.LastError = *g.LastError
			}
			if s.Running, err = r.locked(ctx, g.ID); err != nil {
				return nil, err
			}
			if g.Position.Less(head) {
				if err := r.lag(ctx, &s, now); err != nil {
					return nil, err
				}
			}
			out = append(out, s)
		}
		if !found {
			out = append(out, Status{Name: p.Name(), CodeVersion: p.Version(), State: "missing", Head: head})
		}
	}
	return out, nil
}

func (r *Runtime) lag(ctx context.Context, s *Status, now time.Time) error {
	first, err := r.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{After: s.Position, Limit: 1})
	if err != nil {
		return fmt.Errorf("projections: reading the log after %s: %w", s.Position, err)
	}
	if len(first) == 0 {
		return nil
	}
	s.LagSeconds = max(0, now.Sub(first[0].RecordedAt).Seconds())
	if c, ok := r.cfg.Store.(EventCounter); ok {
		n, err := c.CountEvents(ctx, s.Position, s.Head)
		if err != nil {
			return fmt.Errorf("projections: counting events: %w", err)
		}
		s.LagEvents = n
		return nil
	}
	at := s.Position
	for s.LagEvents < LagCountCap {
		page, err := r.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{After: at, Limit: 1000})
		if err != nil {
			return fmt.Errorf("projections: reading the log after %s: %w", at, err)
		}
		for _, e := range page {
			if s.Head.Less(e.Position) {
				return nil
			}
			s.LagEvents++
		}
		if len(page) == 0 {
			return nil
		}
		at = page[len(page)-1].Position
	}
	s.LagCapped = true
	return nil
}

// locked reports whether some session holds the generation's lease.
func (r *Runtime) locked(ctx context.Context, gen int64) (bool, error) {
	var held bool
	err := r.cfg.Pool.QueryRow(ctx, `
		WITH k AS (SELECT hashtextextended($1, 0) AS key)
		SELECT EXISTS (SELECT 1 FROM pg_locks, k WHERE locktype = 'advisory' AND objsubid = 1 AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND classid = ((k.key >> 32) & 4294967295)::oid AND objid = (k.key & 4294967295)::oid)`,
		lockKey(r.cfg.Pool.Config().ConnConfig.Database, r.base, leaseName(gen))).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("projections: reading locks: %w", err)
	}
	return held, nil
}

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// Progress is called after every batch.
	Progress func(Progress)
	// MaxFailures ends the rebuild after that many consecutive failed
	// batches (default 5); the partial build is then dropped.
	MaxFailures int
}

// Rebuild builds the projection again from the start of the log into a
// new generation while the served one keeps serving (and, in the server,
// keeps being updated), then swaps it in atomically and drops the old one.
// It returns once the swap is done. If a build of the current version was
// left behind by a process that died, Rebuild resumes it; if another
// process is building it now, Rebuild returns ErrRebuildInProgress.
// When Rebuild fails or ctx ends, the partial build is dropped.
func (r *Runtime) Rebuild(ctx context.Context, name string, opts RebuildOptions) error {
	p, err := r.Projection(name)
	if err != nil {
		return err
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	gens, err := r.liveGens(ctx, r.cfg.Pool)
	if err != nil {
		return err
	}
	var g *generation
	var held *lease.Held
	for i := range gens {
		x := gens[i]
		if x.Name != name || x.State != StateBuilding {
			continue
		}
		if x.Version > p.Version() {
			return fmt.Errorf("projections: %s: a build of version %d (newer than this binary's %d) is under way", name, x.Version, p.Version())
		}
		h, err := r.leases.TryAcquire(ctx, leaseName(x.ID))
		if errors.Is(err, lease.ErrHeld) {
			return fmt.Errorf("%w: %s (generation %d)", ErrRebuildInProgress, name, x.ID)
		}
		if err != nil {
			return fmt.Errorf("projections: rebuilding %s: %w", name, err)
		}
		if x.Version < p.Version() {
			h.Release()
			if err := r.abandon(ctx, x); err != nil {
				return err
			}
			continue
		}
		g, held = &x, h
		r.log.Info("projections: resuming an interrupted build", "projection", name, "generation", x.ID, "position", x.Position.String())
		break
	}
	if g == nil {
		created, h, err := r.createGen(ctx, p, false, true, false)
		if err != nil {
			return err
		}
		g, held = &created, h
	}
	defer held.Release()
	w := r.newWorker(p, *g)
	w.stopWhenServed = true
	w.progress = opts.Progress
	err = w.runLimited(held.Context(), opts.MaxFailures)
	if held.Lost() {
		err = context.Cause(held.Context())
	}
	if err != nil {
		cleanup := context.WithoutCancel(ctx)
		if aerr := r.retire(cleanup, g.ID); aerr != nil {
			err = errors.Join(err, aerr)
		} else if derr := r.dropRetired(cleanup); derr != nil {
			err = errors.Join(err, derr)
		}
		return fmt.Errorf("projections: rebuilding %s: %w", name, err)
	}
	return nil
}

// retire marks a building generation retired (its schema is dropped next).
func (r *Runtime) retire(ctx context.Context, gen int64) error {
	_, err := r.cfg.Pool.Exec(ctx, `UPDATE `+r.catalog+` SET state = 'retired', retired_at = now(), updated_at = now()
		WHERE generation = $1 AND state = 'building'`, gen)
	if err != nil {
		return fmt.Errorf("projections: retiring generation %d: %w", gen, err)
	}
	return nil
}

// runLimited is run for a one-shot build: it gives up after maxFailures
// consecutive failures instead of retrying forever.
func (w *worker) runLimited(ctx context.Context, maxFailures int) error {
	w.maxFailures = maxFailures
	err := w.run(ctx)
	if err == nil && w.gen.State != StateActive {
		return fmt.Errorf("generation %d was retired by another process", w.gen.ID)
	}
	return err
}
