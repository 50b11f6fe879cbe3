package storetest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

var concurrencyTests = []test{
	{"WritersRaceForEachVersion", func(f *fixture) {
		// 16 writers try to append at the same expected version, round after
		// round: exactly one wins each version, the others get a
		// *VersionError naming the version the winner wrote.
		const writers, rounds = 16, 25
		stream := f.stream()
		for round := range rounds {
			expected := eventstore.Exact(uint64(round))
			start := make(chan struct{})
			var wg sync.WaitGroup
			results := make([]eventstore.AppendResult, writers)
			errs := make([]error, writers)
			evs := make([]eventstore.EventData, writers)
			for w := range writers {
				evs[w] = Event("Raced", w)
				wg.Go(func() {
					<-start
					results[w], errs[w] = f.s.Append(f.ctx, stream, expected, evs[w])
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for w := range writers {
				switch err := errs[w]; {
				case err == nil:
					if winner >= 0 {
						f.t.Fatalf("round %d: writers %d and %d both won", round, winner, w)
					}
					winner = w
					if results[w].Version != uint64(round+1) {
						f.t.Fatalf("round %d: winner at version %d", round, results[w].Version)
					}
				default:
					wantVersionError(f.t, err, stream, expected, uint64(round+1))
				}
			}
			if winner < 0 {
				f.t.Fatalf("round %d: nobody won", round)
			}
			got := f.readStream(stream, eventstore.ReadStreamOptions{From: uint64(round + 1)})
			if len(got) != 1 || got[0].ID != evs[winner].ID {
				f.t.Fatalf("round %d: stream holds %v, want the winner's event %s", round, ids(got), evs[winner].ID)
			}
		}
		got := f.readStream(stream, eventstore.ReadStreamOptions{})
		if len(got) != rounds {
			f.t.Fatalf("stream has %d events, want %d", len(got), rounds)
		}
		for i, e := range got {
			if e.Version != uint64(i+1) {
				f.t.Fatalf("event %d has version %d: the stream has a gap", i, e.Version)
			}
		}
		checkLogOrder(f.t, got)
	}},
	{"WritersFreeRunning", func(f *fixture) {
		// Writers read the version and append at it until the stream is
		// full; losers retry. No version is written twice or skipped.
		const writers, total = 16, 160
		stream := f.stream()
		var (
			mu   sync.Mutex
			won  = map[uint64]uuid.UUID{}
			lost int
		)
		var wg sync.WaitGroup
		errc := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := 0; ; i++ {
					v, err := f.s.StreamVersion(f.ctx, stream)
					if err != nil {
						errc <- err
						return
					}
					if v >= total {
						return
					}
					e := Event("Free", w*1000+i)
					res, err := f.s.Append(f.ctx, stream, eventstore.Exact(v), e)
					var ve *eventstore.VersionError
					switch {
					case errors.As(err, &ve):
						if ve.Actual <= v {
							errc <- fmt.Errorf("conflict at %d reports actual %d", v, ve.Actual)
							return
						}
						mu.Lock()
						lost++
						mu.Unlock()
					case err != nil:
						errc <- err
						return
					default:
						mu.Lock()
						if prev, dup := won[res.Version]; dup {
							mu.Unlock()
							errc <- fmt.Errorf("version %d won by %s and %s", res.Version, prev, e.ID)
							return
						}
						won[res.Version] = e.ID
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			f.t.Fatal(err)
		}
		got := f.readStream(stream, eventstore.ReadStreamOptions{})
		if len(got) != total {
			f.t.Fatalf("stream has %d events, want %d", len(got), total)
		}
		for i, e := range got {
			if e.Version != uint64(i+1) || won[e.Version] != e.ID {
				f.t.Fatalf("event %d: version %d id %s, winner recorded %s", i, e.Version, e.ID, won[e.Version])
			}
		}
		if len(won) != len(got) {
			f.t.Fatalf("%d appends won, stream has %d events", len(won), len(got))
		}
		f.t.Logf("%d appends won, %d lost a race", len(won), lost)
	}},
	{"ManyStreams", func(f *fixture) {
		// Writers on distinct streams never conflict; the global log holds
		// every event once, each stream in order.
		const writers, appends = 8, 15
		var wg sync.WaitGroup
		errc := make(chan error, writers)
		streams := make([]string, writers)
		for w := range writers {
			streams[w] = f.stream()
			wg.Go(func() {
				for i := range appends {
					if _, err := f.s.Append(f.ctx, streams[w], eventstore.Exact(uint64(2*i)), Events("Many", 2)...); err != nil {
						errc <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			f.t.Fatal(err)
		}
		all := f.readAll(f.catFilter(), 7)
		if len(all) != writers*appends*2 {
			f.t.Fatalf("global log has %d events, want %d", len(all), writers*appends*2)
		}
		seen := map[uuid.UUID]bool{}
		for _, e := range all {
			if seen[e.ID] {
				f.t.Fatalf("event %s read twice", e.ID)
			}
			seen[e.ID] = true
		}
		checkLogOrder(f.t, all)
	}},
}
