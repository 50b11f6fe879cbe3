package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/order"
)

// orderCatalogue declares the commands of the order aggregate.
func orderCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[order.State](order.Category, "Orders", order.Commands(), []Spec{
		{
			Command: order.PlaceOrder{}, Roles: OrderWriters,
			Routes: []Route{{
				OperationID: "placeOrder", Path: "/v1/orders", Creates: true,
				Hidden:  []string{"opportunity_review"},
				Summary: "Place an order",
				Description: "From a won opportunity (opportunity_id): refused unless its current requirements were reviewed and approved; " +
					"the order records that review. Directly (no opportunity_id): the order needs its own review before confirmation.",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c order.PlaceOrder) (order.PlaceOrder, error) {
					return placeOrderFacts(ctx, store, d.Config().Registry, c)
				}),
			},
		},
		{
			Command: order.AmendOrder{}, Roles: OrderWriters,
			Routes: []Route{{
				OperationID: "amendOrder", Path: "/v1/orders/{id}/amend",
				Summary: "Replace the lines and terms of an order not yet confirmed",
			}},
			NoRetry: true, // a whole replacement
		},
		{
			Command: order.ReviewOrder{}, Roles: OrderWriters,
			Routes: []Route{{
				OperationID: "reviewOrder", Path: "/v1/orders/{id}/review",
				Summary: "Record the review of the order's current revision (ISO 9001 8.2.3)",
			}},
		},
		{
			Command: order.ConfirmOrder{}, Roles: OrderWriters,
			Routes: []Route{{
				OperationID: "confirmOrder", Path: "/v1/orders/{id}/confirm",
				Summary: "Commit to supply the order",
			}},
		},
		{
			Command: order.StartOrderProduction{}, Roles: OrderFulfilment,
			Routes: []Route{{
				OperationID: "startOrderProduction", Path: "/v1/orders/{id}/production",
				Summary: "Record that production started",
			}},
		},
		{
			Command: order.ShipOrder{}, Roles: OrderFulfilment,
			Routes: []Route{{
				OperationID: "shipOrder", Path: "/v1/orders/{id}/ship",
				Summary: "Record that the order was shipped",
			}},
		},
		{
			Command: order.DeliverOrder{}, Roles: OrderFulfilment,
			Routes: []Route{{
				OperationID: "deliverOrder", Path: "/v1/orders/{id}/deliver",
				Summary: "Record that the order was delivered",
			}},
		},
		{
			Command: order.CancelOrder{}, Roles: OrderWriters,
			Routes: []Route{{
				OperationID: "cancelOrder", Path: "/v1/orders/{id}/cancel",
				Summary: "Cancel an order that has not been shipped",
			}},
		},
	})
}
