package servicecase

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// CaseOpened: a customer's request was recorded. Schema v2 (see upcast.go for v1).
type CaseOpened struct {
	CaseID      uuid.UUID `json:"case_id"`
	CustomerID  uuid.UUID `json:"customer_id"`
	Queue       string    `json:"queue"`
	Priority    Priority  `json:"priority"`
	Channel     Channel   `json:"channel"`
	Subject     string    `json:"subject"`
	Description string    `json:"description,omitempty"`
	OrderID     uuid.UUID `json:"order_id,omitzero"`
	OpenedAt    time.Time `json:"opened_at"`
	// SLA is the policy in force for this case; nil when the case has no SLA,
	// and then both deadlines are zero.
	SLA              *SLATerms `json:"sla,omitempty"`
	FirstResponseDue time.Time `json:"first_response_due,omitzero"`
	ResolutionDue    time.Time `json:"resolution_due,omitzero"`
}

// CaseAssigned: the case was given to an agent.
type CaseAssigned struct {
	CaseID          uuid.UUID `json:"case_id"`
	AgentID         string    `json:"agent_id"`
	PreviousAgentID string    `json:"previous_agent_id,omitempty"`
	Queue           string    `json:"queue"`
	AssignedAt      time.Time `json:"assigned_at"`
}

// CaseFirstResponseGiven: the customer got the first answer. Due is the
// first-response deadline in force at that moment; Met is false when the
// response came after it (true when there is no deadline).
type CaseFirstResponseGiven struct {
	CaseID      uuid.UUID `json:"case_id"`
	AgentID     string    `json:"agent_id,omitempty"`
	RespondedAt time.Time `json:"responded_at"`
	Due         time.Time `json:"due,omitzero"`
	Met         bool      `json:"met"`
}

// CaseWaitingOnCustomer: the SLA clocks stopped until the customer answers.
type CaseWaitingOnCustomer struct {
	CaseID   uuid.UUID `json:"case_id"`
	Reason   string    `json:"reason,omitempty"`
	PausedAt time.Time `json:"paused_at"`
}

// CaseResumed: the SLA clocks run again. The pending deadlines moved later by
// PausedWorkingSeconds, the working time between PausedAt and ResumedAt; a
// deadline no longer pending is zero.
type CaseResumed struct {
	CaseID               uuid.UUID `json:"case_id"`
	PausedAt             time.Time `json:"paused_at"`
	ResumedAt            time.Time `json:"resumed_at"`
	PausedWorkingSeconds int64     `json:"paused_working_seconds"`
	FirstResponseDue     time.Time `json:"first_response_due,omitzero"`
	ResolutionDue        time.Time `json:"resolution_due,omitzero"`
}

// CaseEscalated: the case went up to Level. Breach and Due name the deadline
// when the escalation is an SLA breach.
type CaseEscalated struct {
	CaseID        uuid.UUID `json:"case_id"`
	Level         int       `json:"level"`
	PreviousLevel int       `json:"previous_level"`
	Reason        string    `json:"reason"`
	Note          string    `json:"note,omitempty"`
	Breach        Deadline  `json:"breach,omitempty"`
	Due           time.Time `json:"due,omitzero"`
	EscalatedAt   time.Time `json:"escalated_at"`
}

// CaseResolved: a solution was given. ResolutionMet is false when it came
// after the resolution deadline (true when there is none); PausedSeconds is
// the wall-clock time spent waiting on the customer since the case opened.
type CaseResolved struct {
	CaseID        uuid.UUID `json:"case_id"`
	Resolution    string    `json:"resolution"`
	ResolvedAt    time.Time `json:"resolved_at"`
	ResolutionDue time.Time `json:"resolution_due,omitzero"`
	ResolutionMet bool      `json:"resolution_met"`
	PausedSeconds int64     `json:"paused_seconds"`
}

// CaseClosed: the case is closed for good.
type CaseClosed struct {
	CaseID   uuid.UUID `json:"case_id"`
	ClosedAt time.Time `json:"closed_at"`
}

// CaseReopened: a resolved case is open again; the pending deadlines moved
// later by the working time it spent resolved.
type CaseReopened struct {
	CaseID           uuid.UUID `json:"case_id"`
	Reason           string    `json:"reason"`
	ReopenedAt       time.Time `json:"reopened_at"`
	FirstResponseDue time.Time `json:"first_response_due,omitzero"`
	ResolutionDue    time.Time `json:"resolution_due,omitzero"`
}

func (CaseOpened) EventType() string             { return "CaseOpened" }
func (CaseAssigned) EventType() string           { return "CaseAssigned" }
func (CaseFirstResponseGiven) EventType() string { return "CaseFirstResponseGiven" }
func (CaseWaitingOnCustomer) EventType() string  { return "CaseWaitingOnCustomer" }
func (CaseResumed) EventType() string            { return "CaseResumed" }
func (CaseEscalated) EventType() string          { return "CaseEscalated" }
func (CaseResolved) EventType() string           { return "CaseResolved" }
func (CaseClosed) EventType() string             { return "CaseClosed" }
func (CaseReopened) EventType() string           { return "CaseReopened" }

// Personal data (docs/privacy.md): the free text of a case. The data
// subject is the case's customer (named by CaseOpened, the stream's first event).
var subject = []domain.SubjectRef{{Kind: "customer", Path: "customer_id"}}

func init() {
	domain.Events.Register(
		domain.Registration{Event: CaseOpened{}, Personal: domain.Personal{Subject: subject, Fields: []string{"subject", "description"}}, Version: 2, Aggregate: Category,
			Doc:       "A customer's service request was opened in a queue, with its priority, channel, SLA terms and deadlines.",
			Upcasters: map[int]domain.Upcaster{1: upcastCaseOpenedV1}},
		domain.Registration{Event: CaseAssigned{}, Aggregate: Category,
			Doc: "The case was assigned (or reassigned) to an agent."},
		domain.Registration{Event: CaseFirstResponseGiven{}, Aggregate: Category,
			Doc: "The customer received the first response, on time or not."},
		domain.Registration{Event: CaseWaitingOnCustomer{}, Personal: domain.Personal{Fields: []string{"reason"}}, Aggregate: Category,
			Doc: "The case waits on the customer and its SLA clocks are stopped."},
		domain.Registration{Event: CaseResumed{}, Aggregate: Category,
			Doc: "The SLA clocks run again, with the pending deadlines pushed by the working time paused."},
		domain.Registration{Event: CaseEscalated{}, Personal: domain.Personal{Fields: []string{"note"}}, Aggregate: Category,
			Doc: "The case was escalated to a higher level, by hand or for an SLA breach."},
		domain.Registration{Event: CaseResolved{}, Personal: domain.Personal{Fields: []string{"resolution"}}, Aggregate: Category,
			Doc: "A solution was given to the customer, within the resolution deadline or not."},
		domain.Registration{Event: CaseClosed{}, Aggregate: Category,
			Doc: "The resolved case was closed for good."},
		domain.Registration{Event: CaseReopened{}, Personal: domain.Personal{Fields: []string{"reason"}}, Aggregate: Category,
			Doc: "A resolved case was reopened, with its pending deadlines pushed by the time spent resolved."},
	)
}
