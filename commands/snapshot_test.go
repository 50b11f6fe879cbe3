package commands_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/google/uuid"
)

// SnapTally is the tally with snapshots (domain.Snapshotter).
type SnapTally struct{ TallyState }

type snapTallyDTO struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	OpenedAt time.Time `json:"opened_at"`
	Count    int       `json:"count"`
	Closed   bool      `json:"closed"`
}

const snapTallySchema = 1

func (s *SnapTally) SnapshotSchema() int { return snapTallySchema }
func (s *SnapTally) MarshalSnapshot() ([]byte, error) {
	return json.Marshal(snapTallyDTO{s.ID, s.name, s.openedAt, s.count, s.closed})
}
func (s *SnapTally) UnmarshalSnapshot(b []byte) error {
	var d snapTallyDTO
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	s.TallyState = TallyState{ID: d.ID, name: d.Name, openedAt: d.OpenedAt, count: d.Count, closed: d.Closed}
	return nil
}

// readLog records the From of every stream read.
type readLog struct {
	eventstore.Store
	mu    sync.Mutex
	froms []uint64
}

func (s *readLog) ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.mu.Lock()
	s.froms = append(s.froms, opts.From)
	s.mu.Unlock()
	return s.Store.ReadStream(ctx, streamID, opts)
}

func (s *readLog) take() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.froms
	s.froms = nil
	return f
}

type snapBundle struct {
	store *readLog
	snaps *commands.MemorySnapshots
	d     *commands.Dispatcher
	h     *commands.Handler[SnapTally, *SnapTally]
}

func setupSnapshots(t *testing.T, every int, snaps commands.SnapshotStore) *snapBundle {
	t.Helper()
	mem := memory.New()
	t.Cleanup(mem.Close)
	mine, _ := snaps.(*commands.MemorySnapshots)
	if snaps == nil {
		mine = &commands.MemorySnapshots{}
		snaps = mine
	}
	store := &readLog{Store: mem}
	d, err := commands.NewDispatcher(store, commands.Config{
		Registry:      tallyEvents,
		Clock:         func() time.Time { return t0 },
		RetryBackoff:  time.Microsecond,
		Snapshots:     snaps,
		SnapshotEvery: every,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := commands.Register[SnapTally](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}, CloseTally{}})
	return &snapBundle{store: store, snaps: mine, d: d, h: h}
}

func (b *snapBundle) snapshot(t *testing.T, id uuid.UUID) commands.Snapshot {
	t.Helper()
	s, ok, err := b.snaps.Load(context.Background(), "", "tally-"+id.String())
	if err != nil || !ok {
		t.Fatalf("no snapshot of %s: %v", id, err)
	}
	return s
}

// fullCount replays the whole stream, without snapshots.
func fullCount(t *testing.T, b *snapBundle, id uuid.UUID) (int, uint64) {
	t.Helper()
	st, v, err := commands.Load[TallyState](context.Background(), b.store, tallyEvents, "tally-"+id.String())
	if err != nil {
		t.Fatal(err)
	}
	return st.Count(), v
}

func TestSnapshotsEveryN(t *testing.T) {
	t.Parallel()
	b := setupSnapshots(t, 5, nil)
	id := uuid.New()
	mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
	for i := range 11 { // versions 2..12
		mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
		if want := []int{0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2}[i]; b.snaps.Saves() != want {
			t.Fatalf("after version %d: %d snapshots, want %d", i+2, b.snaps.Saves(), want)
		}
	}
	s := b.snapshot(t, id)
	if s.Version != 10 || s.Schema != snapTallySchema || s.Position.IsZero() || !s.TakenAt.Equal(t0) {
		t.Fatalf("snapshot = %+v", s)
	}
	var dto snapTallyDTO
	if err := json.Unmarshal(s.State, &dto); err != nil || dto.Count != 9 || dto.ID != id {
		t.Fatalf("snapshot state %s: %v", s.State, err)
	}
	// The next command reads only the events after the snapshot.
	b.store.take()
	res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
	if froms := b.store.take(); fmt.Sprint(froms) != "[11]" || res.Version != 13 {
		t.Fatalf("reads from %v, result %+v", froms, res)
	}
	st, v, err := b.h.Load(context.Background(), id)
	if n, fv := fullCount(t, b, id); err != nil || st.Count() != n || v != fv || n != 12 {
		t.Fatalf("Load = %d at %d (%v), full replay = %d at %d", st.Count(), v, err, n, fv)
	}
}

func TestSnapshotIsUsed(t *testing.T) {
	t.Parallel()
	b := setupSnapshots(t, 1000, nil)
	id := uuid.New()
	mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
	mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
	// A doctored snapshot at version 2 proves the handler starts from it.
	fake, _ := json.Marshal(snapTallyDTO{ID: id, Name: "x", Count: 500})
	b.snaps.Put(commands.Snapshot{StreamID: "tally-" + id.String(), Version: 2, Schema: snapTallySchema, State: fake})
	res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1, Limit: 502}, commands.Metadata{})
	if st, v, _ := b.h.Load(context.Background(), id); st.Count() != 501 || v != 3 || res.Version != 3 {
		t.Fatalf("count %d at %d, want 501 at 3 (from the snapshot)", st.Count(), v)
	}
}

func TestSnapshotFallsBack(t *testing.T) {
	t.Parallel()
	good, _ := json.Marshal(snapTallyDTO{Count: 500})
	for name, snap := range map[string]commands.Snapshot{
		"corrupt":      {Version: 3, Schema: snapTallySchema, State: []byte(`{"count":`)},
		"other schema": {Version: 3, Schema: snapTallySchema + 1, State: good},
		"version 0":    {Version: 0, Schema: snapTallySchema, State: good},
		"ahead":        {Version: 50, Schema: snapTallySchema, State: good},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupSnapshots(t, 1000, nil)
			id := uuid.New()
			mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
			mustDispatch(t, b.d, CountTally{TallyID: id, By: 2}, commands.Metadata{})
			good, _ := json.Marshal(snapTallyDTO{ID: id, Name: "x", Count: 500})
			if name != "corrupt" {
				snap.State = good
			}
			snap.StreamID = "tally-" + id.String()
			b.snaps.Put(snap)
			res := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
			if n, v := fullCount(t, b, id); n != 3 || v != 4 || res.Version != 4 {
				t.Fatalf("count %d at %d, result %+v", n, v, res)
			}
			if name == "ahead" {
				// A read-only Load cannot tell a snapshot ahead of its
				// stream from an up-to-date one without asking the store.
				return
			}
			if st, v, err := b.h.Load(context.Background(), id); err != nil || st.Count() != 3 || v != 4 {
				t.Fatalf("Load = %d at %d, %v", st.Count(), v, err)
			}
		})
	}
}

// A snapshot ahead of a stream that does not exist is ignored.
func TestSnapshotOfMissingStream(t *testing.T) {
	t.Parallel()
	b := setupSnapshots(t, 1000, nil)
	id := uuid.New()
	fake, _ := json.Marshal(snapTallyDTO{ID: id, Name: "x", Count: 500})
	b.snaps.Put(commands.Snapshot{StreamID: "tally-" + id.String(), Version: 7, Schema: snapTallySchema, State: fake})
	if st, v, err := b.h.Load(context.Background(), id); err != nil || st.Exists() || v != 0 {
		t.Fatalf("Load = %+v at %d, %v", st, v, err)
	}
	if res := mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{}); res.Version != 1 {
		t.Fatalf("open = %+v", res)
	}
}

// A repeated command whose events lie before the snapshot still returns the
// original result, whatever deciding it again would give.
func TestSnapshotKeepsIdempotency(t *testing.T) {
	t.Parallel()
	b := setupSnapshots(t, 1, nil)
	id := uuid.New()
	key := func(k string) commands.Metadata {
		return commands.Metadata{CommandID: commands.CommandIDFromKey("test", k)}
	}
	open := mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, key("open"))
	count := mustDispatch(t, b.d, CountTally{TallyID: id, By: 2}, key("count"))
	mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
	closed := mustDispatch(t, b.d, CloseTally{TallyID: id}, key("close"))
	if s := b.snapshot(t, id); s.Version != 5 {
		t.Fatalf("snapshot at %d, want 5", s.Version)
	}
	for _, c := range []struct {
		cmd  domain.Command
		meta commands.Metadata
		want commands.Result
	}{
		{OpenTally{TallyID: id, Name: "x"}, key("open"), open},                                                                       // decides AlreadyExists now
		{CountTally{TallyID: id, By: 2}, key("count"), count},                                                                        // decides tally_closed now
		{CountTally{TallyID: id, By: 2}, commands.Metadata{CommandID: key("count").CommandID, Expected: eventstore.Exact(3)}, count}, // precondition fails now
		{CloseTally{TallyID: id}, key("close"), closed},                                                                              // the last event: in no tail at all
	} {
		res, err := b.d.Dispatch(context.Background(), c.cmd, c.meta)
		if err != nil || !res.Replayed || res.Version != c.want.Version || fmt.Sprint(res.EventIDs) != fmt.Sprint(c.want.EventIDs) {
			t.Fatalf("repeat %s = %+v, %v; want the original %+v", c.cmd.CommandType(), res, err, c.want)
		}
	}
	if n, v := fullCount(t, b, id); n != 3 || v != 5 {
		t.Fatalf("count %d at %d: a repeat wrote", n, v)
	}
	// A new command that is refused is refused as without snapshots.
	if _, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, key("new")); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("count on a closed tally: %v", err)
	}
}

type failingSnapshots struct{}

var errSnapshots = errors.New("snapshot table on fire")

func (failingSnapshots) Load(context.Context, string, string) (commands.Snapshot, bool, error) {
	return commands.Snapshot{}, false, errSnapshots
}
func (failingSnapshots) Save(context.Context, commands.Snapshot) error { return errSnapshots }

func TestSnapshotStoreErrorsDoNotFailCommands(t *testing.T) {
	t.Parallel()
	b := setupSnapshots(t, 1, failingSnapshots{})
	id := uuid.New()
	mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
	mustDispatch(t, b.d, CountTally{TallyID: id, By: 3}, commands.Metadata{})
	if st, v, err := b.h.Load(context.Background(), id); err != nil || st.Count() != 3 || v != 3 {
		t.Fatalf("Load = %d at %d, %v", st.Count(), v, err)
	}
}

// Aggregates that do not implement domain.Snapshotter are not snapshotted.
func TestNoSnapshotsWithoutSnapshotter(t *testing.T) {
	t.Parallel()
	snaps := &commands.MemorySnapshots{}
	d, err := commands.NewDispatcher(memory.New(), commands.Config{Registry: tallyEvents, Snapshots: snaps, SnapshotEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	commands.Register[TallyState](d, tallyCategory, []domain.Command{OpenTally{}, CountTally{}})
	id := uuid.New()
	mustDispatch(t, d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
	mustDispatch(t, d, CountTally{TallyID: id, By: 1}, commands.Metadata{})
	if snaps.Saves() != 0 {
		t.Fatalf("%d snapshots of a tally without Snapshotter", snaps.Saves())
	}
	if _, err := commands.NewDispatcher(memory.New(), commands.Config{SnapshotEvery: -1}); err == nil {
		t.Fatal("negative SnapshotEvery accepted")
	}
}

// Concurrent writers with frequent snapshots: nothing lost, and the state
// loaded through the snapshot equals a full replay.
func TestSnapshotsConcurrent(t *testing.T) {
	t.Parallel()
	b := setupSnapshots(t, 3, nil)
	id := uuid.New()
	mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "x"}, commands.Metadata{})
	const writers, each = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				var err error
				for range 20 { // the handler gives up after 4 conflicts
					if _, err = b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, commands.Metadata{}); err == nil ||
						!errors.Is(err, eventstore.ErrWrongExpectedVersion) {
						break
					}
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, v, err := b.h.Load(context.Background(), id)
	if n, fv := fullCount(t, b, id); err != nil || n != writers*each || st.Count() != n || v != fv {
		t.Fatalf("Load = %d at %d (%v), full replay = %d at %d", st.Count(), v, err, n, fv)
	}
}
