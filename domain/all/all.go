// Package all links every aggregate package into a binary, so that their
// init functions register their events in domain.Events. Import it for its
// side effect wherever the whole catalogue is needed (event store decoding,
// projections, the event catalogue):
//
//	import _ "github.com/evcrm/evcrm/domain/all"
//
// A new aggregate package is added here and to Aggregates;
// TestEveryAggregateLinked fails until it is.
package all

import (
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/access"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/domain/objective"
	_ "github.com/evcrm/evcrm/domain/operations" // operators' events: no aggregate decides them
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
)

// Aggregate describes one aggregate type of the domain.
type Aggregate struct {
	Category string                // stream category, e.g. "case"
	Commands []domain.Command      // a zero value of every command it decides
	New      func() domain.Decider // a zero State: an aggregate that does not exist yet
}

// Aggregates lists every aggregate of the domain.
func Aggregates() []Aggregate {
	return []Aggregate{
		{customer.Category, customer.Commands(), func() domain.Decider { return new(customer.State) }},
		{interaction.Category, interaction.Commands(), func() domain.Decider { return new(interaction.State) }},
		{campaign.Category, campaign.Commands(), func() domain.Decider { return new(campaign.State) }},
		{lead.Category, lead.Commands(), func() domain.Decider { return new(lead.State) }},
		{opportunity.Category, opportunity.Commands(), func() domain.Decider { return new(opportunity.State) }},
		{order.Category, order.Commands(), func() domain.Decider { return new(order.State) }},
		{servicecase.Category, servicecase.Commands(), func() domain.Decider { return new(servicecase.State) }},
		{complaint.Category, complaint.Commands(), func() domain.Decider { return new(complaint.State) }},
		{feedback.Category, feedback.Commands(), func() domain.Decider { return new(feedback.State) }},
		{nonconformity.Category, nonconformity.Commands(), func() domain.Decider { return new(nonconformity.State) }},
		{access.Category, access.Commands(), func() domain.Decider { return new(access.State) }},
		{objective.Category, objective.Commands(), func() domain.Decider { return new(objective.State) }},
	}
}
