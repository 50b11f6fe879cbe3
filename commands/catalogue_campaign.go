package commands

import (
	"github.com/evcrm/evcrm/domain/campaign"
)

// campaignCatalogue declares the commands of the campaign aggregate.
func campaignCatalogue(d *Dispatcher, deps Deps) Catalogue {
	return NewCatalogue[campaign.State](campaign.Category, "Campaigns", campaign.Commands(), []Spec{
		{
			Command: campaign.PlanCampaign{}, Roles: CampaignWriters,
			Routes: []Route{{
				OperationID: "planCampaign", Path: "/v1/campaigns", Creates: true,
				Summary: "Plan a campaign",
			}},
		},
		{
			Command: campaign.ChangeCampaignBudget{}, Roles: CampaignWriters,
			Routes: []Route{{
				OperationID: "changeCampaignBudget", Path: "/v1/campaigns/{id}/budget",
				Summary: "Change the budget",
			}},
		},
		{
			Command: campaign.LaunchCampaign{}, Roles: CampaignWriters,
			Routes: []Route{{
				OperationID: "launchCampaign", Path: "/v1/campaigns/{id}/launch",
				Summary: "Launch a planned campaign",
			}},
		},
		{
			Command: campaign.CompleteCampaign{}, Roles: CampaignWriters,
			Routes: []Route{{
				OperationID: "completeCampaign", Path: "/v1/campaigns/{id}/complete",
				Summary: "Complete a launched campaign",
			}},
		},
		{
			Command: campaign.CancelCampaign{}, Roles: CampaignWriters,
			Routes: []Route{{
				OperationID: "cancelCampaign", Path: "/v1/campaigns/{id}/cancel",
				Summary: "Call off a campaign",
			}},
		},
		{
			Command: campaign.RecordCampaignResponse{}, Roles: CampaignWriters,
			Routes: []Route{{
				OperationID: "recordCampaignResponse", Path: "/v1/campaigns/{id}/responses",
				Summary:     "Record a response to a campaign",
				Description: "With external_ref (the platform's ID of the response) a webhook delivered twice is recorded once.",
			}},
			Options: []Option{
				// A platform's webhook delivered twice is recorded once.
				IdentifyBy(func(c campaign.RecordCampaignResponse) (string, bool) {
					return c.ExternalRef, c.ExternalRef != ""
				}),
			},
		},
	})
}
