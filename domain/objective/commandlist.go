package objective

import (
	"slices"
	"strconv"

	"github.com/evcrm/evcrm/domain"
)

// commandList holds every command the aggregate decides, once: Decide
// refuses any other command (domain.ErrUnknownCommand), and the command
// catalogue of the application (commands/catalogue_objective.go) must give
// each one its route, roles and retry policy.
var commandList = []domain.Command{
	SetObjective{},
	ChangeObjectiveTarget{},
	RetireObjective{},
}

// Commands returns a zero value of every command the aggregate decides.
func Commands() []domain.Command { return slices.Clone(commandList) }

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
