package commands

import "github.com/evcrm/evcrm/internal/auth"

// Who may send which commands (Spec.Roles). Auditors and analysts send none.
var (
	CustomerWriters    = []auth.Role{auth.Admin, auth.Sales, auth.Service, auth.Marketing}
	InteractionWriters = []auth.Role{auth.Admin, auth.Sales, auth.Service, auth.Marketing}
	CampaignWriters    = []auth.Role{auth.Admin, auth.Marketing}
	LeadWriters        = []auth.Role{auth.Admin, auth.Marketing, auth.Sales}
	OpportunityWriters = []auth.Role{auth.Admin, auth.Sales}
	OrderWriters       = []auth.Role{auth.Admin, auth.Sales}
	OrderFulfilment    = []auth.Role{auth.Admin, auth.Sales, auth.Service}
	CaseWriters        = []auth.Role{auth.Admin, auth.Service}
	ComplaintWriters   = []auth.Role{auth.Admin, auth.Service, auth.Quality}
	FeedbackWriters    = []auth.Role{auth.Admin, auth.Service, auth.Marketing, auth.Quality}
	QualityWriters     = []auth.Role{auth.Admin, auth.Quality}
	// SystemCommands are normally sent by evcrm's own process managers
	// (SLA watcher, merge follow-up); admins may send them by hand.
	SystemCommands = []auth.Role{auth.Admin}
)
