package lead

import (
	"slices"

	"github.com/evcrm/evcrm/domain"
)

// commandList holds every command the aggregate decides, once: Decide
// refuses any other command (domain.ErrUnknownCommand), and the command
// catalogue of the application (commands/catalogue_lead.go) must give each
// one its route, roles and retry policy.
var commandList = []domain.Command{
	CaptureLead{},
	QualifyLead{},
	DisqualifyLead{},
	ConvertLead{},
}

// Commands returns a zero value of every command the aggregate decides.
func Commands() []domain.Command { return slices.Clone(commandList) }
