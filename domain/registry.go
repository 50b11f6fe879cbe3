package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
	personal  Personal
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
	// Personal classifies the personal data the event carries (GDPR); the
	// zero value: none.
	Personal Personal
}

// Personal classifies the personal data of an event type: which JSON fields
// hold it and whose data it is. The event store encrypts those fields with
// the data subject's key (docs/privacy.md), so erasing the subject (destroying
// its key) erases them in every event at once.
type Personal struct {
	// Fields are JSON paths of personal fields, at the current schema
	// version: "display_name", "address" (a whole object), "participants[].name"
	// (a field of every element of an array).
	Fields []string
	// Subject lists where the data subject's ID is in the data; the first
	// non-zero one wins. None (or all zero): the subject of the event's
	// stream, set by the first event of the stream that named one.
	Subject []SubjectRef
	// LinkTo, when set and non-zero in the data, makes the event's subject
	// part of that subject from now on (a lead converted into a customer):
	// erasing that subject erases this one too.
	LinkTo *SubjectRef
	// Erases marks the event that records the erasure of its subject: the
	// subject's keys (and those of the subjects linked to it) are destroyed
	// before the event is stored.
	Erases bool
}

// SubjectRef names a data subject's ID in event data: its kind ("customer",
// "lead") and the JSON path of the ID.
type SubjectRef struct {
	Kind string
	Path string
}

// IsZero reports whether the event carries no personal data and names no subject.
func (p Personal) IsZero() bool {
	return len(p.Fields) == 0 && len(p.Subject) == 0 && p.LinkTo == nil && !p.Erases
}

// Personal returns the personal-data classification of an event type.
func (r *Registry) Personal(typ string) (Personal, bool) {
	reg, ok := r.lookup(typ)
	if !ok {
		return Personal{}, false
	}
	return reg.personal, true
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
		for _, f := range reg.Personal.Fields {
			if !validPath(f) {
				panic(fmt.Sprintf("domain: event %s: invalid personal field path %q", name, f))
			}
		}
		r.types[name] = &registration{version: reg.Version, typ: t, doc: reg.Doc, aggregate: reg.Aggregate, upcasters: reg.Upcasters, personal: reg.Personal}
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
	// Personal: the field (or, for an object, some of its fields: see
	// TypeDoc.Personal) holds personal data, encrypted per data subject.
	Personal bool `json:"personal,omitempty"`
}

// TypeDoc describes one event type in the catalogue.
type TypeDoc struct {
	Type      string     `json:"type"`
	Version   int        `json:"schema_version"`
	Aggregate string     `json:"aggregate"`
	Doc       string     `json:"doc,omitempty"`
	Fields    []FieldDoc `json:"fields"`
	// Personal lists the JSON paths of personal fields; Subject names the
	// data subject ("customer_id", or the stream's subject).
	Personal []string `json:"personal,omitempty"`
	Subject  []string `json:"subject,omitempty"`
}

// Catalogue describes every registered event, sorted by aggregate then type.
func (r *Registry) Catalogue() []TypeDoc {
	r.mu.RLock()
	docs := make([]TypeDoc, 0, len(r.types))
	for name, reg := range r.types {
		d := TypeDoc{Type: name, Version: reg.version, Aggregate: reg.aggregate, Doc: reg.doc, Fields: fieldDocs(reg.typ)}
		d.Personal = slices.Clone(reg.personal.Fields)
		for _, s := range reg.personal.Subject {
			d.Subject = append(d.Subject, s.Kind+" ("+s.Path+")")
		}
		for i := range d.Fields {
			for _, p := range d.Personal {
				if top, _, _ := strings.Cut(p, "."); strings.TrimSuffix(top, "[]") == d.Fields[i].Name {
					d.Fields[i].Personal = true
				}
			}
		}
		docs = append(docs, d)
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

// validPath checks a personal field path: dot-separated JSON names, each
// optionally followed by [] (every element of an array).
func validPath(p string) bool {
	if p == "" {
		return false
	}
	for _, seg := range strings.Split(p, ".") {
		seg = strings.TrimSuffix(seg, "[]")
		if seg == "" || strings.ContainsAny(seg, "[]") {
			return false
		}
	}
	return true
}
