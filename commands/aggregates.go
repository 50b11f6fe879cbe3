package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/servicecase"
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

// RegisterDomain registers the handler of every evcrm aggregate with d,
// with the cross-aggregate checks their commands need.
func RegisterDomain(d *Dispatcher, deps Deps) error {
	if err := deps.Validate(); err != nil {
		return err
	}
	if deps.ComplaintAcknowledgeWithin.Minutes == 0 {
		deps.ComplaintAcknowledgeWithin = sla.Target{Minutes: 24 * 60}
	}
	store, clock := d.Store(), d.Config().Clock

	Register[customer.State](d, customer.Category, []domain.Command{
		customer.RegisterCustomer{}, customer.ChangeCustomerDetails{}, customer.AddContactPerson{},
		customer.UpdateContactPerson{}, customer.RemoveContactPerson{}, customer.AssignCustomerOwner{},
		customer.ChangeCustomerSegment{}, customer.GiveConsent{}, customer.WithdrawConsent{},
		customer.MergeCustomer{}, customer.RecordDuplicateMerged{}, customer.RequestErasure{},
	},
		Enrich(func(ctx context.Context, c customer.MergeCustomer) (customer.MergeCustomer, error) {
			return c, mustExist(ctx, store, customer.Category, c.SurvivorID, "survivor_id")
		}),
		// Whole replacements, composed from the state the client saw: after
		// a concurrent change, deciding again would silently undo it.
		NoRetry(customer.ChangeCustomerDetails{}.CommandType(), customer.UpdateContactPerson{}.CommandType()),
	)

	Register[interaction.State](d, interaction.Category, []domain.Command{
		interaction.LogInteraction{}, interaction.CorrectInteraction{},
	},
		Enrich(func(ctx context.Context, c interaction.LogInteraction) (interaction.LogInteraction, error) {
			if err := mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id"); err != nil {
				return c, err
			}
			return c, mustExist(ctx, store, lead.Category, c.LeadID, "lead_id")
		}),
		NoRetry(interaction.CorrectInteraction{}.CommandType()), // a whole replacement
	)

	Register[campaign.State](d, campaign.Category, []domain.Command{
		campaign.PlanCampaign{}, campaign.ChangeCampaignBudget{}, campaign.LaunchCampaign{},
		campaign.CompleteCampaign{}, campaign.CancelCampaign{}, campaign.RecordCampaignResponse{},
	},
		// A platform's webhook delivered twice is recorded once.
		IdentifyBy(func(c campaign.RecordCampaignResponse) (string, bool) {
			return c.ExternalRef, c.ExternalRef != ""
		}),
	)

	Register[lead.State](d, lead.Category, []domain.Command{
		lead.CaptureLead{}, lead.QualifyLead{}, lead.DisqualifyLead{}, lead.ConvertLead{},
	},
		Enrich(func(ctx context.Context, c lead.CaptureLead) (lead.CaptureLead, error) {
			return c, mustExist(ctx, store, campaign.Category, c.CampaignID, "campaign_id")
		}),
		Enrich(func(ctx context.Context, c lead.ConvertLead) (lead.ConvertLead, error) {
			if !c.ExistingCustomer {
				return c, nil // the customer is registered from the conversion
			}
			return c, mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id")
		}),
	)

	Register[opportunity.State](d, opportunity.Category, []domain.Command{
		opportunity.OpenOpportunity{}, opportunity.ChangeOpportunityStage{}, opportunity.ChangeOpportunityAmount{},
		opportunity.ChangeOpportunityCloseDate{}, opportunity.AssignOpportunityOwner{}, opportunity.CaptureRequirements{},
		opportunity.ReviewRequirements{}, opportunity.WinOpportunity{}, opportunity.LoseOpportunity{},
		opportunity.ReopenOpportunity{},
	},
		Enrich(func(ctx context.Context, c opportunity.OpenOpportunity) (opportunity.OpenOpportunity, error) {
			// The pipeline is the organisation's, not the client's.
			c.Pipeline = deps.Pipeline
			if err := mustExist(ctx, store, customer.Category, c.CustomerID, "customer_id"); err != nil {
				return c, err
			}
			return c, mustExist(ctx, store, lead.Category, c.LeadID, "lead_id")
		}),
	)

	Register[order.State](d, order.Category, []domain.Command{
		order.PlaceOrder{}, order.AmendOrder{}, order.ReviewOrder{}, order.ConfirmOrder{},
		order.StartOrderProduction{}, order.ShipOrder{}, order.DeliverOrder{}, order.CancelOrder{},
	},
		Enrich(func(ctx context.Context, c order.PlaceOrder) (order.PlaceOrder, error) {
			return placeOrderFacts(ctx, store, d.Config().Registry, c)
		}),
		NoRetry(order.AmendOrder{}.CommandType()), // a whole replacement
	)

	Register[nonconformity.State](d, nonconformity.Category, []domain.Command{
		nonconformity.RaiseNonconformity{}, nonconformity.StartNonconformityAnalysis{},
		nonconformity.RecordImmediateAction{}, nonconformity.RecordRootCause{}, nonconformity.PlanCorrectiveAction{},
		nonconformity.ApproveActionPlan{}, nonconformity.CompleteCorrectiveAction{},
		nonconformity.ReopenCorrectiveAction{}, nonconformity.VerifyEffectiveness{}, nonconformity.CloseNonconformity{},
	},
		Enrich(func(ctx context.Context, c nonconformity.RaiseNonconformity) (nonconformity.RaiseNonconformity, error) {
			if c.Source == nonconformity.SourceComplaint {
				if err := mustExist(ctx, store, complaint.Category, c.SourceID, "source_id"); err != nil {
					return c, err
				}
			}
			return c, allExist(ctx, store,
				ref{customer.Category, c.CustomerID, "customer_id"},
				ref{order.Category, c.OrderID, "order_id"},
				ref{servicecase.Category, c.CaseID, "case_id"})
		}),
	)

	Register[servicecase.State](d, servicecase.Category, []domain.Command{
		servicecase.OpenCase{}, servicecase.AssignCase{}, servicecase.RecordFirstResponse{},
		servicecase.WaitOnCustomer{}, servicecase.ResumeCase{}, servicecase.EscalateCase{},
		servicecase.ResolveCase{}, servicecase.CloseCase{}, servicecase.ReopenCase{},
	},
		Enrich(func(ctx context.Context, c servicecase.OpenCase) (servicecase.OpenCase, error) {
			return c, allExist(ctx, store,
				ref{customer.Category, c.CustomerID, "customer_id"},
				ref{order.Category, c.OrderID, "order_id"})
		}),
	)

	Register[complaint.State](d, complaint.Category, []domain.Command{
		complaint.ReceiveComplaint{}, complaint.AcknowledgeComplaint{}, complaint.FlagAcknowledgementOverdue{},
		complaint.AssessComplaint{}, complaint.RecordInvestigation{}, complaint.RespondToComplaint{},
		complaint.CloseComplaint{}, complaint.EscalateComplaint{}, complaint.RaiseNonconformityFromComplaint{},
		complaint.ReopenComplaint{},
	},
		Enrich(func(ctx context.Context, c complaint.ReceiveComplaint) (complaint.ReceiveComplaint, error) {
			if err := allExist(ctx, store,
				ref{customer.Category, c.CustomerID, "customer_id"},
				ref{order.Category, c.OrderID, "order_id"},
				ref{servicecase.Category, c.CaseID, "case_id"}); err != nil {
				return c, err
			}
			if c.AcknowledgeWithin.Minutes == 0 {
				c.AcknowledgeWithin = deps.ComplaintAcknowledgeWithin
			}
			if c.Reference == "" {
				// One number per year; a failed command leaves a gap.
				year := clock().UTC().Year()
				t, _ := tenant.FromContext(ctx)
				n, err := deps.Sequences.Next(ctx, t, "complaint/"+strconv.Itoa(year))
				if err != nil {
					return c, err
				}
				c.Reference = complaint.FormatReference(year, n)
			}
			return c, nil
		}),
	)

	Register[feedback.State](d, feedback.Category, []domain.Command{
		feedback.SubmitFeedback{}, feedback.WithdrawFeedback{},
	},
		Enrich(func(ctx context.Context, c feedback.SubmitFeedback) (feedback.SubmitFeedback, error) {
			return c, allExist(ctx, store,
				ref{customer.Category, c.CustomerID, "customer_id"},
				ref{servicecase.Category, c.CaseID, "case_id"},
				ref{order.Category, c.OrderID, "order_id"},
				ref{campaign.Category, c.CampaignID, "campaign_id"})
		}),
	)
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
