package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
)

// nonconformityCatalogue declares the commands of the nonconformity aggregate.
func nonconformityCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[nonconformity.State](nonconformity.Category, "Nonconformities", nonconformity.Commands(), []Spec{
		{
			Command: nonconformity.RaiseNonconformity{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "raiseNonconformity", Path: "/v1/nonconformities", Creates: true,
				Summary: "Record a nonconformity (ISO 9001 10.2)",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c nonconformity.RaiseNonconformity) (nonconformity.RaiseNonconformity, error) {
					if c.Source == nonconformity.SourceComplaint {
						if err := mustExist(ctx, store, complaint.Category, c.SourceID, "source_id"); err != nil {
							return c, err
						}
					}
					return c, allExist(ctx, store,
						ref{customer.Category, c.CustomerID, "customer_id"},
						ref{order.Category, c.OrderID, "order_id"},
						ref{servicecase.Category, c.CaseID, "case_id"})
				}),
			},
		},
		{
			Command: nonconformity.StartNonconformityAnalysis{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "startNonconformityAnalysis", Path: "/v1/nonconformities/{id}/analysis",
				Summary: "Name the analyst and start the analysis",
			}},
		},
		{
			Command: nonconformity.RecordImmediateAction{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "recordImmediateAction", Path: "/v1/nonconformities/{id}/immediate-actions",
				Summary: "Record a correction or containment done at once",
			}},
		},
		{
			Command: nonconformity.RecordRootCause{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "recordRootCause", Path: "/v1/nonconformities/{id}/root-cause",
				Summary: "Record or revise the root cause",
			}},
		},
		{
			Command: nonconformity.PlanCorrectiveAction{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "planCorrectiveAction", Path: "/v1/nonconformities/{id}/actions",
				Summary: "Add a corrective action to the plan", Description: "action_id is chosen by the client, so the request can be retried.",
			}},
		},
		{
			Command: nonconformity.ApproveActionPlan{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "approveActionPlan", Path: "/v1/nonconformities/{id}/action-plan/approve",
				Summary: "Approve the action plan",
			}},
		},
		{
			Command: nonconformity.CompleteCorrectiveAction{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "completeCorrectiveAction", Path: "/v1/nonconformities/{id}/actions/complete",
				Summary: "Record that a corrective action was done",
			}},
		},
		{
			Command: nonconformity.ReopenCorrectiveAction{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "reopenCorrectiveAction", Path: "/v1/nonconformities/{id}/actions/reopen",
				Summary: "Reopen a corrective action that proved insufficient",
			}},
		},
		{
			Command: nonconformity.VerifyEffectiveness{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "verifyEffectiveness", Path: "/v1/nonconformities/{id}/effectiveness",
				Summary: "Record the effectiveness review",
			}},
		},
		{
			Command: nonconformity.CloseNonconformity{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "closeNonconformity", Path: "/v1/nonconformities/{id}/close",
				Summary: "Close the nonconformity",
			}},
		},
	})
}
