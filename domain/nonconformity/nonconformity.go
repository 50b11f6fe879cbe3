// Package nonconformity is the Nonconformity aggregate with its corrective
// actions (ISO 9001 8.7 and 10.2): what was wrong, what was done at once,
// why it happened, what is done so it does not happen again, by whom and by
// when, and whether that worked.
//
// # Life cycle (after the OCA management-system modules)
//
//	open ──StartNonconformityAnalysis──▶ analysis
//	  │                                     │
//	  └──────────RecordRootCause────────────┴──▶ action_plan ──ApproveActionPlan──▶ in_progress ──Close──▶ closed
//	                                                 ▲                                  │
//	                                                 └─VerifyEffectiveness{false}───────┘
//
// The rules:
//
//   - An immediate action (correction, containment) can be recorded at any
//     time before closure.
//   - Corrective actions are planned once the root cause is known
//     (ErrRootCauseMissing), each with an owner and a due date; the plan is
//     approved when it has at least one open action (ErrNoOpenActions).
//     Actions are completed once the plan is approved (ErrPlanNotApproved);
//     an action found wanting is reopened.
//   - Effectiveness is verified when every action is done
//     (ErrActionsOutstanding). Not effective sends the nonconformity back to
//     action_plan: new or reopened actions, a new approval, new verification.
//   - Closing needs every action done AND effectiveness verified effective
//     (ErrActionsOutstanding, ErrNotVerified). Planning or reopening an
//     action after a verification withdraws it. So a nonconformity is never
//     closed without at least one corrective action.
//
// Commands whose outcome already holds decide no events, so retries are harmless.
package nonconformity

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// Category is the stream category of nonconformities.
const Category = "nonconformity"

// StreamID returns the stream of one nonconformity, "nonconformity-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Source is where the nonconformity was found.
type Source string

const (
	SourceComplaint Source = "complaint" // a customer complaint; SourceID is the complaint ID
	SourceAudit     Source = "audit"     // an internal or external audit; SourceRef names the finding
	SourceInternal  Source = "internal"  // found by staff, inspection, monitoring
)

// Sources lists every source, in order.
var Sources = domain.NewEnum("source", SourceComplaint, SourceAudit, SourceInternal)

// Valid reports whether s is one of Sources.
func (s Source) Valid() bool { return Sources.Has(s) }

// EnumValues lists the accepted values (the API schema's enum).
func (Source) EnumValues() []string { return Sources.Strings() }

// Severity is how serious the nonconformity is.
type Severity string

const (
	SeverityMinor    Severity = "minor"
	SeverityMajor    Severity = "major"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, in order.
var Severities = domain.NewEnum("severity", SeverityMinor, SeverityMajor, SeverityCritical)

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool { return Severities.Has(s) }

// EnumValues lists the accepted values (the API schema's enum).
func (Severity) EnumValues() []string { return Severities.Strings() }

// Status is where a nonconformity is in its life cycle.
type Status string

const (
	StatusOpen       Status = "open"
	StatusAnalysis   Status = "analysis"
	StatusActionPlan Status = "action_plan"
	StatusInProgress Status = "in_progress"
	StatusClosed     Status = "closed"
)

// Errors of the nonconformity aggregate, for errors.Is.
var (
	ErrNotFound           = domain.NotFound("nonconformity")
	ErrAlreadyExists      = domain.AlreadyExists("nonconformity")
	ErrActionNotFound     = domain.NotFound("corrective_action")
	ErrActionExists       = domain.AlreadyExists("corrective_action")
	ErrClosed             = domain.Conflict("nonconformity_closed", "the nonconformity is closed")
	ErrAnalysisComplete   = domain.Conflict("nonconformity_analysis_complete", "the root cause is recorded; the analysis is complete")
	ErrRootCauseMissing   = domain.Conflict("nonconformity_root_cause_missing", "record the root cause before planning corrective actions")
	ErrNoOpenActions      = domain.Conflict("nonconformity_no_open_actions", "the action plan needs at least one open corrective action")
	ErrPlanNotApproved    = domain.Conflict("nonconformity_plan_not_approved", "the action plan must be approved first")
	ErrActionsOutstanding = domain.Conflict("nonconformity_actions_outstanding", "every corrective action must be done first")
	ErrNotVerified        = domain.Conflict("nonconformity_not_verified", "the effectiveness of the corrective actions must be verified effective before closing")
)

// Action is a corrective action as folded into the State.
type Action struct {
	ID          uuid.UUID `json:"action_id"`
	Description string    `json:"description"`
	OwnerID     string    `json:"owner_id"` // user principal
	DueDate     string    `json:"due_date"` // YYYY-MM-DD
	Done        bool      `json:"done"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	Outcome     string    `json:"outcome,omitempty"`
}
