package complaint

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Decide checks cmd against the complaint and returns the events to record.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(ReceiveComplaint); ok {
		return s.receive(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case AcknowledgeComplaint:
		return s.acknowledge(now)
	case FlagAcknowledgementOverdue:
		return s.flagOverdue(now)
	case AssessComplaint:
		return s.assess(c, now)
	case RecordInvestigation:
		return s.investigate(c, now)
	case RespondToComplaint:
		return s.respond(c, now)
	case CloseComplaint:
		return s.close(c, now)
	case EscalateComplaint:
		return s.escalate(c, now)
	case RaiseNonconformityFromComplaint:
		return s.raiseNonconformity(c, now)
	case ReopenComplaint:
		return s.reopen(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func (s *State) receive(c ReceiveComplaint, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	c.Reference, c.Description, c.RemedySought = strings.TrimSpace(c.Reference), strings.TrimSpace(c.Description), strings.TrimSpace(c.RemedySought)
	var v domain.Validator
	v.Require("complaint_id", c.ComplaintID != uuid.Nil, "is required")
	_, _, refOK := ParseReference(c.Reference)
	v.Require("reference", refOK, `must be a complaint reference "CMP-YYYY-NNNNNN"`)
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	checkChannel(&v, "channel", c.Channel)
	text.Block(&v, "description", c.Description, true, text.MaxSummary)
	text.Block(&v, "remedy_sought", c.RemedySought, false, text.MaxReason)
	Severities.Check(&v, "severity", c.Severity)
	v.Merge("acknowledge_within", c.AcknowledgeWithin.Validate())
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{ComplaintReceived{
		ComplaintID: c.ComplaintID, Reference: c.Reference, CustomerID: c.CustomerID, Channel: c.Channel,
		Description: c.Description, RemedySought: c.RemedySought, Severity: c.Severity, OrderID: c.OrderID, CaseID: c.CaseID,
		ReceivedAt: now, AcknowledgementTarget: c.AcknowledgeWithin, AcknowledgementDue: c.AcknowledgeWithin.Due(now),
	}}, nil
}

func (s *State) acknowledge(now time.Time) ([]domain.Event, error) {
	if s.Acknowledged() {
		return nil, nil
	}
	// A closed complaint is always acknowledged: no state check needed.
	return []domain.Event{s.acknowledgement(now)}, nil
}

// acknowledgement is the ComplaintAcknowledged of an acknowledgement at now.
func (s *State) acknowledgement(now time.Time) ComplaintAcknowledged {
	return ComplaintAcknowledged{ComplaintID: s.id, AcknowledgedAt: now, Due: s.ackDue, OnTime: !now.After(s.ackDue)}
}

func (s *State) flagOverdue(now time.Time) ([]domain.Event, error) {
	switch {
	case s.ackOverdue:
		return nil, nil
	case s.Acknowledged():
		return nil, ErrAlreadyAcknowledged
	case !now.After(s.ackDue):
		return nil, ErrNotOverdue
	}
	return []domain.Event{ComplaintAcknowledgementOverdue{ComplaintID: s.id, Due: s.ackDue, FlaggedAt: now}}, nil
}

func (s *State) assess(c AssessComplaint, now time.Time) ([]domain.Event, error) {
	c.Notes = strings.TrimSpace(c.Notes)
	var v domain.Validator
	Severities.Check(&v, "severity", c.Severity)
	Urgencies.Check(&v, "urgency", c.Urgency)
	text.Block(&v, "notes", c.Notes, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.Severity == s.severity && c.Urgency == s.urgency && c.Notes == s.assessNotes {
		return nil, nil
	}
	if s.closed {
		return nil, ErrClosed
	}
	return []domain.Event{ComplaintAssessed{ComplaintID: s.id, Severity: c.Severity, PreviousSeverity: s.severity,
		Urgency: c.Urgency, Notes: c.Notes, AssessedAt: now}}, nil
}

func (s *State) investigate(c RecordInvestigation, now time.Time) ([]domain.Event, error) {
	c.RootCause, c.Findings = strings.TrimSpace(c.RootCause), strings.TrimSpace(c.Findings)
	var v domain.Validator
	text.Block(&v, "root_cause", c.RootCause, true, text.MaxReason)
	text.Block(&v, "findings", c.Findings, false, text.MaxSummary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.RootCause == s.rootCause && c.Findings == s.findings {
		return nil, nil
	}
	if s.closed {
		return nil, ErrClosed
	}
	return []domain.Event{ComplaintInvestigated{ComplaintID: s.id, RootCause: c.RootCause, Findings: c.Findings, InvestigatedAt: now}}, nil
}

func (s *State) respond(c RespondToComplaint, now time.Time) ([]domain.Event, error) {
	c.Decision, c.RemedyOffered = strings.TrimSpace(c.Decision), strings.TrimSpace(c.RemedyOffered)
	var v domain.Validator
	Outcomes.Check(&v, "outcome", c.Outcome)
	text.Block(&v, "decision", c.Decision, true, text.MaxSummary)
	text.Block(&v, "remedy_offered", c.RemedyOffered, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r := s.response; r != nil && r.Outcome == c.Outcome && r.Decision == c.Decision && r.RemedyOffered == c.RemedyOffered {
		return nil, nil
	}
	if s.closed {
		return nil, ErrClosed
	}
	var events []domain.Event
	if !s.Acknowledged() {
		// Telling the customer the decision tells them the complaint was
		// handled: it is recorded as the acknowledgement (ISO 10002 7.3),
		// late or on time, so no complaint is answered or closed without one.
		events = append(events, s.acknowledgement(now))
	}
	return append(events, ComplaintResponded{ComplaintID: s.id, Outcome: c.Outcome, Decision: c.Decision,
		RemedyOffered: c.RemedyOffered, RespondedAt: now}), nil
}

func (s *State) close(c CloseComplaint, now time.Time) ([]domain.Event, error) {
	c.Note = strings.TrimSpace(c.Note)
	var v domain.Validator
	v.Require("customer_satisfied", c.CustomerSatisfied != nil, "is required (true or false)")
	text.Block(&v, "note", c.Note, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case s.closed && s.satisfied == *c.CustomerSatisfied:
		return nil, nil
	case s.closed:
		return nil, ErrClosed
	case !s.Acknowledged():
		return nil, ErrNotAcknowledged
	case s.response == nil:
		return nil, ErrNotResponded
	}
	return []domain.Event{ComplaintClosed{ComplaintID: s.id, Reference: s.reference, CustomerSatisfied: *c.CustomerSatisfied,
		Note: c.Note, ReceivedAt: s.receivedAt, ClosedAt: now}}, nil
}

func (s *State) escalate(c EscalateComplaint, now time.Time) ([]domain.Event, error) {
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	v.Require("level", c.Level >= 0 && c.Level <= MaxEscalationLevel, fmt.Sprintf("must be between 0 (next level) and %d", MaxEscalationLevel))
	text.Line(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	to := c.Level
	if to == 0 {
		to = min(s.level+1, MaxEscalationLevel)
	}
	if to <= s.level {
		return nil, nil // already at (or above) that level
	}
	if s.closed {
		return nil, ErrClosed
	}
	return []domain.Event{ComplaintEscalated{ComplaintID: s.id, Level: to, PreviousLevel: s.level, Reason: c.Reason, EscalatedAt: now}}, nil
}

func (s *State) raiseNonconformity(c RaiseNonconformityFromComplaint, now time.Time) ([]domain.Event, error) {
	var v domain.Validator
	v.Require("nonconformity_id", c.NonconformityID != uuid.Nil, "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if slices.Contains(s.nonconformity, c.NonconformityID) {
		return nil, nil
	}
	// Allowed on a closed complaint too: trend analysis after closure may
	// find a nonconformity (ISO 9001 9.1.3, 10.2).
	return []domain.Event{NonconformityRaisedFromComplaint{ComplaintID: s.id, Reference: s.reference,
		NonconformityID: c.NonconformityID, RaisedAt: now}}, nil
}

func (s *State) reopen(c ReopenComplaint, now time.Time) ([]domain.Event, error) {
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Block(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.closed {
		return nil, nil
	}
	return []domain.Event{ComplaintReopened{ComplaintID: s.id, Reason: c.Reason, ReopenedAt: now, ReopenCount: s.reopens + 1}}, nil
}
