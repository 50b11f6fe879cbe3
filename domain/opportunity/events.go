package opportunity

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/requirement"
)

// Every event carries the opportunity's and its customer's IDs and At, the
// decision time, so pipeline and customer read models need nothing else.

// OpportunityOpened: an opportunity was opened in a pipeline at a stage.
type OpportunityOpened struct {
	OpportunityID uuid.UUID    `json:"opportunity_id"`
	CustomerID    uuid.UUID    `json:"customer_id"`
	LeadID        uuid.UUID    `json:"lead_id,omitzero"`
	Name          string       `json:"name"`
	Pipeline      Pipeline     `json:"pipeline"`
	Stage         string       `json:"stage"`
	Probability   int          `json:"probability"`
	Amount        domain.Money `json:"amount"`
	ExpectedClose time.Time    `json:"expected_close,omitzero"` // a date (UTC midnight)
	OwnerID       string       `json:"owner_id,omitempty"`
	At            time.Time    `json:"at"`
}

// OpportunityStageChanged: the opportunity moved between two open stages.
type OpportunityStageChanged struct {
	OpportunityID uuid.UUID    `json:"opportunity_id"`
	CustomerID    uuid.UUID    `json:"customer_id"`
	From          string       `json:"from"`
	To            string       `json:"to"`
	Probability   int          `json:"probability"` // of the To stage
	Amount        domain.Money `json:"amount"`
	At            time.Time    `json:"at"`
}

// OpportunityAmountChanged: the expected amount changed.
type OpportunityAmountChanged struct {
	OpportunityID  uuid.UUID    `json:"opportunity_id"`
	CustomerID     uuid.UUID    `json:"customer_id"`
	Amount         domain.Money `json:"amount"`
	PreviousAmount domain.Money `json:"previous_amount"`
	Probability    int          `json:"probability"`
	At             time.Time    `json:"at"`
}

// OpportunityCloseDateChanged: the expected close date changed (zero: none).
type OpportunityCloseDateChanged struct {
	OpportunityID         uuid.UUID `json:"opportunity_id"`
	CustomerID            uuid.UUID `json:"customer_id"`
	ExpectedClose         time.Time `json:"expected_close,omitzero"`
	PreviousExpectedClose time.Time `json:"previous_expected_close,omitzero"`
	At                    time.Time `json:"at"`
}

// OpportunityOwnerAssigned: the owner changed (empty OwnerID: unassigned).
type OpportunityOwnerAssigned struct {
	OpportunityID   uuid.UUID `json:"opportunity_id"`
	CustomerID      uuid.UUID `json:"customer_id"`
	OwnerID         string    `json:"owner_id,omitempty"`
	PreviousOwnerID string    `json:"previous_owner_id,omitempty"`
	At              time.Time `json:"at"`
}

// RequirementsCaptured: the customer's requirements were written down as a
// new revision (1, 2, ...), which replaces the previous list and needs a
// review of its own.
type RequirementsCaptured struct {
	OpportunityID uuid.UUID          `json:"opportunity_id"`
	CustomerID    uuid.UUID          `json:"customer_id"`
	Revision      int                `json:"revision"`
	Items         []requirement.Item `json:"items"`
	At            time.Time          `json:"at"`
}

// RequirementsReviewed: a revision of the requirements was reviewed before
// commitment (ISO 9001 8.2.3).
type RequirementsReviewed struct {
	OpportunityID uuid.UUID          `json:"opportunity_id"`
	CustomerID    uuid.UUID          `json:"customer_id"`
	Revision      int                `json:"revision"`
	Reviewer      string             `json:"reviewer"`
	Result        requirement.Result `json:"result"`
	OpenPoints    []string           `json:"open_points,omitempty"`
	At            time.Time          `json:"at"`
}

// OpportunityWon: the customer committed; RequirementsRevision is the
// approved revision the commitment rests on.
type OpportunityWon struct {
	OpportunityID        uuid.UUID    `json:"opportunity_id"`
	CustomerID           uuid.UUID    `json:"customer_id"`
	Amount               domain.Money `json:"amount"`
	Stage                string       `json:"stage"` // the stage it was won from
	RequirementsRevision int          `json:"requirements_revision"`
	At                   time.Time    `json:"at"`
}

// OpportunityLost: the opportunity was lost, with the reason.
type OpportunityLost struct {
	OpportunityID uuid.UUID    `json:"opportunity_id"`
	CustomerID    uuid.UUID    `json:"customer_id"`
	Amount        domain.Money `json:"amount"`
	Stage         string       `json:"stage"` // the stage it was lost from
	Reason        string       `json:"reason"`
	Competitor    string       `json:"competitor,omitempty"`
	At            time.Time    `json:"at"`
}

// OpportunityReopened: a won or lost opportunity is open again, at Stage.
type OpportunityReopened struct {
	OpportunityID  uuid.UUID    `json:"opportunity_id"`
	CustomerID     uuid.UUID    `json:"customer_id"`
	PreviousStatus Status       `json:"previous_status"` // won or lost
	Stage          string       `json:"stage"`
	Probability    int          `json:"probability"`
	Amount         domain.Money `json:"amount"`
	Reason         string       `json:"reason"`
	At             time.Time    `json:"at"`
}

func (OpportunityOpened) EventType() string           { return "OpportunityOpened" }
func (OpportunityStageChanged) EventType() string     { return "OpportunityStageChanged" }
func (OpportunityAmountChanged) EventType() string    { return "OpportunityAmountChanged" }
func (OpportunityCloseDateChanged) EventType() string { return "OpportunityCloseDateChanged" }
func (OpportunityOwnerAssigned) EventType() string    { return "OpportunityOwnerAssigned" }
func (RequirementsCaptured) EventType() string        { return "RequirementsCaptured" }
func (RequirementsReviewed) EventType() string        { return "RequirementsReviewed" }
func (OpportunityWon) EventType() string              { return "OpportunityWon" }
func (OpportunityLost) EventType() string             { return "OpportunityLost" }
func (OpportunityReopened) EventType() string         { return "OpportunityReopened" }

func init() {
	domain.Events.Register(
		domain.Registration{Event: OpportunityOpened{}, Aggregate: Category,
			Doc: "An opportunity was opened in a pipeline (recorded with its stages) at a stage, with amount, close date and owner."},
		domain.Registration{Event: OpportunityStageChanged{}, Aggregate: Category, Doc: "An opportunity moved from one open stage to another, with the new probability."},
		domain.Registration{Event: OpportunityAmountChanged{}, Aggregate: Category, Doc: "An opportunity's expected amount changed."},
		domain.Registration{Event: OpportunityCloseDateChanged{}, Aggregate: Category, Doc: "An opportunity's expected close date changed."},
		domain.Registration{Event: OpportunityOwnerAssigned{}, Aggregate: Category, Doc: "An opportunity's owner changed (empty owner_id: unassigned)."},
		domain.Registration{Event: RequirementsCaptured{}, Aggregate: Category,
			Doc: "The customer's requirements were captured as a new revision that needs its own review (ISO 9001 8.2.2)."},
		domain.Registration{Event: RequirementsReviewed{}, Aggregate: Category,
			Doc: "A revision of the requirements was reviewed before commitment: reviewer, result, open points (ISO 9001 8.2.3)."},
		domain.Registration{Event: OpportunityWon{}, Aggregate: Category, Doc: "An opportunity was won on an approved requirements revision."},
		domain.Registration{Event: OpportunityLost{}, Aggregate: Category, Doc: "An opportunity was lost, with the reason and competitor if known."},
		domain.Registration{Event: OpportunityReopened{}, Aggregate: Category, Doc: "A won or lost opportunity was reopened at a stage, with the reason."},
	)
}
