package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// Event is a domain event payload: a struct with exported, JSON-tagged
// (snake_case) fields and a stable type name.
type Event interface {
	EventType() string
}

// ErrUnknownEventType is returned when decoding a type the registry does not know.
var ErrUnknownEventType = errors.New("unknown event type")

// ErrUnsupportedSchemaVersion is returned for a version newer than the
// registered one, or older with no upcaster path.
var ErrUnsupportedSchemaVersion = errors.New("unsupported event schema version")

// Upcaster turns the JSON of schema version N into version N+1.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

type registration struct {
	version   int
	typ       reflect.Type // struct type
	doc       string
	aggregate string
	upcasters map[int]Upcaster // from version -> to version+1
}

// Registry maps stable event type names to Go types and schema versions.
// It is safe for concurrent use after registration.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*registration
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*registration{}} }

// Events is the registry every evcrm store, handler and projector uses.
// Aggregate packages register their events in init.
var Events = NewRegistry()

// Registration describes one event type for Register.
type Registration struct {
	Event     Event  // a zero value of the struct type, e.g. CaseOpened{}
	Version   int    // current schema version (>= 1)
	Aggregate string // e.g. "case"
	Doc       string // one sentence for the catalogue
	// Upcasters[n] upgrades version n to n+1; needed for every n < Version.
	Upcasters map[int]Upcaster
}

// Register adds event types. It panics on programmer errors (duplicate
// names, missing upcasters), as registration happens in init.
func (r *Registry) Register(regs ...Registration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, reg := range regs {
		t := reflect.TypeOf(reg.Event)
		if t.Kind() != reflect.Struct {
			panic(fmt.Sprintf("domain: event %T must be a struct value", reg.Event))
		}
		name := reg.Event.EventType()
		if name == "" || strings.ContainsAny(name, " .-/") {
			panic(fmt.Sprintf("domain: event %T has an invalid type name %q", reg.Event, name))
		}
		if _, dup := r.types[name]; dup {
			panic("domain: event type registered twice: " + name)
		}
		if reg.Version < 1 {
			reg.Version = 1
		}
		for v := 1; v < reg.Version; v++ {
			if reg.Upcasters[v] == nil {
				panic(fmt.Sprintf("domain: event %s v%d has no upcaster from v%d", name, reg.Version, v))
			}
		}
		r.types[name] = &registration{version: reg.Version, typ: t, doc: reg.Doc, aggregate: reg.Aggregate, upcasters: reg.Upcasters}
	}
}

func (r *Registry) lookup(name string) (*registration, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.types[name]
	return reg, ok
}

// Encode returns the stable type name, current schema version and JSON of e.
func (r *Registry) Encode(e Event) (typ string, version int, data []byte, err error) {
	typ = e.EventType()
	reg, ok := r.lookup(typ)
	if !ok {
		return "", 0, nil, fmt.Errorf("%w: %q", ErrUnknownEventType, typ)
	}
	if reflect.TypeOf(e) != reg.typ {
		return "", 0, nil, fmt.Errorf("domain: event %q registered as %s, got %T", typ, reg.typ, e)
	}
	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encoding event %s: %w", typ, err)
	}
	return typ, reg.version, data, nil
}

// Decode upcasts data from its schema version to the current one and
// returns the event as a value of its registered struct type.
func (r *Registry) Decode(typ string, version int, data []byte) (Event, error) {
	reg, ok := r.lookup(typ)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, typ)
	}
	if version < 1 || version > reg.version {
		return nil, fmt.Errorf("%w: %s v%d (current v%d)", ErrUnsupportedSchemaVersion, typ, version, reg.version)
	}
	raw := json.RawMessage(data)
	for v := version; v < reg.version; v++ {
		up, err := reg.upcasters[v](raw)
		if err != nil {
			return nil, fmt.Errorf("upcasting %s v%d to v%d: %w", typ, v, v+1, err)
		}
		raw = up
	}
	ptr := reflect.New(reg.typ)
	if err := json.Unmarshal(raw, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("decoding %s v%d: %w", typ, version, err)
	}
	return ptr.Elem().Interface().(Event), nil
}

// CurrentVersion returns the registered schema version of a type.
func (r *Registry) CurrentVersion(typ string) (int, bool) {
	reg, ok := r.lookup(typ)
	if !ok {
		return 0, false
	}
	return reg.version, true
}

// Types returns the registered type names, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FieldDoc describes one field of an event in the catalogue.
type FieldDoc struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Optional bool   `json:"optional,omitempty"`
}

// TypeDoc describes one event type in the catalogue.
type TypeDoc struct {
	Type      string     `json:"type"`
	Version   int        `json:"schema_version"`
	Aggregate string     `json:"aggregate"`
	Doc       string     `json:"doc,omitempty"`
	Fields    []FieldDoc `json:"fields"`
}

// Catalogue describes every registered event, sorted by aggregate then type.
func (r *Registry) Catalogue() []TypeDoc {
	r.mu.RLock()
	docs := make([]TypeDoc, 0, len(r.types))
	for name, reg := range r.types {
		docs = append(docs, TypeDoc{Type: name, Version: reg.version, Aggregate: reg.aggregate, Doc: reg.doc, Fields: fieldDocs(reg.typ)})
	}
	r.mu.RUnlock()
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].Aggregate != docs[j].Aggregate {
			return docs[i].Aggregate < docs[j].Aggregate
		}
		return docs[i].Type < docs[j].Type
	})
	return docs
}

func fieldDocs(t reflect.Type) []FieldDoc {
	var out []FieldDoc
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, fieldDocs(f.Type)...)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, FieldDoc{Name: name, Type: typeName(f.Type), Optional: strings.Contains(opts, "omit")})
	}
	return out
}

func typeName(t reflect.Type) string {
	switch {
	case t.String() == "uuid.UUID":
		return "uuid"
	case t.String() == "time.Time":
		return "timestamp (RFC 3339, UTC)"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "[]" + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map[" + typeName(t.Key()) + "]" + typeName(t.Elem())
	case t.Kind() == reflect.Struct:
		var parts []string
		for _, fd := range fieldDocs(t) {
			parts = append(parts, fd.Name+": "+fd.Type)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return t.Kind().String()
}
