package commands

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/google/uuid"
)

// campaignCatalogue declares the commands of the campaign aggregate.
func campaignCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
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
				// A marketing send to a customer needs its consent (docs/privacy.md).
				Enrich(func(ctx context.Context, c campaign.RecordCampaignResponse) (campaign.RecordCampaignResponse, error) {
					if c.Kind != campaign.ResponseSent || c.CustomerID == uuid.Nil {
						return c, nil
					}
					camp, _, err := Load[campaign.State](ctx, store, nil, campaign.StreamID(c.CampaignID))
					if err != nil {
						return c, fmt.Errorf("loading campaign %s: %w", c.CampaignID, err)
					}
					channel, direct := consentChannels[camp.Channel()]
					if !camp.Exists() || !direct {
						return c, nil // the aggregate refuses an unknown campaign; no consent for undirected channels
					}
					if err := mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id"); err != nil {
						return c, err
					}
					cust, _, err := Load[customer.State](ctx, store, nil, customer.StreamID(c.CustomerID))
					if err != nil {
						return c, fmt.Errorf("loading customer %s: %w", c.CustomerID, err)
					}
					return c, cust.RequireConsent(c.ContactID, customer.MarketingPurpose, channel)
				}),
				// A platform's webhook delivered twice is recorded once.
				IdentifyBy(func(c campaign.RecordCampaignResponse) (string, bool) {
					return c.ExternalRef, c.ExternalRef != ""
				}),
			},
		},
	})
}

// consentChannels maps the campaign channels that reach a person directly
// to the consent channel a send over them needs.
var consentChannels = map[campaign.Channel]customer.Channel{
	campaign.ChannelEmail: customer.ChannelEmail,
	campaign.ChannelSMS:   customer.ChannelSMS,
	campaign.ChannelPhone: customer.ChannelPhone,
	campaign.ChannelPost:  customer.ChannelPost,
}
