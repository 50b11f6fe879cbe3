package order

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain/requirement"
)

// PlaceOrder records a new order; OrderID is chosen by the caller.
//
// From a won opportunity: set OpportunityID and OpportunityReview. An
// aggregate cannot read another, so the command handler loads the
// opportunity, calls opportunity.State.CheckOrderable (won, current
// requirements approved), copies the review it returns into
// OpportunityReview, and appends the order; the order records the review it
// relied on, and can be confirmed on that basis while its lines stay at
// revision 1.
//
// Directly (no OpportunityID): the order needs its own ReviewOrder, with
// an approved result, before it can be confirmed.
type PlaceOrder struct {
	OrderID           uuid.UUID           `json:"order_id"`
	CustomerID        uuid.UUID           `json:"customer_id"`
	OpportunityID     uuid.UUID           `json:"opportunity_id,omitzero"`
	OpportunityReview *requirement.Review `json:"opportunity_review,omitempty"`
	CustomerReference string              `json:"customer_reference,omitempty"`
	Lines             []Line              `json:"lines"`
	RequestedDelivery time.Time           `json:"requested_delivery,omitzero"`
}

// AmendOrder replaces the lines and terms of an order not yet confirmed.
type AmendOrder struct {
	OrderID           uuid.UUID `json:"order_id"`
	CustomerReference string    `json:"customer_reference,omitempty"`
	Lines             []Line    `json:"lines"`
	RequestedDelivery time.Time `json:"requested_delivery,omitzero"`
	Reason            string    `json:"reason"`
}

// ReviewOrder records the review of the order's current revision.
type ReviewOrder struct {
	OrderID    uuid.UUID          `json:"order_id"`
	Revision   int                `json:"revision"`
	Reviewer   string             `json:"reviewer"`
	Result     requirement.Result `json:"result"`
	OpenPoints []string           `json:"open_points,omitempty"`
}

// ConfirmOrder commits to supply a placed order whose current revision has
// a positive review.
type ConfirmOrder struct {
	OrderID          uuid.UUID `json:"order_id"`
	PromisedDelivery time.Time `json:"promised_delivery,omitzero"`
}

// StartOrderProduction records that production of a confirmed order started.
type StartOrderProduction struct {
	OrderID uuid.UUID `json:"order_id"`
}

// ShipOrder records that a confirmed (or in-production) order was shipped.
type ShipOrder struct {
	OrderID     uuid.UUID `json:"order_id"`
	Carrier     string    `json:"carrier,omitempty"`
	TrackingRef string    `json:"tracking_ref,omitempty"`
}

// DeliverOrder records that a shipped order was delivered.
type DeliverOrder struct {
	OrderID    uuid.UUID `json:"order_id"`
	ReceivedBy string    `json:"received_by,omitempty"`
}

// CancelOrder cancels an order that has not been shipped.
type CancelOrder struct {
	OrderID uuid.UUID `json:"order_id"`
	Reason  string    `json:"reason"`
}

func (PlaceOrder) CommandType() string           { return "PlaceOrder" }
func (AmendOrder) CommandType() string           { return "AmendOrder" }
func (ReviewOrder) CommandType() string          { return "ReviewOrder" }
func (ConfirmOrder) CommandType() string         { return "ConfirmOrder" }
func (StartOrderProduction) CommandType() string { return "StartOrderProduction" }
func (ShipOrder) CommandType() string            { return "ShipOrder" }
func (DeliverOrder) CommandType() string         { return "DeliverOrder" }
func (CancelOrder) CommandType() string          { return "CancelOrder" }

func (c PlaceOrder) AggregateID() uuid.UUID           { return c.OrderID }
func (c AmendOrder) AggregateID() uuid.UUID           { return c.OrderID }
func (c ReviewOrder) AggregateID() uuid.UUID          { return c.OrderID }
func (c ConfirmOrder) AggregateID() uuid.UUID         { return c.OrderID }
func (c StartOrderProduction) AggregateID() uuid.UUID { return c.OrderID }
func (c ShipOrder) AggregateID() uuid.UUID            { return c.OrderID }
func (c DeliverOrder) AggregateID() uuid.UUID         { return c.OrderID }
func (c CancelOrder) AggregateID() uuid.UUID          { return c.OrderID }
