package storetest

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

var validationTests = []test{
	{"InvalidEvents", func(f *fixture) {
		type mod func(e *eventstore.EventData)
		withData := func(s string) mod { return func(e *eventstore.EventData) { e.Data = json.RawMessage(s) } }
		cases := map[string]mod{
			"NilID":                  func(e *eventstore.EventData) { e.ID = uuid.Nil },
			"EmptyType":              func(e *eventstore.EventData) { e.Type = "" },
			"LongType":               func(e *eventstore.EventData) { e.Type = strings.Repeat("T", eventstore.MaxEventTypeLength+1) },
			"TypeWithNUL":            func(e *eventstore.EventData) { e.Type = "Case\x00Opened" },
			"TypeWithNewline":        func(e *eventstore.EventData) { e.Type = "Case\nOpened" },
			"TypeNotUTF8":            func(e *eventstore.EventData) { e.Type = "Case\xffOpened" },
			"SchemaVersionZero":      func(e *eventstore.EventData) { e.SchemaVersion = 0 },
			"SchemaVersionNegative":  func(e *eventstore.EventData) { e.SchemaVersion = -1 },
			"NoData":                 withData(""),
			"DataArray":              withData(`[1, 2]`),
			"DataString":             withData(`"text"`),
			"DataNull":               withData(`null`),
			"DataNumber":             withData(`42`),
			"DataTruncated":          withData(`{"a": 1`),
			"DataTrailingGarbage":    withData(`{"a": 1} x`),
			"DataNotUTF8":            withData("{\"a\": \"\xff\xfe\"}"),
			"DataNULEscape":          withData(`{"a": "x\u0000y"}`),
			"DataNULEscapeInKey":     withData(`{"\u0000": 1}`),
			"DataNULEscapeNested":    withData(`{"a": [{"b": "\u0000"}]}`),
			"DataLoneHighSurrogate":  withData(`{"a": "\ud800"}`),
			"DataLoneLowSurrogate":   withData(`{"a": "\udc00x"}`),
			"DataReversedSurrogates": withData(`{"a": "\ude00\ud83d"}`),
			"MetadataNUL":            func(e *eventstore.EventData) { e.Metadata.Actor = "bad\x00actor" },
			"MetadataExtraNUL":       func(e *eventstore.EventData) { e.Metadata.Extra = map[string]string{"k": "v\x00"} },
		}
		for name, m := range cases {
			stream := f.stream()
			good := Event("Good", 1)
			bad := Event("Bad", 2)
			m(&bad)
			_, err := f.s.Append(f.ctx, stream, eventstore.Any, good, bad)
			if !errors.Is(err, eventstore.ErrInvalidEvent) {
				f.t.Fatalf("%s: error = %v, want ErrInvalidEvent", name, err)
			}
			if v := f.version(stream); v != 0 {
				f.t.Fatalf("%s: the invalid batch was written", name)
			}
		}
	}},
	{"InvalidBatch", func(f *fixture) {
		stream := f.stream()
		_, err := f.s.Append(f.ctx, stream, eventstore.Any)
		wantErr(f.t, err, eventstore.ErrInvalidEvent)
		e := Event("A", 1)
		_, err = f.s.Append(f.ctx, stream, eventstore.Any, e, e)
		wantErr(f.t, err, eventstore.ErrInvalidEvent)
		if v := f.version(stream); v != 0 {
			f.t.Fatalf("stream at version %d", v)
		}
	}},
	{"AwkwardButValidJSON", func(f *fixture) {
		stream := f.stream()
		datas := []string{
			`{}`,
			`  {"padded": true}  `,
			`{"escapedBackslashThenU0000": "\\u0000"}`,
			`{"pair": "\ud83d\ude00", "upper": "\uD83D\uDE00"}`,
			`{"controlEscapes": "\t\n\r\b\f\u0001\u001f"}`,
			`{"deep": {"a": {"b": {"c": {"d": [[[[{}]]]]}}}}}`,
			`{"big": 123456789012345678901234567890, "small": -1.5e-300, "exp": 1E+2}`,
			`{"dup": 1, "dup": 2}`,
		}
		var evs []eventstore.EventData
		for i, d := range datas {
			e := Event("Awkward", i)
			e.Data = json.RawMessage(d)
			evs = append(evs, e)
		}
		f.append(stream, eventstore.NoStream, evs...)
		got := f.readStream(stream, eventstore.ReadStreamOptions{})
		for i := range got {
			if !json.Valid(got[i].Data) {
				f.t.Fatalf("event %d: read back invalid JSON %q", i, got[i].Data)
			}
			if i < len(datas)-2 && !JSONEqual(got[i].Data, evs[i].Data) { // big numbers and duplicate keys may normalise
				f.t.Fatalf("event %d: data %s, want %s", i, got[i].Data, evs[i].Data)
			}
		}
	}},
	{"InvalidStreamIDs", func(f *fixture) {
		for name, id := range map[string]string{
			"Empty":   "",
			"TooLong": f.cat + "-" + strings.Repeat("x", eventstore.MaxStreamIDLength),
			"NUL":     f.cat + "-a\x00b",
			"Newline": f.cat + "-a\nb",
			"Tab":     f.cat + "-a\tb",
			"DEL":     f.cat + "-a\x7fb",
			"C1":      f.cat + "-a\u0085b",
			"NotUTF8": f.cat + "-a\xffb",
		} {
			_, err := f.s.Append(f.ctx, id, eventstore.Any, Event("A", 1))
			if !errors.Is(err, eventstore.ErrInvalidStreamID) {
				f.t.Fatalf("%s: Append error = %v, want ErrInvalidStreamID", name, err)
			}
			if _, err := f.s.ReadStream(f.ctx, id, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrInvalidStreamID) {
				f.t.Fatalf("%s: ReadStream error = %v, want ErrInvalidStreamID", name, err)
			}
			if _, err := f.s.StreamVersion(f.ctx, id); !errors.Is(err, eventstore.ErrInvalidStreamID) {
				f.t.Fatalf("%s: StreamVersion error = %v, want ErrInvalidStreamID", name, err)
			}
		}
	}},
	{"HostileStreamIDs", func(f *fixture) {
		// Valid but nasty IDs are stored and read back verbatim, and stay in
		// the category before their first '-'.
		suffixes := []string{
			"'; DROP TABLE evcrm_events; --",
			`"quoted" \back\slash`,
			"100%_like_wildcards*?[a]",
			"ümlaut ßtraße 😀 ☃",
			"-leading-dash",
			"trailing-",
			"$dollar",
			"a/b/../c",
			"{\"json\": 1}",
			strings.Repeat("é", (eventstore.MaxStreamIDLength-len(f.cat)-1)/2),
		}
		want := map[string]uuid.UUID{}
		for _, sfx := range suffixes {
			id := f.cat + "-" + sfx
			if err := eventstore.ValidateStreamID(id); err != nil {
				f.t.Fatalf("%q should be valid: %v", id, err)
			}
			e := Event("Hostile", 1)
			f.append(id, eventstore.NoStream, e)
			want[id] = e.ID
			got := f.readStream(id, eventstore.ReadStreamOptions{})
			if len(got) != 1 || got[0].StreamID != id || got[0].ID != e.ID {
				f.t.Fatalf("stream %q read back as %+v", id, got)
			}
			if v := f.version(id); v != 1 {
				f.t.Fatalf("stream %q at version %d", id, v)
			}
		}
		all := f.readAll(f.catFilter(), 0)
		if len(all) != len(suffixes) {
			f.t.Fatalf("category %q has %d events, want %d", f.cat, len(all), len(suffixes))
		}
		for _, e := range all {
			if want[e.StreamID] != e.ID {
				f.t.Fatalf("unexpected event %s in stream %q", e.ID, e.StreamID)
			}
		}
		// A category name full of wildcards matches only itself.
		if evs, err := f.s.ReadAll(f.ctx, eventstore.ReadAllOptions{Filter: eventstore.Filter{Categories: []string{f.cat[:4] + "%"}}}); err != nil || len(evs) != 0 {
			f.t.Fatalf("wildcard category filter matched %d events, err %v", len(evs), err)
		}
	}},
}
