package nonconformity

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// State is a nonconformity folded from its events. The zero State is one
// that does not exist. *State implements domain.Decider.
type State struct {
	raised           NonconformityRaised
	status           Status
	analystID        string
	immediate        []string
	rootCause        string
	rootCauseMethod  string
	actions          []Action // in planning order
	verified         bool     // verified effective, and nothing changed since
	verifications    int
	ineffectiveCount int
	closedAt         time.Time
}

var _ domain.Decider = (*State)(nil)

func (s *State) Exists() bool { return s.raised.NonconformityID != uuid.Nil }

func (s *State) ID() uuid.UUID         { return s.raised.NonconformityID }
func (s *State) Status() Status        { return s.status }
func (s *State) Source() Source        { return s.raised.Source }
func (s *State) SourceID() uuid.UUID   { return s.raised.SourceID }
func (s *State) SourceRef() string     { return s.raised.SourceRef }
func (s *State) Severity() Severity    { return s.raised.Severity }
func (s *State) Title() string         { return s.raised.Title }
func (s *State) Description() string   { return s.raised.Description }
func (s *State) CustomerID() uuid.UUID { return s.raised.CustomerID }
func (s *State) OrderID() uuid.UUID    { return s.raised.OrderID }
func (s *State) CaseID() uuid.UUID     { return s.raised.CaseID }
func (s *State) RaisedAt() time.Time   { return s.raised.RaisedAt }
func (s *State) ClosedAt() time.Time   { return s.closedAt }

// AnalystID is the user principal responsible for the analysis, "" if none.
func (s *State) AnalystID() string { return s.analystID }

// ImmediateActions are the corrections and containments recorded, in order.
func (s *State) ImmediateActions() []string { return slices.Clone(s.immediate) }

// RootCause is "" until recorded; RootCauseMethod may be "".
func (s *State) RootCause() string       { return s.rootCause }
func (s *State) RootCauseMethod() string { return s.rootCauseMethod }

// Actions are the corrective actions, in planning order.
func (s *State) Actions() []Action { return slices.Clone(s.actions) }

// Action returns the corrective action with id.
func (s *State) Action(id uuid.UUID) (Action, bool) {
	if i := s.actionIndex(id); i >= 0 {
		return s.actions[i], true
	}
	return Action{}, false
}

// OpenActions counts the actions not done.
func (s *State) OpenActions() int {
	n := 0
	for _, a := range s.actions {
		if !a.Done {
			n++
		}
	}
	return n
}

// VerifiedEffective reports whether the latest verification found the actions
// effective and no action was planned or reopened since.
func (s *State) VerifiedEffective() bool { return s.verified }

// IneffectiveVerifications counts the verifications that found the actions not effective.
func (s *State) IneffectiveVerifications() int { return s.ineffectiveCount }

func (s *State) actionIndex(id uuid.UUID) int {
	return slices.IndexFunc(s.actions, func(a Action) bool { return a.ID == id })
}

// Apply folds one event into the state; it ignores events of other aggregates.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case NonconformityRaised:
		*s = State{raised: e, status: StatusOpen}
	case NonconformityAnalysisStarted:
		s.analystID = e.AnalystID
		if s.status == StatusOpen {
			s.status = StatusAnalysis
		}
	case ImmediateActionRecorded:
		s.immediate = append(s.immediate, e.Description)
	case RootCauseRecorded:
		s.rootCause, s.rootCauseMethod = e.RootCause, e.Method
		if s.status == StatusOpen || s.status == StatusAnalysis {
			s.status = StatusActionPlan
		}
	case CorrectiveActionPlanned:
		s.actions = append(s.actions, Action{ID: e.ActionID, Description: e.Description, OwnerID: e.OwnerID, DueDate: e.DueDate})
		s.verified = false
	case ActionPlanApproved:
		s.status = StatusInProgress
	case CorrectiveActionCompleted:
		if i := s.actionIndex(e.ActionID); i >= 0 {
			s.actions = slices.Clone(s.actions) // copy on write: never change a slice another State may share
			s.actions[i].Done, s.actions[i].CompletedAt, s.actions[i].Outcome = true, e.CompletedAt, e.Outcome
		}
	case CorrectiveActionReopened:
		if i := s.actionIndex(e.ActionID); i >= 0 {
			s.actions = slices.Clone(s.actions)
			s.actions[i].Done, s.actions[i].CompletedAt, s.actions[i].Outcome = false, time.Time{}, ""
		}
		s.verified = false
	case EffectivenessVerified:
		s.verifications++
		s.verified = e.Effective
		if !e.Effective {
			s.ineffectiveCount++
			s.status = StatusActionPlan
		}
	case NonconformityClosed:
		s.status, s.closedAt = StatusClosed, e.ClosedAt
	}
}
