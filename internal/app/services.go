package app

import (
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/lifecycle"
	"github.com/evcrm/evcrm/projections"
)

// The background services the app runs keep the one lifecycle contract
// (package internal/lifecycle); the others are functions of that shape
// (App.Go, App.GoOnce under a lease).
var (
	_ lifecycle.Service = (*projections.Runtime)(nil)
	_ lifecycle.Service = (*bus.Bus)(nil)
	_ lifecycle.Service = (*auditlog.Builder)(nil)
)
