package servicecase

import "github.com/google/uuid"

// OpenCase opens a case. The SLA policy is optional: without one the case has
// no deadlines.
type OpenCase struct {
	CaseID      uuid.UUID  `json:"case_id"`
	CustomerID  uuid.UUID  `json:"customer_id"`
	Queue       string     `json:"queue" doc:"A slug: a lower-case letter, then lower-case letters, digits or underscores, at most 64 characters, e.g. support."`
	Priority    Priority   `json:"priority"`
	Channel     Channel    `json:"channel"`
	Subject     string     `json:"subject"`
	Description string     `json:"description,omitempty"`
	OrderID     uuid.UUID  `json:"order_id,omitzero"` // the order the request is about, if any
	SLA         *SLAPolicy `json:"sla,omitempty" doc:"The SLA the case is handled under (it needs a target for the case's priority). Omitted: the case has no SLA: no deadlines, never overdue or breached; queues show it as sla_policy none."`
}

// AssignCase assigns the case to an agent (or reassigns it), moving it to
// Queue as well when Queue is given.
type AssignCase struct {
	CaseID  uuid.UUID `json:"case_id"`
	AgentID string    `json:"agent_id"` // the agent's user principal
	Queue   string    `json:"queue,omitempty"`
}

// RecordFirstResponse records the first response to the customer; later
// responses are interactions, not case events.
type RecordFirstResponse struct {
	CaseID  uuid.UUID `json:"case_id"`
	AgentID string    `json:"agent_id,omitempty"` // user principal of the responder
}

// WaitOnCustomer stops the SLA clocks until the customer answers.
type WaitOnCustomer struct {
	CaseID uuid.UUID `json:"case_id"`
	Reason string    `json:"reason,omitempty"`
}

// ResumeCase restarts the SLA clocks after waiting on the customer.
type ResumeCase struct {
	CaseID uuid.UUID `json:"case_id"`
}

// EscalateCase raises the escalation level of the case. Level 0 means one
// level up. The reasons ReasonFirstResponseBreach and ReasonResolutionBreach
// (used by the SLA watcher) are checked against the deadline and are
// idempotent; any other reason is a manual escalation, idempotent when Level
// is given.
type EscalateCase struct {
	CaseID uuid.UUID `json:"case_id"`
	Level  int       `json:"level,omitempty"`
	Reason string    `json:"reason"`
	Note   string    `json:"note,omitempty"`
}

// ResolveCase records the solution given to the customer.
type ResolveCase struct {
	CaseID     uuid.UUID `json:"case_id"`
	Resolution string    `json:"resolution"`
}

// CloseCase closes a resolved case for good.
type CloseCase struct {
	CaseID uuid.UUID `json:"case_id"`
}

// ReopenCase reopens a resolved case (a closed case stays closed: open a new one).
type ReopenCase struct {
	CaseID uuid.UUID `json:"case_id"`
	Reason string    `json:"reason"`
}

func (OpenCase) CommandType() string            { return "OpenCase" }
func (AssignCase) CommandType() string          { return "AssignCase" }
func (RecordFirstResponse) CommandType() string { return "RecordFirstResponse" }
func (WaitOnCustomer) CommandType() string      { return "WaitOnCustomer" }
func (ResumeCase) CommandType() string          { return "ResumeCase" }
func (EscalateCase) CommandType() string        { return "EscalateCase" }
func (ResolveCase) CommandType() string         { return "ResolveCase" }
func (CloseCase) CommandType() string           { return "CloseCase" }
func (ReopenCase) CommandType() string          { return "ReopenCase" }

func (c OpenCase) AggregateID() uuid.UUID            { return c.CaseID }
func (c AssignCase) AggregateID() uuid.UUID          { return c.CaseID }
func (c RecordFirstResponse) AggregateID() uuid.UUID { return c.CaseID }
func (c WaitOnCustomer) AggregateID() uuid.UUID      { return c.CaseID }
func (c ResumeCase) AggregateID() uuid.UUID          { return c.CaseID }
func (c EscalateCase) AggregateID() uuid.UUID        { return c.CaseID }
func (c ResolveCase) AggregateID() uuid.UUID         { return c.CaseID }
func (c CloseCase) AggregateID() uuid.UUID           { return c.CaseID }
func (c ReopenCase) AggregateID() uuid.UUID          { return c.CaseID }
