package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
)

// feedbackCatalogue declares the commands of the feedback aggregate.
func feedbackCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[feedback.State](feedback.Category, "Feedback", feedback.Commands(), []Spec{
		{
			Command: feedback.SubmitFeedback{}, Roles: FeedbackWriters,
			Routes: []Route{{
				OperationID: "submitFeedback", Path: "/v1/feedback", Creates: true,
				Summary: "Record a customer's feedback (CSAT, NPS, comment)",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c feedback.SubmitFeedback) (feedback.SubmitFeedback, error) {
					return c, allExist(ctx, store,
						ref{customer.Category, c.CustomerID, "customer_id"},
						ref{servicecase.Category, c.CaseID, "case_id"},
						ref{order.Category, c.OrderID, "order_id"},
						ref{campaign.Category, c.CampaignID, "campaign_id"})
				}),
			},
		},
		{
			Command: feedback.WithdrawFeedback{}, Roles: FeedbackWriters,
			Routes: []Route{{
				OperationID: "withdrawFeedback", Path: "/v1/feedback/{id}/withdraw",
				Summary: "Take a feedback out of the statistics",
			}},
		},
	})
}
