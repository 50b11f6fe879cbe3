package postgres

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// TestAppendMetadata: the hand-written encoder gives JSON that decodes to
// what json.Marshal's output decodes to.
func TestAppendMetadata(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	cases := map[string]eventstore.Metadata{
		"Empty": {},
		"Full": {
			CorrelationID: uuid.New(), CausationID: uuid.New(), Actor: "user-1", ActorRole: "sales",
			Source: "web", Tenant: "acme", OccurredAt: time.Date(2025, 3, 3, 9, 30, 0, 123456789, paris),
			Extra: map[string]string{"b": "2", "a": "1", "z": ""},
		},
		"Escapes": {
			Actor:  "quote\" backslash\\ newline\n tab\t cr\r ctrl\x01\x1f del\x7f <html>&amp;",
			Source: "Zoë ☃ 😀 \u2028\u2029",
			Tenant: "bad utf8 \xff\xfe end",
			Extra:  map[string]string{"k\"ey\n": "v\\al\x02"},
		},
		"OnlyTime":     {OccurredAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		"OnlyCausaton": {CausationID: uuid.MustParse("00000000-0000-0000-0000-000000000001")},
		"EmptyExtra":   {Actor: "a", Extra: map[string]string{}},
	}
	for name, m := range cases {
		got, err := appendMetadata(nil, m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !json.Valid(got) {
			t.Fatalf("%s: invalid JSON %s", name, got)
		}
		m2 := m
		m2.OccurredAt = m2.OccurredAt.UTC()
		want, _ := json.Marshal(m2)
		var a, b eventstore.Metadata
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
		}
		var x, y any
		_ = json.Unmarshal(got, &x)
		_ = json.Unmarshal(want, &y)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("%s: JSON values differ:\n got %s\nwant %s", name, got, want)
		}
	}
	if _, err := appendMetadata(nil, eventstore.Metadata{OccurredAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Fatal("year 10000 accepted")
	}
	if got, _ := appendMetadata(nil, eventstore.Metadata{}); string(got) != "{}" {
		t.Fatalf("empty metadata = %s", got)
	}
	if got, _ := appendMetadata(nil, cases["Full"]); !strings.Contains(string(got), `"occurred_at":"2025-03-03T08:30:00.123456789Z"`) {
		t.Fatalf("time not in UTC: %s", got)
	}
}

func TestSameMetadata(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC)
	a := eventstore.Metadata{Actor: "x", OccurredAt: at, Extra: map[string]string{"k": "v"}}
	b := a
	b.Extra = map[string]string{"k": "v"}
	b.OccurredAt = at.In(time.FixedZone("X", 3600))
	if !sameMetadata(&a, &b) {
		t.Fatal("equal metadata reported different")
	}
	for name, change := range map[string]func(m *eventstore.Metadata){
		"Actor":  func(m *eventstore.Metadata) { m.Actor = "y" },
		"Time":   func(m *eventstore.Metadata) { m.OccurredAt = at.Add(1) },
		"Extra":  func(m *eventstore.Metadata) { m.Extra = map[string]string{"k": "w"} },
		"NoKey":  func(m *eventstore.Metadata) { m.Extra = map[string]string{"j": "v"} },
		"Tenant": func(m *eventstore.Metadata) { m.Tenant = "t" },
	} {
		c := a
		change(&c)
		if sameMetadata(&a, &c) {
			t.Fatalf("%s: different metadata reported equal", name)
		}
	}
}

func BenchmarkAppendMetadata(b *testing.B) {
	m := eventstore.Metadata{CorrelationID: uuid.New(), CausationID: uuid.New(), Actor: "user-3f2a9c", ActorRole: "service_agent",
		Source: "web", Tenant: "acme", OccurredAt: time.Now()}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf, _ = appendMetadata(buf[:0], m)
	}
}

// TestParseMetadata: the fast decoder agrees with json.Unmarshal on what
// PostgreSQL returns and on anything else.
func TestParseMetadata(t *testing.T) {
	t.Parallel()
	full := eventstore.Metadata{
		CorrelationID: uuid.New(), CausationID: uuid.New(), Actor: "user-1", ActorRole: "sales",
		Source: "web", Tenant: "acme", OccurredAt: time.Date(2025, 3, 3, 9, 30, 0, 123456789, time.UTC),
		Extra: map[string]string{"b": "2", "a": "1", "e": ""},
	}
	enc, _ := appendMetadata(nil, full)
	escaped, _ := appendMetadata(nil, eventstore.Metadata{Actor: "quote\" \\ \n \u00e9 😀 \x01", Extra: map[string]string{"k\"": "\t"}})
	inputs := []string{
		string(enc),
		string(escaped),
		`{}`,
		` { } `,
		// jsonb's output: spaces, keys ordered by length.
		`{"actor": "user-1", "extra": {"a": "1"}, "source": "web", "tenant": "acme", "actor_role": "sales", "occurred_at": "2025-03-03T09:30:00.123456789Z", "causation_id": "6f1c7a2e-0000-4000-8000-000000000001", "correlation_id": "6f1c7a2e-0000-4000-8000-000000000002"}`,
		`{"actor": "\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}`,
		`{"extra": {}}`,
		`{"actor": "a", "actor": "b"}`,
		// Shapes the fast path leaves to json.Unmarshal.
		`{"unknown": 1, "actor": "x"}`,
		`{"actor": null}`,
		`{"extra": {"n": "1"}, "future_field": {"nested": [1, 2]}}`,
		`{"occurred_at": "2025-03-03T09:30:00+02:00"}`,
		`{"correlation_id": "6F1C7A2E-0000-4000-8000-000000000002"}`,
	}
	for _, in := range inputs {
		var fast, slow eventstore.Metadata
		errFast := parseMetadata([]byte(in), &fast)
		errSlow := json.Unmarshal([]byte(in), &slow)
		if (errFast == nil) != (errSlow == nil) {
			t.Fatalf("%s: fast error %v, json error %v", in, errFast, errSlow)
		}
		if !fast.OccurredAt.Equal(slow.OccurredAt) {
			t.Fatalf("%s: time %v, want %v", in, fast.OccurredAt, slow.OccurredAt)
		}
		fast.OccurredAt, slow.OccurredAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s:\n fast %+v\n json %+v", in, fast, slow)
		}
	}
	for _, bad := range []string{`{"actor": "x"`, `{"correlation_id": "nope"}`, `{"occurred_at": "yesterday"}`, `[]`, `{"extra": {"k": 1}}`} {
		var m eventstore.Metadata
		if err := parseMetadata([]byte(bad), &m); err == nil {
			t.Fatalf("%s accepted", bad)
		}
	}
}

func BenchmarkParseMetadata(b *testing.B) {
	in := []byte(`{"actor": "user-3f2a9c", "source": "web", "tenant": "acme", "actor_role": "service_agent", "occurred_at": "2025-03-03T09:30:00Z", "causation_id": "6f1c7a2e-0000-4000-8000-000000000001", "correlation_id": "6f1c7a2e-0000-4000-8000-000000000002"}`)
	var m eventstore.Metadata
	for b.Loop() {
		m = eventstore.Metadata{}
		if err := parseMetadata(in, &m); err != nil {
			b.Fatal(err)
		}
	}
}
