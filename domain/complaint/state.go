package complaint

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// State is a complaint folded from its events. The zero State is a complaint
// that does not exist. *State implements domain.Decider.
type State struct {
	id             uuid.UUID
	reference      string
	customerID     uuid.UUID
	channel        Channel
	orderID        uuid.UUID
	caseID         uuid.UUID
	severity       Severity
	urgency        Urgency
	receivedAt     time.Time
	ackDue         time.Time
	acknowledgedAt time.Time
	ackOverdue     bool // flagged by the SLA watcher
	assessNotes    string
	rootCause      string
	findings       string
	response       *ComplaintResponded // current response; nil when none (or reopened since)
	closed         bool
	closedAt       time.Time
	satisfied      bool
	level          int
	reopens        int
	nonconformity  []uuid.UUID
}

var _ domain.Decider = (*State)(nil)

// Exists reports whether the complaint has been received.
func (s *State) Exists() bool { return s.id != uuid.Nil }

func (s *State) ID() uuid.UUID         { return s.id }
func (s *State) Reference() string     { return s.reference }
func (s *State) CustomerID() uuid.UUID { return s.customerID }
func (s *State) Channel() Channel      { return s.channel }
func (s *State) OrderID() uuid.UUID    { return s.orderID }
func (s *State) CaseID() uuid.UUID     { return s.caseID }
func (s *State) Severity() Severity    { return s.severity }

// Urgency is empty until the complaint is assessed.
func (s *State) Urgency() Urgency      { return s.urgency }
func (s *State) ReceivedAt() time.Time { return s.receivedAt }

// AcknowledgementDue is the deadline recorded at receipt.
func (s *State) AcknowledgementDue() time.Time { return s.ackDue }

// AcknowledgedAt is zero until the complaint is acknowledged.
func (s *State) AcknowledgedAt() time.Time { return s.acknowledgedAt }
func (s *State) Acknowledged() bool        { return !s.acknowledgedAt.IsZero() }

// AcknowledgementOverdue reports whether the acknowledgement is missing past
// its deadline as of now, or came late, or was flagged overdue.
func (s *State) AcknowledgementOverdue(now time.Time) bool {
	if s.ackOverdue {
		return true
	}
	if s.Acknowledged() {
		return s.acknowledgedAt.After(s.ackDue)
	}
	return s.Exists() && now.After(s.ackDue)
}

// FlaggedOverdue reports whether the SLA watcher flagged the acknowledgement overdue.
func (s *State) FlaggedOverdue() bool { return s.ackOverdue }

func (s *State) RootCause() string { return s.rootCause }

// Response returns the current response, and false when none is in force.
func (s *State) Response() (ComplaintResponded, bool) {
	if s.response == nil {
		return ComplaintResponded{}, false
	}
	return *s.response, true
}

func (s *State) Closed() bool        { return s.closed }
func (s *State) ClosedAt() time.Time { return s.closedAt }

// CustomerSatisfied is what the last closure recorded (false before any).
func (s *State) CustomerSatisfied() bool { return s.satisfied }
func (s *State) EscalationLevel() int    { return s.level }
func (s *State) ReopenCount() int        { return s.reopens }

// Nonconformities are the IDs of the nonconformities raised from the complaint.
func (s *State) Nonconformities() []uuid.UUID { return slices.Clone(s.nonconformity) }

// Status is derived from the facts: closed, else responded, else
// acknowledged, else received.
func (s *State) Status() Status {
	switch {
	case s.closed:
		return StatusClosed
	case s.response != nil:
		return StatusResponded
	case s.Acknowledged():
		return StatusAcknowledged
	}
	return StatusReceived
}

// Apply folds one event into the state; it ignores events of other aggregates.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case ComplaintReceived:
		*s = State{
			id: e.ComplaintID, reference: e.Reference, customerID: e.CustomerID, channel: e.Channel,
			orderID: e.OrderID, caseID: e.CaseID, severity: e.Severity, receivedAt: e.ReceivedAt, ackDue: e.AcknowledgementDue,
		}
	case ComplaintAcknowledged:
		s.acknowledgedAt = e.AcknowledgedAt
	case ComplaintAcknowledgementOverdue:
		s.ackOverdue = true
	case ComplaintAssessed:
		s.severity, s.urgency, s.assessNotes = e.Severity, e.Urgency, e.Notes
	case ComplaintInvestigated:
		s.rootCause, s.findings = e.RootCause, e.Findings
	case ComplaintResponded:
		r := e
		s.response = &r
	case ComplaintClosed:
		s.closed, s.closedAt, s.satisfied = true, e.ClosedAt, e.CustomerSatisfied
	case ComplaintEscalated:
		s.level = e.Level
	case NonconformityRaisedFromComplaint:
		s.nonconformity = append(s.nonconformity, e.NonconformityID)
	case ComplaintReopened:
		s.closed, s.closedAt, s.response = false, time.Time{}, nil
		s.reopens = e.ReopenCount
	}
}
