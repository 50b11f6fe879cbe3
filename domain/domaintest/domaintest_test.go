package domaintest_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
)

// A toy aggregate whose commands can break each rule the scenario checks.

type Incremented struct {
	By int `json:"by"`
}

func (Incremented) EventType() string { return "DomaintestIncremented" }

type Unregistered struct{}

func (Unregistered) EventType() string { return "DomaintestUnregistered" }

type Increment struct{ By int }

func (Increment) CommandType() string    { return "Increment" }
func (Increment) AggregateID() uuid.UUID { return uuid.Nil }

type Other struct{}

func (Other) CommandType() string    { return "Other" }
func (Other) AggregateID() uuid.UUID { return uuid.Nil }

var errTooBig = domain.Conflict("too_big", "too big")

type counter struct{ n int }

var calls int

func (c *counter) Apply(e domain.Event) {
	if e, ok := e.(Incremented); ok {
		c.n += e.By
	}
}

func (c *counter) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	inc, ok := cmd.(Increment)
	if !ok {
		return nil, domain.ErrUnknownCommand
	}
	switch {
	case inc.By == 0:
		return nil, nil
	case inc.By < 0:
		var v domain.Validator
		v.Add("by", "must be positive")
		return nil, v.Err()
	case inc.By > 100:
		return nil, errTooBig
	case inc.By == 7: // breaks purity
		c.n++
	case inc.By == 9: // breaks determinism
		calls++
		return []domain.Event{Incremented{By: calls}}, nil
	case inc.By == 11:
		return []domain.Event{Unregistered{}}, nil
	case inc.By == 13:
		return nil, errors.New("bare error")
	case inc.By == 15:
		return []domain.Event{Incremented{By: 1}}, errTooBig
	}
	return []domain.Event{Incremented{By: inc.By}}, nil
}

func init() {
	domain.Events.Register(domain.Registration{Event: Incremented{}, Aggregate: "domaintest_counter", Doc: "The counter went up."})
}

// fakeT records failures; Fatalf ends the goroutine like testing.T does.
type fakeT struct {
	testing.TB
	failed bool
	msgs   []string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.failed = true
	f.msgs = append(f.msgs, format)
}
func (f *fakeT) Error(args ...any) { f.Errorf("error") }
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func run(fn func(t testing.TB)) *fakeT {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestScenarioPasses(t *testing.T) {
	st := domaintest.Given[counter](t, Incremented{By: 2}).When(Increment{By: 3}).Then(Incremented{By: 3})
	if st.n != 5 {
		t.Errorf("state after Then: n = %d, want 5", st.n)
	}
	domaintest.Given[counter](t).When(Increment{By: 0}).Then()
	domaintest.Given[counter](t).When(Increment{By: 101}).ThenError(errTooBig)
	domaintest.Given[counter](t).When(Increment{By: -1}).ThenInvalid("by")
	domaintest.Given[counter](t).At(time.Unix(0, 0)).When(Other{}).ThenError(domain.ErrUnknownCommand)
	domaintest.RoundTrip(t, Incremented{By: 1})
	domaintest.Covers(t, "domaintest_counter", Incremented{})
}

func TestScenarioCatchesMistakes(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t testing.TB)
		msg  string
	}{
		{"NoCommand", func(t testing.TB) { domaintest.Given[counter](t).Then() }, "no command"},
		{"WrongEvents", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 2}).Then(Incremented{By: 3}) }, "events differ"},
		{"FewerEvents", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 2}).Then() }, "events differ"},
		{"WrongType", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 2}).Then(Unregistered{}) }, "events differ"},
		{"UnexpectedError", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 101}).Then() }, "got error"},
		{"MutatesState", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 7}).Then(Incremented{By: 7}) }, "changed the state"},
		{"NotDeterministic", func(t testing.TB) {
			domaintest.Given[counter](t).When(Increment{By: 9}).Then(Incremented{By: calls + 1})
		}, "not deterministic"},
		{"Unregistered", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 11}).Then(Unregistered{}) }, "%s: %v"},
		{"BareError", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 13}).ThenError(errTooBig) }, "*domain.Error"},
		{"EventsWithError", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 15}).ThenError(errTooBig) }, "along with an error"},
		{"WantErrorGotEvents", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: 1}).ThenError(errTooBig) }, "want error"},
		{"OtherError", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: -1}).ThenError(errTooBig) }, "want error matching"},
		{"FieldNotNamed", func(t testing.TB) { domaintest.Given[counter](t).When(Increment{By: -1}).ThenInvalid("amount") }, "does not name field"},
		{"RoundTripUnregistered", func(t testing.TB) { domaintest.RoundTrip(t, Unregistered{}) }, "error"},
		{"CoversMissing", func(t testing.TB) { domaintest.Covers(t, "domaintest_counter") }, "has no sample"},
		{"CoversUnknownAggregate", func(t testing.TB) { domaintest.Covers(t, "nothing") }, "no events registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := run(c.fn)
			if !f.failed {
				t.Fatalf("the scenario passed; it should have failed")
			}
			if !strings.Contains(strings.Join(f.msgs, "\n"), c.msg) {
				t.Errorf("failure messages %q do not mention %q", f.msgs, c.msg)
			}
		})
	}
}

func TestRegistryOption(t *testing.T) {
	reg := domain.NewRegistry()
	f := run(func(t testing.TB) {
		domaintest.Given[counter](t).Registry(reg).When(Increment{By: 1}).Then(Incremented{By: 1})
	})
	if !f.failed {
		t.Errorf("an event missing from the chosen registry should fail the scenario")
	}
}

func TestSameEventsAndRender(t *testing.T) {
	if domaintest.SameEvents([]domain.Event{Incremented{By: 1}}, []domain.Event{badJSON{}}) {
		t.Errorf("different types compared equal")
	}
	if domaintest.SameEvents([]domain.Event{badJSON{}}, []domain.Event{badJSON{}}) {
		t.Errorf("unencodable events compared equal")
	}
	if got := domaintest.Render(nil); got != "(no events)" {
		t.Errorf("Render(nil) = %q", got)
	}
	if got := domaintest.Render([]domain.Event{badJSON{}}); !strings.Contains(got, "<json") {
		t.Errorf("Render of an unencodable event = %q", got)
	}
}

type badJSON struct{ C chan int }

func (badJSON) EventType() string { return "BadJSON" }

func TestRun(t *testing.T) {
	domaintest.Run[counter](t, []domaintest.Case{
		{Name: "Then", Given: []domain.Event{Incremented{By: 1}}, When: Increment{By: 2}, Then: []domain.Event{Incremented{By: 2}}},
		{Name: "NoOp", When: Increment{By: 0}},
		{Name: "Err", When: Increment{By: 101}, Err: errTooBig},
		{Name: "Invalid", At: time.Unix(1, 0).UTC(), When: Increment{By: -1}, Invalid: []string{"by"}},
	})
}
