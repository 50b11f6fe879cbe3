package complaint

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/sla"
)

// ComplaintReceived: a complaint was recorded, with its acknowledgement deadline.
type ComplaintReceived struct {
	ComplaintID           uuid.UUID  `json:"complaint_id"`
	Reference             string     `json:"reference"`
	CustomerID            uuid.UUID  `json:"customer_id"`
	Channel               Channel    `json:"channel"`
	Description           string     `json:"description"`
	RemedySought          string     `json:"remedy_sought,omitempty"`
	Severity              Severity   `json:"severity"`
	OrderID               uuid.UUID  `json:"order_id,omitzero"`
	CaseID                uuid.UUID  `json:"case_id,omitzero"`
	ReceivedAt            time.Time  `json:"received_at"`
	AcknowledgementTarget sla.Target `json:"acknowledgement_target"`
	AcknowledgementDue    time.Time  `json:"acknowledgement_due"`
}

// ComplaintAcknowledged: the customer was told the complaint is handled.
type ComplaintAcknowledged struct {
	ComplaintID    uuid.UUID `json:"complaint_id"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
	Due            time.Time `json:"due"`
	OnTime         bool      `json:"on_time"`
}

// ComplaintAcknowledgementOverdue: the acknowledgement deadline passed
// without an acknowledgement.
type ComplaintAcknowledgementOverdue struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	Due         time.Time `json:"due"`
	FlaggedAt   time.Time `json:"flagged_at"`
}

// ComplaintAssessed: severity and urgency were assessed.
type ComplaintAssessed struct {
	ComplaintID      uuid.UUID `json:"complaint_id"`
	Severity         Severity  `json:"severity"`
	PreviousSeverity Severity  `json:"previous_severity"`
	Urgency          Urgency   `json:"urgency"`
	Notes            string    `json:"notes,omitempty"`
	AssessedAt       time.Time `json:"assessed_at"`
}

// ComplaintInvestigated: the root cause was found.
type ComplaintInvestigated struct {
	ComplaintID    uuid.UUID `json:"complaint_id"`
	RootCause      string    `json:"root_cause"`
	Findings       string    `json:"findings,omitempty"`
	InvestigatedAt time.Time `json:"investigated_at"`
}

// ComplaintResponded: the decision was communicated to the customer.
type ComplaintResponded struct {
	ComplaintID   uuid.UUID `json:"complaint_id"`
	Outcome       Outcome   `json:"outcome"`
	Decision      string    `json:"decision"`
	RemedyOffered string    `json:"remedy_offered,omitempty"`
	RespondedAt   time.Time `json:"responded_at"`
}

// ComplaintClosed: the complaint was closed, with the customer satisfied or not.
type ComplaintClosed struct {
	ComplaintID       uuid.UUID `json:"complaint_id"`
	Reference         string    `json:"reference"`
	CustomerSatisfied bool      `json:"customer_satisfied"`
	Note              string    `json:"note,omitempty"`
	ReceivedAt        time.Time `json:"received_at"`
	ClosedAt          time.Time `json:"closed_at"`
}

// ComplaintEscalated: the complaint was referred to a higher level.
type ComplaintEscalated struct {
	ComplaintID   uuid.UUID `json:"complaint_id"`
	Level         int       `json:"level"`
	PreviousLevel int       `json:"previous_level"`
	Reason        string    `json:"reason"`
	EscalatedAt   time.Time `json:"escalated_at"`
}

// NonconformityRaisedFromComplaint: a nonconformity is raised because of the complaint.
type NonconformityRaisedFromComplaint struct {
	ComplaintID     uuid.UUID `json:"complaint_id"`
	Reference       string    `json:"reference"`
	NonconformityID uuid.UUID `json:"nonconformity_id"`
	RaisedAt        time.Time `json:"raised_at"`
}

// ComplaintReopened: a closed complaint is open again and needs a new response.
type ComplaintReopened struct {
	ComplaintID uuid.UUID `json:"complaint_id"`
	Reason      string    `json:"reason"`
	ReopenedAt  time.Time `json:"reopened_at"`
	ReopenCount int       `json:"reopen_count"`
}

func (ComplaintReceived) EventType() string                { return "ComplaintReceived" }
func (ComplaintAcknowledged) EventType() string            { return "ComplaintAcknowledged" }
func (ComplaintAcknowledgementOverdue) EventType() string  { return "ComplaintAcknowledgementOverdue" }
func (ComplaintAssessed) EventType() string                { return "ComplaintAssessed" }
func (ComplaintInvestigated) EventType() string            { return "ComplaintInvestigated" }
func (ComplaintResponded) EventType() string               { return "ComplaintResponded" }
func (ComplaintClosed) EventType() string                  { return "ComplaintClosed" }
func (ComplaintEscalated) EventType() string               { return "ComplaintEscalated" }
func (NonconformityRaisedFromComplaint) EventType() string { return "NonconformityRaisedFromComplaint" }
func (ComplaintReopened) EventType() string                { return "ComplaintReopened" }

// Personal data (docs/privacy.md): the complainant's words and what was
// decided about them. The data subject is the complaint's customer (named
// by ComplaintReceived). Severity, dates, outcome, root cause and
// satisfaction are the quality record an auditor needs: not personal.
var subject = []domain.SubjectRef{{Kind: "customer", Path: "customer_id"}}

func init() {
	domain.Events.Register(
		domain.Registration{Event: ComplaintReceived{}, Personal: domain.Personal{Subject: subject, Fields: []string{"description", "remedy_sought"}}, Aggregate: Category,
			Doc: "A customer complaint was received, with its reference, remedy sought, severity and acknowledgement deadline."},
		domain.Registration{Event: ComplaintAcknowledged{}, Aggregate: Category,
			Doc: "The customer was told the complaint is being handled, on time or not."},
		domain.Registration{Event: ComplaintAcknowledgementOverdue{}, Aggregate: Category,
			Doc: "The acknowledgement deadline passed without an acknowledgement."},
		domain.Registration{Event: ComplaintAssessed{}, Personal: domain.Personal{Fields: []string{"notes"}}, Aggregate: Category,
			Doc: "The complaint's severity and urgency were assessed."},
		domain.Registration{Event: ComplaintInvestigated{}, Personal: domain.Personal{Fields: []string{"findings"}}, Aggregate: Category,
			Doc: "The investigation of the complaint found its root cause."},
		domain.Registration{Event: ComplaintResponded{}, Personal: domain.Personal{Fields: []string{"decision", "remedy_offered"}}, Aggregate: Category,
			Doc: "The decision on the complaint was communicated to the customer."},
		domain.Registration{Event: ComplaintClosed{}, Personal: domain.Personal{Fields: []string{"note"}}, Aggregate: Category,
			Doc: "The complaint was closed, recording whether the customer was satisfied."},
		domain.Registration{Event: ComplaintEscalated{}, Personal: domain.Personal{Fields: []string{"reason"}}, Aggregate: Category,
			Doc: "The complaint was referred to a higher level."},
		domain.Registration{Event: NonconformityRaisedFromComplaint{}, Aggregate: Category,
			Doc: "A nonconformity was raised because of the complaint."},
		domain.Registration{Event: ComplaintReopened{}, Personal: domain.Personal{Fields: []string{"reason"}}, Aggregate: Category,
			Doc: "A closed complaint was reopened and awaits a new response."},
	)
}
