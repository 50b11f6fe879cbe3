package commands_test

import (
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/google/uuid"
)

// A toy aggregate for the handler tests: a tally that is opened, counted up
// and closed. Its events live in their own registry, not domain.Events.

const tallyCategory = "tally"

var tallyEvents = func() *domain.Registry {
	r := domain.NewRegistry()
	r.Register(
		domain.Registration{Event: TallyOpened{}, Aggregate: tallyCategory},
		domain.Registration{Event: TallyCounted{}, Aggregate: tallyCategory},
		domain.Registration{Event: TallyClosed{}, Aggregate: tallyCategory},
	)
	return r
}()

type TallyOpened struct {
	TallyID  uuid.UUID `json:"tally_id"`
	Name     string    `json:"name"`
	OpenedAt time.Time `json:"opened_at"`
}

type TallyCounted struct {
	TallyID uuid.UUID `json:"tally_id"`
	By      int       `json:"by"`
}

type TallyClosed struct {
	TallyID uuid.UUID `json:"tally_id"`
}

func (TallyOpened) EventType() string  { return "TallyOpened" }
func (TallyCounted) EventType() string { return "TallyCounted" }
func (TallyClosed) EventType() string  { return "TallyClosed" }

type OpenTally struct {
	TallyID uuid.UUID `json:"tally_id"`
	Name    string    `json:"name"`
}

type CountTally struct {
	TallyID uuid.UUID `json:"tally_id"`
	By      int       `json:"by"`
	// Limit is filled in by an enricher in one test (a cross-aggregate fact).
	Limit int `json:"-"`
}

type CloseTally struct {
	TallyID uuid.UUID `json:"tally_id"`
}

func (OpenTally) CommandType() string       { return "OpenTally" }
func (CountTally) CommandType() string      { return "CountTally" }
func (CloseTally) CommandType() string      { return "CloseTally" }
func (c OpenTally) AggregateID() uuid.UUID  { return c.TallyID }
func (c CountTally) AggregateID() uuid.UUID { return c.TallyID }
func (c CloseTally) AggregateID() uuid.UUID { return c.TallyID }
func (s *TallyState) Exists() bool          { return s.ID != uuid.Nil }
func (s *TallyState) Closed() bool          { return s.closed }
func (s *TallyState) Count() int            { return s.count }
func (s *TallyState) OpenedAt() time.Time   { return s.openedAt }
func (s *TallyState) Name() string          { return s.name }

var errTallyClosed = domain.Conflict("tally_closed", "tally is closed")

type TallyState struct {
	ID       uuid.UUID
	name     string
	openedAt time.Time
	count    int
	closed   bool
}

func (s *TallyState) Apply(e domain.Event) {
	switch e := e.(type) {
	case TallyOpened:
		s.ID, s.name, s.openedAt = e.TallyID, e.Name, e.OpenedAt
	case TallyCounted:
		s.count += e.By
	case TallyClosed:
		s.closed = true
	}
}

func (s *TallyState) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	switch c := cmd.(type) {
	case OpenTally:
		if s.Exists() {
			return nil, domain.AlreadyExists("tally")
		}
		var v domain.Validator
		v.Require("name", c.Name != "", "is required")
		if err := v.Err(); err != nil {
			return nil, err
		}
		return []domain.Event{TallyOpened{TallyID: c.TallyID, Name: c.Name, OpenedAt: now}}, nil
	case CountTally:
		if !s.Exists() {
			return nil, domain.NotFound("tally")
		}
		if s.closed {
			return nil, errTallyClosed
		}
		var v domain.Validator
		v.Require("by", c.By > 0, "must be positive")
		v.Require("by", c.Limit == 0 || s.count+c.By <= c.Limit, "would pass the limit")
		if err := v.Err(); err != nil {
			return nil, err
		}
		// Two events for one command, to test multi-event IDs.
		if c.By > 1 {
			return []domain.Event{TallyCounted{TallyID: c.TallyID, By: 1}, TallyCounted{TallyID: c.TallyID, By: c.By - 1}}, nil
		}
		return []domain.Event{TallyCounted{TallyID: c.TallyID, By: c.By}}, nil
	case CloseTally:
		if !s.Exists() {
			return nil, domain.NotFound("tally")
		}
		if s.closed {
			return nil, nil // closing twice changes nothing
		}
		return []domain.Event{TallyClosed{TallyID: c.TallyID}}, nil
	}
	return nil, domain.ErrUnknownCommand
}
