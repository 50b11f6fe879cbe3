package main

import (
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/process"
)

// The message bus's forwarder checkpoints and the process managers' state
// (serve also creates them if needed).
func init() {
	migrationSteps = append(migrationSteps,
		migrationStep{Name: "bus", Run: bus.Migrate},
		migrationStep{Name: "process", Run: process.Migrate},
	)
}
