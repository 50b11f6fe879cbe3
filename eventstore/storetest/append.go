package storetest

import (
	"errors"
	"slices"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

var appendTests = []test{
	{"NewStream", func(f *fixture) {
		stream := f.stream()
		evs := Events("Opened", 3)
		res := f.append(stream, eventstore.NoStream, evs...)
		if res.StreamID != stream || res.Version != 3 || res.Position.IsZero() {
			f.t.Fatalf("result = %+v, want stream %q at version 3 with a position", res, stream)
		}
		if v := f.version(stream); v != 3 {
			f.t.Fatalf("StreamVersion = %d, want 3", v)
		}
		got := f.readStream(stream, eventstore.ReadStreamOptions{})
		if len(got) != 3 {
			f.t.Fatalf("read %d events, want 3", len(got))
		}
		for i := range got {
			sameEvent(f.t, got[i], evs[i], stream, uint64(i+1))
		}
		checkLogOrder(f.t, got)
		if got[2].Position != res.Position {
			f.t.Fatalf("last event at %s, append result says %s", got[2].Position, res.Position)
		}
	}},
	{"ExpectNoStream", func(f *fixture) {
		stream := f.stream()
		f.append(stream, eventstore.NoStream, Events("A", 2)...)
		_, err := f.s.Append(f.ctx, stream, eventstore.NoStream, Event("B", 1))
		wantVersionError(f.t, err, stream, eventstore.NoStream, 2)
		if v := f.version(stream); v != 2 {
			f.t.Fatalf("version after failed append = %d, want 2", v)
		}
	}},
	{"ExpectExact", func(f *fixture) {
		stream := f.stream()
		if res := f.append(stream, eventstore.Exact(0), Event("A", 1)); res.Version != 1 {
			f.t.Fatalf("Exact(0) on a new stream gave version %d", res.Version)
		}
		if res := f.append(stream, eventstore.Exact(1), Events("A", 2)...); res.Version != 3 {
			f.t.Fatalf("Exact(1) gave version %d, want 3", res.Version)
		}
		_, err := f.s.Append(f.ctx, stream, eventstore.Exact(1), Event("B", 1))
		wantVersionError(f.t, err, stream, eventstore.Exact(1), 3)
		_, err = f.s.Append(f.ctx, stream, eventstore.Exact(4), Event("B", 1))
		wantVersionError(f.t, err, stream, eventstore.Exact(4), 3)
		_, err = f.s.Append(f.ctx, f.stream(), eventstore.Exact(7), Event("B", 1))
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			f.t.Fatalf("Exact(7) on a new stream: %v", err)
		}
	}},
	{"ExpectStreamExists", func(f *fixture) {
		stream := f.stream()
		_, err := f.s.Append(f.ctx, stream, eventstore.StreamExists, Event("A", 1))
		wantVersionError(f.t, err, stream, eventstore.StreamExists, 0)
		if _, err := f.s.ReadStream(f.ctx, stream, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
			f.t.Fatalf("failed append created the stream: %v", err)
		}
		f.append(stream, eventstore.NoStream, Event("A", 1))
		if res := f.append(stream, eventstore.StreamExists, Event("A", 2)); res.Version != 2 {
			f.t.Fatalf("StreamExists gave version %d, want 2", res.Version)
		}
	}},
	{"ExpectAny", func(f *fixture) {
		stream := f.stream()
		f.append(stream, eventstore.Any, Event("A", 1))
		if res := f.append(stream, eventstore.Any, Events("A", 4)...); res.Version != 5 {
			f.t.Fatalf("Any gave version %d, want 5", res.Version)
		}
	}},
	{"Atomic", func(f *fixture) {
		// The second event's ID is taken, so nothing of the batch is written.
		stream := f.stream()
		other := f.stream()
		if f.opts.EventIDsPerStream {
			other = stream // taken in the same stream
		}
		taken := Event("A", 1)
		f.append(other, eventstore.NoStream, taken)
		before := f.version(stream)
		fresh := Event("A", 2)
		_, err := f.s.Append(f.ctx, stream, eventstore.Exact(before), fresh, taken)
		wantErr(f.t, err, eventstore.ErrDuplicateEventID)
		if v := f.version(stream); v != before {
			f.t.Fatalf("stream at version %d after a failed append, want %d", v, before)
		}
		// The fresh ID was not consumed.
		if res := f.append(stream, eventstore.Exact(before), fresh); res.Version != before+1 {
			f.t.Fatalf("version %d, want %d", res.Version, before+1)
		}
	}},
	{"PositionsIncrease", func(f *fixture) {
		streams := []string{f.stream(), f.stream(), f.stream()}
		var results []eventstore.AppendResult
		for i := range 12 {
			results = append(results, f.append(streams[i%3], eventstore.Any, Events("A", 1+i%2)...))
		}
		for i := 1; i < len(results); i++ {
			if !results[i-1].Position.Less(results[i].Position) {
				f.t.Fatalf("append %d at %s is not after %s", i, results[i].Position, results[i-1].Position)
			}
		}
		all := f.readAll(f.catFilter(), 0)
		checkLogOrder(f.t, all)
		if len(all) != 18 {
			f.t.Fatalf("global log has %d events, want 18", len(all))
		}
		var ends []eventstore.Position
		for i, e := range all {
			if i == len(all)-1 || all[i+1].StreamID != e.StreamID || all[i+1].Version != e.Version+1 {
				ends = append(ends, e.Position)
			}
		}
		for _, r := range results {
			if !slices.Contains(ends, r.Position) {
				f.t.Fatalf("append result position %s is not the position of a batch's last event", r.Position)
			}
		}
	}},
	{"MetadataRoundTrip", func(f *fixture) {
		stream := f.stream()
		full := Event("Full", 1)
		empty := Event("Empty", 2)
		empty.Metadata = eventstore.Metadata{}
		unicode := Event("Unicode", 3)
		unicode.Data = []byte(`{"name":"Zoë ☃ 😀","quote":"\"'\\","escaped":"\u00e9\ud83d\ude00","zero":"\\u0000"}`)
		unicode.Metadata.Actor = "Zoë"
		unicode.Metadata.Extra = map[string]string{"ключ": "значение"}
		f.append(stream, eventstore.NoStream, full, empty, unicode)
		got := f.readStream(stream, eventstore.ReadStreamOptions{})
		sameEvent(f.t, got[0], full, stream, 1)
		sameEvent(f.t, got[1], empty, stream, 2)
		sameEvent(f.t, got[2], unicode, stream, 3)
		if got[1].Metadata.CorrelationID != uuid.Nil || !got[1].Metadata.OccurredAt.IsZero() {
			f.t.Fatalf("empty metadata read back as %+v", got[1].Metadata)
		}
	}},
	{"SchemaVersion", func(f *fixture) {
		stream := f.stream()
		e := Event("Versioned", 1)
		e.SchemaVersion = 3
		f.append(stream, eventstore.NoStream, e)
		if got := f.readStream(stream, eventstore.ReadStreamOptions{}); got[0].SchemaVersion != 3 {
			f.t.Fatalf("schema version %d, want 3", got[0].SchemaVersion)
		}
	}},
}
