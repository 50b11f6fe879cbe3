// Package access is the read log: who read which records through the audit
// and stream APIs (and, through the same helper, any other read an
// organisation must account for), when, in what role, by which route and
// query (ISO 9001 7.5.3: documented information protected against improper
// use; "auditors are audited"). Its events are events like any other, so
// they are leaves of the transparency log too.
//
// One read is one stream, "access-<read id>", holding one RecordsRead: a
// read never waits on another (no stream shared by concurrent readers, no
// replay growing through the day), and recording it is one append. The
// reads of an actor or a day are found by category (read models, the log's
// leaves), not by stream.
package access

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of the read log.
const Category = "access"

// StreamID returns the stream of one read, "access-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// MaxRecords bounds the records one read names; a read of more (a page of
// leaves, a trace) names its query instead, which determines what it read.
const MaxRecords = 1000

// Errors of the read log, for errors.Is.
var ErrAlreadyRecorded = domain.AlreadyExists("read")

// RecordRead records that a principal read records.
type RecordRead struct {
	ReadID uuid.UUID `json:"read_id"`
	// Actor and Role: who read, in what role (the token's principal).
	Actor string `json:"actor"`
	Role  string `json:"role"`
	// Operation is the API operation (e.g. "readStream"), Route its path
	// as requested (e.g. "/v1/streams/case-…").
	Operation string `json:"operation"`
	Route     string `json:"route"`
	// Query is the request's query string, as sent.
	Query string `json:"query,omitempty"`
	// Records are the streams (or record IDs) the answer held, at most
	// MaxRecords; Truncated when there were more.
	Records   []string `json:"records,omitempty"`
	Truncated bool     `json:"truncated,omitempty"`
}

func (RecordRead) CommandType() string      { return "RecordRead" }
func (c RecordRead) AggregateID() uuid.UUID { return c.ReadID }

// RecordsRead: a principal read records.
type RecordsRead struct {
	ReadID    uuid.UUID `json:"read_id"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role"`
	Operation string    `json:"operation"`
	Route     string    `json:"route"`
	Query     string    `json:"query,omitempty"`
	Records   []string  `json:"records,omitempty"`
	Truncated bool      `json:"truncated,omitempty"`
	ReadAt    time.Time `json:"read_at"`
}

func (RecordsRead) EventType() string { return "RecordsRead" }

func init() {
	domain.Events.Register(domain.Registration{Event: RecordsRead{}, Aggregate: Category,
		Doc: "A principal read records through the audit or stream API (who, role, route, query, the records): auditors are audited."})
}

// commandList holds every command the aggregate decides, once.
var commandList = []domain.Command{RecordRead{}}

// Commands returns a zero value of every command the aggregate decides.
func Commands() []domain.Command { return slices.Clone(commandList) }

// State is one read; the zero State has not been recorded.
type State struct {
	read RecordsRead
}

var _ domain.Decider = (*State)(nil)

func (s *State) Exists() bool      { return s.read.ReadID != uuid.Nil }
func (s *State) ID() uuid.UUID     { return s.read.ReadID }
func (s *State) Actor() string     { return s.read.Actor }
func (s *State) Role() string      { return s.read.Role }
func (s *State) Operation() string { return s.read.Operation }
func (s *State) Route() string     { return s.read.Route }
func (s *State) Query() string     { return s.read.Query }
func (s *State) Records() []string { return slices.Clone(s.read.Records) }
func (s *State) Truncated() bool   { return s.read.Truncated }
func (s *State) ReadAt() time.Time { return s.read.ReadAt }

// Apply folds one event into the state; it ignores events of other aggregates.
func (s *State) Apply(e domain.Event) {
	if e, ok := e.(RecordsRead); ok {
		e.Records = slices.Clone(e.Records)
		s.read = e
	}
}

// Decide checks cmd and returns the events to record.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	c, ok := cmd.(RecordRead)
	if !ok {
		return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
	}
	if s.Exists() {
		return nil, ErrAlreadyRecorded
	}
	var v domain.Validator
	v.Require("read_id", c.ReadID != uuid.Nil, "is required")
	text.Line(&v, "actor", c.Actor, true, text.MaxName)
	text.Line(&v, "role", c.Role, true, text.MaxSlug)
	text.Line(&v, "operation", c.Operation, true, text.MaxName)
	text.Line(&v, "route", c.Route, true, text.MaxReason)
	v.Require("route", strings.HasPrefix(c.Route, "/"), "must be a path")
	text.Line(&v, "query", c.Query, false, text.MaxReason)
	v.Require("records", len(c.Records) <= MaxRecords, "at most 1000; name the query instead")
	for _, r := range c.Records {
		text.Line(&v, "records", r, true, text.MaxName)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{RecordsRead{
		ReadID: c.ReadID, Actor: c.Actor, Role: c.Role, Operation: c.Operation, Route: c.Route, Query: c.Query,
		Records: slices.Clone(c.Records), Truncated: c.Truncated, ReadAt: now.UTC(),
	}}, nil
}
