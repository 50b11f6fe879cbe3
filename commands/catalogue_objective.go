package commands

import "github.com/evcrm/evcrm/domain/objective"

// objectiveCatalogue declares the commands of the quality objective
// aggregate: the quality manager (and admins) set them.
func objectiveCatalogue(*Dispatcher, Deps) Catalogue {
	return NewCatalogue[objective.State](objective.Category, "Quality objectives", objective.Commands(), []Spec{
		{
			Command: objective.SetObjective{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "setObjective", Path: "/v1/quality/objectives", Creates: true,
				Summary:     "Set a quality objective",
				Description: "A metric (from a fixed list), a comparator and a target, evaluated per month or quarter from effective_from on (ISO 9001 6.2). GET /v1/quality/objectives shows actual against target.",
			}},
		},
		{
			Command: objective.ChangeObjectiveTarget{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "changeObjectiveTarget", Path: "/v1/quality/objectives/{id}/target",
				Summary:     "Revise an objective's target from a period on",
				Description: "Periods before effective_from keep the target they had.",
			}},
		},
		{
			Command: objective.RetireObjective{}, Roles: QualityWriters,
			Routes: []Route{{
				OperationID: "retireObjective", Path: "/v1/quality/objectives/{id}/retire",
				Summary: "Retire an objective",
			}},
		},
	})
}
