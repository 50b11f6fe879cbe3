package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/google/uuid"
)

// Config tunes command handling. The zero value is usable; Validate reports
// nonsense values.
type Config struct {
	// Registry decodes and encodes events. Default: domain.Events.
	Registry *domain.Registry
	// MaxAttempts bounds decide-and-append attempts per command when
	// concurrency conflicts occur (default 4; 1 disables retries).
	MaxAttempts int
	// RetryBackoff is the base of the jittered pause between attempts
	// (default 5ms; attempt n waits up to n × RetryBackoff).
	RetryBackoff time.Duration
	// MaxClockSkew is how far in the future a client-supplied occurred-at
	// may lie (default 5 minutes).
	MaxClockSkew time.Duration
	// MaxBackdate is how far in the past a client-supplied occurred-at may
	// lie, measured from now (default 366 days; EVCRM_MAX_BACKDATE).
	MaxBackdate time.Duration
	// PageSize is the number of events read per page when replaying a
	// stream (default 1000).
	PageSize int
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Snapshots, when set, keeps snapshots of the aggregates whose State
	// implements domain.Snapshotter: a command then loads the latest
	// snapshot and replays only the events after it. Nil: no snapshots.
	Snapshots SnapshotStore
	// SnapshotEvery is how many events a stream grows by before a new
	// snapshot is taken, after a successful append (default 100).
	SnapshotEvery int
	// Logger receives snapshot problems, which never fail a command
	// (default: discard).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Registry == nil {
		c.Registry = domain.Events
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 4
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 5 * time.Millisecond
	}
	if c.MaxClockSkew == 0 {
		c.MaxClockSkew = 5 * time.Minute
	}
	if c.PageSize == 0 {
		c.PageSize = 1000
	}
	if c.MaxBackdate == 0 {
		c.MaxBackdate = DefaultMaxBackdate
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.MaxAttempts < 0 {
		errs = append(errs, errors.New("commands: MaxAttempts must not be negative"))
	}
	if c.RetryBackoff < 0 {
		errs = append(errs, errors.New("commands: RetryBackoff must not be negative"))
	}
	if c.MaxClockSkew < 0 {
		errs = append(errs, errors.New("commands: MaxClockSkew must not be negative"))
	}
	if c.MaxBackdate < 0 {
		errs = append(errs, errors.New("commands: MaxBackdate must not be negative"))
	}
	if c.PageSize < 0 {
		errs = append(errs, errors.New("commands: PageSize must not be negative"))
	}
	if c.SnapshotEvery < 0 {
		errs = append(errs, errors.New("commands: SnapshotEvery must not be negative"))
	}
	return errors.Join(errs...)
}

// DefaultMaxBackdate is the default of Config.MaxBackdate: a fact may be
// recorded up to a year (366 days) after it happened.
const DefaultMaxBackdate = 366 * 24 * time.Hour

// Option configures the handling of some commands of one aggregate.
type Option func(*options)

type options struct {
	enrich   map[string]func(context.Context, domain.Command) (domain.Command, error)
	identity map[string]func(domain.Command) (string, bool)
	noRetry  map[string]bool
}

// IdentifyBy derives the command ID of commands of type C that come without
// one (no idempotency key) from a natural key of the command, e.g. the
// external reference of a webhook: the same natural key on the same stream
// is then recorded once. key returns false when the command has none.
func IdentifyBy[C domain.Command](key func(cmd C) (string, bool)) Option {
	var zero C
	typ := zero.CommandType()
	return func(o *options) {
		if o.identity == nil {
			o.identity = map[string]func(domain.Command) (string, bool){}
		}
		o.identity[typ] = func(cmd domain.Command) (string, bool) {
			c, ok := cmd.(C)
			if !ok {
				return "", false
			}
			return key(c)
		}
	}
}

// Enrich runs f on every command of type C before the aggregate decides
// (on every attempt). It is where cross-aggregate facts come in: f loads the
// other aggregate read-only (see Load) and returns the command with the facts
// filled in, or an error (a *domain.Error to refuse the command).
func Enrich[C domain.Command](f func(ctx context.Context, cmd C) (C, error)) Option {
	var zero C
	typ := zero.CommandType()
	return func(o *options) {
		if o.enrich == nil {
			o.enrich = map[string]func(context.Context, domain.Command) (domain.Command, error){}
		}
		o.enrich[typ] = func(ctx context.Context, cmd domain.Command) (domain.Command, error) {
			c, ok := cmd.(C)
			if !ok {
				return nil, fmt.Errorf("commands: enricher for %s got %T", typ, cmd)
			}
			return f(ctx, c)
		}
	}
}

// NoRetry marks command types that must not be decided again after a
// concurrency conflict: the conflict is returned to the caller instead.
func NoRetry(commandTypes ...string) Option {
	return func(o *options) {
		if o.noRetry == nil {
			o.noRetry = map[string]bool{}
		}
		for _, t := range commandTypes {
			o.noRetry[t] = true
		}
	}
}

// Handler handles the commands of one aggregate type. S is the aggregate's
// State; its pointer implements domain.Decider.
type Handler[S any, P interface {
	*S
	domain.Decider
}] struct {
	store    eventstore.Store
	category string
	cfg      Config
	opts     options
	// snapshots is cfg.Snapshots when P implements domain.Snapshotter,
	// else nil; schema is P's snapshot schema.
	snapshots SnapshotStore
	schema    int
}

// NewHandler returns the handler of the aggregate whose streams are
// "<category>-<id>".
func NewHandler[S any, P interface {
	*S
	domain.Decider
}](store eventstore.Store, category string, cfg Config, opts ...Option) *Handler[S, P] {
	h := &Handler[S, P]{store: store, category: category, cfg: cfg.withDefaults()}
	if sn, ok := any(P(new(S))).(domain.Snapshotter); ok && h.cfg.Snapshots != nil {
		h.snapshots, h.schema = h.cfg.Snapshots, sn.SnapshotSchema()
	}
	for _, o := range opts {
		o(&h.opts)
	}
	return h
}

// Category returns the stream category of the aggregate.
func (h *Handler[S, P]) Category() string { return h.category }

// Load replays the aggregate id read-only, from its snapshot when it has
// one (see Config.Snapshots). A missing aggregate, or one of another tenant
// than ctx's (tenant.FromContext, when set), is the zero State at version 0.
func (h *Handler[S, P]) Load(ctx context.Context, id uuid.UUID) (*S, uint64, error) {
	t, scoped := tenant.FromContext(ctx)
	r, err := h.load(ctx, t, eventstore.StreamID(h.category, id), uuid.Nil, true)
	if err != nil {
		return nil, 0, err
	}
	if scoped && r.version > 0 && r.tenant != t {
		return new(S), 0, nil
	}
	return r.state, r.version, nil
}

// Handle decides cmd against the current state of its aggregate and appends
// the resulting events. See the package documentation for the steps.
func (h *Handler[S, P]) Handle(ctx context.Context, cmd domain.Command, meta Metadata) (Result, error) {
	typ := cmd.CommandType()
	id := cmd.AggregateID()
	var res Result
	if id == uuid.Nil {
		return res, domain.InvalidField("id", "is required")
	}
	// The floor under every command's own rules: values every read model
	// can hold (text without NUL, times, amounts and counts in bounds).
	if err := domain.CheckValues(cmd); err != nil {
		return res, err
	}
	streamID := eventstore.StreamID(h.category, id)
	res.StreamID, res.AggregateID = streamID, id
	// Enrichers (cross-aggregate checks) see only this tenant's records.
	ctx = tenant.WithContext(ctx, meta.Tenant)

	commandID := meta.CommandID
	// fresh: the command ID is new, so the stream cannot hold this
	// command's events yet.
	fresh := false
	if commandID == uuid.Nil {
		if f := h.opts.identity[typ]; f != nil {
			if key, ok := f(cmd); ok {
				commandID = CommandIDFromKey(streamID+"/"+typ, key)
			}
		}
	}
	if commandID == uuid.Nil {
		commandID, fresh = uuid.New(), true
	}
	now := h.cfg.Clock().UTC()
	occurredAt := meta.OccurredAt.UTC()
	if meta.OccurredAt.IsZero() {
		occurredAt = now
	} else if occurredAt.After(now.Add(h.cfg.MaxClockSkew)) {
		return res, domain.InvalidField("occurred_at", "must not lie in the future")
	} else if occurredAt.Before(domain.EarliestTime) {
		return res, backdateError("occurred_at_before_1900", "must not lie before 1900-01-01")
	}
	em := meta.eventMetadata(typ, commandID, occurredAt)

	maxAttempts := h.cfg.MaxAttempts
	if h.opts.noRetry[typ] {
		maxAttempts = 1
	}
	// full forces a replay of the whole stream, without snapshot.
	full := h.snapshots == nil
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		st, err := h.load(ctx, meta.Tenant, streamID, commandID, !full)
		if err != nil {
			return res, err
		}
		// A stream of another tenant is, to this command, a stream that
		// does not exist: the aggregate decides on its zero state, so the
		// answer is the same as for a missing record (see ErrIDUnavailable
		// for creations).
		foreign := st.version > 0 && st.tenant != meta.Tenant
		if foreign {
			st = replayed[S]{state: new(S)}
		}
		// A snapshot hides the start of the stream, where this command's
		// events may lie if it is a repeat. Appending anew would then fail
		// (event IDs are unique), so any outcome but a successful append
		// is checked by deciding again after a full replay, which finds
		// the original result if there is one.
		recheck := func() bool {
			if st.base == 0 || fresh || full {
				return false
			}
			full = true
			attempt--
			return true
		}
		if st.prior != nil {
			if st.priorCommand != typ {
				return res, fmt.Errorf("%w: command id %s was used by a %s command on %s", eventstore.ErrDuplicateEventID, commandID, st.priorCommand, streamID)
			}
			prior := *st.prior
			prior.StreamID, prior.AggregateID, prior.Attempts = streamID, id, attempt
			// Found on a later attempt: an earlier attempt of this very
			// call wrote it (its acknowledgement was lost).
			prior.Replayed = attempt == 1
			return prior, nil
		}
		if !meta.Expected.Matches(st.version) {
			if recheck() {
				continue
			}
			if meta.Expected.IsStreamExists() && st.version == 0 {
				// "It exists" (If-Match: *) about a record that does not:
				// the record is missing, not the caller's precondition stale.
				return res, domain.NotFound(h.category)
			}
			return res, &PreconditionError{StreamID: streamID, Expected: meta.Expected, Actual: st.version}
		}
		c := cmd
		if f := h.opts.enrich[typ]; f != nil {
			if c, err = f(ctx, c); err != nil {
				if recheck() {
					continue
				}
				return res, err
			}
		}
		events, err := P(st.state).Decide(c, occurredAt)
		if err != nil {
			if recheck() {
				continue
			}
			return res, err
		}
		if foreign {
			if len(events) == 0 {
				return res, nil
			}
			return res, ErrIDUnavailable
		}
		if len(events) == 0 {
			if recheck() {
				continue
			}
			res.Version, res.Position = st.version, st.position
			return res, nil
		}
		if !meta.OccurredAt.IsZero() {
			// Backdating rules, after the check for a repeat (a repeat
			// returns its result whenever it is retried) and after the
			// decision: a command the aggregate refuses gets that refusal
			// (a creation of a record that exists gets "exists", which a
			// process manager's redelivered reaction relies on), and a
			// command that records nothing has no date to check.
			if err := h.checkBackdate(ctx, streamID, st, occurredAt, now); err != nil {
				if recheck() {
					continue
				}
				return res, err
			}
		}
		data := make([]eventstore.EventData, len(events))
		ids := make([]uuid.UUID, len(events))
		for i, e := range events {
			et, sv, body, err := h.cfg.Registry.Encode(e)
			if err != nil {
				return res, fmt.Errorf("commands: %s on %s: %w", typ, streamID, err)
			}
			ids[i] = EventID(commandID, i)
			data[i] = eventstore.EventData{ID: ids[i], Type: et, SchemaVersion: sv, Data: body, Metadata: em}
		}
		ar, err := h.store.Append(ctx, streamID, eventstore.Exact(st.version), data...)
		if err == nil {
			res.Version, res.Position, res.EventIDs = ar.Version, ar.Position, ids
			if h.snapshots != nil && ar.Version-st.base >= uint64(h.cfg.SnapshotEvery) {
				st.tenant = meta.Tenant // also of a stream this command started
				h.saveSnapshot(ctx, streamID, st, data, ar)
			}
			return res, nil
		}
		if errors.Is(err, eventstore.ErrDuplicateEventID) && recheck() {
			continue
		}
		if actual, ok := CurrentVersion(err); ok && st.base > actual {
			// The snapshot is ahead of the stream (an event store rebuilt
			// under an old snapshot table): ignore it from now on.
			h.cfg.logger().WarnContext(ctx, "commands: snapshot ahead of its stream; replaying in full",
				slog.String("stream", streamID), slog.Uint64("snapshot_version", st.base), slog.Uint64("stream_version", actual))
			full = true
		}
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return res, fmt.Errorf("appending %s to %s: %w", typ, streamID, err)
		}
		// Someone appended since we read. Reload in any case when we may:
		// the writer may have been a duplicate of this very command, whose
		// result we then return.
		if _, pinned := meta.Expected.Exact(); pinned || meta.Expected.IsNoStream() {
			// The caller based the command on a version that is gone now;
			// the reload ends in the original result or a precondition error.
			if attempt > maxAttempts {
				actual, _ := CurrentVersion(err)
				return res, &PreconditionError{StreamID: streamID, Expected: meta.Expected, Actual: actual}
			}
			continue
		}
		if attempt >= maxAttempts {
			return res, fmt.Errorf("%s on %s: concurrency conflict after %d attempts: %w", typ, streamID, attempt, err)
		}
		if err := pause(ctx, attempt, h.cfg.RetryBackoff); err != nil {
			return res, err
		}
	}
}

// checkBackdate applies the backdating rules to a client-supplied
// occurred-at: within the window (MaxBackdate before now), and not before
// the latest fact already recorded on the stream. The error's code names
// the rule.
func (h *Handler[S, P]) checkBackdate(ctx context.Context, streamID string, st replayed[S], occurredAt, now time.Time) error {
	if occurredAt.Before(now.Add(-h.cfg.MaxBackdate)) {
		return backdateError("occurred_at_outside_window",
			fmt.Sprintf("must not lie more than %s before now (the backdating window, EVCRM_MAX_BACKDATE)", h.cfg.MaxBackdate))
	}
	last, err := h.lastOccurredAt(ctx, streamID, st)
	if err != nil {
		return err
	}
	if occurredAt.Before(last) {
		return backdateError("occurred_at_before_previous_fact",
			"must not precede the record's previous fact, which occurred at "+last.Format(time.RFC3339Nano))
	}
	return nil
}

// occurredAtOf is when a recorded event happened: its occurred-at, or its
// recorded-at when it has none.
func occurredAtOf(re eventstore.RecordedEvent) time.Time {
	if !re.Metadata.OccurredAt.IsZero() {
		return re.Metadata.OccurredAt.UTC()
	}
	return re.RecordedAt.UTC()
}

// lastOccurredAt is when the latest fact of the stream st was loaded from
// happened: from the replay, or, when the replay started from a snapshot
// and saw no event, from the stream's last event.
func (h *Handler[S, P]) lastOccurredAt(ctx context.Context, streamID string, st replayed[S]) (time.Time, error) {
	if st.version == 0 || !st.lastAt.IsZero() {
		return st.lastAt, nil
	}
	evs, err := h.store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, Limit: 1})
	if err != nil || len(evs) == 0 {
		return time.Time{}, err
	}
	return occurredAtOf(evs[0]), nil
}

// backdateError refuses an occurred-at; code names the rule.
func backdateError(code, message string) error {
	return &domain.Error{Kind: domain.KindValidation, Code: code, Message: "occurred-at refused: " + message,
		Fields: []domain.FieldError{{Field: "occurred_at", Message: message}}}
}

func pause(ctx context.Context, attempt int, base time.Duration) error {
	if base <= 0 {
		return ctx.Err()
	}
	d := rand.N(time.Duration(attempt) * base)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// StreamReader is the part of an event store that Load needs.
type StreamReader interface {
	ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error)
}

// Load replays a stream read-only into a fresh S, for cross-aggregate checks
// and tests. A missing stream is the zero S at version 0, and so is a stream
// of another tenant than ctx's when ctx carries one (tenant.WithContext; the
// enrichers of a Handler always get the command's tenant). reg nil means
// domain.Events.
func Load[S any, P interface {
	*S
	domain.Decider
}](ctx context.Context, store StreamReader, reg *domain.Registry, streamID string) (*S, uint64, error) {
	if reg == nil {
		reg = domain.Events
	}
	r, err := replay[S, P](ctx, store, reg, streamID, 1000, uuid.Nil)
	if err != nil {
		return nil, 0, err
	}
	if t, scoped := tenant.FromContext(ctx); scoped && r.version > 0 && r.tenant != t {
		return new(S), 0, nil
	}
	return r.state, r.version, nil
}

// StreamTenant returns the tenant of a stream: the tenant recorded on its
// first event. exists is false for a missing stream.
func StreamTenant(ctx context.Context, store StreamReader, streamID string) (t string, exists bool, err error) {
	page, err := store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Direction: eventstore.Forwards, From: 1, Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(page) == 0) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", streamID, err)
	}
	return page[0].Metadata.Tenant, true, nil
}

type replayed[S any] struct {
	state    *S
	version  uint64
	position eventstore.Position
	// base is the version of the snapshot the replay started from (0: the
	// whole stream was replayed).
	base uint64
	// lastAt is the latest occurred-at of the events replayed (zero when
	// none was: a new stream, or all in the snapshot).
	lastAt time.Time
	// tenant is the stream's tenant: that of its first event (or of the
	// snapshot, which is only ever saved and loaded for its own tenant).
	tenant string
	// prior is the result of an earlier handling of the same command, when
	// the stream holds its events.
	prior        *Result
	priorCommand string
}

// replay folds the stream into a fresh S, page by page, watching for events
// of commandID (unless it is Nil).
func replay[S any, P interface {
	*S
	domain.Decider
}](ctx context.Context, store StreamReader, reg *domain.Registry, streamID string, pageSize int, commandID uuid.UUID) (replayed[S], error) {
	return replayFrom[S, P](ctx, store, reg, streamID, pageSize, commandID, replayed[S]{state: new(S)})
}

// replayFrom folds the events after out.version into out.state.
func replayFrom[S any, P interface {
	*S
	domain.Decider
}](ctx context.Context, store StreamReader, reg *domain.Registry, streamID string, pageSize int, commandID uuid.UUID, out replayed[S]) (replayed[S], error) {
	s := P(out.state)
	var first, next uuid.UUID
	if commandID != uuid.Nil {
		first = EventID(commandID, 0)
	}
	from := out.version + 1
	for {
		page, err := store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Direction: eventstore.Forwards, From: from, Limit: pageSize})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			if out.version > 0 { // started from a snapshot
				return out, fmt.Errorf("%w: %s: not found, but snapshot at version %d", ErrCorruptStream, streamID, out.version)
			}
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("reading %s: %w", streamID, err)
		}
		for _, re := range page {
			if re.Version != out.version+1 {
				return out, fmt.Errorf("%w: %s: version %d follows %d", ErrCorruptStream, streamID, re.Version, out.version)
			}
			e, err := reg.Decode(re.Type, re.SchemaVersion, re.Data)
			if err != nil {
				return out, fmt.Errorf("%w: %s@%d: %w", ErrCorruptStream, streamID, re.Version, err)
			}
			s.Apply(e)
			if re.Version == 1 {
				out.tenant = re.Metadata.Tenant
			}
			out.version, out.position = re.Version, re.Position
			if at := occurredAtOf(re); at.After(out.lastAt) {
				out.lastAt = at
			}
			switch {
			case first != uuid.Nil && re.ID == first:
				out.prior = &Result{Version: re.Version, Position: re.Position, EventIDs: []uuid.UUID{re.ID}}
				out.priorCommand = re.Metadata.Extra["command"]
				next = EventID(commandID, 1)
			case out.prior != nil && re.ID == next:
				out.prior.Version, out.prior.Position = re.Version, re.Position
				out.prior.EventIDs = append(out.prior.EventIDs, re.ID)
				next = EventID(commandID, len(out.prior.EventIDs))
			}
		}
		if pageSize <= 0 || len(page) < pageSize {
			return out, nil
		}
		from = out.version + 1
	}
}

// load folds the stream into a fresh S: from its snapshot and the events
// after it when snapshots are on, useSnapshot is set and a usable snapshot
// exists, else from the whole stream. A snapshot that does not fit the
// stream is logged and ignored.
func (h *Handler[S, P]) load(ctx context.Context, tenant, streamID string, commandID uuid.UUID, useSnapshot bool) (replayed[S], error) {
	if useSnapshot && h.snapshots != nil {
		if start, ok := h.restore(ctx, tenant, streamID); ok {
			r, err := replayFrom[S, P](ctx, h.store, h.cfg.Registry, streamID, h.cfg.PageSize, commandID, start)
			if !errors.Is(err, ErrCorruptStream) {
				return r, err
			}
			h.cfg.logger().WarnContext(ctx, "commands: snapshot does not fit its stream; replaying in full",
				slog.String("stream", streamID), slog.Uint64("snapshot_version", start.base), slog.Any("error", err))
		}
	}
	return replay[S, P](ctx, h.store, h.cfg.Registry, streamID, h.cfg.PageSize, commandID)
}

// restore returns the state of tenant's snapshot of streamID; false when
// there is no usable one.
func (h *Handler[S, P]) restore(ctx context.Context, tenant, streamID string) (replayed[S], bool) {
	log := h.cfg.logger()
	snap, ok, err := h.snapshots.Load(ctx, tenant, streamID)
	switch {
	case err != nil && ctx.Err() != nil:
		return replayed[S]{}, false // the replay reports the context's end
	case err != nil:
		log.WarnContext(ctx, "commands: loading snapshot; replaying in full", slog.String("stream", streamID), slog.Any("error", err))
		return replayed[S]{}, false
	case !ok || snap.Version == 0:
		return replayed[S]{}, false
	case snap.Schema != h.schema:
		log.DebugContext(ctx, "commands: snapshot of another schema; replaying in full", slog.String("stream", streamID),
			slog.Int("schema", snap.Schema), slog.Int("want", h.schema))
		return replayed[S]{}, false
	}
	s := new(S)
	if err := any(P(s)).(domain.Snapshotter).UnmarshalSnapshot(snap.State); err != nil {
		log.WarnContext(ctx, "commands: unreadable snapshot; replaying in full", slog.String("stream", streamID),
			slog.Uint64("version", snap.Version), slog.Any("error", err))
		return replayed[S]{}, false
	}
	return replayed[S]{state: s, version: snap.Version, position: snap.Position, base: snap.Version, tenant: tenant}, true
}

// snapshotSaveTimeout bounds saving a snapshot after an append.
const snapshotSaveTimeout = 5 * time.Second

// saveSnapshot stores the state st had after appending data (ar), best
// effort: the events are on the stream already, so problems are logged, not
// returned. The events are applied as decoded from their stored form, as a
// replay would see them.
func (h *Handler[S, P]) saveSnapshot(ctx context.Context, streamID string, st replayed[S], data []eventstore.EventData, ar eventstore.AppendResult) {
	log := h.cfg.logger()
	if ar.Version != st.version+uint64(len(data)) {
		log.WarnContext(ctx, "commands: append result does not match the events; no snapshot", slog.String("stream", streamID))
		return
	}
	s := P(st.state)
	for _, d := range data {
		e, err := h.cfg.Registry.Decode(d.Type, d.SchemaVersion, d.Data)
		if err != nil {
			log.WarnContext(ctx, "commands: no snapshot", slog.String("stream", streamID), slog.Any("error", err))
			return
		}
		s.Apply(e)
	}
	b, err := any(s).(domain.Snapshotter).MarshalSnapshot()
	if err != nil {
		log.WarnContext(ctx, "commands: encoding snapshot", slog.String("stream", streamID), slog.Any("error", err))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), snapshotSaveTimeout)
	defer cancel()
	err = h.snapshots.Save(ctx, Snapshot{Tenant: st.tenant, StreamID: streamID, Version: ar.Version, Position: ar.Position, Schema: h.schema,
		State: b, TakenAt: h.cfg.Clock().UTC()})
	if err != nil {
		log.WarnContext(ctx, "commands: saving snapshot", slog.String("stream", streamID), slog.Uint64("version", ar.Version), slog.Any("error", err))
	}
}
