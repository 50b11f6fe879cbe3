package order_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/requirement"
)

var (
	id       = uuid.MustParse("0dde0000-0000-4000-8000-000000000001")
	customer = uuid.MustParse("0dde0000-0000-4000-8000-0000000000c1")
	opp      = uuid.MustParse("0dde0000-0000-4000-8000-0000000000b1")
	now      = domaintest.Now
	reviewed = now.Add(-48 * time.Hour)
	may15    = time.Date(2025, 5, 15, 0, 0, 0, 0, time.UTC)
	may20    = time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)
	eur      = func(minor int64) domain.Money { return domain.Money{Amount: minor, Currency: "EUR"} }
)

var (
	lines = []order.Line{
		{ProductID: "PUMP-200", Description: "Dosing pump", Quantity: 2, UnitPrice: eur(1_250_00)},
		{ProductID: "SVC-INST", Quantity: 1, UnitPrice: eur(400_00)},
	}
	priced = []order.PricedLine{
		{Line: lines[0], Total: eur(2_500_00)},
		{Line: lines[1], Total: eur(400_00)},
	}
	lines2  = []order.Line{{ProductID: "PUMP-200", Description: "Dosing pump", Quantity: 3, UnitPrice: eur(1_250_00)}}
	priced2 = []order.PricedLine{{Line: lines2[0], Total: eur(3_750_00)}}

	oppReview = requirement.Review{Revision: 2, Reviewer: "qa.lena", Result: requirement.Approved, At: reviewed}

	placedDirect = order.OrderPlaced{OrderID: id, CustomerID: customer, CustomerReference: "PO-4711", Lines: priced, Total: eur(2_900_00),
		RequestedDelivery: may15, Revision: 1, At: now}
	placedFromOpp = order.OrderPlaced{OrderID: id, CustomerID: customer, OpportunityID: opp, OpportunityReview: &oppReview,
		CustomerReference: "PO-4711", Lines: priced, Total: eur(2_900_00), RequestedDelivery: may15, Revision: 1, At: now}
	amended = order.OrderAmended{OrderID: id, CustomerID: customer, Revision: 2, CustomerReference: "PO-4711", Lines: priced2, Total: eur(3_750_00),
		RequestedDelivery: may15, Reason: "customer wants a third pump", At: now}
	approved1 = order.OrderReviewed{OrderID: id, CustomerID: customer, Revision: 1, Reviewer: "qa.lena", Result: requirement.Approved, At: now}
	rejected1 = order.OrderReviewed{OrderID: id, CustomerID: customer, Revision: 1, Reviewer: "qa.lena", Result: requirement.Rejected,
		OpenPoints: []string{"installation date not feasible"}, At: now}
	approved2  = order.OrderReviewed{OrderID: id, CustomerID: customer, Revision: 2, Reviewer: "qa.lena", Result: requirement.Approved, At: now}
	confirmed  = order.OrderConfirmed{OrderID: id, CustomerID: customer, Revision: 1, Total: eur(2_900_00), PromisedDelivery: may20, ReviewSource: order.ReviewByOrder, Review: requirement.Review{Revision: 1, Reviewer: "qa.lena", Result: requirement.Approved, At: now}, At: now}
	production = order.OrderProductionStarted{OrderID: id, CustomerID: customer, At: now}
	shipped    = order.OrderShipped{OrderID: id, CustomerID: customer, Carrier: "DHL", TrackingRef: "JD0123", At: now}
	delivered  = order.OrderDelivered{OrderID: id, CustomerID: customer, ReceivedBy: "goods-in, J. Weber", At: now}
)

func given(events ...domain.Event) []domain.Event { return events }

func TestPlace(t *testing.T) {
	direct := order.PlaceOrder{OrderID: id, CustomerID: customer, CustomerReference: " PO-4711 ", Lines: lines,
		RequestedDelivery: time.Date(2025, 5, 15, 16, 0, 0, 0, time.UTC)}
	fromOpp := direct
	fromOpp.OpportunityID, fromOpp.OpportunityReview = opp, &oppReview
	rejectedReview := oppReview
	rejectedReview.Result, rejectedReview.OpenPoints = requirement.Rejected, []string{"x"}
	mixed := []order.Line{lines[0], {ProductID: "X", Quantity: 1, UnitPrice: domain.Money{Amount: 1, Currency: "USD"}}}
	huge := []order.Line{{ProductID: "X", Quantity: 10, UnitPrice: eur(domain.MaxAmountMinor / 5)}}
	hugeSum := []order.Line{{ProductID: "X", Quantity: 1, UnitPrice: eur(domain.MaxAmountMinor - 1)}, {ProductID: "Y", Quantity: 1, UnitPrice: eur(2)}}
	tooBig := []order.Line{{ProductID: "X", Quantity: 1, UnitPrice: eur(math.MaxInt64)}}
	domaintest.Run[order.State](t, []domaintest.Case{
		{Name: "Direct", When: direct, Then: given(placedDirect)},
		{Name: "FromWonOpportunity", When: fromOpp, Then: given(placedFromOpp)},
		{Name: "Twice", Given: given(placedDirect), When: direct, Err: order.ErrAlreadyExists},
		{Name: "Empty", When: order.PlaceOrder{}, Invalid: []string{"order_id", "customer_id", "lines"}},
		{Name: "OpportunityWithoutReview", When: order.PlaceOrder{OrderID: id, CustomerID: customer, OpportunityID: opp, Lines: lines},
			Invalid: []string{"opportunity_review"}},
		{Name: "ReviewWithoutOpportunity", When: order.PlaceOrder{OrderID: id, CustomerID: customer, OpportunityReview: &oppReview, Lines: lines},
			Invalid: []string{"opportunity_review"}},
		{Name: "OpportunityReviewRejected", When: order.PlaceOrder{OrderID: id, CustomerID: customer, OpportunityID: opp, OpportunityReview: &rejectedReview, Lines: lines},
			Invalid: []string{"opportunity_review.result"}},
		{Name: "OpportunityReviewIncomplete", When: order.PlaceOrder{OrderID: id, CustomerID: customer, OpportunityID: opp,
			OpportunityReview: &requirement.Review{Result: requirement.Approved}, Lines: lines},
			Invalid: []string{"opportunity_review.revision", "opportunity_review.reviewer", "opportunity_review.at"}},
		{Name: "BadLines", When: order.PlaceOrder{OrderID: id, CustomerID: customer, Lines: []order.Line{
			{Quantity: 0, UnitPrice: domain.Money{Amount: -1, Currency: "EUR"}},
			{ProductID: "X", Description: "a\nb", Quantity: order.MaxQuantity + 1, UnitPrice: eur(1)},
		}}, Invalid: []string{"lines[0].product_id", "lines[0].quantity", "lines[0].unit_price.amount_minor", "lines[1].description", "lines[1].quantity"}},
		{Name: "MixedCurrencies", When: order.PlaceOrder{OrderID: id, CustomerID: customer, Lines: mixed}, Invalid: []string{"lines[1].unit_price.currency"}},
		{Name: "LineOverflow", When: order.PlaceOrder{OrderID: id, CustomerID: customer, Lines: huge}, Invalid: []string{"lines[0]"}},
		{Name: "TotalOverflow", When: order.PlaceOrder{OrderID: id, CustomerID: customer, Lines: hugeSum}, Invalid: []string{"lines"}},
		{Name: "PriceOverBound", When: order.PlaceOrder{OrderID: id, CustomerID: customer, Lines: tooBig}, Invalid: []string{"lines[0].unit_price.amount_minor"}},
		{Name: "TooManyLines", When: order.PlaceOrder{OrderID: id, CustomerID: customer, Lines: make([]order.Line, order.MaxLines+1)}, Invalid: []string{"lines"}},
	})
}

func TestReviewAndAmend(t *testing.T) {
	review := func(rev int, result requirement.Result, points ...string) order.ReviewOrder {
		return order.ReviewOrder{OrderID: id, Revision: rev, Reviewer: "qa.lena", Result: result, OpenPoints: points}
	}
	amend := order.AmendOrder{OrderID: id, CustomerReference: "PO-4711", Lines: lines2, RequestedDelivery: may15, Reason: "customer wants a third pump"}
	domaintest.Run[order.State](t, []domaintest.Case{
		{Name: "Approve", Given: given(placedDirect), When: review(1, requirement.Approved), Then: given(approved1)},
		{Name: "Reject", Given: given(placedDirect), When: review(1, requirement.Rejected, "installation date not feasible"), Then: given(rejected1)},
		{Name: "SameReviewIsNoOp", Given: given(placedDirect, approved1), When: review(1, requirement.Approved)},
		{Name: "StaleRevision", Given: given(placedDirect, amended), When: review(1, requirement.Approved), Err: order.ErrRequirementsRevisionStale},
		{Name: "ReviewInvalid", Given: given(placedDirect), When: review(1, requirement.Approved, "open"), Invalid: []string{"open_points"}},
		{Name: "ReviewAfterConfirmation", Given: given(placedDirect, approved1, confirmed), When: review(1, requirement.Approved), Err: order.ErrNotPending},
		{Name: "ReviewUnknownOrder", When: review(1, requirement.Approved), Err: order.ErrNotFound},

		{Name: "Amend", Given: given(placedDirect, approved1), When: amend, Then: given(amended)},
		{Name: "AmendUnchangedIsNoOp", Given: given(placedDirect), When: order.AmendOrder{OrderID: id, CustomerReference: "PO-4711", Lines: lines,
			RequestedDelivery: may15.Add(time.Hour), Reason: "x"}},
		{Name: "AmendInvalid", Given: given(placedDirect), When: order.AmendOrder{OrderID: id, CustomerReference: "a\tb"},
			Invalid: []string{"customer_reference", "lines", "reason"}},
		{Name: "AmendAfterConfirmation", Given: given(placedDirect, approved1, confirmed), When: amend, Err: order.ErrNotPending},
		{Name: "AmendCancelled", Given: given(placedDirect, order.OrderCancelled{OrderID: id, CustomerID: customer, PreviousStatus: order.StatusPlaced, Reason: "x", At: now}),
			When: amend, Err: order.ErrNotPending},
	})
}

func TestConfirm(t *testing.T) {
	confirm := order.ConfirmOrder{OrderID: id, PromisedDelivery: may20.Add(10 * time.Hour)}
	domaintest.Run[order.State](t, []domaintest.Case{
		{Name: "DirectAfterOwnReview", Given: given(placedDirect, approved1), When: confirm, Then: given(confirmed)},
		{Name: "DirectNotReviewed", Given: given(placedDirect), When: confirm, Err: order.ErrRequirementsNotReviewed},
		{Name: "DirectRejected", Given: given(placedDirect, rejected1), When: confirm, Err: order.ErrRequirementsRejected},
		{Name: "DirectAmendedAfterReview", Given: given(placedDirect, approved1, amended), When: confirm, Err: order.ErrRequirementsNotReviewed},
		{Name: "DirectAmendedAndReviewed", Given: given(placedDirect, approved1, amended, approved2), When: order.ConfirmOrder{OrderID: id},
			Then: given(order.OrderConfirmed{OrderID: id, CustomerID: customer, Revision: 2, Total: eur(3_750_00), ReviewSource: order.ReviewByOrder,
				Review: requirement.Review{Revision: 2, Reviewer: "qa.lena", Result: requirement.Approved, At: now}, At: now})},
		{Name: "FromOpportunity", Given: given(placedFromOpp), When: confirm,
			Then: given(order.OrderConfirmed{OrderID: id, CustomerID: customer, Revision: 1, Total: eur(2_900_00), PromisedDelivery: may20,
				ReviewSource: order.ReviewByOpportunity, Review: oppReview, At: now})},
		{Name: "FromOpportunityAmended", Given: given(placedFromOpp, amended), When: confirm, Err: order.ErrRequirementsNotReviewed},
		{Name: "FromOpportunityAmendedAndReviewed", Given: given(placedFromOpp, amended, approved2), When: order.ConfirmOrder{OrderID: id},
			Then: given(order.OrderConfirmed{OrderID: id, CustomerID: customer, Revision: 2, Total: eur(3_750_00), ReviewSource: order.ReviewByOrder,
				Review: requirement.Review{Revision: 2, Reviewer: "qa.lena", Result: requirement.Approved, At: now}, At: now})},
		{Name: "FromOpportunityButOrderReviewRejected", Given: given(placedFromOpp, rejected1), When: confirm, Err: order.ErrRequirementsRejected},
		{Name: "AgainIsNoOp", Given: given(placedDirect, approved1, confirmed), When: confirm},
		{Name: "Shipped", Given: given(placedDirect, approved1, confirmed, shipped), When: confirm, Err: order.ErrInvalidTransition},
		{Name: "Cancelled", Given: given(placedDirect, order.OrderCancelled{OrderID: id, CustomerID: customer, PreviousStatus: order.StatusPlaced, Reason: "x", At: now}),
			When: confirm, Err: order.ErrInvalidTransition},
		{Name: "Unknown", When: confirm, Err: order.ErrNotFound},
	})
}

func TestTransitions(t *testing.T) {
	start := order.StartOrderProduction{OrderID: id}
	ship := order.ShipOrder{OrderID: id, Carrier: " DHL", TrackingRef: "JD0123 "}
	deliver := order.DeliverOrder{OrderID: id, ReceivedBy: "goods-in, J. Weber"}
	cancel := order.CancelOrder{OrderID: id, Reason: "customer withdrew"}
	cancelled := func(from order.Status) order.OrderCancelled {
		return order.OrderCancelled{OrderID: id, CustomerID: customer, PreviousStatus: from, Reason: "customer withdrew", At: now}
	}
	base := given(placedDirect, approved1)
	at := func(events ...domain.Event) []domain.Event { return append(slices.Clone(base), events...) }
	domaintest.Run[order.State](t, []domaintest.Case{
		{Name: "StartProduction", Given: at(confirmed), When: start, Then: given(production)},
		{Name: "StartProductionAgainIsNoOp", Given: at(confirmed, production), When: start},
		{Name: "StartProductionUnconfirmed", Given: base, When: start, Err: order.ErrInvalidTransition},
		{Name: "StartProductionShipped", Given: at(confirmed, shipped), When: start, Err: order.ErrInvalidTransition},

		{Name: "ShipFromProduction", Given: at(confirmed, production), When: ship, Then: given(shipped)},
		{Name: "ShipFromStock", Given: at(confirmed), When: order.ShipOrder{OrderID: id},
			Then: given(order.OrderShipped{OrderID: id, CustomerID: customer, At: now})},
		{Name: "ShipAgainIsNoOp", Given: at(confirmed, shipped), When: ship},
		{Name: "ShipUnconfirmed", Given: base, When: ship, Err: order.ErrInvalidTransition},
		{Name: "ShipInvalid", Given: at(confirmed), When: order.ShipOrder{OrderID: id, Carrier: "a\nb", TrackingRef: strings.Repeat("t", 201)},
			Invalid: []string{"carrier", "tracking_ref"}},

		{Name: "Deliver", Given: at(confirmed, shipped), When: deliver, Then: given(delivered)},
		{Name: "DeliverAgainIsNoOp", Given: at(confirmed, shipped, delivered), When: deliver},
		{Name: "DeliverUnshipped", Given: at(confirmed, production), When: deliver, Err: order.ErrInvalidTransition},
		{Name: "DeliverInvalid", Given: at(confirmed, shipped), When: order.DeliverOrder{OrderID: id, ReceivedBy: "\x00"}, Invalid: []string{"received_by"}},

		{Name: "CancelPlaced", Given: base, When: cancel, Then: given(cancelled(order.StatusPlaced))},
		{Name: "CancelConfirmed", Given: at(confirmed), When: cancel, Then: given(cancelled(order.StatusConfirmed))},
		{Name: "CancelInProduction", Given: at(confirmed, production), When: cancel, Then: given(cancelled(order.StatusInProduction))},
		{Name: "CancelAgainIsNoOp", Given: at(cancelled(order.StatusPlaced)), When: order.CancelOrder{OrderID: id}},
		{Name: "CancelShipped", Given: at(confirmed, shipped), When: cancel, Err: order.ErrInvalidTransition},
		{Name: "CancelDelivered", Given: at(confirmed, shipped, delivered), When: cancel, Err: order.ErrInvalidTransition},
		{Name: "CancelWithoutReason", Given: base, When: order.CancelOrder{OrderID: id}, Invalid: []string{"reason"}},
		{Name: "CancelUnknown", When: cancel, Err: order.ErrNotFound},
		{Name: "InvalidTransitionIsConflictKind", Given: at(confirmed, shipped), When: cancel, Err: domain.ErrConflict},
		{Name: "OtherCommand", Given: base, When: otherCommand{}, Err: domain.ErrUnknownCommand},
	})

	err := domaintest.Given[order.State](t, at(confirmed, shipped)...).When(cancel).ThenError(order.ErrInvalidTransition)
	if !strings.Contains(err.Error(), "shipped cannot become cancelled") {
		t.Errorf("transition error message %q does not name the statuses", err)
	}
}

func TestCanBecome(t *testing.T) {
	all := []order.Status{order.StatusPlaced, order.StatusConfirmed, order.StatusInProduction, order.StatusShipped, order.StatusDelivered, order.StatusCancelled}
	allowed := map[[2]order.Status]bool{
		{order.StatusPlaced, order.StatusConfirmed}: true, {order.StatusPlaced, order.StatusCancelled}: true,
		{order.StatusConfirmed, order.StatusInProduction}: true, {order.StatusConfirmed, order.StatusShipped}: true, {order.StatusConfirmed, order.StatusCancelled}: true,
		{order.StatusInProduction, order.StatusShipped}: true, {order.StatusInProduction, order.StatusCancelled}: true,
		{order.StatusShipped, order.StatusDelivered}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := order.CanBecome(from, to); got != allowed[[2]order.Status{from, to}] {
				t.Errorf("CanBecome(%s, %s) = %v", from, to, got)
			}
		}
	}
}

// TestFromOpportunity shows the command handler's path: the opportunity
// says whether it is orderable and which review the order relies on.
func TestFromOpportunity(t *testing.T) {
	items := []requirement.Item{{Ref: "R1", Description: "two dosing pumps", Kind: requirement.KindCustomer}}
	o := domain.Fold[opportunity.State](
		opportunity.OpportunityOpened{OpportunityID: opp, CustomerID: customer, Name: "Pumps", Pipeline: opportunity.DefaultPipeline(),
			Stage: "proposal", Probability: 50, Amount: eur(2_900_00), At: reviewed},
		opportunity.RequirementsCaptured{OpportunityID: opp, CustomerID: customer, Revision: 1, Items: items, At: reviewed},
		opportunity.RequirementsCaptured{OpportunityID: opp, CustomerID: customer, Revision: 2, Items: items[:1], At: reviewed},
		opportunity.RequirementsReviewed{OpportunityID: opp, CustomerID: customer, Revision: 2, Reviewer: "qa.lena", Result: requirement.Approved, At: reviewed},
		opportunity.OpportunityWon{OpportunityID: opp, CustomerID: customer, Amount: eur(2_900_00), Stage: "proposal", RequirementsRevision: 2, At: reviewed},
	)
	rv, err := o.CheckOrderable()
	if err != nil {
		t.Fatalf("CheckOrderable: %v", err)
	}
	st := domaintest.Given[order.State](t).When(order.PlaceOrder{OrderID: id, CustomerID: o.CustomerID(), OpportunityID: opp, OpportunityReview: &rv,
		CustomerReference: "PO-4711", Lines: lines, RequestedDelivery: may15}).Then(placedFromOpp)
	if got, ok := st.OpportunityReview(); !ok || got.Revision != 2 {
		t.Errorf("order does not record the review it relied on: %+v", got)
	}
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return id }

func TestState(t *testing.T) {
	var zero order.State
	if zero.Exists() || zero.Status() != "" || zero.History() != nil {
		t.Fatalf("zero State must not exist")
	}
	if _, ok := zero.OpportunityReview(); ok {
		t.Errorf("zero State has an opportunity review")
	}
	later := now.Add(24 * time.Hour)
	s := domain.Fold[order.State](placedFromOpp, amended, approved2,
		order.OrderConfirmed{OrderID: id, CustomerID: customer, Revision: 2, Total: eur(3_750_00), PromisedDelivery: may20, ReviewSource: order.ReviewByOrder, At: later},
		order.OrderShipped{OrderID: id, CustomerID: customer, Carrier: "DHL", TrackingRef: "JD0123", At: later.Add(time.Hour)})
	if !s.Exists() || s.ID() != id || s.CustomerID() != customer || s.OpportunityID() != opp || s.CustomerReference() != "PO-4711" {
		t.Errorf("identity: %+v", s)
	}
	if !slices.Equal(s.Lines(), priced2) || s.Total() != eur(3_750_00) || s.Revision() != 2 {
		t.Errorf("lines: %+v total %v revision %d", s.Lines(), s.Total(), s.Revision())
	}
	if s.RequestedDelivery() != may15 || s.PromisedDelivery() != may20 {
		t.Errorf("dates: %v %v", s.RequestedDelivery(), s.PromisedDelivery())
	}
	if rv, ok := s.OpportunityReview(); !ok || rv.Revision != 2 || rv.Reviewer != "qa.lena" || rv.At != reviewed {
		t.Errorf("OpportunityReview = %+v %v", rv, ok)
	}
	if rv, ok := s.LastReview(); !ok || rv.Revision != 2 {
		t.Errorf("LastReview = %+v %v", rv, ok)
	}
	if carrier, ref := s.Shipment(); carrier != "DHL" || ref != "JD0123" {
		t.Errorf("Shipment = %q %q", carrier, ref)
	}
	want := []order.StatusChange{{order.StatusPlaced, now}, {order.StatusConfirmed, later}, {order.StatusShipped, later.Add(time.Hour)}}
	if s.Status() != order.StatusShipped || !slices.Equal(s.History(), want) {
		t.Errorf("status %s history %+v", s.Status(), s.History())
	}
	s.History()[0].Status = "tampered"
	s.Lines()[0].Quantity = 99
	if s.History()[0].Status != order.StatusPlaced || s.Lines()[0].Quantity != 3 {
		t.Errorf("accessors leak internal state")
	}

	c := domain.Fold[order.State](placedDirect, order.OrderCancelled{OrderID: id, CustomerID: customer, PreviousStatus: order.StatusPlaced, Reason: "withdrawn", At: now})
	if c.Status() != order.StatusCancelled || c.CancelReason() != "withdrawn" {
		t.Errorf("cancelled: %s %q", c.Status(), c.CancelReason())
	}
	if _, _, err := domain.Fold[order.State](placedDirect).ConfirmationBasis(); !errors.Is(err, order.ErrRequirementsNotReviewed) {
		t.Errorf("ConfirmationBasis of an unreviewed direct order: %v", err)
	}
}

func TestStreamIDAndNames(t *testing.T) {
	if got := order.StreamID(id); got != "order-"+id.String() {
		t.Errorf("StreamID = %q", got)
	}
	for want, c := range map[string]domain.Command{
		"PlaceOrder":           order.PlaceOrder{OrderID: id},
		"AmendOrder":           order.AmendOrder{OrderID: id},
		"ReviewOrder":          order.ReviewOrder{OrderID: id},
		"ConfirmOrder":         order.ConfirmOrder{OrderID: id},
		"StartOrderProduction": order.StartOrderProduction{OrderID: id},
		"ShipOrder":            order.ShipOrder{OrderID: id},
		"DeliverOrder":         order.DeliverOrder{OrderID: id},
		"CancelOrder":          order.CancelOrder{OrderID: id},
	} {
		if c.CommandType() != want || c.AggregateID() != id {
			t.Errorf("%T: %q %v", c, c.CommandType(), c.AggregateID())
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{
		placedDirect, placedFromOpp, amended, approved1, rejected1, confirmed, production, shipped, delivered,
		order.OrderCancelled{OrderID: id, CustomerID: customer, PreviousStatus: order.StatusConfirmed, Reason: "x", At: now},
	}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, order.Category, all...)
}
