package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
)

// leadCatalogue declares the commands of the lead aggregate.
func leadCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[lead.State](lead.Category, "Leads", lead.Commands(), []Spec{
		{
			Command: lead.CaptureLead{}, Roles: LeadWriters,
			Routes: []Route{{
				OperationID: "captureLead", Path: "/v1/leads", Creates: true,
				Summary: "Capture a lead",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c lead.CaptureLead) (lead.CaptureLead, error) {
					return c, mustExist(ctx, store, campaign.Category, c.CampaignID, "campaign_id")
				}),
			},
		},
		{
			Command: lead.QualifyLead{}, Roles: LeadWriters,
			Routes: []Route{{
				OperationID: "qualifyLead", Path: "/v1/leads/{id}/qualify",
				Summary: "Qualify or re-score a lead",
			}},
		},
		{
			Command: lead.DisqualifyLead{}, Roles: LeadWriters,
			Routes: []Route{{
				OperationID: "disqualifyLead", Path: "/v1/leads/{id}/disqualify",
				Summary: "Disqualify a lead",
			}},
		},
		{
			Command: lead.ConvertLead{}, Roles: LeadWriters,
			Routes: []Route{{
				OperationID: "convertLead", Path: "/v1/leads/{id}/convert",
				Summary:     "Convert a qualified lead into a customer and an opportunity",
				Description: "customer_id and opportunity_id are chosen by the client; the customer and the opportunity are created from the conversion.",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c lead.ConvertLead) (lead.ConvertLead, error) {
					if !c.ExistingCustomer {
						return c, nil // the customer is registered from the conversion
					}
					return c, mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id")
				}),
			},
		},
	})
}
