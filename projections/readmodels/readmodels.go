// Package readmodels lists evcrm's read models, for the server, the CLI
// and the benchmarks.
package readmodels

import (
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/analytics"
	"github.com/evcrm/evcrm/projections/customer360"
	"github.com/evcrm/evcrm/projections/objectives"
	"github.com/evcrm/evcrm/projections/pipeline"
	"github.com/evcrm/evcrm/projections/quality"
	"github.com/evcrm/evcrm/projections/service"
)

// Names of the read models, as used by WaitFor, the CLI and the metrics.
const (
	Pipeline  = pipeline.Name
	Service   = service.Name
	Quality   = quality.Name
	Customer  = customer360.Name
	Analytics = analytics.Name
	// Objectives are the quality objectives and their targets.
	Objectives = objectives.Name
)

// All returns every read model's projection.
func All() []projections.Projection {
	return []projections.Projection{
		pipeline.Projection{},
		service.Projection{},
		quality.Projection{},
		customer360.Projection{},
		analytics.Projection{},
		objectives.Projection{},
	}
}
