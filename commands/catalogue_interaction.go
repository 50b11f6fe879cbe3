package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/lead"
)

// interactionCatalogue declares the commands of the interaction aggregate.
func interactionCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[interaction.State](interaction.Category, "Interactions", interaction.Commands(), []Spec{
		{
			Command: interaction.LogInteraction{}, Roles: InteractionWriters,
			Routes: []Route{{
				OperationID: "logCustomerInteraction", Path: "/v1/customers/{id}/interactions", PathField: "customer_id", Creates: true,
				Summary: "Log an interaction with a customer", Description: "A call, email, meeting, chat, visit or letter (ISO 9001 8.2.1).",
			}, {
				OperationID: "logInteraction", Path: "/v1/interactions", Creates: true,
				Summary: "Log an interaction with a lead or customer",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c interaction.LogInteraction) (interaction.LogInteraction, error) {
					if err := mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id"); err != nil {
						return c, err
					}
					return c, mustExist(ctx, store, lead.Category, c.LeadID, "lead_id")
				}),
			},
		},
		{
			Command: interaction.CorrectInteraction{}, Roles: InteractionWriters,
			Routes: []Route{{
				OperationID: "correctInteraction", Path: "/v1/interactions/{id}/corrections",
				Summary: "Correct a logged interaction", Description: "The correction carries the full content and a reason; the original stays in the history.",
			}},
			NoRetry: true, // a whole replacement
		},
	})
}
