package commands

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
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
	// PageSize is the number of events read per page when replaying a
	// stream (default 1000).
	PageSize int
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
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
	if c.Clock == nil {
		c.Clock = time.Now
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
	if c.PageSize < 0 {
		errs = append(errs, errors.New("commands: PageSize must not be negative"))
	}
	return errors.Join(errs...)
}

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
}

// NewHandler returns the handler of the aggregate whose streams are
// "<category>-<id>".
func NewHandler[S any, P interface {
	*S
	domain.Decider
}](store eventstore.Store, category string, cfg Config, opts ...Option) *Handler[S, P] {
	h := &Handler[S, P]{store: store, category: category, cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(&h.opts)
	}
	return h
}

// Category returns the stream category of the aggregate.
func (h *Handler[S, P]) Category() string { return h.category }

// Load replays the aggregate id read-only. A missing aggregate is the zero
// State at version 0.
func (h *Handler[S, P]) Load(ctx context.Context, id uuid.UUID) (*S, uint64, error) {
	r, err := replay[S, P](ctx, h.store, h.cfg.Registry, eventstore.StreamID(h.category, id), h.cfg.PageSize, uuid.Nil)
	if err != nil {
		return nil, 0, err
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
		return res, &domain.Error{Kind: domain.KindValidation, Code: "validation_failed", Message: "validation failed",
			Fields: []domain.FieldError{{Field: "id", Message: "is required"}}}
	}
	streamID := eventstore.StreamID(h.category, id)
	res.StreamID, res.AggregateID = streamID, id

	commandID := meta.CommandID
	if commandID == uuid.Nil {
		if f := h.opts.identity[typ]; f != nil {
			if key, ok := f(cmd); ok {
				commandID = CommandIDFromKey(streamID+"/"+typ, key)
			}
		}
	}
	if commandID == uuid.Nil {
		commandID = uuid.New()
	}
	now := h.cfg.Clock().UTC()
	occurredAt := meta.OccurredAt.UTC()
	if meta.OccurredAt.IsZero() {
		occurredAt = now
	} else if occurredAt.After(now.Add(h.cfg.MaxClockSkew)) {
		return res, &domain.Error{Kind: domain.KindValidation, Code: "validation_failed", Message: "validation failed",
			Fields: []domain.FieldError{{Field: "occurred_at", Message: "must not lie in the future"}}}
	}
	em := meta.eventMetadata(typ, commandID, occurredAt)

	maxAttempts := h.cfg.MaxAttempts
	if h.opts.noRetry[typ] {
		maxAttempts = 1
	}
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		st, err := replay[S, P](ctx, h.store, h.cfg.Registry, streamID, h.cfg.PageSize, commandID)
		if err != nil {
			return res, err
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
			return res, &PreconditionError{StreamID: streamID, Expected: meta.Expected, Actual: st.version}
		}
		c := cmd
		if f := h.opts.enrich[typ]; f != nil {
			if c, err = f(ctx, c); err != nil {
				return res, err
			}
		}
		events, err := P(st.state).Decide(c, occurredAt)
		if err != nil {
			return res, err
		}
		if len(events) == 0 {
			res.Version, res.Position = st.version, st.position
			return res, nil
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
			return res, nil
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
// and tests. A missing stream is the zero S at version 0. reg nil means
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
	return r.state, r.version, nil
}

type replayed[S any] struct {
	state    *S
	version  uint64
	position eventstore.Position
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
	out := replayed[S]{state: new(S)}
	s := P(out.state)
	var first, next uuid.UUID
	if commandID != uuid.Nil {
		first = EventID(commandID, 0)
	}
	from := uint64(1)
	for {
		page, err := store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Direction: eventstore.Forwards, From: from, Limit: pageSize})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
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
			out.version, out.position = re.Version, re.Position
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
