package storetest

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/evcrm/evcrm/eventstore"
)

var idempotencyTests = []test{
	{"RetryReturnsOriginalResult", func(f *fixture) {
		existing := f.stream()
		f.append(existing, eventstore.NoStream, Event("Seed", 0))
		cases := []struct {
			name   string
			stream string
			exp    eventstore.ExpectedVersion
		}{
			{"NoStream", f.stream(), eventstore.NoStream},
			{"Exact", existing, eventstore.Exact(1)},
			{"Any", f.stream(), eventstore.Any},
			{"StreamExists", existing, eventstore.StreamExists},
		}
		for _, c := range cases {
			evs := Events("Retried", 3)
			first := f.append(c.stream, c.exp, evs...)
			before := f.version(c.stream)
			again, err := f.s.Append(f.ctx, c.stream, c.exp, evs...)
			if err != nil {
				f.t.Fatalf("%s: retry failed: %v", c.name, err)
			}
			if again != first {
				f.t.Fatalf("%s: retry result %+v, original %+v", c.name, again, first)
			}
			if v := f.version(c.stream); v != before {
				f.t.Fatalf("%s: retry moved the stream from %d to %d", c.name, before, v)
			}
		}
		all := f.readAll(f.catFilter(), 0)
		if len(all) != 1+4*3 {
			f.t.Fatalf("global log has %d events, want 13: a retry wrote twice", len(all))
		}
	}},
	{"RetryAfterLaterAppends", func(f *fixture) {
		stream := f.stream()
		batch := Events("A", 2)
		first := f.append(stream, eventstore.NoStream, batch...)
		f.append(stream, eventstore.Exact(2), Events("B", 2)...)
		for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Exact(0), eventstore.Any} {
			again, err := f.s.Append(f.ctx, stream, exp, batch...)
			if err != nil || again != first {
				f.t.Fatalf("retry with %s = %+v, %v; want %+v", exp, again, err, first)
			}
		}
		if v := f.version(stream); v != 4 {
			f.t.Fatalf("version %d, want 4", v)
		}
	}},
	{"RetryTail", func(f *fixture) {
		// Re-sending the last events of a batch alone is also a replay.
		stream := f.stream()
		batch := Events("A", 3)
		first := f.append(stream, eventstore.NoStream, batch...)
		res, err := f.s.Append(f.ctx, stream, eventstore.Exact(2), batch[2])
		if err != nil || res != first {
			f.t.Fatalf("retry of the last event = %+v, %v; want %+v", res, err, first)
		}
		res, err = f.s.Append(f.ctx, stream, eventstore.Any, batch[1])
		if err != nil || res.Version != 2 {
			f.t.Fatalf("retry of the middle event = %+v, %v; want version 2", res, err)
		}
	}},
	{"MetadataNotCompared", func(f *fixture) {
		stream := f.stream()
		e := Event("A", 1)
		first := f.append(stream, eventstore.NoStream, e)
		e.Metadata.Actor = "someone-else"
		if res, err := f.s.Append(f.ctx, stream, eventstore.NoStream, e); err != nil || res != first {
			f.t.Fatalf("retry with other metadata = %+v, %v; want %+v", res, err, first)
		}
		if got := f.readStream(stream, eventstore.ReadStreamOptions{}); got[0].Metadata.Actor != "user-42" {
			f.t.Fatalf("retry overwrote metadata: %+v", got[0].Metadata)
		}
	}},
	{"SameJSONValue", func(f *fixture) {
		// Content is compared as JSON values: key order and spacing do not matter.
		stream := f.stream()
		e := Event("A", 1)
		e.Data = json.RawMessage(`{"a": 1, "b": [true, null]}`)
		first := f.append(stream, eventstore.NoStream, e)
		e.Data = json.RawMessage(`{"b":[true,null],"a":1}`)
		if res, err := f.s.Append(f.ctx, stream, eventstore.NoStream, e); err != nil || res != first {
			f.t.Fatalf("retry with reformatted data = %+v, %v; want %+v", res, err, first)
		}
	}},
	{"SameIDOtherData", func(f *fixture) {
		stream := f.stream()
		e := Event("A", 1)
		f.append(stream, eventstore.NoStream, e)
		e.Data = json.RawMessage(`{"n": 2}`)
		_, err := f.s.Append(f.ctx, stream, eventstore.NoStream, e)
		wantErr(f.t, err, eventstore.ErrDuplicateEventID)
	}},
	{"SameIDOtherType", func(f *fixture) {
		stream := f.stream()
		e := Event("A", 1)
		f.append(stream, eventstore.NoStream, e)
		e.Type = "B"
		_, err := f.s.Append(f.ctx, stream, eventstore.Any, e)
		wantErr(f.t, err, eventstore.ErrDuplicateEventID)
	}},
	{"SameIDOtherSchemaVersion", func(f *fixture) {
		stream := f.stream()
		e := Event("A", 1)
		f.append(stream, eventstore.NoStream, e)
		e.SchemaVersion = 2
		_, err := f.s.Append(f.ctx, stream, eventstore.Any, e)
		wantErr(f.t, err, eventstore.ErrDuplicateEventID)
	}},
	{"SameIDOtherStream", func(f *fixture) {
		e := Event("A", 1)
		f.append(f.stream(), eventstore.NoStream, e)
		other := f.stream()
		_, err := f.s.Append(f.ctx, other, eventstore.NoStream, e)
		if f.opts.EventIDsPerStream {
			// The ID is another event there (see Options).
			if err != nil {
				f.t.Fatalf("append to another stream: %v", err)
			}
			if got := f.readStream(other, eventstore.ReadStreamOptions{}); len(got) != 1 || got[0].ID != e.ID {
				f.t.Fatalf("other stream holds %v", ids(got))
			}
			return
		}
		wantErr(f.t, err, eventstore.ErrDuplicateEventID)
		if v := f.version(other); v != 0 {
			f.t.Fatalf("other stream at version %d", v)
		}
	}},
	{"PartialOverlap", func(f *fixture) {
		stream := f.stream()
		batch := Events("A", 2)
		f.append(stream, eventstore.NoStream, batch...)
		extra := Event("A", 3)
		for name, evs := range map[string][]eventstore.EventData{
			"LongerBatch":   {batch[0], batch[1], extra},
			"NewThenOld":    {extra, batch[0]},
			"Reordered":     {batch[1], batch[0]},
			"OldGapOld":     {batch[0], extra, batch[1]},
			"SecondOnlyNew": {batch[1], extra},
		} {
			_, err := f.s.Append(f.ctx, stream, eventstore.Any, evs...)
			if err == nil {
				f.t.Fatalf("%s: append of a partly written batch succeeded", name)
			}
			wantErr(f.t, err, eventstore.ErrDuplicateEventID)
		}
		got := f.readStream(stream, eventstore.ReadStreamOptions{})
		if !slices.Equal(ids(got), dataIDs(batch)) {
			f.t.Fatalf("stream holds %v, want %v", ids(got), dataIDs(batch))
		}
	}},
	{"RetryAtOtherPlace", func(f *fixture) {
		// The expectation must have held where the events were written.
		stream := f.stream()
		e := Event("A", 1)
		f.append(stream, eventstore.NoStream, e)
		f.append(stream, eventstore.Exact(1), Event("B", 2))
		for _, exp := range []eventstore.ExpectedVersion{eventstore.Exact(1), eventstore.Exact(2), eventstore.StreamExists} {
			_, err := f.s.Append(f.ctx, stream, exp, e)
			wantErr(f.t, err, eventstore.ErrDuplicateEventID)
		}
		if v := f.version(stream); v != 2 {
			f.t.Fatalf("version %d, want 2", v)
		}
	}},
	{"ConcurrentRetries", func(f *fixture) {
		// Many clients send the same batch at once: one write, one result.
		stream := f.stream()
		batch := Events("A", 3)
		const clients = 8
		results := make([]eventstore.AppendResult, clients)
		errs := make([]error, clients)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				<-start
				results[i], errs[i] = f.s.Append(f.ctx, stream, eventstore.NoStream, batch...)
			})
		}
		close(start)
		wg.Wait()
		for i := range clients {
			if errs[i] != nil {
				f.t.Fatalf("client %d: %v", i, errs[i])
			}
			if results[i] != results[0] {
				f.t.Fatalf("client %d got %+v, client 0 got %+v", i, results[i], results[0])
			}
		}
		if got := f.readStream(stream, eventstore.ReadStreamOptions{}); len(got) != 3 {
			f.t.Fatalf("stream has %d events, want 3", len(got))
		}
	}},
}
