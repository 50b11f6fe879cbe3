package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/eventstore/storetest"
)

// TestContractGroupCommit runs the whole contract suite with group commit.
func TestContractGroupCommit(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, _ := newStore(t, postgres.Config{GroupCommit: 64})
		return s
	})
}

// TestGroupCommitRace: many writers append at once through groups, each to
// its own streams and to a few contested streams with exact expected
// versions (so neighbours in a group conflict), and retry some appends
// (idempotent replays) or reuse an event ID elsewhere (a duplicate). The
// faults variants terminate the group's backend before its statement, or
// lose the answer after it committed. Every append gets the answer it would
// get alone: each accepted event is stored exactly once, a refused one not
// at all, every stream is gap-free and the global log is in order.
func TestGroupCommitRace(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{"none", "kill-before", "lost-after"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			s, db := newStore(t, postgres.Config{GroupCommit: 32})
			ctx := context.Background()
			var faults atomic.Int64
			switch fault {
			case "kill-before":
				s.SetGroupFault(func(stage string, pid uint32) error {
					if stage == "before" && faults.Add(1)%3 == 1 {
						// The session dies before the group is written,
						// as in a crash of its backend.
						if _, err := db.Pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
							t.Error(err)
						}
					}
					return nil
				})
			case "lost-after":
				s.SetGroupFault(func(stage string, _ uint32) error {
					if stage == "after" && faults.Add(1)%3 == 1 {
						return errors.New("simulated: connection lost while reading the answer")
					}
					return nil
				})
			}
			runGroupRace(t, s)
			if fault != "none" && faults.Load() == 0 {
				t.Fatal("no fault was injected")
			}
		})
	}
}

func runGroupRace(t *testing.T, s *postgres.Store) {
	ctx := context.Background()
	cat := storetest.NewCategory()
	const writers, rounds, contested = 24, 12, 3
	hot := make([]string, contested)
	for i := range hot {
		hot[i] = eventstore.StreamID(cat, uuid.New())
	}
	var mu sync.Mutex
	accepted := map[uuid.UUID]string{} // event ID → stream
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			own := eventstore.StreamID(cat, uuid.New())
			for i := range rounds {
				// Its own stream, at the exact next version, and a retry of
				// every third append.
				e := storetest.Event("Own", w*1000+i)
				res, err := s.Append(ctx, own, eventstore.Exact(uint64(i)), e)
				if err != nil {
					t.Errorf("writer %d: own append %d: %v", w, i, err)
					return
				}
				if res.Version != uint64(i+1) {
					t.Errorf("writer %d: own append %d at version %d", w, i, res.Version)
				}
				if i%3 == 0 {
					again, err := s.Append(ctx, own, eventstore.Exact(uint64(i)), e)
					if err != nil || again != res {
						t.Errorf("writer %d: replay of %d = %+v, %v; want %+v", w, i, again, err, res)
					}
				}
				mu.Lock()
				accepted[e.ID] = own
				mu.Unlock()

				// A contested stream: read its version, append after it;
				// a neighbour may have taken it (VersionError).
				h := hot[(w+i)%contested]
				v, err := s.StreamVersion(ctx, h)
				if err != nil {
					t.Error(err)
					return
				}
				he := storetest.Event("Hot", w*1000+i)
				_, err = s.Append(ctx, h, eventstore.Exact(v), he)
				var ve *eventstore.VersionError
				switch {
				case err == nil:
					mu.Lock()
					accepted[he.ID] = h
					mu.Unlock()
				case errors.As(err, &ve):
				default:
					t.Errorf("writer %d: contested append: %v", w, err)
				}

				// Reusing an accepted event ID in another stream.
				if i == rounds-1 {
					_, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.Any, e)
					if !errors.Is(err, eventstore.ErrDuplicateEventID) {
						t.Errorf("writer %d: reused event ID: %v, want ErrDuplicateEventID", w, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The global log shows events below the oldest transaction running on
	// the server, which other tests may hold open for a while.
	var all []eventstore.RecordedEvent
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if all, err = s.ReadAll(ctx, eventstore.ReadAllOptions{Limit: 100000}); err != nil {
			t.Fatal(err)
		}
		if len(all) >= len(accepted) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkOrder(t, all)
	seen := map[uuid.UUID]bool{}
	for _, e := range all {
		if seen[e.ID] {
			t.Fatalf("event %s stored twice", e.ID)
		}
		seen[e.ID] = true
		if stream, ok := accepted[e.ID]; !ok || stream != e.StreamID {
			t.Fatalf("event %s in %s was not accepted there", e.ID, e.StreamID)
		}
	}
	if len(all) != len(accepted) {
		t.Fatalf("log holds %d events, %d were accepted", len(all), len(accepted))
	}
	groups, grouped := s.GroupStats()
	t.Logf("%d events; %d groups wrote %d appends", len(all), groups, grouped)
	if grouped == 0 {
		t.Fatal("no append went through a group")
	}
}
