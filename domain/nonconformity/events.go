package nonconformity

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// NonconformityRaised: a nonconformity was found and recorded.
type NonconformityRaised struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Source          Source    `json:"source"`
	SourceID        uuid.UUID `json:"source_id,omitzero"`
	SourceRef       string    `json:"source_ref,omitempty"`
	Severity        Severity  `json:"severity"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	CustomerID      uuid.UUID `json:"customer_id,omitzero"`
	OrderID         uuid.UUID `json:"order_id,omitzero"`
	CaseID          uuid.UUID `json:"case_id,omitzero"`
	RaisedAt        time.Time `json:"raised_at"`
}

// NonconformityAnalysisStarted: someone is analysing the nonconformity.
type NonconformityAnalysisStarted struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	AnalystID       string    `json:"analyst_id"`
	StartedAt       time.Time `json:"started_at"`
}

// ImmediateActionRecorded: a correction or containment was done at once.
type ImmediateActionRecorded struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Description     string    `json:"description"`
	RecordedAt      time.Time `json:"recorded_at"`
}

// RootCauseRecorded: the root cause was found (or revised).
type RootCauseRecorded struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	RootCause       string    `json:"root_cause"`
	Method          string    `json:"method,omitempty"`
	RecordedAt      time.Time `json:"recorded_at"`
}

// CorrectiveActionPlanned: an action was added to the plan.
type CorrectiveActionPlanned struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	ActionID        uuid.UUID `json:"action_id"`
	Description     string    `json:"description"`
	OwnerID         string    `json:"owner_id"`
	DueDate         string    `json:"due_date"`
	PlannedAt       time.Time `json:"planned_at"`
}

// ActionPlanApproved: the plan was approved with the listed actions open.
type ActionPlanApproved struct {
	NonconformityID uuid.UUID   `json:"nonconformity_id"`
	ActionIDs       []uuid.UUID `json:"action_ids"`
	ApprovedAt      time.Time   `json:"approved_at"`
}

// CorrectiveActionCompleted: an action was done; OnTime compares the UTC
// completion date with the due date.
type CorrectiveActionCompleted struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	ActionID        uuid.UUID `json:"action_id"`
	Outcome         string    `json:"outcome"`
	DueDate         string    `json:"due_date"`
	OnTime          bool      `json:"on_time"`
	CompletedAt     time.Time `json:"completed_at"`
}

// CorrectiveActionReopened: a done action is open again.
type CorrectiveActionReopened struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	ActionID        uuid.UUID `json:"action_id"`
	Reason          string    `json:"reason"`
	ReopenedAt      time.Time `json:"reopened_at"`
}

// EffectivenessVerified: the corrective actions were reviewed; when not
// effective the nonconformity went back to action_plan.
type EffectivenessVerified struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Effective       bool      `json:"effective"`
	Evidence        string    `json:"evidence"`
	VerifiedAt      time.Time `json:"verified_at"`
}

// NonconformityClosed: the nonconformity is closed.
type NonconformityClosed struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Source          Source    `json:"source"`
	Severity        Severity  `json:"severity"`
	Summary         string    `json:"summary,omitempty"`
	RaisedAt        time.Time `json:"raised_at"`
	ClosedAt        time.Time `json:"closed_at"`
}

func (NonconformityRaised) EventType() string          { return "NonconformityRaised" }
func (NonconformityAnalysisStarted) EventType() string { return "NonconformityAnalysisStarted" }
func (ImmediateActionRecorded) EventType() string      { return "ImmediateActionRecorded" }
func (RootCauseRecorded) EventType() string            { return "RootCauseRecorded" }
func (CorrectiveActionPlanned) EventType() string      { return "CorrectiveActionPlanned" }
func (ActionPlanApproved) EventType() string           { return "ActionPlanApproved" }
func (CorrectiveActionCompleted) EventType() string    { return "CorrectiveActionCompleted" }
func (CorrectiveActionReopened) EventType() string     { return "CorrectiveActionReopened" }
func (EffectivenessVerified) EventType() string        { return "EffectivenessVerified" }
func (NonconformityClosed) EventType() string          { return "NonconformityClosed" }

func init() {
	domain.Events.Register(
		domain.Registration{Event: NonconformityRaised{}, Aggregate: Category,
			Doc: "A nonconformity was raised from a complaint, an audit or an internal finding."},
		domain.Registration{Event: NonconformityAnalysisStarted{}, Aggregate: Category,
			Doc: "The analysis of the nonconformity started, with the person responsible for it."},
		domain.Registration{Event: ImmediateActionRecorded{}, Aggregate: Category,
			Doc: "A correction or containment action was taken at once."},
		domain.Registration{Event: RootCauseRecorded{}, Aggregate: Category,
			Doc: "The root cause of the nonconformity was recorded or revised."},
		domain.Registration{Event: CorrectiveActionPlanned{}, Aggregate: Category,
			Doc: "A corrective action was planned with an owner and a due date."},
		domain.Registration{Event: ActionPlanApproved{}, Aggregate: Category,
			Doc: "The corrective action plan was approved and its implementation started."},
		domain.Registration{Event: CorrectiveActionCompleted{}, Aggregate: Category,
			Doc: "A corrective action was done, on time or not."},
		domain.Registration{Event: CorrectiveActionReopened{}, Aggregate: Category,
			Doc: "A done corrective action was reopened."},
		domain.Registration{Event: EffectivenessVerified{}, Aggregate: Category,
			Doc: "The effectiveness of the corrective actions was reviewed: effective, or back to the action plan."},
		domain.Registration{Event: NonconformityClosed{}, Aggregate: Category,
			Doc: "The nonconformity was closed with its actions done and verified effective."},
	)
}
