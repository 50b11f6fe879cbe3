package order

import (
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/requirement"
)

// Every event carries the order's and its customer's IDs and At, the
// decision time, so the status history and the customer's timeline can be
// built from the events alone.

// OrderPlaced: an order was received (revision 1 of its lines). With an
// OpportunityID, OpportunityReview is the opportunity's approved
// requirements review the order relies on.
type OrderPlaced struct {
	OrderID           uuid.UUID           `json:"order_id"`
	CustomerID        uuid.UUID           `json:"customer_id"`
	OpportunityID     uuid.UUID           `json:"opportunity_id,omitzero"`
	OpportunityReview *requirement.Review `json:"opportunity_review,omitempty"`
	CustomerReference string              `json:"customer_reference,omitempty"` // the customer's PO number
	Lines             []PricedLine        `json:"lines"`
	Total             domain.Money        `json:"total"`
	RequestedDelivery time.Time           `json:"requested_delivery,omitzero"` // a date (UTC midnight)
	Revision          int                 `json:"revision"`
	At                time.Time           `json:"at"`
}

// OrderAmended: before confirmation, the order's lines or terms changed; the
// new revision needs a review of its own (ISO 9001 8.2.4).
type OrderAmended struct {
	OrderID           uuid.UUID    `json:"order_id"`
	CustomerID        uuid.UUID    `json:"customer_id"`
	Revision          int          `json:"revision"`
	CustomerReference string       `json:"customer_reference,omitempty"`
	Lines             []PricedLine `json:"lines"`
	Total             domain.Money `json:"total"`
	RequestedDelivery time.Time    `json:"requested_delivery,omitzero"`
	Reason            string       `json:"reason"`
	At                time.Time    `json:"at"`
}

// OrderReviewed: a revision of the order was reviewed before confirmation
// (ISO 9001 8.2.3).
type OrderReviewed struct {
	OrderID    uuid.UUID          `json:"order_id"`
	CustomerID uuid.UUID          `json:"customer_id"`
	Revision   int                `json:"revision"`
	Reviewer   string             `json:"reviewer"`
	Result     requirement.Result `json:"result"`
	OpenPoints []string           `json:"open_points,omitempty"`
	At         time.Time          `json:"at"`
}

// Review sources, for OrderConfirmed.ReviewSource.
const (
	ReviewByOpportunity = "opportunity" // the won opportunity's review, recorded on OrderPlaced
	ReviewByOrder       = "order"       // the order's own OrderReviewed
)

// OrderConfirmed: the organisation committed to supply the order, on the
// basis of Review.
type OrderConfirmed struct {
	OrderID          uuid.UUID          `json:"order_id"`
	CustomerID       uuid.UUID          `json:"customer_id"`
	Revision         int                `json:"revision"`
	Total            domain.Money       `json:"total"`
	PromisedDelivery time.Time          `json:"promised_delivery,omitzero"` // a date (UTC midnight)
	ReviewSource     string             `json:"review_source"`
	Review           requirement.Review `json:"review"`
	At               time.Time          `json:"at"`
}

// OrderProductionStarted: production of a confirmed order started.
type OrderProductionStarted struct {
	OrderID    uuid.UUID `json:"order_id"`
	CustomerID uuid.UUID `json:"customer_id"`
	At         time.Time `json:"at"`
}

// OrderShipped: the order left for the customer.
type OrderShipped struct {
	OrderID     uuid.UUID `json:"order_id"`
	CustomerID  uuid.UUID `json:"customer_id"`
	Carrier     string    `json:"carrier,omitempty"`
	TrackingRef string    `json:"tracking_ref,omitempty"`
	At          time.Time `json:"at"`
}

// OrderDelivered: the customer received the order.
type OrderDelivered struct {
	OrderID    uuid.UUID `json:"order_id"`
	CustomerID uuid.UUID `json:"customer_id"`
	ReceivedBy string    `json:"received_by,omitempty"`
	At         time.Time `json:"at"`
}

// OrderCancelled: the order was cancelled before shipping.
type OrderCancelled struct {
	OrderID        uuid.UUID `json:"order_id"`
	CustomerID     uuid.UUID `json:"customer_id"`
	PreviousStatus Status    `json:"previous_status"`
	Reason         string    `json:"reason"`
	At             time.Time `json:"at"`
}

func (OrderPlaced) EventType() string            { return "OrderPlaced" }
func (OrderAmended) EventType() string           { return "OrderAmended" }
func (OrderReviewed) EventType() string          { return "OrderReviewed" }
func (OrderConfirmed) EventType() string         { return "OrderConfirmed" }
func (OrderProductionStarted) EventType() string { return "OrderProductionStarted" }
func (OrderShipped) EventType() string           { return "OrderShipped" }
func (OrderDelivered) EventType() string         { return "OrderDelivered" }
func (OrderCancelled) EventType() string         { return "OrderCancelled" }

func init() {
	domain.Events.Register(
		domain.Registration{Event: OrderPlaced{}, Aggregate: Category,
			Doc: "An order was received with priced lines and total, from a won opportunity (with the review it relies on) or directly."},
		domain.Registration{Event: OrderAmended{}, Aggregate: Category,
			Doc: "Before confirmation an order's lines or terms changed; the new revision needs its own review (ISO 9001 8.2.4)."},
		domain.Registration{Event: OrderReviewed{}, Aggregate: Category,
			Doc: "A revision of an order was reviewed before confirmation: reviewer, result, open points (ISO 9001 8.2.3)."},
		domain.Registration{Event: OrderConfirmed{}, Aggregate: Category,
			Doc: "The organisation committed to supply the order, on the basis of the recorded requirements review."},
		domain.Registration{Event: OrderProductionStarted{}, Aggregate: Category, Doc: "Production of a confirmed order started."},
		domain.Registration{Event: OrderShipped{}, Aggregate: Category, Doc: "An order was shipped, with carrier and tracking reference if known."},
		domain.Registration{Event: OrderDelivered{}, Aggregate: Category, Doc: "An order was delivered to the customer."},
		domain.Registration{Event: OrderCancelled{}, Aggregate: Category, Doc: "An order was cancelled before shipping, with the reason."},
	)
}
