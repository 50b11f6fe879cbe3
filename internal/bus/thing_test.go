package bus_test

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// A minimal aggregate for the bus tests: a "thing" that is created and renamed.

const thingCategory = "bustestthing"

type CreateThing struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func (CreateThing) CommandType() string      { return "BusTestCreateThing" }
func (c CreateThing) AggregateID() uuid.UUID { return c.ID }

type RenameThing struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func (RenameThing) CommandType() string      { return "BusTestRenameThing" }
func (c RenameThing) AggregateID() uuid.UUID { return c.ID }

type ThingCreated struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func (ThingCreated) EventType() string { return "BusTestThingCreated" }

type ThingRenamed struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func (ThingRenamed) EventType() string { return "BusTestThingRenamed" }

var errThingExists = domain.AlreadyExists("thing")

type thing struct {
	exists bool
	name   string
}

func (t *thing) Apply(e domain.Event) {
	switch e := e.(type) {
	case ThingCreated:
		t.exists, t.name = true, e.Name
	case ThingRenamed:
		t.name = e.Name
	}
}

func (t *thing) Decide(cmd domain.Command, _ time.Time) ([]domain.Event, error) {
	switch c := cmd.(type) {
	case CreateThing:
		var v domain.Validator
		v.Require("name", c.Name != "", "is required")
		if err := v.Err(); err != nil {
			return nil, err
		}
		if t.exists {
			return nil, errThingExists
		}
		return []domain.Event{ThingCreated(c)}, nil
	case RenameThing:
		if !t.exists {
			return nil, domain.NotFound("thing")
		}
		if c.Name == t.name {
			return nil, nil
		}
		return []domain.Event{ThingRenamed(c)}, nil
	}
	return nil, domain.ErrUnknownCommand
}

func init() {
	domain.Events.Register(
		domain.Registration{Event: ThingCreated{}, Aggregate: thingCategory, Doc: "test"},
		domain.Registration{Event: ThingRenamed{}, Aggregate: thingCategory, Doc: "test"},
	)
}
