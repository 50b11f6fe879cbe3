// Package order is the Order aggregate: what a customer ordered (lines with
// product, quantity and unit price, and the total), the requirements review
// the commitment rests on, and the order's status with its history, so the
// status can always be reported to the customer (ISO 9001 8.2.1).
//
// Review before commitment (ISO 9001 8.2.3). An order placed from a won
// opportunity records the opportunity's approved review (see PlaceOrder);
// a direct order has none and needs its own ReviewOrder. Lines are
// revision 1 at placement; AmendOrder (only before confirmation) makes a new
// revision, which needs a new ReviewOrder, even for an order that came from
// an opportunity. ConfirmOrder is refused until the current revision is
// covered by an approved review (ErrRequirementsNotReviewed,
// ErrRequirementsRejected); OrderConfirmed records which review it relied on.
//
// Status transitions (anything else is ErrInvalidTransition; a command whose
// target is the current status changes nothing):
//
//	placed ──▶ confirmed ──▶ in_production ──▶ shipped ──▶ delivered
//	   │           │  └──────────────────────────▲
//	   └───────────┴──────────────┴──▶ cancelled (before shipping)
package order

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of orders.
const Category = "order"

// StreamID returns the stream of one order, "order-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Errors, matched with errors.Is.
var (
	ErrNotFound          = domain.NotFound("order")
	ErrAlreadyExists     = domain.AlreadyExists("order")
	ErrInvalidTransition = domain.Conflict("order_status_transition_invalid", "the order's status does not allow this change")
	ErrNotPending        = domain.Conflict("order_not_pending", "only an order that is placed and not yet confirmed can be amended or reviewed")

	// The requirement-review errors, under this package's names.
	ErrRequirementsRevisionStale = requirement.ErrStaleRevision
	ErrRequirementsNotReviewed   = requirement.ErrNotReviewed
	ErrRequirementsRejected      = requirement.ErrRejected
)

// Status of an order.
type Status string

const (
	StatusPlaced       Status = "placed"
	StatusConfirmed    Status = "confirmed"
	StatusInProduction Status = "in_production"
	StatusShipped      Status = "shipped"
	StatusDelivered    Status = "delivered"
	StatusCancelled    Status = "cancelled"
)

var transitions = map[Status][]Status{
	StatusPlaced:       {StatusConfirmed, StatusCancelled},
	StatusConfirmed:    {StatusInProduction, StatusShipped, StatusCancelled},
	StatusInProduction: {StatusShipped, StatusCancelled},
	StatusShipped:      {StatusDelivered},
}

// CanBecome reports whether an order in status from may move to status to.
func CanBecome(from, to Status) bool { return slices.Contains(transitions[from], to) }

// StatusChange is one entry of the status history.
type StatusChange struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// State is an order folded from its events. The zero State is an order that
// does not exist. *State implements domain.Decider.
type State struct {
	id                uuid.UUID
	customer          uuid.UUID
	opportunity       uuid.UUID
	oppReview         *requirement.Review
	customerRef       string
	lines             []PricedLine
	total             domain.Money
	requestedDelivery time.Time
	promisedDelivery  time.Time
	reqs              requirement.Record
	status            Status
	history           []StatusChange
	carrier           string
	trackingRef       string
	cancelReason      string
}

var _ domain.Decider = (*State)(nil)

// Apply folds one event into the state; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case OrderPlaced:
		s.id, s.customer, s.opportunity, s.customerRef = e.OrderID, e.CustomerID, e.OpportunityID, e.CustomerReference
		if e.OpportunityReview != nil {
			rv := *e.OpportunityReview
			rv.OpenPoints = slices.Clone(rv.OpenPoints)
			s.oppReview = &rv
		}
		s.lines, s.total, s.requestedDelivery = cloneLines(e.Lines), e.Total, e.RequestedDelivery
		s.reqs.Revise(e.Revision)
		s.setStatus(StatusPlaced, e.At)
	case OrderAmended:
		s.lines, s.total, s.customerRef, s.requestedDelivery = cloneLines(e.Lines), e.Total, e.CustomerReference, e.RequestedDelivery
		s.reqs.Revise(e.Revision)
	case OrderReviewed:
		s.reqs.Reviewed(requirement.Review{Revision: e.Revision, Reviewer: e.Reviewer, Result: e.Result,
			OpenPoints: slices.Clone(e.OpenPoints), At: e.At})
	case OrderConfirmed:
		s.promisedDelivery = e.PromisedDelivery
		s.setStatus(StatusConfirmed, e.At)
	case OrderProductionStarted:
		s.setStatus(StatusInProduction, e.At)
	case OrderShipped:
		s.carrier, s.trackingRef = e.Carrier, e.TrackingRef
		s.setStatus(StatusShipped, e.At)
	case OrderDelivered:
		s.setStatus(StatusDelivered, e.At)
	case OrderCancelled:
		s.cancelReason = e.Reason
		s.setStatus(StatusCancelled, e.At)
	}
}

func (s *State) setStatus(st Status, at time.Time) {
	s.status = st
	s.history = append(s.history, StatusChange{Status: st, At: at})
}

// Decide checks a command against the state and returns the events to
// record, or a *domain.Error. It does not change the state.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(PlaceOrder); ok {
		return s.place(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case AmendOrder:
		return s.amend(c, now)
	case ReviewOrder:
		return s.review(c, now)
	case ConfirmOrder:
		return s.confirm(c, now)
	case StartOrderProduction:
		if done, err := s.gate(StatusInProduction); done || err != nil {
			return nil, err
		}
		return []domain.Event{OrderProductionStarted{OrderID: s.id, CustomerID: s.customer, At: now}}, nil
	case ShipOrder:
		if done, err := s.gate(StatusShipped); done || err != nil {
			return nil, err
		}
		carrier, ref := strings.TrimSpace(c.Carrier), strings.TrimSpace(c.TrackingRef)
		var v domain.Validator
		text.Line(&v, "carrier", carrier, false, text.MaxName)
		text.Line(&v, "tracking_ref", ref, false, text.MaxName)
		if err := v.Err(); err != nil {
			return nil, err
		}
		return []domain.Event{OrderShipped{OrderID: s.id, CustomerID: s.customer, Carrier: carrier, TrackingRef: ref, At: now}}, nil
	case DeliverOrder:
		if done, err := s.gate(StatusDelivered); done || err != nil {
			return nil, err
		}
		by := strings.TrimSpace(c.ReceivedBy)
		var v domain.Validator
		text.Line(&v, "received_by", by, false, text.MaxName)
		if err := v.Err(); err != nil {
			return nil, err
		}
		return []domain.Event{OrderDelivered{OrderID: s.id, CustomerID: s.customer, ReceivedBy: by, At: now}}, nil
	case CancelOrder:
		return s.cancel(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

// gate checks a status transition before anything else: done when the order
// is already in status to (the command changes nothing), ErrInvalidTransition
// when it may not get there from its current status.
func (s *State) gate(to Status) (done bool, err error) {
	switch {
	case s.status == to:
		return true, nil
	case !CanBecome(s.status, to):
		return false, &domain.Error{Kind: ErrInvalidTransition.Kind, Code: ErrInvalidTransition.Code,
			Message: "an order that is " + string(s.status) + " cannot become " + string(to)}
	}
	return false, nil
}

// date keeps only the calendar date (in UTC) of t; zero stays zero.
func date(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *State) place(c PlaceOrder, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	ref := strings.TrimSpace(c.CustomerReference)
	var v domain.Validator
	v.Require("order_id", c.OrderID != uuid.Nil, "is required")
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	text.Line(&v, "customer_reference", ref, false, text.MaxName)
	lines, total := price(&v, c.Lines)
	var review *requirement.Review
	switch {
	case c.OpportunityID == uuid.Nil:
		v.Require("opportunity_review", c.OpportunityReview == nil, "is only for an order placed from an opportunity")
	case c.OpportunityReview == nil:
		v.Add("opportunity_review", "is required for an order placed from an opportunity: the approved requirements review it relies on")
	default:
		rv := *c.OpportunityReview
		rv.Reviewer, rv.OpenPoints, rv.At = strings.TrimSpace(rv.Reviewer), requirement.NormaliseOpenPoints(rv.OpenPoints), rv.At.UTC()
		var rvv domain.Validator
		requirement.ValidateReview(&rvv, rv.Revision, rv.Reviewer, rv.Result, rv.OpenPoints)
		rvv.Require("result", rv.Result == requirement.Approved, "must be approved: an order can only rely on a positive review")
		rvv.Require("at", !rv.At.IsZero(), "is required")
		v.Merge("opportunity_review", rvv.Err())
		review = &rv
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{OrderPlaced{OrderID: c.OrderID, CustomerID: c.CustomerID, OpportunityID: c.OpportunityID,
		OpportunityReview: review, CustomerReference: ref, Lines: lines, Total: total,
		RequestedDelivery: date(c.RequestedDelivery), Revision: 1, At: now}}, nil
}

func (s *State) amend(c AmendOrder, now time.Time) ([]domain.Event, error) {
	if s.status != StatusPlaced {
		return nil, ErrNotPending
	}
	ref, reason, delivery := strings.TrimSpace(c.CustomerReference), strings.TrimSpace(c.Reason), date(c.RequestedDelivery)
	var v domain.Validator
	text.Line(&v, "customer_reference", ref, false, text.MaxName)
	lines, total := price(&v, c.Lines)
	text.Line(&v, "reason", reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if ref == s.customerRef && delivery.Equal(s.requestedDelivery) && slices.Equal(lines, s.lines) {
		return nil, nil
	}
	return []domain.Event{OrderAmended{OrderID: s.id, CustomerID: s.customer, Revision: s.reqs.Revision() + 1,
		CustomerReference: ref, Lines: lines, Total: total, RequestedDelivery: delivery, Reason: reason, At: now}}, nil
}

func (s *State) review(c ReviewOrder, now time.Time) ([]domain.Event, error) {
	if s.status != StatusPlaced {
		return nil, ErrNotPending
	}
	reviewer, points := strings.TrimSpace(c.Reviewer), requirement.NormaliseOpenPoints(c.OpenPoints)
	var v domain.Validator
	requirement.ValidateReview(&v, c.Revision, reviewer, c.Result, points)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.reqs.CheckReview(c.Revision); err != nil {
		return nil, err
	}
	if s.reqs.RepeatsLast(c.Revision, reviewer, c.Result, points) {
		return nil, nil
	}
	return []domain.Event{OrderReviewed{OrderID: s.id, CustomerID: s.customer, Revision: c.Revision, Reviewer: reviewer,
		Result: c.Result, OpenPoints: points, At: now}}, nil
}

func (s *State) confirm(c ConfirmOrder, now time.Time) ([]domain.Event, error) {
	if done, err := s.gate(StatusConfirmed); done || err != nil {
		return nil, err
	}
	source, review, err := s.ConfirmationBasis()
	if err != nil {
		return nil, err
	}
	return []domain.Event{OrderConfirmed{OrderID: s.id, CustomerID: s.customer, Revision: s.reqs.Revision(), Total: s.total,
		PromisedDelivery: date(c.PromisedDelivery), ReviewSource: source, Review: review, At: now}}, nil
}

func (s *State) cancel(c CancelOrder, now time.Time) ([]domain.Event, error) {
	if done, err := s.gate(StatusCancelled); done || err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{OrderCancelled{OrderID: s.id, CustomerID: s.customer, PreviousStatus: s.status, Reason: reason, At: now}}, nil
}

// ConfirmationBasis returns the approved review that covers the order's
// current revision, and where it comes from (ReviewByOrder,
// ReviewByOpportunity), or why there is none: ErrRequirementsRejected when
// the order's own latest review of this revision rejected it, else
// ErrRequirementsNotReviewed.
func (s *State) ConfirmationBasis() (source string, review requirement.Review, err error) {
	switch s.reqs.Status() {
	case requirement.StatusApproved:
		rv, _ := s.reqs.LastReview()
		return ReviewByOrder, rv, nil
	case requirement.StatusRejected:
		return "", requirement.Review{}, ErrRequirementsRejected
	}
	if s.oppReview != nil && s.reqs.Revision() == 1 {
		rv := *s.oppReview
		rv.OpenPoints = slices.Clone(rv.OpenPoints)
		return ReviewByOpportunity, rv, nil
	}
	return "", requirement.Review{}, ErrRequirementsNotReviewed
}

// Exists reports whether the order has been placed.
func (s *State) Exists() bool { return s.id != uuid.Nil }

// ID returns the order's ID.
func (s *State) ID() uuid.UUID { return s.id }

// CustomerID returns the ordering customer.
func (s *State) CustomerID() uuid.UUID { return s.customer }

// OpportunityID returns the opportunity the order came from (uuid.Nil for a direct order).
func (s *State) OpportunityID() uuid.UUID { return s.opportunity }

// OpportunityReview returns the opportunity's review the order was placed on, if any.
func (s *State) OpportunityReview() (requirement.Review, bool) {
	if s.oppReview == nil {
		return requirement.Review{}, false
	}
	rv := *s.oppReview
	rv.OpenPoints = slices.Clone(rv.OpenPoints)
	return rv, true
}

// CustomerReference returns the customer's own reference (PO number).
func (s *State) CustomerReference() string { return s.customerRef }

// Lines returns a copy of the current priced lines.
func (s *State) Lines() []PricedLine { return cloneLines(s.lines) }

// Total returns the order total.
func (s *State) Total() domain.Money { return s.total }

// RequestedDelivery returns the delivery date the customer asked for (zero if none).
func (s *State) RequestedDelivery() time.Time { return s.requestedDelivery }

// PromisedDelivery returns the delivery date promised on confirmation (zero if none).
func (s *State) PromisedDelivery() time.Time { return s.promisedDelivery }

// Revision returns the current revision of the lines and terms (1 at placement).
func (s *State) Revision() int { return s.reqs.Revision() }

// LastReview returns the order's own latest review, of whatever revision.
func (s *State) LastReview() (requirement.Review, bool) { return s.reqs.LastReview() }

// Status returns the current status ("" if the order does not exist).
func (s *State) Status() Status { return s.status }

// History returns every status the order has had, with when, oldest first.
func (s *State) History() []StatusChange { return slices.Clone(s.history) }

// Shipment returns the carrier and tracking reference recorded when shipped.
func (s *State) Shipment() (carrier, trackingRef string) { return s.carrier, s.trackingRef }

// CancelReason returns why the order was cancelled (while cancelled).
func (s *State) CancelReason() string { return s.cancelReason }
