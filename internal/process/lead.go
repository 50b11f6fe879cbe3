package process

import (
	"context"
	"log/slog"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/bus"
)

// LeadConversionActor is the principal the lead conversion sends commands as.
const LeadConversionActor = "system:lead-conversion"

// LeadConversionHandler is the permanent handler name of the lead conversion.
const LeadConversionHandler = "process.lead-conversion"

// LeadConversion reacts to LeadConverted: it registers the customer (unless
// the lead was converted into an existing one) and opens the opportunity,
// with the IDs the event carries. Each command's ID is derived from
// "lead-conversion/<lead id>/customer" or ".../opportunity", and its
// causation is the event, so delivering LeadConverted twice opens each
// aggregate once.
//
// The customer is registered and confirmed before the opportunity is
// opened (the opportunity requires its customer), so the order holds on a
// broker too.
type LeadConversion struct {
	sender Sender
	log    *slog.Logger
}

// NewLeadConversion returns the lead conversion process manager.
func NewLeadConversion(sender Sender, logger *slog.Logger) *LeadConversion {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LeadConversion{sender: sender, log: logger}
}

// Register subscribes the process manager to lead events on the bus.
func (p *LeadConversion) Register(b *bus.Bus) error {
	return b.AddEventHandlers(LeadConversionHandler, lead.Category, bus.NewEventHandler(p.Handle))
}

// Handle handles one LeadConverted event.
func (p *LeadConversion) Handle(ctx context.Context, e lead.LeadConverted, env eventstore.RecordedEvent) error {
	key := "lead-conversion/" + e.LeadID.String() + "/"
	what := "lead conversion of " + e.LeadID.String()
	if !e.ExistingCustomer {
		if err := sendCreation(ctx, p.sender, p.log, CustomerFromLead(e), reaction(LeadConversionActor, key+"customer", env, e.At), customer.ErrAlreadyExists, what); err != nil {
			return err
		}
	}
	return sendCreation(ctx, p.sender, p.log, opportunity.OpenOpportunity{
		OpportunityID: e.OpportunityID,
		CustomerID:    e.CustomerID,
		LeadID:        e.LeadID,
		Name:          e.OpportunityName,
		Amount:        e.Amount,
		ExpectedClose: e.ExpectedClose,
		OwnerID:       e.OwnerID,
	}, reaction(LeadConversionActor, key+"opportunity", env, e.At), opportunity.ErrAlreadyExists, what)
}

// CustomerFromLead is the customer a converted lead becomes: an
// organisation named after the company if there is one, else a person.
func CustomerFromLead(e lead.LeadConverted) customer.RegisterCustomer {
	d := customer.Details{Kind: customer.KindPerson, DisplayName: e.ContactName}
	if e.CompanyName != "" {
		d = customer.Details{Kind: customer.KindOrganisation, DisplayName: e.CompanyName, LegalName: e.CompanyName}
	}
	if e.Email != "" {
		d.Emails = []string{e.Email}
	}
	if e.Phone != "" {
		d.Phones = []string{e.Phone}
	}
	return customer.RegisterCustomer{CustomerID: e.CustomerID, Details: d, OwnerID: e.OwnerID}
}
