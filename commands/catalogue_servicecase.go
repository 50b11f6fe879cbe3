package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
)

// caseCatalogue declares the commands of the servicecase aggregate.
func caseCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[servicecase.State](servicecase.Category, "Service cases", servicecase.Commands(), []Spec{
		{
			Command: servicecase.OpenCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "openCase", Path: "/v1/cases", Creates: true,
				Summary: "Open a service case",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c servicecase.OpenCase) (servicecase.OpenCase, error) {
					return c, allExist(ctx, store,
						ref{customer.Category, c.CustomerID, "customer_id"},
						ref{order.Category, c.OrderID, "order_id"})
				}),
			},
		},
		{
			Command: servicecase.AssignCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "assignCase", Path: "/v1/cases/{id}/assign",
				Summary: "Assign the case to an agent",
			}},
		},
		{
			Command: servicecase.RecordFirstResponse{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "recordFirstResponse", Path: "/v1/cases/{id}/first-response",
				Summary: "Record the first response to the customer",
			}},
		},
		{
			Command: servicecase.WaitOnCustomer{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "waitOnCustomer", Path: "/v1/cases/{id}/wait",
				Summary: "Wait on the customer (SLA clocks stop)",
			}},
		},
		{
			Command: servicecase.ResumeCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "resumeCase", Path: "/v1/cases/{id}/resume",
				Summary: "Resume after waiting on the customer",
			}},
		},
		{
			Command: servicecase.EscalateCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "escalateCase", Path: "/v1/cases/{id}/escalate",
				Summary: "Escalate the case",
			}},
		},
		{
			Command: servicecase.ResolveCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "resolveCase", Path: "/v1/cases/{id}/resolve",
				Summary: "Record the solution given to the customer",
			}},
		},
		{
			Command: servicecase.CloseCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "closeCase", Path: "/v1/cases/{id}/close",
				Summary: "Close a resolved case",
			}},
		},
		{
			Command: servicecase.ReopenCase{}, Roles: CaseWriters,
			Routes: []Route{{
				OperationID: "reopenCase", Path: "/v1/cases/{id}/reopen",
				Summary: "Reopen a resolved case",
			}},
		},
	})
}
