package api

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/all"
	"github.com/evcrm/evcrm/eventstore"
)

// foldedState folds events (of one stream, in stream order) with the
// evolve of the stream's aggregate (domain/all) and returns the state as
// its getters show it: one member per exported method of the State that
// takes no argument (snake_case name): a method returning (T, bool)
// gives T or null, one returning (T, error) is left out (a check, not a
// fact), any other gives its value or, for several results, an array.
// ok is false when the stream's category is no aggregate's.
func foldedState(stream string, events []eventstore.RecordedEvent) (state map[string]any, aggregate string, err error) {
	agg, ok := aggregateOf(stream)
	if !ok {
		return nil, "", nil
	}
	s := agg.New()
	for _, re := range events {
		e, err := domain.Events.Decode(re.Type, re.SchemaVersion, re.Data)
		if errors.Is(err, domain.ErrUnknownEventType) {
			continue // evolve ignores types it does not know
		}
		if err != nil {
			return nil, agg.Category, fmt.Errorf("api: replaying %s@%d: %w", stream, re.Version, err)
		}
		s.Apply(e)
	}
	return stateView(s), agg.Category, nil
}

func aggregateOf(stream string) (all.Aggregate, bool) {
	for _, a := range all.Aggregates() {
		if strings.HasPrefix(stream, a.Category+"-") {
			return a, true
		}
	}
	return all.Aggregate{}, false
}

// notState are methods of a State that are not views of it.
var notState = map[string]bool{"Apply": true, "Decide": true, "MarshalSnapshot": true, "SnapshotSchema": true, "UnmarshalSnapshot": true}

var errorType = reflect.TypeFor[error]()

func stateView(s domain.Decider) map[string]any {
	v := reflect.ValueOf(s)
	t := v.Type()
	out := map[string]any{}
	for i := range t.NumMethod() {
		m := t.Method(i)
		mt := m.Type // receiver first
		if notState[m.Name] || mt.NumIn() != 1 || mt.NumOut() == 0 {
			continue
		}
		if mt.Out(mt.NumOut()-1) == errorType {
			continue
		}
		switch k := mt.Out(0).Kind(); k {
		case reflect.Func, reflect.Chan, reflect.UnsafePointer:
			continue
		}
		res := v.Method(i).Call(nil)
		var val any
		switch {
		case len(res) == 1:
			val = res[0].Interface()
			if tm, ok := val.(time.Time); ok && tm.IsZero() {
				val = nil
			}
		case len(res) == 2 && mt.Out(1).Kind() == reflect.Bool:
			if res[1].Bool() {
				val = res[0].Interface()
			}
		default:
			vals := make([]any, len(res))
			for j, r := range res {
				vals[j] = r.Interface()
			}
			val = vals
		}
		out[snakeCase(m.Name)] = val
	}
	return out
}

// snakeCase turns a Go method name into a JSON member name: CustomerID →
// customer_id, SLA → sla, CSAT → csat, FirstResponseAt → first_response_at.
func snakeCase(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if unicode.IsUpper(c) {
			if i > 0 && (unicode.IsLower(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]) && unicode.IsUpper(r[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(c))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
