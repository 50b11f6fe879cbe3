package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var t0 = time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC)

type bundle struct {
	store *memory.Store
	d     *commands.Dispatcher
	h     *commands.Handler[TallyState, *TallyState]
}

func setup(t *testing.T, store eventstore.Store, opts ...commands.Option) *bundle {
	t.Helper()
	mem := memory.New()
	t.Cleanup(mem.Close)
	if store == nil {
		store = mem
	}
	d, err := commands.NewDispatcher(store, commands.Config{
		Registry:     tallyEvents,
		Clock:        func() time.Time { return t0 },
		RetryBackoff: time.Microsecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := commands.Register[TallyState](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}, CloseTally{}}, opts...)
	return &bundle{store: mem, d: d, h: h}
}

func mustDispatch(t *testing.T, d *commands.Dispatcher, cmd domain.Command, meta commands.Metadata) commands.Result {
	t.Helper()
	res, err := d.Dispatch(context.Background(), cmd, meta)
	if err != nil {
		t.Fatalf("%s: %v", cmd.CommandType(), err)
	}
	return res
}

func TestHandle(t *testing.T) {
	t.Parallel()

	t.Run("OpenAndCount", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		corr := uuid.New()
		cmdID := commands.CommandIDFromKey("tenant/ann", "key-1")
		res := mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "calls"}, commands.Metadata{
			CommandID: cmdID, CorrelationID: corr, Actor: "ann", Role: "sales", Source: "webshop", Tenant: "acme",
		})
		if res.StreamID != "tally-"+id.String() || res.Version != 1 || res.Position.IsZero() || res.Replayed || res.Attempts != 1 {
			t.Fatalf("result = %+v", res)
		}
		if len(res.EventIDs) != 1 || res.EventIDs[0] != commands.EventID(cmdID, 0) {
			t.Fatalf("event IDs = %v, want derived from the command ID", res.EventIDs)
		}

		res = mustDispatch(t, b.d, CountTally{TallyID: id, By: 3}, commands.Metadata{Actor: "bob", Tenant: "acme"})
		if res.Version != 3 || len(res.EventIDs) != 2 {
			t.Fatalf("result = %+v, want two events up to version 3", res)
		}

		events, err := b.store.ReadStream(context.Background(), res.StreamID, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := events[0].Metadata
		if m.CorrelationID != corr || m.CausationID != cmdID || m.Actor != "ann" || m.ActorRole != "sales" ||
			m.Source != "webshop" || m.Tenant != "acme" || !m.OccurredAt.Equal(t0) ||
			m.Extra["command"] != "OpenTally" || m.Extra["command_id"] != cmdID.String() {
			t.Errorf("metadata = %+v", m)
		}
		// Without IDs in the metadata, correlation and causation are the command's own ID.
		m2 := events[1].Metadata
		if m2.CorrelationID == uuid.Nil || m2.CorrelationID != m2.CausationID || m2.Extra["command_id"] != m2.CorrelationID.String() {
			t.Errorf("metadata of a fresh command = %+v", m2)
		}
		if events[1].ID != res.EventIDs[0] || events[2].ID != res.EventIDs[1] {
			t.Errorf("stored IDs differ from the result's")
		}

		st, v, err := b.h.Load(context.Background(), id)
		if err != nil || v != 3 || st.Count() != 3 || st.Name() != "calls" {
			t.Fatalf("Load = %+v, %d, %v", st, v, err)
		}
	})

	t.Run("SameCommandIDTwiceWritesOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		meta := commands.Metadata{CommandID: commands.CommandIDFromKey("p", "k")}
		first := mustDispatch(t, b.d, CountTally{TallyID: id, By: 2}, meta)
		// Another command lands in between; the retry must still be recognised.
		mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
		again := mustDispatch(t, b.d, CountTally{TallyID: id, By: 2}, meta)
		if !again.Replayed || again.Version != first.Version || again.Position != first.Position ||
			fmt.Sprint(again.EventIDs) != fmt.Sprint(first.EventIDs) {
			t.Fatalf("retry = %+v, want replay of %+v", again, first)
		}
		if _, v, _ := b.h.Load(context.Background(), id); v != 4 {
			t.Fatalf("version = %d, want 4 (open, count by 2 in two events, count by 1, nothing for the retry)", v)
		}
	})

	t.Run("ReplayBeatsPrecondition", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		meta := commands.Metadata{CommandID: uuid.New(), Expected: eventstore.Exact(1)}
		mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, meta)
		res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, meta)
		if !res.Replayed || res.Version != 2 {
			t.Fatalf("retry with the original If-Match = %+v, want the original result", res)
		}
	})

	t.Run("CommandIDReusedForAnotherCommand", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		meta := commands.Metadata{CommandID: uuid.New()}
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, meta)
		_, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, meta)
		if !errors.Is(err, eventstore.ErrDuplicateEventID) {
			t.Fatalf("err = %v, want ErrDuplicateEventID", err)
		}
	})

	t.Run("Precondition", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		_, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{Expected: eventstore.Exact(7)})
		var pe *commands.PreconditionError
		if !errors.As(err, &pe) || pe.Actual != 1 || !errors.Is(err, commands.ErrPreconditionFailed) {
			t.Fatalf("err = %v, want a precondition error at version 1", err)
		}
		if v, ok := commands.CurrentVersion(err); !ok || v != 1 {
			t.Fatalf("CurrentVersion = %d, %v", v, ok)
		}
		res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{Expected: eventstore.Exact(1)})
		if res.Version != 2 {
			t.Fatalf("version = %d", res.Version)
		}
		// "It exists" about a record that does not: not found, not a stale precondition.
		if _, err := b.d.Dispatch(context.Background(), OpenTally{TallyID: uuid.New(), Name: "y"}, commands.Metadata{Expected: eventstore.StreamExists}); !errors.Is(err, domain.ErrNotFound) || errors.Is(err, commands.ErrPreconditionFailed) {
			t.Fatalf("If-Match * on a new stream: err = %v, want not found", err)
		}
	})

	t.Run("DomainErrorsPassThrough", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		_, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{})
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("count on a missing tally: %v", err)
		}
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		_, err = b.d.Dispatch(context.Background(), OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		if !errors.Is(err, domain.ErrAlreadyExists) {
			t.Fatalf("open twice: %v", err)
		}
		_, err = b.d.Dispatch(context.Background(), CountTally{TallyID: id}, commands.Metadata{})
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindValidation || de.Fields[0].Field != "by" {
			t.Fatalf("count by 0: %v", err)
		}
		_, err = b.d.Dispatch(context.Background(), CountTally{}, commands.Metadata{})
		if !errors.Is(err, domain.ErrValidation) {
			t.Fatalf("no aggregate ID: %v", err)
		}
	})

	t.Run("NothingToRecord", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		closed := mustDispatch(t, b.d, CloseTally{TallyID: id}, commands.Metadata{})
		again := mustDispatch(t, b.d, CloseTally{TallyID: id}, commands.Metadata{})
		if again.Version != 2 || len(again.EventIDs) != 0 || again.Position != closed.Position {
			t.Fatalf("second close = %+v, want no events at version 2", again)
		}
	})

	t.Run("OccurredAt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		past := t0.Add(-3 * time.Hour).In(time.FixedZone("CET", 3600))
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{OccurredAt: past})
		st, _, _ := b.h.Load(context.Background(), id)
		if !st.OpenedAt().Equal(past) || st.OpenedAt().Location() != time.UTC {
			t.Fatalf("decided at %v, want the client's occurred-at in UTC", st.OpenedAt())
		}
		events, _ := b.store.ReadStream(context.Background(), "tally-"+id.String(), eventstore.ReadStreamOptions{})
		if !events[0].Metadata.OccurredAt.Equal(past) {
			t.Fatalf("occurred_at = %v", events[0].Metadata.OccurredAt)
		}
		_, err := b.d.Dispatch(context.Background(), OpenTally{TallyID: uuid.New(), Name: "x"}, commands.Metadata{OccurredAt: t0.Add(time.Hour)})
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindValidation || de.Fields[0].Field != "occurred_at" {
			t.Fatalf("future occurred-at: %v", err)
		}
	})

	t.Run("Enrich", func(t *testing.T) {
		t.Parallel()
		var b *bundle
		b = setup(t, nil, commands.Enrich(func(ctx context.Context, c CountTally) (CountTally, error) {
			// The limit is the count of another tally, loaded read-only.
			other, _, err := commands.Load[TallyState](ctx, b.store, tallyEvents, "tally-"+limitID.String())
			if err != nil {
				return c, err
			}
			c.Limit = other.Count()
			return c, nil
		}))
		mustDispatch(t, b.d, OpenTally{TallyID: limitID, Name: "limit"}, commands.Metadata{})
		mustDispatch(t, b.d, CountTally{TallyID: limitID, By: 2}, commands.Metadata{})
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
		_, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 2}, commands.Metadata{})
		if !errors.Is(err, domain.ErrValidation) || !strings.Contains(err.Error(), "limit") {
			t.Fatalf("over the limit: %v", err)
		}
	})

	t.Run("CorruptStream", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		_, err := b.store.Append(context.Background(), "tally-"+id.String(), eventstore.NoStream,
			eventstore.EventData{ID: uuid.New(), Type: "FromTheFuture", SchemaVersion: 1, Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{})
		if !errors.Is(err, commands.ErrCorruptStream) || !errors.Is(err, domain.ErrUnknownEventType) {
			t.Fatalf("err = %v, want ErrCorruptStream", err)
		}
	})

	t.Run("LongStreamReadInPages", func(t *testing.T) {
		t.Parallel()
		mem := memory.New()
		t.Cleanup(mem.Close)
		d, err := commands.NewDispatcher(mem, commands.Config{Registry: tallyEvents, PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		h := commands.Register[TallyState](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}, CloseTally{}})
		id := uuid.New()
		mustDispatch(t, d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		for range 6 {
			mustDispatch(t, d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
		}
		st, v, err := h.Load(context.Background(), id)
		if err != nil || v != 7 || st.Count() != 6 {
			t.Fatalf("Load = count %d, version %d, %v", st.Count(), v, err)
		}
	})
}

var limitID = uuid.New()

// racingStore lets another writer append to the stream just before the
// handler's first n appends, forcing concurrency conflicts.
type racingStore struct {
	eventstore.Store
	races atomic.Int32
}

func (s *racingStore) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.races.Add(-1) >= 0 {
		id, _ := uuid.Parse(strings.TrimPrefix(streamID, tallyCategory+"-"))
		data := []byte(fmt.Sprintf(`{"tally_id":%q,"by":1}`, id))
		if _, err := s.Store.Append(ctx, streamID, eventstore.StreamExists, eventstore.EventData{ID: uuid.New(), Type: "TallyCounted", SchemaVersion: 1, Data: data}); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	return s.Store.Append(ctx, streamID, expected, events...)
}

func TestConcurrencyConflicts(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, b *bundle) uuid.UUID {
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		return id
	}

	t.Run("RetriedAndDecidedAgain", func(t *testing.T) {
		t.Parallel()
		mem := memory.New()
		rs := &racingStore{Store: mem}
		b := setup(t, rs)
		id := open(t, b)
		rs.races.Store(2)
		res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
		if res.Attempts != 3 || res.Version != 4 {
			t.Fatalf("result = %+v, want success on attempt 3 at version 4", res)
		}
	})

	t.Run("RetriesAreBounded", func(t *testing.T) {
		t.Parallel()
		rs := &racingStore{Store: memory.New()}
		b := setup(t, rs)
		id := open(t, b)
		rs.races.Store(100)
		res, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{})
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) || res.Attempts != 4 {
			t.Fatalf("err = %v after %d attempts, want a conflict after 4", err, res.Attempts)
		}
		if v, ok := commands.CurrentVersion(err); !ok || v < 5 {
			t.Fatalf("current version = %d, %v", v, ok)
		}
	})

	t.Run("NoRetry", func(t *testing.T) {
		t.Parallel()
		rs := &racingStore{Store: memory.New()}
		b := setup(t, rs, commands.NoRetry("CountTally"))
		id := open(t, b)
		rs.races.Store(1)
		res, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{})
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) || res.Attempts != 1 {
			t.Fatalf("err = %v after %d attempts", err, res.Attempts)
		}
	})

	t.Run("PinnedVersionIsNotRetried", func(t *testing.T) {
		t.Parallel()
		rs := &racingStore{Store: memory.New()}
		b := setup(t, rs)
		id := open(t, b)
		rs.races.Store(1)
		_, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{Expected: eventstore.Exact(1)})
		var pe *commands.PreconditionError
		if !errors.As(err, &pe) || pe.Actual != 2 {
			t.Fatalf("err = %v, want a precondition error at version 2", err)
		}
	})

	t.Run("NoLostUpdates", func(t *testing.T) {
		t.Parallel()
		mem := memory.New()
		t.Cleanup(mem.Close)
		d, err := commands.NewDispatcher(mem, commands.Config{Registry: tallyEvents, MaxAttempts: 100, RetryBackoff: 100 * time.Microsecond})
		if err != nil {
			t.Fatal(err)
		}
		h := commands.Register[TallyState](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}})
		id := uuid.New()
		mustDispatch(t, d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		const writers = 16
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				_, err := d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		st, v, _ := h.Load(context.Background(), id)
		if st.Count() != writers || v != writers+1 {
			t.Fatalf("count %d at version %d, want %d at %d", st.Count(), v, writers, writers+1)
		}
	})
}

// lossyStore writes the first append but reports a failure, as when the
// connection drops before the commit is acknowledged.
type lossyStore struct {
	eventstore.Store
	lose atomic.Bool
}

var errConnReset = errors.New("connection reset by peer")

func (s *lossyStore) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.Store.Append(ctx, streamID, expected, events...)
	if err == nil && s.lose.CompareAndSwap(true, false) {
		return eventstore.AppendResult{}, errConnReset
	}
	return res, err
}

func TestLostAcknowledgement(t *testing.T) {
	t.Parallel()
	ls := &lossyStore{Store: memory.New()}
	b := setup(t, ls)
	id := uuid.New()
	mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
	meta := commands.Metadata{CommandID: commands.CommandIDFromKey("p", "retry-me")}
	ls.lose.Store(true)
	if _, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 2}, meta); !errors.Is(err, errConnReset) {
		t.Fatalf("err = %v", err)
	}
	res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 2}, meta)
	if !res.Replayed || res.Version != 3 {
		t.Fatalf("retry = %+v, want the original result at version 3", res)
	}
	st, v, _ := b.h.Load(context.Background(), id)
	if st.Count() != 2 || v != 3 {
		t.Fatalf("count %d at version %d: the retry wrote twice", st.Count(), v)
	}
}

func TestDispatcher(t *testing.T) {
	t.Parallel()

	t.Run("UnknownCommand", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		_, err := b.d.Dispatch(context.Background(), otherCommand{}, commands.Metadata{})
		if !errors.Is(err, commands.ErrNoHandler) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("DuplicateRegistrationPanics", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		commands.Register[TallyState](b.d, tallyCategory, []domain.Command{OpenTally{}})
	})

	t.Run("DecodeCommand", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		id := uuid.New()
		cmd, err := b.d.DecodeCommand("OpenTally", []byte(fmt.Sprintf(`{"tally_id":%q,"name":"n"}`, id)))
		if err != nil || cmd != (OpenTally{TallyID: id, Name: "n"}) {
			t.Fatalf("DecodeCommand = %#v, %v", cmd, err)
		}
		if _, err := b.d.DecodeCommand("OpenTally", []byte(`{"tally_id":`)); !errors.Is(err, domain.ErrValidation) {
			t.Fatalf("malformed: %v", err)
		}
		if _, err := b.d.DecodeCommand("Nope", []byte(`{}`)); !errors.Is(err, commands.ErrNoHandler) {
			t.Fatalf("unknown: %v", err)
		}
		if got := fmt.Sprint(b.d.CommandTypes()); got != "[CloseTally CountTally OpenTally]" {
			t.Fatalf("CommandTypes = %s", got)
		}
		if c, _ := b.d.Category("CountTally"); c != tallyCategory {
			t.Fatalf("Category = %q", c)
		}
	})

	t.Run("MiddlewareOrderAndMetrics", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		var trace []string
		mark := func(name string) commands.Middleware {
			return func(next commands.HandlerFunc) commands.HandlerFunc {
				return func(ctx context.Context, cmd domain.Command, meta commands.Metadata) (commands.Result, error) {
					trace = append(trace, name+">")
					res, err := next(ctx, cmd, meta)
					trace = append(trace, "<"+name)
					return res, err
				}
			}
		}
		reg := prometheus.NewPedanticRegistry()
		b.d.Use(mark("outer"), commands.Metrics(reg), mark("inner"))
		id := uuid.New()
		mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		b.d.Dispatch(context.Background(), OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
		if got := strings.Join(trace, " "); got != "outer> inner> <inner <outer outer> inner> <inner <outer" {
			t.Fatalf("trace = %s", got)
		}
		want := `
# HELP evcrm_commands_total Commands handled, by command type and outcome.
# TYPE evcrm_commands_total counter
evcrm_commands_total{command="OpenTally",outcome="ok"} 1
evcrm_commands_total{command="OpenTally",outcome="rejected"} 1
# HELP evcrm_commands_errors_total Commands refused or failed, by command type and error code.
# TYPE evcrm_commands_errors_total counter
evcrm_commands_errors_total{code="tally_already_exists",command="OpenTally"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "evcrm_commands_total", "evcrm_commands_errors_total"); err != nil {
			t.Fatal(err)
		}
	})
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return uuid.New() }

func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		res  commands.Result
		want string
	}{
		{nil, commands.Result{}, commands.OutcomeOK},
		{nil, commands.Result{Replayed: true}, commands.OutcomeReplayed},
		{fmt.Errorf("x: %w", domain.NotFound("case")), commands.Result{}, commands.OutcomeNotFound},
		{domain.Conflict("closed", "closed"), commands.Result{}, commands.OutcomeRejected},
		{domain.ErrValidation, commands.Result{}, commands.OutcomeInvalid},
		{&commands.PreconditionError{}, commands.Result{}, commands.OutcomePreconditionFailed},
		{fmt.Errorf("x: %w", &eventstore.VersionError{}), commands.Result{}, commands.OutcomeConcurrency},
		{context.Canceled, commands.Result{}, commands.OutcomeCanceled},
		{errors.New("disk on fire"), commands.Result{}, commands.OutcomeError},
	} {
		if got := commands.Outcome(tc.res, tc.err); got != tc.want {
			t.Errorf("Outcome(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
