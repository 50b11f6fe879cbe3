package customer

import (
	"slices"

	"github.com/evcrm/evcrm/domain"
)

// commandList holds every command the aggregate decides, once: Decide
// refuses any other command (domain.ErrUnknownCommand), and the command
// catalogue of the application (commands/catalogue_customer.go) must give each
// one its route, roles and retry policy.
var commandList = []domain.Command{
	RegisterCustomer{},
	ChangeCustomerDetails{},
	AddContactPerson{},
	UpdateContactPerson{},
	RemoveContactPerson{},
	AssignCustomerOwner{},
	ChangeCustomerSegment{},
	GiveConsent{},
	WithdrawConsent{},
	MergeCustomer{},
	RecordDuplicateMerged{},
	RequestErasure{},
	EraseCustomer{},
}

// Commands returns a zero value of every command the aggregate decides.
func Commands() []domain.Command { return slices.Clone(commandList) }
