package servicecase

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/sla"
)

// State is a case folded from its events. The zero State is a case that does
// not exist. *State implements domain.Decider.
type State struct {
	id          uuid.UUID
	customerID  uuid.UUID
	orderID     uuid.UUID
	queue       string
	priority    Priority
	channel     Channel
	subject     string
	status      Status
	openedAt    time.Time
	agentID     string
	level       int
	terms       *SLATerms
	firstResp   slaClock
	resolution  slaClock
	pausedAt    time.Time     // while waiting on the customer
	pausedTotal time.Duration // wall-clock time spent waiting, finished pauses
	resolvedAt  time.Time     // while resolved or closed
	resolText   string
	closedAt    time.Time
	reopens     int
}

// slaClock is one deadline of the case.
type slaClock struct {
	due       time.Time // zero: no SLA
	doneAt    time.Time // when it was met or missed: first response, resolution
	breached  bool      // a breach was recorded: done late, or escalated
	escalated bool      // a breach escalation was recorded
}

var _ domain.Decider = (*State)(nil)

// Exists reports whether the case has been opened.
func (s *State) Exists() bool { return s.id != uuid.Nil }

func (s *State) ID() uuid.UUID         { return s.id }
func (s *State) CustomerID() uuid.UUID { return s.customerID }
func (s *State) OrderID() uuid.UUID    { return s.orderID }
func (s *State) Queue() string         { return s.queue }
func (s *State) Priority() Priority    { return s.priority }
func (s *State) Channel() Channel      { return s.channel }
func (s *State) Subject() string       { return s.subject }
func (s *State) Status() Status        { return s.status }
func (s *State) OpenedAt() time.Time   { return s.openedAt }

// AgentID is the user principal of the assigned agent, "" when unassigned.
func (s *State) AgentID() string { return s.agentID }

// EscalationLevel is 0 until the case is escalated.
func (s *State) EscalationLevel() int { return s.level }

// SLA returns the SLA terms of the case, and false when it has none.
func (s *State) SLA() (SLATerms, bool) {
	if s.terms == nil {
		return SLATerms{}, false
	}
	return *s.terms, true
}

// Active reports whether the case is open or waiting on the customer.
func (s *State) Active() bool { return s.status == StatusOpen || s.status == StatusWaitingOnCustomer }

// Due returns the deadline of kind as last recorded (zero without an SLA).
// While the case waits on the customer or is resolved, the recorded deadline
// has not yet been pushed by the stopped time: see Breached.
func (s *State) Due(kind Deadline) time.Time { return s.clock(kind).due }

// FirstResponseDue and ResolutionDue are Due(FirstResponse) and Due(Resolution).
func (s *State) FirstResponseDue() time.Time { return s.firstResp.due }
func (s *State) ResolutionDue() time.Time    { return s.resolution.due }

// FirstResponseAt is when the first response was given (zero if not yet).
func (s *State) FirstResponseAt() time.Time { return s.firstResp.doneAt }

// ResolvedAt is when the case was resolved (zero unless resolved or closed).
func (s *State) ResolvedAt() time.Time { return s.resolvedAt }

// Resolution is the text of the current resolution.
func (s *State) Resolution() string { return s.resolText }

func (s *State) ClosedAt() time.Time { return s.closedAt }

// PausedAt is when the case started waiting on the customer (zero unless waiting).
func (s *State) PausedAt() time.Time { return s.pausedAt }

// PausedTotal is the wall-clock time the case has spent waiting on the
// customer, up to now for a pause in progress.
func (s *State) PausedTotal(now time.Time) time.Duration {
	if !s.pausedAt.IsZero() && now.After(s.pausedAt) {
		return s.pausedTotal + now.Sub(s.pausedAt)
	}
	return s.pausedTotal
}

// ReopenCount is how many times the case was reopened.
func (s *State) ReopenCount() int { return s.reopens }

// Pending reports whether the deadline of kind still runs or waits to run:
// the case has an SLA and the first response (or resolution) is not given.
func (s *State) Pending(kind Deadline) bool {
	c := s.clock(kind)
	return !c.due.IsZero() && c.doneAt.IsZero()
}

// Breached reports whether the deadline of kind is missed as of now: it was
// met late or escalated as a breach, or it is pending and its clock has run
// past it. A stopped clock (waiting on the customer, resolved) is read at the
// moment it stopped.
func (s *State) Breached(kind Deadline, now time.Time) bool {
	c := s.clock(kind)
	if c.breached {
		return true
	}
	return s.Pending(kind) && s.clockTime(now).After(c.due)
}

// Escalated reports whether a breach of the deadline of kind was escalated.
func (s *State) Escalated(kind Deadline) bool { return s.clock(kind).escalated }

// calendar is the business calendar of the case's SLA.
func (s *State) calendar() sla.Calendar {
	if s.terms == nil {
		return sla.AroundTheClock
	}
	return s.terms.Calendar
}

// clockTime is the time shown by the SLA clocks: now while they run, the
// moment they stopped otherwise.
func (s *State) clockTime(now time.Time) time.Time {
	switch {
	case !s.pausedAt.IsZero():
		return s.pausedAt
	case !s.resolvedAt.IsZero():
		return s.resolvedAt
	}
	return now
}

// stoppedSince returns when the clocks stopped, zero while they run.
func (s *State) stoppedSince() time.Time {
	if !s.pausedAt.IsZero() {
		return s.pausedAt
	}
	return s.resolvedAt
}

// effectiveDue is the deadline of kind as of now: pushed by the working time
// the clocks have been stopped so far. Zero when not pending.
func (s *State) effectiveDue(kind Deadline, now time.Time) time.Time {
	if !s.Pending(kind) {
		return time.Time{}
	}
	due := s.clock(kind).due
	if since := s.stoppedSince(); !since.IsZero() {
		cal := s.calendar()
		due = cal.Add(due, cal.Between(since, now))
	}
	return due
}

func (s *State) clock(kind Deadline) *slaClock {
	if kind == FirstResponse {
		return &s.firstResp
	}
	return &s.resolution
}

// Apply folds one event into the state; it ignores events of other aggregates.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case CaseOpened:
		*s = State{
			id: e.CaseID, customerID: e.CustomerID, orderID: e.OrderID, queue: e.Queue, priority: e.Priority,
			channel: e.Channel, subject: e.Subject, status: StatusOpen, openedAt: e.OpenedAt,
			firstResp: slaClock{due: e.FirstResponseDue}, resolution: slaClock{due: e.ResolutionDue},
		}
		if e.SLA != nil {
			terms := *e.SLA
			s.terms = &terms
		}
	case CaseAssigned:
		s.agentID = e.AgentID
		s.queue = e.Queue
	case CaseFirstResponseGiven:
		s.firstResp.doneAt = e.RespondedAt
		if !e.Due.IsZero() {
			s.firstResp.due = e.Due
		}
		s.firstResp.breached = s.firstResp.breached || !e.Met
	case CaseWaitingOnCustomer:
		s.status = StatusWaitingOnCustomer
		s.pausedAt = e.PausedAt
	case CaseResumed:
		s.status = StatusOpen
		s.pausedTotal += e.ResumedAt.Sub(e.PausedAt)
		s.pausedAt = time.Time{}
		s.pushed(e.FirstResponseDue, e.ResolutionDue)
	case CaseEscalated:
		s.level = e.Level
		if e.Breach != "" {
			c := s.clock(e.Breach)
			c.escalated, c.breached = true, true
		}
	case CaseResolved:
		s.status = StatusResolved
		s.resolvedAt = e.ResolvedAt
		s.resolText = e.Resolution
		s.resolution.doneAt = e.ResolvedAt
		if !e.ResolutionDue.IsZero() {
			s.resolution.due = e.ResolutionDue
		}
		s.resolution.breached = s.resolution.breached || !e.ResolutionMet
	case CaseClosed:
		s.status = StatusClosed
		s.closedAt = e.ClosedAt
	case CaseReopened:
		s.status = StatusOpen
		s.resolvedAt, s.resolText = time.Time{}, ""
		s.resolution.doneAt = time.Time{}
		s.reopens++
		s.pushed(e.FirstResponseDue, e.ResolutionDue)
	}
}

// pushed records deadlines moved by a stopped clock; zero means unchanged.
func (s *State) pushed(firstResponse, resolution time.Time) {
	if !firstResponse.IsZero() {
		s.firstResp.due = firstResponse
	}
	if !resolution.IsZero() {
		s.resolution.due = resolution
	}
}
