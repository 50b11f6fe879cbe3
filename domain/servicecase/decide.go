package servicecase

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/evcrm/evcrm/domain/text"
)

// Decide checks cmd against the case and returns the events to record.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(OpenCase); ok {
		return s.open(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case AssignCase:
		return s.assign(c, now)
	case RecordFirstResponse:
		return s.firstResponse(c, now)
	case WaitOnCustomer:
		return s.wait(c, now)
	case ResumeCase:
		return s.resume(now)
	case EscalateCase:
		return s.escalate(c, now)
	case ResolveCase:
		return s.resolve(c, now)
	case CloseCase:
		return s.close(now)
	case ReopenCase:
		return s.reopen(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

// Validate checks the policy; field names match the JSON names.
func (p SLAPolicy) Validate() error {
	var v domain.Validator
	text.Slug(&v, "name", p.Name, true)
	v.Merge("calendar", p.Calendar.Validate())
	v.Require("targets", len(p.Targets) > 0, "must have a target for at least one priority")
	keys := make([]Priority, 0, len(p.Targets))
	for k := range p.Targets {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic error order
	for _, k := range keys {
		t, f := p.Targets[k], "targets."+string(k)
		if !k.Valid() {
			v.Add(f, "is not a priority (P1, P2, P3, P4)")
			continue
		}
		v.Require(f+".first_response_minutes", t.FirstResponseMinutes > 0 && t.FirstResponseMinutes <= sla.MaxTargetMinutes, "must be between 1 and 527040")
		v.Require(f+".resolution_minutes", t.ResolutionMinutes > 0 && t.ResolutionMinutes <= sla.MaxTargetMinutes, "must be between 1 and 527040")
		v.Require(f+".resolution_minutes", t.ResolutionMinutes >= t.FirstResponseMinutes, "must not be less than first_response_minutes")
	}
	return v.Err()
}

func (s *State) open(c OpenCase, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	c.Queue, c.Subject, c.Description = strings.TrimSpace(c.Queue), strings.TrimSpace(c.Subject), strings.TrimSpace(c.Description)
	var v domain.Validator
	v.Require("case_id", c.CaseID != uuid.Nil, "is required")
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	text.Slug(&v, "queue", c.Queue, true)
	priorityEnum.Check(&v, "priority", c.Priority)
	channelEnum.Check(&v, "channel", c.Channel)
	text.Line(&v, "subject", c.Subject, true, text.MaxName)
	text.Block(&v, "description", c.Description, false, text.MaxSummary)
	if c.SLA != nil {
		v.Merge("sla", c.SLA.Validate())
		if _, ok := c.SLA.Targets[c.Priority]; !ok && c.Priority.Valid() {
			v.Add("sla.targets", fmt.Sprintf("has no target for priority %s", c.Priority))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	e := CaseOpened{
		CaseID: c.CaseID, CustomerID: c.CustomerID, Queue: c.Queue, Priority: c.Priority, Channel: c.Channel,
		Subject: c.Subject, Description: c.Description, OrderID: c.OrderID, OpenedAt: now,
	}
	if c.SLA != nil {
		t := c.SLA.Targets[c.Priority]
		e.SLA = &SLATerms{Policy: c.SLA.Name, Calendar: c.SLA.Calendar,
			FirstResponseMinutes: t.FirstResponseMinutes, ResolutionMinutes: t.ResolutionMinutes}
		e.FirstResponseDue = c.SLA.Calendar.Add(now, time.Duration(t.FirstResponseMinutes)*time.Minute)
		e.ResolutionDue = c.SLA.Calendar.Add(now, time.Duration(t.ResolutionMinutes)*time.Minute)
	}
	return []domain.Event{e}, nil
}

// requireActive refuses commands on resolved and closed cases.
func (s *State) requireActive() error {
	switch s.status {
	case StatusResolved:
		return ErrResolved
	case StatusClosed:
		return ErrClosed
	}
	return nil
}

func (s *State) assign(c AssignCase, now time.Time) ([]domain.Event, error) {
	c.Queue, c.AgentID = strings.TrimSpace(c.Queue), strings.TrimSpace(c.AgentID)
	var v domain.Validator
	text.Line(&v, "agent_id", c.AgentID, true, text.MaxName)
	text.Slug(&v, "queue", c.Queue, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	queue := s.queue
	if c.Queue != "" {
		queue = c.Queue
	}
	if c.AgentID == s.agentID && queue == s.queue {
		return nil, nil
	}
	if err := s.requireActive(); err != nil {
		return nil, err
	}
	return []domain.Event{CaseAssigned{CaseID: s.id, AgentID: c.AgentID, PreviousAgentID: s.agentID, Queue: queue, AssignedAt: now}}, nil
}

func (s *State) firstResponse(c RecordFirstResponse, now time.Time) ([]domain.Event, error) {
	c.AgentID = strings.TrimSpace(c.AgentID)
	var v domain.Validator
	text.Line(&v, "agent_id", c.AgentID, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.firstResp.doneAt.IsZero() {
		return nil, nil // only the first response is recorded
	}
	if err := s.requireActive(); err != nil {
		return nil, err
	}
	due := s.effectiveDue(FirstResponse, now)
	return []domain.Event{CaseFirstResponseGiven{
		CaseID: s.id, AgentID: c.AgentID, RespondedAt: now, Due: due, Met: due.IsZero() || !now.After(due),
	}}, nil
}

func (s *State) wait(c WaitOnCustomer, now time.Time) ([]domain.Event, error) {
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", c.Reason, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.requireActive(); err != nil {
		return nil, err
	}
	if s.status == StatusWaitingOnCustomer {
		return nil, nil
	}
	return []domain.Event{CaseWaitingOnCustomer{CaseID: s.id, Reason: c.Reason, PausedAt: now}}, nil
}

func (s *State) resume(now time.Time) ([]domain.Event, error) {
	if err := s.requireActive(); err != nil {
		return nil, err
	}
	if s.status != StatusWaitingOnCustomer {
		return nil, nil
	}
	return []domain.Event{s.resumed(now)}, nil
}

// resumed is the CaseResumed that ends the current pause at now.
func (s *State) resumed(now time.Time) CaseResumed {
	return CaseResumed{
		CaseID: s.id, PausedAt: s.pausedAt, ResumedAt: now,
		PausedWorkingSeconds: int64(s.calendar().Between(s.pausedAt, now) / time.Second),
		FirstResponseDue:     s.effectiveDue(FirstResponse, now),
		ResolutionDue:        s.effectiveDue(Resolution, now),
	}
}

func (s *State) escalate(c EscalateCase, now time.Time) ([]domain.Event, error) {
	c.Reason, c.Note = strings.TrimSpace(c.Reason), strings.TrimSpace(c.Note)
	var v domain.Validator
	v.Require("level", c.Level >= 0 && c.Level <= MaxEscalationLevel, fmt.Sprintf("must be between 0 (next level) and %d", MaxEscalationLevel))
	text.Line(&v, "reason", c.Reason, true, text.MaxName)
	text.Block(&v, "note", c.Note, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	kind, isBreach := BreachOf(c.Reason)
	if isBreach && s.clock(kind).escalated {
		return nil, nil // each deadline kind is escalated once
	}
	if err := s.requireActive(); err != nil {
		return nil, err
	}
	var due time.Time
	if isBreach {
		if !s.Pending(kind) || !s.clockTime(now).After(s.clock(kind).due) {
			return nil, ErrNotBreached
		}
		due = s.clock(kind).due
	}
	from, to := s.level, c.Level
	if to == 0 {
		to = min(from+1, MaxEscalationLevel)
	}
	if to <= from {
		if !isBreach {
			return nil, nil // already at (or above) that level
		}
		to = from // the breach is recorded; the level stays
	}
	return []domain.Event{CaseEscalated{
		CaseID: s.id, Level: to, PreviousLevel: from, Reason: c.Reason, Note: c.Note,
		Breach: kind, Due: due, EscalatedAt: now,
	}}, nil
}

func (s *State) resolve(c ResolveCase, now time.Time) ([]domain.Event, error) {
	c.Resolution = strings.TrimSpace(c.Resolution)
	var v domain.Validator
	text.Block(&v, "resolution", c.Resolution, true, text.MaxSummary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.Active() {
		if c.Resolution == s.resolText {
			return nil, nil
		}
		return nil, s.requireActive()
	}
	var events []domain.Event
	if s.status == StatusWaitingOnCustomer {
		events = append(events, s.resumed(now))
	}
	due := s.effectiveDue(Resolution, now)
	return append(events, CaseResolved{
		CaseID: s.id, Resolution: c.Resolution, ResolvedAt: now,
		ResolutionDue: due, ResolutionMet: due.IsZero() || !now.After(due),
		PausedSeconds: int64(s.PausedTotal(now) / time.Second),
	}), nil
}

func (s *State) close(now time.Time) ([]domain.Event, error) {
	switch s.status {
	case StatusClosed:
		return nil, nil
	case StatusResolved:
		return []domain.Event{CaseClosed{CaseID: s.id, ClosedAt: now}}, nil
	}
	return nil, ErrNotResolved
}

func (s *State) reopen(c ReopenCase, now time.Time) ([]domain.Event, error) {
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch s.status {
	case StatusClosed:
		return nil, ErrClosed
	case StatusOpen, StatusWaitingOnCustomer:
		return nil, nil
	}
	e := CaseReopened{CaseID: s.id, Reason: c.Reason, ReopenedAt: now, FirstResponseDue: s.effectiveDue(FirstResponse, now)}
	if due := s.resolution.due; !due.IsZero() {
		cal := s.calendar()
		e.ResolutionDue = cal.Add(due, cal.Between(s.resolvedAt, now))
	}
	return []domain.Event{e}, nil
}
