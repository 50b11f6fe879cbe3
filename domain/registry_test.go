package domain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/google/uuid"
)

type thingCreated struct {
	ThingID uuid.UUID `json:"thing_id"`
	Title   string    `json:"title"`
	Tags    []string  `json:"tags,omitempty"`
	At      time.Time `json:"at"`
	Price   domain.Money
}

func (thingCreated) EventType() string { return "ThingCreated" }

type thingRenamed struct {
	Name string `json:"name"`
}

func (thingRenamed) EventType() string { return "ThingRenamed" }

// Version history of ThingCreated: v1 {"name"}, v2 {"label"}, v3 {"title"}.
func newRegistry() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(domain.Registration{
		Event: thingCreated{}, Version: 3, Aggregate: "thing", Doc: "A thing was created.",
		Upcasters: map[int]domain.Upcaster{
			1: renameField("name", "label"),
			2: renameField("label", "title"),
		},
	}, domain.Registration{Event: thingRenamed{}, Aggregate: "thing"})
	return r
}

func renameField(from, to string) domain.Upcaster {
	return func(data json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		m[to] = m[from]
		delete(m, from)
		return json.Marshal(m)
	}
}

func TestRegistryEncodeDecode(t *testing.T) {
	r := newRegistry()
	in := thingCreated{ThingID: uuid.New(), Title: "x", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Price: domain.Money{Amount: 1250, Currency: "EUR"}}
	typ, v, data, err := r.Encode(in)
	if err != nil || typ != "ThingCreated" || v != 3 {
		t.Fatalf("Encode = %q, %d, %v", typ, v, err)
	}
	out, err := r.Decode(typ, v, data)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(thingCreated)
	if got.ThingID != in.ThingID || got.Title != in.Title || !got.At.Equal(in.At) || got.Price != in.Price {
		t.Fatalf("round trip: got %+v want %+v", got, in)
	}
}

func TestRegistryUpcastsOldVersions(t *testing.T) {
	r := newRegistry()
	for v, data := range map[int]string{1: `{"name":"old"}`, 2: `{"label":"old"}`, 3: `{"title":"old"}`} {
		e, err := r.Decode("ThingCreated", v, []byte(data))
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if e.(thingCreated).Title != "old" {
			t.Fatalf("v%d upcast to %+v", v, e)
		}
	}
}

func TestRegistryErrors(t *testing.T) {
	r := newRegistry()
	for name, tc := range map[string]struct {
		typ     string
		version int
		data    string
		want    error
	}{
		"UnknownType":   {"Nope", 1, `{}`, domain.ErrUnknownEventType},
		"FutureVersion": {"ThingCreated", 4, `{}`, domain.ErrUnsupportedSchemaVersion},
		"ZeroVersion":   {"ThingCreated", 0, `{}`, domain.ErrUnsupportedSchemaVersion},
		"BadJSON":       {"ThingRenamed", 1, `{"name":`, nil},
		"BadOldJSON":    {"ThingCreated", 1, `[`, nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Decode(tc.typ, tc.version, []byte(tc.data))
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, _, _, err := r.Encode(otherEvent{}); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Fatalf("Encode unknown: %v", err)
	}
	if _, _, _, err := r.Encode(&thingRenamed{}); err == nil {
		t.Fatal("Encode of a pointer to a registered value type succeeded")
	}
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "Other" }

type badName struct{}

func (badName) EventType() string { return "bad.name" }

type notStruct string

func (notStruct) EventType() string { return "NotStruct" }

func TestRegisterPanicsOnProgrammerErrors(t *testing.T) {
	for name, reg := range map[string]domain.Registration{
		"Duplicate":       {Event: thingRenamed{}},
		"MissingUpcaster": {Event: otherEvent{}, Version: 2},
		"BadName":         {Event: badName{}},
		"NotStruct":       {Event: notStruct("")},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			newRegistry().Register(reg)
		})
	}
}

func TestRegistryTypesAndCatalogue(t *testing.T) {
	r := newRegistry()
	if got := strings.Join(r.Types(), ","); got != "ThingCreated,ThingRenamed" {
		t.Fatalf("Types = %s", got)
	}
	if v, ok := r.CurrentVersion("ThingCreated"); !ok || v != 3 {
		t.Fatalf("CurrentVersion = %d, %v", v, ok)
	}
	if _, ok := r.CurrentVersion("Nope"); ok {
		t.Fatal("CurrentVersion of unknown type")
	}
	cat := r.Catalogue()
	if len(cat) != 2 || cat[0].Type != "ThingCreated" || cat[0].Version != 3 || cat[0].Doc == "" {
		t.Fatalf("Catalogue = %+v", cat)
	}
	fields := map[string]domain.FieldDoc{}
	for _, f := range cat[0].Fields {
		fields[f.Name] = f
	}
	for name, typ := range map[string]string{"thing_id": "uuid", "title": "string", "tags": "[]string", "at": "timestamp (RFC 3339, UTC)", "Price": "{amount_minor: int64, currency: string}"} {
		if fields[name].Type != typ {
			t.Errorf("field %s: type %q, want %q", name, fields[name].Type, typ)
		}
	}
	if !fields["tags"].Optional || fields["title"].Optional {
		t.Errorf("optional flags wrong: %+v", fields)
	}
}
