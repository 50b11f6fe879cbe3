package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/google/uuid"
)

// Sequences hand out numbers 1, 2, 3... per tenant and name
// (apistore.Sequences).
type Sequences interface {
	Next(ctx context.Context, tenant, name string) (int64, error)
}

// Deps are what some handlers need besides the event store.
type Deps struct {
	// Sequences allocate complaint references (CMP-2026-000123). Required.
	Sequences Sequences
	// ComplaintAcknowledgeWithin is the organisation's target for
	// acknowledging a complaint, used when the command gives none
	// (default 24 hours around the clock).
	ComplaintAcknowledgeWithin sla.Target
	// Pipeline is the sales pipeline new opportunities open in (zero:
	// opportunity.DefaultPipeline()).
	Pipeline opportunity.Pipeline
}

// Validate reports every problem at once.
func (d Deps) Validate() error {
	var errs []error
	if d.Sequences == nil {
		errs = append(errs, errors.New("commands: Deps.Sequences is required (complaint references)"))
	}
	if d.ComplaintAcknowledgeWithin.Minutes != 0 {
		if err := d.ComplaintAcknowledgeWithin.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("commands: ComplaintAcknowledgeWithin: %w", err))
		}
	}
	return errors.Join(errs...)
}

// RegisterDomain registers the catalogue of every evcrm aggregate with d
// (catalogue_<aggregate>.go): its handler, with the cross-aggregate checks
// its commands need.
func RegisterDomain(d *Dispatcher, deps Deps) error {
	if err := deps.Validate(); err != nil {
		return err
	}
	if deps.ComplaintAcknowledgeWithin.Minutes == 0 {
		deps.ComplaintAcknowledgeWithin = sla.Target{Minutes: 24 * 60}
	}
	for _, catalogue := range []func(*Dispatcher, Deps) Catalogue{
		customerCatalogue, interactionCatalogue, campaignCatalogue, leadCatalogue, opportunityCatalogue,
		orderCatalogue, caseCatalogue, complaintCatalogue, feedbackCatalogue, nonconformityCatalogue,
		accessCatalogue, objectiveCatalogue,
	} {
		RegisterCatalogue(d, catalogue(d, deps))
	}
	return nil
}

// placeOrderFacts brings in what an order placed from an opportunity relies
// on: the opportunity must be won, with its current requirements reviewed
// and approved (ISO 9001 8.2.3), and be with the same customer; the order
// records that review. A review sent by the client is never trusted.
func placeOrderFacts(ctx context.Context, store eventstore.Store, reg *domain.Registry, c order.PlaceOrder) (order.PlaceOrder, error) {
	c.OpportunityReview = nil
	if err := mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id"); err != nil {
		return c, err
	}
	if c.OpportunityID == uuid.Nil {
		return c, nil // a direct order: it needs its own review before confirmation
	}
	opp, _, err := Load[opportunity.State](ctx, store, reg, opportunity.StreamID(c.OpportunityID))
	if err != nil {
		return c, err
	}
	if !opp.Exists() {
		return c, unknownReference("opportunity_id", opportunity.Category)
	}
	if opp.CustomerID() != c.CustomerID {
		return c, &domain.Error{Kind: domain.KindValidation, Code: "opportunity_of_another_customer", Message: "validation failed",
			Fields: []domain.FieldError{{Field: "opportunity_id", Message: "is an opportunity of another customer"}}}
	}
	review, err := opp.CheckOrderable()
	if err != nil {
		return c, err
	}
	c.OpportunityReview = &review
	return c, nil
}

type ref struct {
	category string
	id       uuid.UUID
	field    string
}

// allExist checks references in order and returns the first failure.
func allExist(ctx context.Context, store eventstore.Store, refs ...ref) error {
	for _, r := range refs {
		if err := mustExist(ctx, store, r.category, r.id, r.field); err != nil {
			return err
		}
	}
	return nil
}

func unknownReference(field, category string) error {
	return &domain.Error{Kind: domain.KindValidation, Code: "unknown_reference", Message: "validation failed",
		Fields: []domain.FieldError{{Field: field, Message: "no " + category + " has this ID"}}}
}

// mustExist refuses a command that refers to an aggregate that does not
// exist in the command's tenant (a validation error on field, the same for
// a record of another tenant as for none). A zero id passes: the
// aggregate's own validation reports a missing required reference.
func mustExist(ctx context.Context, store eventstore.Store, category string, id uuid.UUID, field string) error {
	if id == uuid.Nil {
		return nil
	}
	ok, err := ownStream(ctx, store, eventstore.StreamID(category, id))
	if err != nil {
		return fmt.Errorf("checking %s %s: %w", category, id, err)
	}
	if !ok {
		return unknownReference(field, category)
	}
	return nil
}

// ownStream reports whether the stream exists and belongs to the tenant of
// ctx (which Handle always sets for the enrichers it runs).
func ownStream(ctx context.Context, store eventstore.Store, streamID string) (bool, error) {
	t, exists, err := StreamTenant(ctx, store, streamID)
	if err != nil || !exists {
		return false, err
	}
	want, _ := tenant.FromContext(ctx)
	return t == want, nil
}
