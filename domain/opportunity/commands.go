package opportunity

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/requirement"
)

// OpenOpportunity opens a new opportunity; OpportunityID is chosen by the
// caller. A zero Pipeline means DefaultPipeline(); the command handler puts
// the configured pipeline here. An empty Stage means the first stage.
type OpenOpportunity struct {
	OpportunityID uuid.UUID    `json:"opportunity_id"`
	CustomerID    uuid.UUID    `json:"customer_id"`
	LeadID        uuid.UUID    `json:"lead_id,omitzero"`
	Name          string       `json:"name"`
	Pipeline      Pipeline     `json:"pipeline,omitzero"`
	Stage         string       `json:"stage,omitempty" doc:"A stage of the organisation's pipeline (GET /v1/pipelines, the current one). Default: its first stage."`
	Amount        domain.Money `json:"amount"`
	ExpectedClose time.Time    `json:"expected_close,omitzero"`
	OwnerID       string       `json:"owner_id,omitempty"`
}

// ChangeOpportunityStage moves an open opportunity to another stage of its
// pipeline, forwards or backwards by any number of stages.
type ChangeOpportunityStage struct {
	OpportunityID uuid.UUID `json:"opportunity_id"`
	Stage         string    `json:"stage" doc:"A stage of the pipeline the opportunity was opened in (GET /v1/pipelines); won and lost are outcomes, not stages."`
}

// ChangeOpportunityAmount sets a new expected amount.
type ChangeOpportunityAmount struct {
	OpportunityID uuid.UUID    `json:"opportunity_id"`
	Amount        domain.Money `json:"amount"`
}

// ChangeOpportunityCloseDate sets (or, with a zero date, clears) the
// expected close date.
type ChangeOpportunityCloseDate struct {
	OpportunityID uuid.UUID `json:"opportunity_id"`
	ExpectedClose time.Time `json:"expected_close,omitzero"`
}

// AssignOpportunityOwner sets the owner; an empty OwnerID unassigns.
type AssignOpportunityOwner struct {
	OpportunityID uuid.UUID `json:"opportunity_id"`
	OwnerID       string    `json:"owner_id"`
}

// CaptureRequirements records the customer's requirements as a new revision.
type CaptureRequirements struct {
	OpportunityID uuid.UUID          `json:"opportunity_id"`
	Items         []requirement.Item `json:"items"`
}

// ReviewRequirements records the review of a revision, which must be the
// current one.
type ReviewRequirements struct {
	OpportunityID uuid.UUID          `json:"opportunity_id"`
	Revision      int                `json:"revision"`
	Reviewer      string             `json:"reviewer"`
	Result        requirement.Result `json:"result"`
	OpenPoints    []string           `json:"open_points,omitempty"`
}

// WinOpportunity records that the customer committed.
type WinOpportunity struct {
	OpportunityID uuid.UUID `json:"opportunity_id"`
}

// LoseOpportunity records that the opportunity was lost.
type LoseOpportunity struct {
	OpportunityID uuid.UUID `json:"opportunity_id"`
	Reason        string    `json:"reason"`
	Competitor    string    `json:"competitor,omitempty"`
}

// ReopenOpportunity reopens a won or lost opportunity at Stage (empty: the
// stage it was closed from).
type ReopenOpportunity struct {
	OpportunityID uuid.UUID `json:"opportunity_id"`
	Stage         string    `json:"stage,omitempty"`
	Reason        string    `json:"reason"`
}

func (OpenOpportunity) CommandType() string            { return "OpenOpportunity" }
func (ChangeOpportunityStage) CommandType() string     { return "ChangeOpportunityStage" }
func (ChangeOpportunityAmount) CommandType() string    { return "ChangeOpportunityAmount" }
func (ChangeOpportunityCloseDate) CommandType() string { return "ChangeOpportunityCloseDate" }
func (AssignOpportunityOwner) CommandType() string     { return "AssignOpportunityOwner" }
func (CaptureRequirements) CommandType() string        { return "CaptureRequirements" }
func (ReviewRequirements) CommandType() string         { return "ReviewRequirements" }
func (WinOpportunity) CommandType() string             { return "WinOpportunity" }
func (LoseOpportunity) CommandType() string            { return "LoseOpportunity" }
func (ReopenOpportunity) CommandType() string          { return "ReopenOpportunity" }

func (c OpenOpportunity) AggregateID() uuid.UUID            { return c.OpportunityID }
func (c ChangeOpportunityStage) AggregateID() uuid.UUID     { return c.OpportunityID }
func (c ChangeOpportunityAmount) AggregateID() uuid.UUID    { return c.OpportunityID }
func (c ChangeOpportunityCloseDate) AggregateID() uuid.UUID { return c.OpportunityID }
func (c AssignOpportunityOwner) AggregateID() uuid.UUID     { return c.OpportunityID }
func (c CaptureRequirements) AggregateID() uuid.UUID        { return c.OpportunityID }
func (c ReviewRequirements) AggregateID() uuid.UUID         { return c.OpportunityID }
func (c WinOpportunity) AggregateID() uuid.UUID             { return c.OpportunityID }
func (c LoseOpportunity) AggregateID() uuid.UUID            { return c.OpportunityID }
func (c ReopenOpportunity) AggregateID() uuid.UUID          { return c.OpportunityID }
