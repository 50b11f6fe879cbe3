package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/lease"
)

// SLAWatcherActor is the principal the SLA watcher's commands are sent as.
const SLAWatcherActor = "system:sla-watcher"

// Handler names of the SLA watcher: permanent (they name the consumer groups).
const (
	SLAWatcherCases      = "process.sla-watcher.case"
	SLAWatcherComplaints = "process.sla-watcher.complaint"
)

// Timer kinds.
const (
	TimerFirstResponse   = string(servicecase.FirstResponse) // "first_response"
	TimerResolution      = string(servicecase.Resolution)    // "resolution"
	TimerAcknowledgement = "acknowledgement"
)

// SLAConfig configures the SLA watcher.
type SLAConfig struct {
	// Interval between checks for due deadlines (default 30s).
	Interval time.Duration
	// Refire is how long after a trigger the watcher tries a deadline again
	// when the aggregate has not recorded the breach yet (the command was
	// refused as stale, or is still in flight on a broker). Default 5 minutes.
	Refire time.Duration
	// Batch caps the deadlines handled per check (default 100).
	Batch int
	// Clock returns the current time (default time.Now); tests inject one.
	Clock  func() time.Time
	Logger *slog.Logger
}

func (c *SLAConfig) setDefaults() {
	if c.Interval <= 0 {
		c.Interval = 30 * time.Second
	}
	if c.Refire <= 0 {
		c.Refire = 5 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// SLAWatcher escalates cases whose first-response or resolution deadline
// passed and flags complaints not acknowledged in time.
//
// Its state is a table of timers in PostgreSQL (process_sla_timers), kept
// from the case and complaint events: a deadline is armed by CaseOpened,
// CaseResumed, CaseReopened and ComplaintReceived; stopped while the case
// waits on the customer or is resolved; done once met, breached-and-recorded
// or closed. Each stream's last applied version is kept with it, so a
// redelivered event is skipped and a missed one is read back from the event
// store; the state survives restarts and needs no replay of the log.
//
// A ticker (Run) looks for due timers by the injected clock and sends
// servicecase.EscalateCase{Reason: ...breach} or
// complaint.FlagAcknowledgementOverdue with a command ID derived from
// "sla/<kind>/<aggregate id>": however often it is sent — after a restart,
// a redelivery, a second watcher — the aggregate records the breach once.
type SLAWatcher struct {
	cfg    SLAConfig
	db     *pgxpool.Pool
	store  StreamReader
	sender Sender
	events *domain.Registry
}

// NewSLAWatcher returns a watcher storing its timers in db (MigrateSLA must
// have run), reading missed events from store and sending through sender.
func NewSLAWatcher(db *pgxpool.Pool, store StreamReader, sender Sender, cfg SLAConfig) (*SLAWatcher, error) {
	var errs []error
	if db == nil {
		errs = append(errs, errors.New("SLA watcher needs a database pool"))
	}
	if store == nil {
		errs = append(errs, errors.New("SLA watcher needs an event store"))
	}
	if sender == nil {
		errs = append(errs, errors.New("SLA watcher needs a command sender"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &SLAWatcher{cfg: cfg, db: db, store: store, sender: sender, events: domain.Events}, nil
}

// Register subscribes the watcher to case and complaint events and adds its
// ticker to the bus, run by one process at a time across instances (a
// lease named SLAWatcherLease).
func (w *SLAWatcher) Register(b *bus.Bus) error {
	if err := w.Subscribe(b); err != nil {
		return err
	}
	l, err := lease.New(lease.Config{ConnConfig: w.db.Config().ConnConfig, Logger: w.cfg.Logger})
	if err != nil {
		return err
	}
	b.AddRunner(func(ctx context.Context) error { return l.Run(ctx, SLAWatcherLease, w.Run) })
	return nil
}

// SLAWatcherLease names the lease of the SLA watcher's ticker. Permanent.
const SLAWatcherLease = "process.sla-watcher"

// Subscribe subscribes the watcher to case and complaint events only; the
// caller runs the checks (Run or Check).
func (w *SLAWatcher) Subscribe(b *bus.Bus) error {
	if err := b.AddEventConsumer(SLAWatcherCases, servicecase.Category, w.Apply); err != nil {
		return err
	}
	return b.AddEventConsumer(SLAWatcherComplaints, complaint.Category, w.Apply)
}

// timerChange is what one event does to one timer.
type timerChange struct {
	kind string
	due  time.Time // armed until due (zero: stopped)
	done bool      // never fires again
}

// changes maps an event to its effect on the aggregate's timers.
func changes(e domain.Event) []timerChange {
	armed := func(kind string, due time.Time) timerChange { return timerChange{kind: kind, due: due} }
	stopped := func(kind string) timerChange { return timerChange{kind: kind} }
	done := func(kind string) timerChange { return timerChange{kind: kind, done: true} }
	switch e := e.(type) {
	case servicecase.CaseOpened:
		return []timerChange{armed(TimerFirstResponse, e.FirstResponseDue), armed(TimerResolution, e.ResolutionDue)}
	case servicecase.CaseFirstResponseGiven:
		return []timerChange{done(TimerFirstResponse)}
	case servicecase.CaseWaitingOnCustomer:
		return []timerChange{stopped(TimerFirstResponse), stopped(TimerResolution)}
	case servicecase.CaseResumed:
		return []timerChange{armed(TimerFirstResponse, e.FirstResponseDue), armed(TimerResolution, e.ResolutionDue)}
	case servicecase.CaseReopened:
		return []timerChange{armed(TimerFirstResponse, e.FirstResponseDue), armed(TimerResolution, e.ResolutionDue)}
	case servicecase.CaseResolved:
		return []timerChange{stopped(TimerFirstResponse), stopped(TimerResolution)}
	case servicecase.CaseEscalated:
		if e.Breach != "" {
			return []timerChange{done(string(e.Breach))}
		}
	case servicecase.CaseClosed:
		return []timerChange{done(TimerFirstResponse), done(TimerResolution)}
	case complaint.ComplaintReceived:
		return []timerChange{armed(TimerAcknowledgement, e.AcknowledgementDue)}
	case complaint.ComplaintAcknowledged, complaint.ComplaintAcknowledgementOverdue, complaint.ComplaintClosed:
		return []timerChange{done(TimerAcknowledgement)}
	}
	return nil
}

// Apply folds one case or complaint event into the timers, exactly once per
// stream version: a version already applied is skipped, and a gap (events
// this watcher never saw) is filled from the event store first.
func (w *SLAWatcher) Apply(ctx context.Context, e domain.Event, env eventstore.RecordedEvent) error {
	return pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
		var applied int64
		err := tx.QueryRow(ctx, `SELECT version FROM process_sla_streams WHERE stream_id = $1 FOR UPDATE`, env.StreamID).Scan(&applied)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO process_sla_streams (stream_id, version) VALUES ($1, 0)
				ON CONFLICT (stream_id) DO NOTHING`, env.StreamID)
			if err == nil {
				err = tx.QueryRow(ctx, `SELECT version FROM process_sla_streams WHERE stream_id = $1 FOR UPDATE`, env.StreamID).Scan(&applied)
			}
		}
		if err != nil {
			return fmt.Errorf("sla watcher: reading the state of %s: %w", env.StreamID, err)
		}
		if env.Version <= uint64(applied) {
			return nil // already applied: a redelivery
		}
		pending := []domainEvent{{e, env}}
		if env.Version > uint64(applied)+1 {
			// Events we never saw (the watcher is newer than the stream, or
			// the transport reordered): read them back, in order.
			missed, err := readRange(ctx, w.store, w.events, env.StreamID, uint64(applied)+1, env.Version)
			if err != nil {
				return fmt.Errorf("sla watcher: catching up %s: %w", env.StreamID, err)
			}
			pending = missed
		}
		id, err := aggregateID(env.StreamID)
		if err != nil {
			return bus.Permanent(err)
		}
		for _, p := range pending {
			for _, c := range changes(p.event) {
				if err := applyChange(ctx, tx, env.StreamID, id, c); err != nil {
					return err
				}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE process_sla_streams SET version = $2 WHERE stream_id = $1`, env.StreamID, int64(env.Version))
		return err
	})
}

func applyChange(ctx context.Context, tx pgx.Tx, streamID string, id uuid.UUID, c timerChange) error {
	var due *time.Time
	if !c.due.IsZero() && !c.done {
		d := c.due.UTC()
		due = &d
	}
	// A done timer stays done (a reopened case does not escalate the same
	// kind twice: the aggregate escalates each kind once); re-arming clears
	// the last trigger time.
	_, err := tx.Exec(ctx, `
INSERT INTO process_sla_timers (stream_id, kind, aggregate_id, due_at, done)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (stream_id, kind) DO UPDATE
SET due_at = CASE WHEN process_sla_timers.done THEN NULL ELSE excluded.due_at END,
    done = process_sla_timers.done OR excluded.done,
    fired_at = CASE WHEN excluded.due_at IS DISTINCT FROM process_sla_timers.due_at THEN NULL ELSE process_sla_timers.fired_at END`,
		streamID, c.kind, id, due, c.done)
	if err != nil {
		return fmt.Errorf("sla watcher: updating the %s timer of %s: %w", c.kind, streamID, err)
	}
	return nil
}

// Run checks for due deadlines every Interval until ctx ends.
func (w *SLAWatcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Error("SLA check failed; trying again at the next tick", "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Check sends the command of every timer due by the clock (at most Batch)
// and returns how many it sent.
func (w *SLAWatcher) Check(ctx context.Context) (int, error) {
	now := w.cfg.Clock().UTC()
	// Claim the due timers (several evcrm processes may check at once):
	// a claimed timer is not tried again before Refire, whether its
	// command succeeds or not.
	rows, err := w.db.Query(ctx, `
UPDATE process_sla_timers t SET fired_at = $1
FROM (
	SELECT stream_id, kind FROM process_sla_timers
	WHERE NOT done AND due_at < $1 AND (fired_at IS NULL OR fired_at <= $2)
	ORDER BY due_at LIMIT $3
	FOR UPDATE SKIP LOCKED
) d
WHERE t.stream_id = d.stream_id AND t.kind = d.kind
RETURNING t.stream_id, t.kind, t.aggregate_id, t.due_at`, now, now.Add(-w.cfg.Refire), w.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("sla watcher: claiming due deadlines: %w", err)
	}
	type due struct {
		streamID, kind string
		id             uuid.UUID
		at             time.Time
	}
	dues, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		return d, r.Scan(&d.streamID, &d.kind, &d.id, &d.at)
	})
	if err != nil {
		return 0, fmt.Errorf("sla watcher: finding due deadlines: %w", err)
	}
	slices.SortFunc(dues, func(a, b due) int { return a.at.Compare(b.at) })
	var (
		sent int
		errs []error
	)
	for _, d := range dues {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		recorded, err := w.fire(ctx, d.streamID, d.kind, d.id, now)
		if err != nil {
			errs = append(errs, err) // tried again after Refire
			continue
		}
		sent++
		if !recorded {
			continue
		}
		// A recorded (or replayed) breach is done now; its event will say
		// the same when it arrives.
		if _, err := w.db.Exec(ctx, `UPDATE process_sla_timers SET done = true WHERE stream_id = $1 AND kind = $2`,
			d.streamID, d.kind); err != nil {
			errs = append(errs, fmt.Errorf("sla watcher: recording the breach of %s %s: %w", d.streamID, d.kind, err))
		}
		w.cfg.Logger.Info("SLA deadline passed", "stream", d.streamID, "deadline", d.kind, "due", d.at)
	}
	return sent, errors.Join(errs...)
}

// SLAKey is the idempotency key of the watcher's command for one deadline.
func SLAKey(kind string, id uuid.UUID) string { return "sla/" + kind + "/" + id.String() }

// fire sends the breach command of one deadline; recorded reports whether
// the aggregate has the breach recorded (now or by an earlier send). The
// command acts for the tenant of the case or complaint: that of the first
// event of its stream.
func (w *SLAWatcher) fire(ctx context.Context, streamID, kind string, id uuid.UUID, now time.Time) (recorded bool, err error) {
	var cmd domain.Command
	switch kind {
	case TimerFirstResponse:
		cmd = servicecase.EscalateCase{CaseID: id, Reason: servicecase.ReasonFirstResponseBreach}
	case TimerResolution:
		cmd = servicecase.EscalateCase{CaseID: id, Reason: servicecase.ReasonResolutionBreach}
	case TimerAcknowledgement:
		cmd = complaint.FlagAcknowledgementOverdue{ComplaintID: id}
	default:
		return false, fmt.Errorf("sla watcher: unknown timer kind %q", kind)
	}
	tenant, exists, err := commands.StreamTenant(ctx, w.store, streamID)
	if err != nil {
		return false, fmt.Errorf("sla watcher: reading the tenant of %s: %w", streamID, err)
	}
	if !exists {
		return false, fmt.Errorf("sla watcher: %s has a timer but no events", streamID)
	}
	md := commands.Metadata{
		CommandID:  commands.CommandIDFromKey(SLAWatcherActor, SLAKey(kind, id)),
		Actor:      SLAWatcherActor,
		Role:       "system",
		Source:     "evcrm",
		Tenant:     tenant,
		OccurredAt: now,
	}
	// The breach is a consequence of the clock, not of a message: the
	// command starts its own correlation chain.
	md.CorrelationID = md.CommandID
	r, err := w.sender.SendWithReply(ctx, cmd, md)
	if err != nil {
		return false, fmt.Errorf("sla watcher: sending %s for %s: %w", cmd.CommandType(), id, err)
	}
	if r.Error != nil {
		// Stale (the deadline was met or the clock stopped meanwhile) or
		// gone: the events will tell; try again after Refire if not.
		w.cfg.Logger.Info("SLA trigger refused", "command", cmd.CommandType(), "id", id,
			"outcome", r.Error.Outcome, "code", r.Error.Code)
	}
	return r.OK, nil
}
