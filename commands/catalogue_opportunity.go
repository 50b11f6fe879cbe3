package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
)

// opportunityCatalogue declares the commands of the opportunity aggregate.
func opportunityCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[opportunity.State](opportunity.Category, "Opportunities", opportunity.Commands(), []Spec{
		{
			Command: opportunity.OpenOpportunity{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "openOpportunity", Path: "/v1/opportunities", Creates: true,
				Hidden:  []string{"pipeline"},
				Summary: "Open an opportunity", Description: "It opens in the organisation's sales pipeline, at the given stage (default: the first).",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c opportunity.OpenOpportunity) (opportunity.OpenOpportunity, error) {
					// The pipeline is the organisation's, not the client's.
					c.Pipeline = deps.Pipeline
					if err := mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id"); err != nil {
						return c, err
					}
					return c, mustExist(ctx, store, lead.Category, c.LeadID, "lead_id")
				}),
			},
		},
		{
			Command: opportunity.ChangeOpportunityStage{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "changeOpportunityStage", Path: "/v1/opportunities/{id}/stage",
				Summary: "Move the opportunity to another stage",
			}},
		},
		{
			Command: opportunity.ChangeOpportunityAmount{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "changeOpportunityAmount", Path: "/v1/opportunities/{id}/amount",
				Summary: "Set the expected amount",
			}},
		},
		{
			Command: opportunity.ChangeOpportunityCloseDate{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "changeOpportunityCloseDate", Path: "/v1/opportunities/{id}/close-date",
				Summary: "Set or clear the expected close date",
			}},
		},
		{
			Command: opportunity.AssignOpportunityOwner{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "assignOpportunityOwner", Path: "/v1/opportunities/{id}/owner",
				Summary: "Set or clear the owner",
			}},
		},
		{
			Command: opportunity.CaptureRequirements{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "captureRequirements", Path: "/v1/opportunities/{id}/requirements",
				Summary: "Record the customer's requirements as a new revision (ISO 9001 8.2.2)",
			}},
		},
		{
			Command: opportunity.ReviewRequirements{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "reviewRequirements", Path: "/v1/opportunities/{id}/requirements/review",
				Summary: "Record the review of the current requirements revision (ISO 9001 8.2.3)",
			}},
		},
		{
			Command: opportunity.WinOpportunity{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "winOpportunity", Path: "/v1/opportunities/{id}/win",
				Summary: "Record that the customer committed", Description: "Refused unless the current requirements were reviewed and approved.",
			}},
		},
		{
			Command: opportunity.LoseOpportunity{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "loseOpportunity", Path: "/v1/opportunities/{id}/lose",
				Summary: "Record that the opportunity was lost",
			}},
		},
		{
			Command: opportunity.ReopenOpportunity{}, Roles: OpportunityWriters,
			Routes: []Route{{
				OperationID: "reopenOpportunity", Path: "/v1/opportunities/{id}/reopen",
				Summary: "Reopen a won or lost opportunity",
			}},
		},
	})
}
