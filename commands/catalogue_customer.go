package commands

import (
	"context"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/internal/auth"
)

// customerCatalogue declares the commands of the customer aggregate.
func customerCatalogue(d *Dispatcher, deps Deps) Catalogue {
	store := d.Store()
	return NewCatalogue[customer.State](customer.Category, "Customers", customer.Commands(), []Spec{
		{
			Command: customer.RegisterCustomer{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "registerCustomer", Path: "/v1/customers", Creates: true,
				Summary: "Register a customer",
			}},
		},
		{
			Command: customer.ChangeCustomerDetails{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "changeCustomerDetails", Path: "/v1/customers/{id}/details",
				Summary: "Replace the customer's details",
			}},
			// A whole replacement, composed from the state the client saw: after
			// a concurrent change, deciding again would silently undo it.
			NoRetry: true,
		},
		{
			Command: customer.AddContactPerson{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "addContactPerson", Path: "/v1/customers/{id}/contacts",
				Summary: "Add a contact person", Description: "contact_id is chosen by the client and never reused.",
			}},
		},
		{
			Command: customer.UpdateContactPerson{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "updateContactPerson", Path: "/v1/customers/{id}/contacts/update",
				Summary: "Replace a contact person's data",
			}},
			// A whole replacement, composed from the state the client saw: after
			// a concurrent change, deciding again would silently undo it.
			NoRetry: true,
		},
		{
			Command: customer.RemoveContactPerson{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "removeContactPerson", Path: "/v1/customers/{id}/contacts/remove",
				Summary: "Remove a contact person",
			}},
		},
		{
			Command: customer.AssignCustomerOwner{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "assignCustomerOwner", Path: "/v1/customers/{id}/owner",
				Summary: "Set or clear the account owner",
			}},
		},
		{
			Command: customer.ChangeCustomerSegment{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "changeCustomerSegment", Path: "/v1/customers/{id}/segment",
				Summary: "Set or clear the segment",
			}},
		},
		{
			Command: customer.GiveConsent{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "giveConsent", Path: "/v1/customers/{id}/consents",
				Summary: "Record a consent of the customer or a contact person",
			}},
		},
		{
			Command: customer.WithdrawConsent{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "withdrawConsent", Path: "/v1/customers/{id}/consents/withdraw",
				Summary: "Record the withdrawal of a consent",
			}},
		},
		{
			Command: customer.MergeCustomer{}, Roles: CustomerWriters,
			Routes: []Route{{
				OperationID: "mergeCustomer", Path: "/v1/customers/{id}/merge",
				Summary: "Merge this duplicate into another customer",
			}},
			Options: []Option{
				Enrich(func(ctx context.Context, c customer.MergeCustomer) (customer.MergeCustomer, error) {
					return c, mustExist(ctx, store, customer.Category, c.SurvivorID, "survivor_id")
				}),
			},
		},
		{
			Command: customer.RecordDuplicateMerged{}, Roles: SystemCommands,
			Routes: []Route{{
				OperationID: "recordDuplicateMerged", Path: "/v1/customers/{id}/merged-duplicates",
				Summary: "Record on the survivor that a duplicate was merged into it",
			}},
		},
		{
			Command: customer.RequestErasure{}, Roles: []auth.Role{auth.Admin, auth.Service},
			Routes: []Route{{
				OperationID: "requestErasure", Path: "/v1/customers/{id}/erasure-requests",
				Summary: "Record a data subject's erasure request",
			}},
		},
		{
			// Crypto-shredding (docs/privacy.md): the event store's privacy
			// layer destroys the customer's key before the event is stored.
			Command: customer.EraseCustomer{}, Roles: []auth.Role{auth.Admin},
			Routes: []Route{{
				OperationID: "eraseCustomer", Path: "/v1/customers/{id}/erasure",
				Summary: "Erase the customer's personal data (destroys its key; admin only)",
			}},
		},
	})
}
