package nonconformity

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Decide checks cmd against the nonconformity and returns the events to record.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(RaiseNonconformity); ok {
		return s.raise(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case StartNonconformityAnalysis:
		return s.startAnalysis(c, now)
	case RecordImmediateAction:
		return s.immediateAction(c, now)
	case RecordRootCause:
		return s.recordRootCause(c, now)
	case PlanCorrectiveAction:
		return s.plan(c, now)
	case ApproveActionPlan:
		return s.approve(now)
	case CompleteCorrectiveAction:
		return s.complete(c, now)
	case ReopenCorrectiveAction:
		return s.reopenAction(c, now)
	case VerifyEffectiveness:
		return s.verify(c, now)
	case CloseNonconformity:
		return s.close(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func (s *State) raise(c RaiseNonconformity, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	c.SourceRef, c.Title, c.Description = strings.TrimSpace(c.SourceRef), strings.TrimSpace(c.Title), strings.TrimSpace(c.Description)
	var v domain.Validator
	v.Require("nonconformity_id", c.NonconformityID != uuid.Nil, "is required")
	Sources.Check(&v, "source", c.Source)
	v.Require("source_id", c.Source != SourceComplaint || c.SourceID != uuid.Nil, "is required for a complaint (the complaint ID)")
	text.Line(&v, "source_ref", c.SourceRef, c.Source == SourceAudit, text.MaxName)
	Severities.Check(&v, "severity", c.Severity)
	text.Line(&v, "title", c.Title, true, text.MaxName)
	text.Block(&v, "description", c.Description, true, text.MaxSummary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{NonconformityRaised{
		NonconformityID: c.NonconformityID, Source: c.Source, SourceID: c.SourceID, SourceRef: c.SourceRef, Severity: c.Severity,
		Title: c.Title, Description: c.Description, CustomerID: c.CustomerID, OrderID: c.OrderID, CaseID: c.CaseID, RaisedAt: now,
	}}, nil
}

func (s *State) startAnalysis(c StartNonconformityAnalysis, now time.Time) ([]domain.Event, error) {
	c.AnalystID = strings.TrimSpace(c.AnalystID)
	var v domain.Validator
	text.Line(&v, "analyst_id", c.AnalystID, true, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case c.AnalystID == s.analystID:
		return nil, nil
	case s.status == StatusClosed:
		return nil, ErrClosed
	case s.status != StatusOpen && s.status != StatusAnalysis:
		return nil, ErrAnalysisComplete
	}
	return []domain.Event{NonconformityAnalysisStarted{NonconformityID: s.ID(), AnalystID: c.AnalystID, StartedAt: now}}, nil
}

func (s *State) immediateAction(c RecordImmediateAction, now time.Time) ([]domain.Event, error) {
	c.Description = strings.TrimSpace(c.Description)
	var v domain.Validator
	text.Block(&v, "description", c.Description, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if slices.Contains(s.immediate, c.Description) {
		return nil, nil
	}
	if s.status == StatusClosed {
		return nil, ErrClosed
	}
	return []domain.Event{ImmediateActionRecorded{NonconformityID: s.ID(), Description: c.Description, RecordedAt: now}}, nil
}

func (s *State) recordRootCause(c RecordRootCause, now time.Time) ([]domain.Event, error) {
	c.RootCause, c.Method = strings.TrimSpace(c.RootCause), strings.TrimSpace(c.Method)
	var v domain.Validator
	text.Block(&v, "root_cause", c.RootCause, true, text.MaxReason)
	text.Slug(&v, "method", c.Method, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.RootCause == s.rootCause && c.Method == s.rootCauseMethod {
		return nil, nil
	}
	if s.status == StatusClosed {
		return nil, ErrClosed
	}
	return []domain.Event{RootCauseRecorded{NonconformityID: s.ID(), RootCause: c.RootCause, Method: c.Method, RecordedAt: now}}, nil
}

func (s *State) plan(c PlanCorrectiveAction, now time.Time) ([]domain.Event, error) {
	c.Description, c.OwnerID, c.DueDate = strings.TrimSpace(c.Description), strings.TrimSpace(c.OwnerID), strings.TrimSpace(c.DueDate)
	var v domain.Validator
	v.Require("action_id", c.ActionID != uuid.Nil, "is required")
	text.Block(&v, "description", c.Description, true, text.MaxReason)
	text.Line(&v, "owner_id", c.OwnerID, true, text.MaxName)
	if due, err := time.Parse(time.DateOnly, c.DueDate); err != nil {
		v.Add("due_date", `must be a date "YYYY-MM-DD"`)
	} else if due.Format(time.DateOnly) < now.Format(time.DateOnly) {
		v.Add("due_date", "must not be in the past")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if a, ok := s.Action(c.ActionID); ok {
		if a.Description == c.Description && a.OwnerID == c.OwnerID && a.DueDate == c.DueDate {
			return nil, nil
		}
		return nil, ErrActionExists
	}
	switch s.status {
	case StatusClosed:
		return nil, ErrClosed
	case StatusOpen, StatusAnalysis:
		return nil, ErrRootCauseMissing
	}
	return []domain.Event{CorrectiveActionPlanned{NonconformityID: s.ID(), ActionID: c.ActionID, Description: c.Description,
		OwnerID: c.OwnerID, DueDate: c.DueDate, PlannedAt: now}}, nil
}

func (s *State) approve(now time.Time) ([]domain.Event, error) {
	switch s.status {
	case StatusInProgress:
		return nil, nil
	case StatusClosed:
		return nil, ErrClosed
	case StatusOpen, StatusAnalysis:
		return nil, ErrRootCauseMissing
	}
	var open []uuid.UUID
	for _, a := range s.actions {
		if !a.Done {
			open = append(open, a.ID)
		}
	}
	if len(open) == 0 {
		return nil, ErrNoOpenActions
	}
	return []domain.Event{ActionPlanApproved{NonconformityID: s.ID(), ActionIDs: open, ApprovedAt: now}}, nil
}

func (s *State) complete(c CompleteCorrectiveAction, now time.Time) ([]domain.Event, error) {
	c.Outcome = strings.TrimSpace(c.Outcome)
	var v domain.Validator
	text.Block(&v, "outcome", c.Outcome, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, ok := s.Action(c.ActionID)
	switch {
	case !ok:
		return nil, ErrActionNotFound
	case a.Done:
		return nil, nil
	case s.status != StatusInProgress:
		return nil, ErrPlanNotApproved
	}
	return []domain.Event{CorrectiveActionCompleted{NonconformityID: s.ID(), ActionID: a.ID, Outcome: c.Outcome, DueDate: a.DueDate,
		OnTime: now.Format(time.DateOnly) <= a.DueDate, CompletedAt: now}}, nil
}

func (s *State) reopenAction(c ReopenCorrectiveAction, now time.Time) ([]domain.Event, error) {
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Block(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	a, ok := s.Action(c.ActionID)
	switch {
	case !ok:
		return nil, ErrActionNotFound
	case !a.Done:
		return nil, nil
	case s.status == StatusClosed:
		return nil, ErrClosed
	}
	return []domain.Event{CorrectiveActionReopened{NonconformityID: s.ID(), ActionID: a.ID, Reason: c.Reason, ReopenedAt: now}}, nil
}

func (s *State) verify(c VerifyEffectiveness, now time.Time) ([]domain.Event, error) {
	c.Evidence = strings.TrimSpace(c.Evidence)
	var v domain.Validator
	v.Require("effective", c.Effective != nil, "is required (true or false)")
	text.Block(&v, "evidence", c.Evidence, true, text.MaxSummary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case *c.Effective && s.verified: // includes closed: it was verified effective
		return nil, nil
	case s.status == StatusClosed:
		return nil, ErrClosed
	case s.status != StatusInProgress:
		return nil, ErrPlanNotApproved
	case s.OpenActions() > 0:
		return nil, ErrActionsOutstanding
	}
	return []domain.Event{EffectivenessVerified{NonconformityID: s.ID(), Effective: *c.Effective, Evidence: c.Evidence, VerifiedAt: now}}, nil
}

func (s *State) close(c CloseNonconformity, now time.Time) ([]domain.Event, error) {
	c.Summary = strings.TrimSpace(c.Summary)
	var v domain.Validator
	text.Block(&v, "summary", c.Summary, false, text.MaxSummary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case s.status == StatusClosed:
		return nil, nil
	case s.OpenActions() > 0:
		return nil, ErrActionsOutstanding
	case !s.verified:
		return nil, ErrNotVerified
	}
	return []domain.Event{NonconformityClosed{NonconformityID: s.ID(), Source: s.Source(), Severity: s.Severity(), Summary: c.Summary,
		RaisedAt: s.RaisedAt(), ClosedAt: now}}, nil
}
