package storetest

import (
	"errors"
	"slices"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// versions lists the versions of events.
func versions(events []eventstore.RecordedEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Version
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	if from <= to {
		for v := from; v <= to; v++ {
			out = append(out, v)
		}
		return out
	}
	for v := from; v >= to; v-- {
		out = append(out, v)
	}
	return out
}

var readStreamTests = []test{
	{"Forwards", func(f *fixture) {
		stream := f.stream()
		f.append(stream, eventstore.NoStream, Events("A", 4)...)
		f.append(stream, eventstore.Exact(4), Events("B", 6)...)
		for _, c := range []struct {
			from  uint64
			limit int
			want  []uint64
		}{
			{0, 0, seq(1, 10)},
			{1, 0, seq(1, 10)},
			{4, 3, seq(4, 6)},
			{8, 0, seq(8, 10)},
			{8, 100, seq(8, 10)},
			{10, 1, seq(10, 10)},
			{0, 2, seq(1, 2)},
			{11, 0, nil},
			{1000, 5, nil},
		} {
			got := f.readStream(stream, eventstore.ReadStreamOptions{From: c.from, Limit: c.limit})
			if !slices.Equal(versions(got), c.want) {
				f.t.Fatalf("forwards from %d limit %d: versions %v, want %v", c.from, c.limit, versions(got), c.want)
			}
			checkLogOrder(f.t, got)
		}
	}},
	{"Backwards", func(f *fixture) {
		stream := f.stream()
		f.append(stream, eventstore.NoStream, Events("A", 10)...)
		for _, c := range []struct {
			from  uint64
			limit int
			want  []uint64
		}{
			{0, 0, seq(10, 1)},
			{10, 0, seq(10, 1)},
			{0, 3, seq(10, 8)},
			{4, 2, seq(4, 3)},
			{4, 0, seq(4, 1)},
			{1, 0, seq(1, 1)},
			{1, 5, seq(1, 1)},
		} {
			got := f.readStream(stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: c.from, Limit: c.limit})
			if !slices.Equal(versions(got), c.want) {
				f.t.Fatalf("backwards from %d limit %d: versions %v, want %v", c.from, c.limit, versions(got), c.want)
			}
			for i := 1; i < len(got); i++ {
				if !got[i].Position.Less(got[i-1].Position) {
					f.t.Fatalf("backwards read: position %s not before %s", got[i].Position, got[i-1].Position)
				}
			}
		}
	}},
	{"NotFound", func(f *fixture) {
		stream := f.stream()
		for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
			_, err := f.s.ReadStream(f.ctx, stream, eventstore.ReadStreamOptions{Direction: dir})
			if !errors.Is(err, eventstore.ErrStreamNotFound) {
				f.t.Fatalf("direction %d: error = %v, want ErrStreamNotFound", dir, err)
			}
		}
		if v := f.version(stream); v != 0 {
			f.t.Fatalf("version of a missing stream = %d", v)
		}
	}},
	{"PositionsMatchGlobalLog", func(f *fixture) {
		a, b := f.stream(), f.stream()
		f.append(a, eventstore.NoStream, Events("A", 2)...)
		f.append(b, eventstore.NoStream, Events("B", 2)...)
		f.append(a, eventstore.Exact(2), Events("A", 2)...)
		all := f.readAll(f.catFilter(), 0)
		byID := map[uuid.UUID]eventstore.RecordedEvent{}
		for _, e := range all {
			byID[e.ID] = e
		}
		for _, s := range []string{a, b} {
			for _, e := range f.readStream(s, eventstore.ReadStreamOptions{}) {
				g, ok := byID[e.ID]
				if !ok || g.Position != e.Position || g.Version != e.Version || g.StreamID != e.StreamID || !g.RecordedAt.Equal(e.RecordedAt) {
					f.t.Fatalf("event %s: stream read %+v, global read %+v", e.ID, e, g)
				}
			}
		}
	}},
}

var readAllTests = []test{
	{"Paging", func(f *fixture) {
		streams := []string{f.stream(), f.stream(), f.stream()}
		var want []uuid.UUID
		for i := range 9 {
			evs := Events("Paged", 1+i%3)
			f.append(streams[i%3], eventstore.Any, evs...)
			want = append(want, dataIDs(evs)...)
		}
		for _, page := range []int{1, 2, 5, 7, len(want), len(want) + 1, 0} {
			got := f.readAll(f.catFilter(), page)
			if !slices.Equal(ids(got), want) {
				f.t.Fatalf("page size %d: read %d events %v, want %v", page, len(got), ids(got), want)
			}
			checkLogOrder(f.t, got)
		}
		// After is exclusive.
		all := f.readAll(f.catFilter(), 0)
		mid := all[len(all)/2]
		rest, err := f.s.ReadAll(f.ctx, eventstore.ReadAllOptions{After: mid.Position, Filter: f.catFilter()})
		if err != nil {
			f.t.Fatal(err)
		}
		if !slices.Equal(ids(rest), ids(all[len(all)/2+1:])) {
			f.t.Fatalf("after %s: %v, want %v", mid.Position, ids(rest), ids(all[len(all)/2+1:]))
		}
		last := all[len(all)-1].Position
		if rest, err := f.s.ReadAll(f.ctx, eventstore.ReadAllOptions{After: last, Filter: f.catFilter()}); err != nil || len(rest) != 0 {
			f.t.Fatalf("after the last event: %d events, %v", len(rest), err)
		}
	}},
	{"Filters", func(f *fixture) {
		cats := []string{f.cat, NewCategory(), NewCategory()}
		type written struct {
			id          uuid.UUID
			stream, typ string
		}
		var log []written // in append order, which is log order
		for i := range 12 {
			stream := eventstore.StreamID(cats[i%3], uuid.New())
			e := Event([]string{"Opened", "Closed"}[i%2], i)
			f.append(stream, eventstore.NoStream, e)
			log = append(log, written{e.ID, stream, e.Type})
		}
		for name, filter := range map[string]eventstore.Filter{
			"one category":      {Categories: cats[1:2]},
			"two categories":    {Categories: []string{cats[0], cats[2]}},
			"category and type": {Categories: cats[:2], EventTypes: []string{"Closed"}},
			"two types":         {Categories: cats, EventTypes: []string{"Closed", "Opened"}},
			"no match":          {Categories: cats[:1], EventTypes: []string{"Nope"}},
		} {
			var want []uuid.UUID
			for _, w := range log {
				if filter.Match(w.stream, w.typ) {
					want = append(want, w.id)
				}
			}
			for _, page := range []int{0, 2} {
				if got := f.readAll(filter, page); !slices.Equal(ids(got), want) {
					f.t.Fatalf("%s (page %d): %v, want %v", name, page, ids(got), want)
				}
			}
		}
	}},
	{"Head", func(f *fixture) {
		before, err := f.s.Head(f.ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		res := f.append(f.stream(), eventstore.NoStream, Events("A", 3)...)
		if !before.Less(res.Position) {
			f.t.Fatalf("append at %s is not after the earlier head %s", res.Position, before)
		}
		head, err := f.s.Head(f.ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		if head.Less(res.Position) {
			f.t.Fatalf("head %s is before the finished append at %s", head, res.Position)
		}
		// Nothing in this test's category lies after the head.
		if rest, err := f.s.ReadAll(f.ctx, eventstore.ReadAllOptions{After: head, Filter: f.catFilter()}); err != nil || len(rest) != 0 {
			f.t.Fatalf("%d events after the head, %v", len(rest), err)
		}
	}},
}
