// Package all links every aggregate package into a binary, so that their
// init functions register their events in domain.Events. Import it for its
// side effect wherever the whole catalogue is needed (event store decoding,
// projections, the event catalogue):
//
//	import _ "github.com/evcrm/evcrm/domain/all"
//
// A new aggregate package is added here; TestEveryAggregateLinked fails
// until it is.
package all

import (
	_ "github.com/evcrm/evcrm/domain/campaign"
	_ "github.com/evcrm/evcrm/domain/complaint"
	_ "github.com/evcrm/evcrm/domain/customer"
	_ "github.com/evcrm/evcrm/domain/feedback"
	_ "github.com/evcrm/evcrm/domain/interaction"
	_ "github.com/evcrm/evcrm/domain/lead"
	_ "github.com/evcrm/evcrm/domain/nonconformity"
	_ "github.com/evcrm/evcrm/domain/opportunity"
	_ "github.com/evcrm/evcrm/domain/order"
	_ "github.com/evcrm/evcrm/domain/servicecase"
)
