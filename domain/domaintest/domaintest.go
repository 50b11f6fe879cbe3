// Package domaintest runs given/when/then scenarios against any evcrm
// aggregate and checks that events survive the registry's JSON round trip.
//
//	domaintest.Given[opportunity.State](t, opened, captured).
//		When(opportunity.WinOpportunity{OpportunityID: id}).
//		ThenError(opportunity.ErrRequirementsNotReviewed)
//
// Every scenario also checks the Decider contract: Decide must not change the
// state it is called on, must give the same answer twice, must return a
// *domain.Error (never a bare error), and every event it returns must be
// registered in domain.Events and round-trip through Encode/Decode unchanged.
package domaintest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
)

// Now is the decision time of a scenario unless At sets another. It is a
// fixed UTC instant so expected events can be written literally.
var Now = time.Date(2025, time.March, 3, 9, 30, 0, 0, time.UTC)

// Decider is the constraint tying an aggregate's State to its pointer.
type Decider[S any] interface {
	*S
	domain.Decider
}

// Scenario is one given/when/then case. Build it with Given; end it with
// Then, ThenError or ThenInvalid.
type Scenario[S any, P Decider[S]] struct {
	t     testing.TB
	given []domain.Event
	now   time.Time
	cmd   domain.Command
	reg   *domain.Registry
}

// Given starts a scenario on the state obtained by applying events, in order,
// to a zero State. The type argument names the State:
// domaintest.Given[customer.State](t, registered).
func Given[S any, P Decider[S]](t testing.TB, events ...domain.Event) *Scenario[S, P] {
	return &Scenario[S, P]{t: t, given: events, now: Now, reg: domain.Events}
}

// At sets the decision time (default Now).
func (s *Scenario[S, P]) At(now time.Time) *Scenario[S, P] {
	s.now = now
	return s
}

// Registry sets the registry events must round-trip through (default domain.Events).
func (s *Scenario[S, P]) Registry(r *domain.Registry) *Scenario[S, P] {
	s.reg = r
	return s
}

// When sets the command to decide.
func (s *Scenario[S, P]) When(cmd domain.Command) *Scenario[S, P] {
	s.cmd = cmd
	return s
}

// Then asserts that the command succeeds with exactly want (compared by Go
// type and JSON encoding; no events means a no-op), and returns the state
// after applying them, for further assertions on its accessors.
func (s *Scenario[S, P]) Then(want ...domain.Event) *S {
	s.t.Helper()
	state, got, err := s.decide()
	if err != nil {
		s.t.Fatalf("%s: want %d event(s), got error: %v", s.name(), len(want), err)
	}
	if !SameEvents(got, want) {
		s.t.Fatalf("%s: events differ\n got: %s\nwant: %s", s.name(), Render(got), Render(want))
	}
	for _, e := range got {
		if err := roundTrip(s.reg, e); err != nil {
			s.t.Errorf("%s: %v", s.name(), err)
		}
		P(state).Apply(e)
	}
	return state
}

// ThenError asserts that the command is refused with an error matching
// target (errors.Is) and no events, and returns the error.
func (s *Scenario[S, P]) ThenError(target error) error {
	s.t.Helper()
	_, got, err := s.decide()
	if err == nil {
		s.t.Fatalf("%s: want error %q, got %d event(s): %s", s.name(), target, len(got), Render(got))
	}
	if !errors.Is(err, target) {
		s.t.Fatalf("%s: want error matching %q (%s), got %q (%s)", s.name(), target, code(target), err, code(err))
	}
	if len(got) != 0 {
		s.t.Errorf("%s: Decide returned events along with an error: %s", s.name(), Render(got))
	}
	return err
}

// ThenInvalid asserts a validation error (domain.ErrValidation) that names at
// least the given fields, by their JSON path ("lines[0].quantity").
func (s *Scenario[S, P]) ThenInvalid(fields ...string) error {
	s.t.Helper()
	err := s.ThenError(domain.ErrValidation)
	var de *domain.Error
	errors.As(err, &de) // decide has checked it is a *domain.Error
	named := make([]string, 0, len(de.Fields))
	for _, f := range de.Fields {
		named = append(named, f.Field)
	}
	for _, f := range fields {
		if !slices.Contains(named, f) {
			s.t.Errorf("%s: validation error does not name field %q; it names %q (%v)", s.name(), f, named, err)
		}
	}
	return err
}

// decide folds the given events twice, decides on one copy and checks the
// Decider contract against the other.
func (s *Scenario[S, P]) decide() (*S, []domain.Event, error) {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatalf("domaintest: scenario has no command: call When before Then")
	}
	a, b := domain.Fold[S, P](s.given...), domain.Fold[S, P](s.given...)
	events, err := P(a).Decide(s.cmd, s.now)
	if !reflect.DeepEqual(a, b) {
		s.t.Errorf("%s: Decide changed the state; it must only read it", s.name())
	}
	again, errAgain := P(b).Decide(s.cmd, s.now)
	if !SameEvents(events, again) || fmt.Sprint(err) != fmt.Sprint(errAgain) {
		s.t.Errorf("%s: Decide is not deterministic: %s / %v, then %s / %v", s.name(), Render(events), err, Render(again), errAgain)
	}
	var de *domain.Error
	if err != nil && !errors.As(err, &de) {
		s.t.Errorf("%s: Decide returned %T (%v); it must return a *domain.Error", s.name(), err, err)
	}
	return a, events, err
}

func (s *Scenario[S, P]) name() string {
	return "When " + s.cmd.CommandType()
}

func code(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return "kind " + de.Kind.String() + ", code " + de.Code
	}
	return fmt.Sprintf("%T", err)
}

// SameEvents reports whether two event lists have the same Go types and the
// same JSON encodings, in the same order.
func SameEvents(a, b []domain.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if reflect.TypeOf(a[i]) != reflect.TypeOf(b[i]) {
			return false
		}
		ja, errA := json.Marshal(a[i])
		jb, errB := json.Marshal(b[i])
		if errA != nil || errB != nil || string(ja) != string(jb) {
			return false
		}
	}
	return true
}

// Render shows events as "Type {json}" lines, for failure messages.
func Render(events []domain.Event) string {
	if len(events) == 0 {
		return "(no events)"
	}
	var b strings.Builder
	for _, e := range events {
		j, err := json.Marshal(e)
		if err != nil {
			j = []byte("<" + err.Error() + ">")
		}
		fmt.Fprintf(&b, "\n\t%s %s", e.EventType(), j)
	}
	return b.String()
}

// RoundTrip fails t unless every event is registered in domain.Events and
// comes back from Encode then Decode as the same type with the same JSON.
func RoundTrip(t testing.TB, events ...domain.Event) {
	t.Helper()
	for _, e := range events {
		if err := roundTrip(domain.Events, e); err != nil {
			t.Error(err)
		}
	}
}

func roundTrip(reg *domain.Registry, e domain.Event) error {
	typ, version, data, err := reg.Encode(e)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", e.EventType(), err)
	}
	back, err := reg.Decode(typ, version, data)
	if err != nil {
		return fmt.Errorf("decoding %s v%d %s: %w", typ, version, data, err)
	}
	if !SameEvents([]domain.Event{e}, []domain.Event{back}) {
		return fmt.Errorf("%s does not round-trip:\n in: %s\nout: %s", typ, Render([]domain.Event{e}), Render([]domain.Event{back}))
	}
	return nil
}

// Covers fails t unless events include every type registered in
// domain.Events for aggregate, so a round-trip test cannot silently miss a
// newly added event.
func Covers(t testing.TB, aggregate string, events ...domain.Event) {
	t.Helper()
	have := map[string]bool{}
	for _, e := range events {
		have[e.EventType()] = true
	}
	n := 0
	for _, d := range domain.Events.Catalogue() {
		if d.Aggregate != aggregate {
			continue
		}
		n++
		if !have[d.Type] {
			t.Errorf("event %s of aggregate %q has no sample in the round-trip test", d.Type, aggregate)
		}
	}
	if n == 0 {
		t.Errorf("no events registered for aggregate %q", aggregate)
	}
}

// Case is one row of a table-driven scenario test; see Run.
type Case struct {
	Name  string
	Given []domain.Event
	At    time.Time // decision time; zero means Now
	When  domain.Command
	// Exactly one outcome: Then (the expected events; none means the command
	// is a no-op), Err (a refusal matching it with errors.Is) or Invalid (a
	// validation error naming at least these fields).
	Then    []domain.Event
	Err     error
	Invalid []string
}

// Run runs each case as a subtest named after it.
func Run[S any, P Decider[S]](t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Helper()
			s := Given[S, P](t, c.Given...).When(c.When)
			if !c.At.IsZero() {
				s.At(c.At)
			}
			switch {
			case len(c.Invalid) > 0:
				s.ThenInvalid(c.Invalid...)
			case c.Err != nil:
				s.ThenError(c.Err)
			default:
				s.Then(c.Then...)
			}
		})
	}
}
