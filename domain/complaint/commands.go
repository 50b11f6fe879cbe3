package complaint

import (
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain/sla"
)

// ReceiveComplaint records a complaint. Reference is allocated by the command
// side (FormatReference); AcknowledgeWithin is the organisation's target for
// acknowledging it.
type ReceiveComplaint struct {
	ComplaintID       uuid.UUID  `json:"complaint_id"`
	Reference         string     `json:"reference" doc:"The complaint's reference, CMP-YYYY-NNNNNN (e.g. CMP-2026-000123)."`
	CustomerID        uuid.UUID  `json:"customer_id"`
	Channel           Channel    `json:"channel"`
	Description       string     `json:"description"`
	RemedySought      string     `json:"remedy_sought,omitempty"`
	Severity          Severity   `json:"severity"`
	OrderID           uuid.UUID  `json:"order_id,omitzero"`
	CaseID            uuid.UUID  `json:"case_id,omitzero"`
	AcknowledgeWithin sla.Target `json:"acknowledge_within"`
}

// AcknowledgeComplaint records that the customer was told the complaint is
// being handled.
type AcknowledgeComplaint struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
}

// FlagAcknowledgementOverdue is sent by the SLA watcher when the
// acknowledgement deadline has passed; it is idempotent.
type FlagAcknowledgementOverdue struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
}

// AssessComplaint records the assessment of severity and urgency.
type AssessComplaint struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	Severity    Severity  `json:"severity"`
	Urgency     Urgency   `json:"urgency"`
	Notes       string    `json:"notes,omitempty"`
}

// RecordInvestigation records the root cause found, and the findings.
type RecordInvestigation struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	RootCause   string    `json:"root_cause"`
	Findings    string    `json:"findings,omitempty"`
}

// RespondToComplaint records the decision communicated to the customer. A
// later response replaces it (a revised decision).
type RespondToComplaint struct {
	ComplaintID   uuid.UUID `json:"complaint_id"`
	Outcome       Outcome   `json:"outcome"`
	Decision      string    `json:"decision"`
	RemedyOffered string    `json:"remedy_offered,omitempty"`
}

// CloseComplaint closes the complaint, recording whether the customer was
// satisfied (required).
type CloseComplaint struct {
	ComplaintID       uuid.UUID `json:"complaint_id"`
	CustomerSatisfied *bool     `json:"customer_satisfied"`
	Note              string    `json:"note,omitempty"`
}

// EscalateComplaint refers the complaint to a higher level (0: the next one).
type EscalateComplaint struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	Level       int       `json:"level,omitempty"`
	Reason      string    `json:"reason"`
}

// RaiseNonconformityFromComplaint links a new nonconformity to the
// complaint; NonconformityID is the ID the nonconformity will be raised with.
type RaiseNonconformityFromComplaint struct {
	ComplaintID     uuid.UUID `json:"complaint_id"`
	NonconformityID uuid.UUID `json:"nonconformity_id"`
}

// ReopenComplaint reopens a closed complaint.
type ReopenComplaint struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	Reason      string    `json:"reason"`
}

func (ReceiveComplaint) CommandType() string                { return "ReceiveComplaint" }
func (AcknowledgeComplaint) CommandType() string            { return "AcknowledgeComplaint" }
func (FlagAcknowledgementOverdue) CommandType() string      { return "FlagAcknowledgementOverdue" }
func (AssessComplaint) CommandType() string                 { return "AssessComplaint" }
func (RecordInvestigation) CommandType() string             { return "RecordInvestigation" }
func (RespondToComplaint) CommandType() string              { return "RespondToComplaint" }
func (CloseComplaint) CommandType() string                  { return "CloseComplaint" }
func (EscalateComplaint) CommandType() string               { return "EscalateComplaint" }
func (RaiseNonconformityFromComplaint) CommandType() string { return "RaiseNonconformityFromComplaint" }
func (ReopenComplaint) CommandType() string                 { return "ReopenComplaint" }

func (c ReceiveComplaint) AggregateID() uuid.UUID                { return c.ComplaintID }
func (c AcknowledgeComplaint) AggregateID() uuid.UUID            { return c.ComplaintID }
func (c FlagAcknowledgementOverdue) AggregateID() uuid.UUID      { return c.ComplaintID }
func (c AssessComplaint) AggregateID() uuid.UUID                 { return c.ComplaintID }
func (c RecordInvestigation) AggregateID() uuid.UUID             { return c.ComplaintID }
func (c RespondToComplaint) AggregateID() uuid.UUID              { return c.ComplaintID }
func (c CloseComplaint) AggregateID() uuid.UUID                  { return c.ComplaintID }
func (c EscalateComplaint) AggregateID() uuid.UUID               { return c.ComplaintID }
func (c RaiseNonconformityFromComplaint) AggregateID() uuid.UUID { return c.ComplaintID }
func (c ReopenComplaint) AggregateID() uuid.UUID                 { return c.ComplaintID }
