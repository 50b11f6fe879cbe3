package commands

import (
	"context"
	"strconv"

	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/internal/tenant"
)

// complaintCatalogue declares the commands of the complaint aggregate.
func complaintCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store, clock := d.Store(), d.Config().Clock
	return NewCatalogue[complaint.State](complaint.Category, "Complaints", complaint.Commands(), []Spec{
		{
			Command: complaint.ReceiveComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "receiveComplaint", Path: "/v1/complaints", Creates: true,
				Optional: []string{"reference", "acknowledge_within"},
				Summary:  "Record a complaint (ISO 10002)",
				Description: "Without reference the server allocates the next CMP-YYYY-NNNNNN; without acknowledge_within " +
					"the organisation's acknowledgement target applies.",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c complaint.ReceiveComplaint) (complaint.ReceiveComplaint, error) {
					if err := allExist(ctx, store,
						ref{customer.Category, c.CustomerID, "customer_id"},
						ref{order.Category, c.OrderID, "order_id"},
						ref{servicecase.Category, c.CaseID, "case_id"}); err != nil {
						return c, err
					}
					if c.AcknowledgeWithin.Minutes == 0 {
						c.AcknowledgeWithin = deps.ComplaintAcknowledgeWithin
					}
					if c.Reference == "" {
						// One number per year; a failed command leaves a gap.
						year := clock().UTC().Year()
						t, _ := tenant.FromContext(ctx)
						n, err := deps.Sequences.Next(ctx, t, "complaint/"+strconv.Itoa(year))
						if err != nil {
							return c, err
						}
						c.Reference = complaint.FormatReference(year, n)
					}
					return c, nil
				}),
			},
		},
		{
			Command: complaint.AcknowledgeComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "acknowledgeComplaint", Path: "/v1/complaints/{id}/acknowledge",
				Summary: "Record that the customer was told the complaint is being handled",
			}},
		},
		{
			Command: complaint.FlagAcknowledgementOverdue{}, Roles: SystemCommands,
			Routes: []Route{{
				OperationID: "flagComplaintAcknowledgementOverdue", Path: "/v1/complaints/{id}/acknowledgement-overdue",
				Summary: "Flag a missed acknowledgement deadline (SLA watcher)",
			}},
		},
		{
			Command: complaint.AssessComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "assessComplaint", Path: "/v1/complaints/{id}/assess",
				Summary: "Assess severity and urgency",
			}},
		},
		{
			Command: complaint.RecordInvestigation{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "recordComplaintInvestigation", Path: "/v1/complaints/{id}/investigation",
				Summary: "Record the root cause and findings",
			}},
		},
		{
			Command: complaint.RespondToComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "respondToComplaint", Path: "/v1/complaints/{id}/response",
				Summary: "Record the decision communicated to the customer",
			}},
		},
		{
			Command: complaint.CloseComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "closeComplaint", Path: "/v1/complaints/{id}/close",
				Summary: "Close the complaint, recording whether the customer was satisfied",
			}},
		},
		{
			Command: complaint.EscalateComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "escalateComplaint", Path: "/v1/complaints/{id}/escalate",
				Summary: "Refer the complaint to a higher level",
			}},
		},
		{
			Command: complaint.RaiseNonconformityFromComplaint{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "raiseNonconformityFromComplaint", Path: "/v1/complaints/{id}/nonconformities",
				Summary: "Link a new nonconformity to the complaint",
			}},
		},
		{
			Command: complaint.ReopenComplaint{}, Roles: ComplaintWriters,
			Routes: []Route{{
				OperationID: "reopenComplaint", Path: "/v1/complaints/{id}/reopen",
				Summary: "Reopen a closed complaint",
			}},
		},
	})
}
