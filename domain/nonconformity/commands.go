package nonconformity

import "github.com/google/uuid"

// RaiseNonconformity records a nonconformity. SourceID is required for a
// complaint, SourceRef for an audit (the finding's reference).
type RaiseNonconformity struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Source          Source    `json:"source"`
	SourceID        uuid.UUID `json:"source_id,omitzero" doc:"Required when source is complaint: the complaint's ID (the complaint must exist)."`
	SourceRef       string    `json:"source_ref,omitempty" doc:"Required when source is audit: the reference of the audit finding (e.g. IA-2026-03); optional otherwise."`
	Severity        Severity  `json:"severity"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	CustomerID      uuid.UUID `json:"customer_id,omitzero"`
	OrderID         uuid.UUID `json:"order_id,omitzero"`
	CaseID          uuid.UUID `json:"case_id,omitzero"`
}

// StartNonconformityAnalysis names who analyses the nonconformity and starts the analysis.
type StartNonconformityAnalysis struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	AnalystID       string    `json:"analyst_id"` // user principal
}

// RecordImmediateAction records a correction or containment done at once.
type RecordImmediateAction struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Description     string    `json:"description"`
}

// RecordRootCause records (or revises) the root cause.
type RecordRootCause struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	RootCause       string    `json:"root_cause"`
	Method          string    `json:"method,omitempty"` // a slug: "five_whys", "fishbone", ...
}

// PlanCorrectiveAction adds an action to the plan; ActionID is chosen by the
// caller so the command can be retried.
type PlanCorrectiveAction struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	ActionID        uuid.UUID `json:"action_id"`
	Description     string    `json:"description"`
	OwnerID         string    `json:"owner_id"`
	DueDate         string    `json:"due_date"` // YYYY-MM-DD, not in the past
}

// ApproveActionPlan approves the plan; its actions can then be completed.
type ApproveActionPlan struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
}

// CompleteCorrectiveAction records that an action was done.
type CompleteCorrectiveAction struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	ActionID        uuid.UUID `json:"action_id"`
	Outcome         string    `json:"outcome"`
}

// ReopenCorrectiveAction reopens a done action that proved insufficient.
type ReopenCorrectiveAction struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	ActionID        uuid.UUID `json:"action_id"`
	Reason          string    `json:"reason"`
}

// VerifyEffectiveness records the effectiveness review (required: effective or not).
type VerifyEffectiveness struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Effective       *bool     `json:"effective"`
	Evidence        string    `json:"evidence"`
}

// CloseNonconformity closes the nonconformity.
type CloseNonconformity struct {
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	Summary         string    `json:"summary,omitempty"`
}

func (RaiseNonconformity) CommandType() string         { return "RaiseNonconformity" }
func (StartNonconformityAnalysis) CommandType() string { return "StartNonconformityAnalysis" }
func (RecordImmediateAction) CommandType() string      { return "RecordImmediateAction" }
func (RecordRootCause) CommandType() string            { return "RecordRootCause" }
func (PlanCorrectiveAction) CommandType() string       { return "PlanCorrectiveAction" }
func (ApproveActionPlan) CommandType() string          { return "ApproveActionPlan" }
func (CompleteCorrectiveAction) CommandType() string   { return "CompleteCorrectiveAction" }
func (ReopenCorrectiveAction) CommandType() string     { return "ReopenCorrectiveAction" }
func (VerifyEffectiveness) CommandType() string        { return "VerifyEffectiveness" }
func (CloseNonconformity) CommandType() string         { return "CloseNonconformity" }

func (c RaiseNonconformity) AggregateID() uuid.UUID         { return c.NonconformityID }
func (c StartNonconformityAnalysis) AggregateID() uuid.UUID { return c.NonconformityID }
func (c RecordImmediateAction) AggregateID() uuid.UUID      { return c.NonconformityID }
func (c RecordRootCause) AggregateID() uuid.UUID            { return c.NonconformityID }
func (c PlanCorrectiveAction) AggregateID() uuid.UUID       { return c.NonconformityID }
func (c ApproveActionPlan) AggregateID() uuid.UUID          { return c.NonconformityID }
func (c CompleteCorrectiveAction) AggregateID() uuid.UUID   { return c.NonconformityID }
func (c ReopenCorrectiveAction) AggregateID() uuid.UUID     { return c.NonconformityID }
func (c VerifyEffectiveness) AggregateID() uuid.UUID        { return c.NonconformityID }
func (c CloseNonconformity) AggregateID() uuid.UUID         { return c.NonconformityID }
