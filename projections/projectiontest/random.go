package projectiontest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/domain/objective"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/google/uuid"
)

// RandomHistory writes random but valid histories through the aggregates:
// it picks commands at random over the things created so far; commands the
// aggregates refuse are simply dropped, as a user's would be.
type RandomHistory struct {
	s   *Scenario
	rng *rand.Rand
	n   int

	customers, campaigns, leads, opps, orders, cases, complaints, ncs, feedbacks, interactions []uuid.UUID
	actions                                                                                    map[uuid.UUID][]uuid.UUID // nonconformity → actions
	// Accepted counts the commands the aggregates accepted.
	Accepted int
}

// NewRandomHistory returns a generator writing through s.
func NewRandomHistory(s *Scenario, rng *rand.Rand) *RandomHistory {
	return &RandomHistory{s: s, rng: rng, actions: map[uuid.UUID][]uuid.UUID{}}
}

func (r *RandomHistory) id(kind string) uuid.UUID {
	r.n++
	return ID(fmt.Sprintf("random/%s/%d", kind, r.n))
}

func pick(r *rand.Rand, ids []uuid.UUID) uuid.UUID {
	if len(ids) == 0 {
		return uuid.Nil
	}
	return ids[r.IntN(len(ids))]
}

func (r *RandomHistory) money() domain.Money {
	cur := []string{"EUR", "USD", "GBP"}[r.rng.IntN(3)]
	return domain.Money{Amount: int64(1+r.rng.IntN(500)) * 1000, Currency: cur}
}

// Run tries n random commands, between setting quality objectives and
// revising and retiring them.
func (r *RandomHistory) Run(n int) {
	obj := []uuid.UUID{r.id("objective"), r.id("objective")}
	for i, m := range []objective.Metric{objective.NPS, objective.WinRate} {
		if try[objective.State](r, objective.Category, objective.SetObjective{ObjectiveID: obj[i], Name: fmt.Sprint("Objective ", r.n),
			Metric: m, Granularity: objective.Month, Comparator: objective.AtLeast, Target: 20}) {
			r.Accepted++
		}
	}
	defer func() {
		if try[objective.State](r, objective.Category, objective.ChangeObjectiveTarget{ObjectiveID: obj[0], Comparator: objective.AtLeast,
			Target: 25, Reason: "raised"}) {
			r.Accepted++
		}
		if try[objective.State](r, objective.Category, objective.RetireObjective{ObjectiveID: obj[1], Reason: "done"}) {
			r.Accepted++
		}
	}()
	for range n {
		r.s.Advance(time.Duration(r.rng.IntN(12*60)) * time.Minute)
		r.s.Actor = []string{"user:alice", "user:bruno", "user:sam", "system:sla"}[r.rng.IntN(4)]
		if r.step() {
			r.Accepted++
		}
	}
}

func try[S any, P interface {
	*S
	domain.Decider
}](r *RandomHistory, category string, cmd domain.Command) bool {
	evs, err := Try[S, P](r.s, category, cmd)
	return err == nil && len(evs) > 0
}

func (r *RandomHistory) step() bool {
	rng := r.rng
	cust := pick(rng, r.customers)
	segments := []string{"enterprise", "smb", "public", ""}
	switch k := rng.IntN(24); {
	case k == 0 || len(r.customers) < 3:
		id := r.id("customer")
		ok := try[customer.State](r, customer.Category, customer.RegisterCustomer{CustomerID: id, Segment: segments[rng.IntN(4)],
			OwnerID: r.s.Actor, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: fmt.Sprint("Customer ", r.n)}})
		if ok {
			r.customers = append(r.customers, id)
		}
		return ok
	case k == 1:
		if rng.IntN(2) == 0 {
			return try[customer.State](r, customer.Category, customer.ChangeCustomerSegment{CustomerID: cust, Segment: segments[rng.IntN(4)]})
		}
		return try[customer.State](r, customer.Category, customer.GiveConsent{CustomerID: cust, Purpose: "newsletter",
			Channel: customer.ChannelEmail, Source: "web"})
	case k == 2:
		id := r.id("campaign")
		ok := try[campaign.State](r, campaign.Category, campaign.PlanCampaign{CampaignID: id, Name: fmt.Sprint("Campaign ", r.n),
			Channel: campaign.ChannelEmail, Budget: r.money()})
		if ok {
			r.campaigns = append(r.campaigns, id)
			try[campaign.State](r, campaign.Category, campaign.LaunchCampaign{CampaignID: id})
		}
		return ok
	case k == 3:
		id := r.id("lead")
		ok := try[lead.State](r, lead.Category, lead.CaptureLead{LeadID: id, Source: "campaign", CampaignID: pick(rng, r.campaigns),
			Prospect: lead.Prospect{CompanyName: fmt.Sprint("Prospect ", r.n)}})
		if ok {
			r.leads = append(r.leads, id)
		}
		return ok
	case k == 4:
		l := pick(rng, r.leads)
		switch rng.IntN(3) {
		case 0:
			return try[lead.State](r, lead.Category, lead.QualifyLead{LeadID: l, Score: rng.IntN(100)})
		case 1:
			return try[lead.State](r, lead.Category, lead.DisqualifyLead{LeadID: l, Reason: "no fit"})
		}
		opp := r.id("opportunity")
		amount := r.money()
		if !try[lead.State](r, lead.Category, lead.ConvertLead{LeadID: l, CustomerID: cust, ExistingCustomer: true, OpportunityID: opp,
			OpportunityName: "From lead", Amount: amount}) {
			return false
		}
		if try[opportunity.State](r, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: opp, CustomerID: cust, LeadID: l,
			Name: "From lead", Amount: amount, OwnerID: r.s.Actor}) {
			r.opps = append(r.opps, opp)
		}
		return true
	case k <= 6:
		id := r.id("opportunity")
		stage := []string{"", "needs_analysis", "proposal"}[rng.IntN(3)]
		ok := try[opportunity.State](r, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: id, CustomerID: cust,
			Name: fmt.Sprint("Deal ", r.n), Amount: r.money(), Stage: stage, OwnerID: r.s.Actor,
			ExpectedClose: r.s.Now.Truncate(24*time.Hour).AddDate(0, rng.IntN(6), 0)})
		if ok {
			r.opps = append(r.opps, id)
		}
		return ok
	case k <= 9:
		o := pick(rng, r.opps)
		switch rng.IntN(9) {
		case 0, 1:
			return try[opportunity.State](r, opportunity.Category, opportunity.ChangeOpportunityStage{OpportunityID: o,
				Stage: opportunity.DefaultPipeline().Stages[rng.IntN(4)].Name})
		case 2:
			return try[opportunity.State](r, opportunity.Category, opportunity.ChangeOpportunityAmount{OpportunityID: o, Amount: r.money()})
		case 3:
			return try[opportunity.State](r, opportunity.Category, opportunity.CaptureRequirements{OpportunityID: o,
				Items: []requirement.Item{{Ref: "R1", Description: fmt.Sprint("need ", r.n), Kind: requirement.KindCustomer}}})
		case 4:
			res := requirement.Approved
			if rng.IntN(4) == 0 {
				res = requirement.Rejected
			}
			for rev := 1; rev <= 3; rev++ {
				if try[opportunity.State](r, opportunity.Category, opportunity.ReviewRequirements{OpportunityID: o, Revision: rev,
					Reviewer: "user:quality", Result: res, OpenPoints: openPoints(res)}) {
					return true
				}
			}
			return false
		case 5:
			if !try[opportunity.State](r, opportunity.Category, opportunity.WinOpportunity{OpportunityID: o}) {
				return false
			}
			if rng.IntN(2) == 0 {
				id := r.id("order")
				if try[order.State](r, order.Category, order.PlaceOrder{OrderID: id, CustomerID: cust, OpportunityID: o,
					Lines: []order.Line{{ProductID: "P1", Quantity: 1 + int64(rng.IntN(9)), UnitPrice: r.money()}}}) {
					r.orders = append(r.orders, id)
				}
			}
			return true
		case 6:
			return try[opportunity.State](r, opportunity.Category, opportunity.LoseOpportunity{OpportunityID: o, Reason: "price"})
		case 7:
			return try[opportunity.State](r, opportunity.Category, opportunity.ReopenOpportunity{OpportunityID: o, Reason: "came back"})
		}
		return try[opportunity.State](r, opportunity.Category, opportunity.AssignOpportunityOwner{OpportunityID: o, OwnerID: r.s.Actor})
	case k == 10:
		o := pick(rng, r.orders)
		switch rng.IntN(6) {
		case 0:
			for rev := 1; rev <= 3; rev++ {
				if try[order.State](r, order.Category, order.ReviewOrder{OrderID: o, Revision: rev, Reviewer: "user:quality",
					Result: requirement.Approved}) {
					return true
				}
			}
			return false
		case 1:
			return try[order.State](r, order.Category, order.ConfirmOrder{OrderID: o})
		case 2:
			return try[order.State](r, order.Category, order.ShipOrder{OrderID: o})
		case 3:
			return try[order.State](r, order.Category, order.DeliverOrder{OrderID: o})
		case 4:
			return try[order.State](r, order.Category, order.AmendOrder{OrderID: o, Reason: "more",
				Lines: []order.Line{{ProductID: "P2", Quantity: 2, UnitPrice: domain.Money{Amount: 1000, Currency: "EUR"}}}})
		}
		return try[order.State](r, order.Category, order.CancelOrder{OrderID: o, Reason: "changed mind"})
	case k <= 13:
		if rng.IntN(3) == 0 || len(r.cases) == 0 {
			id := r.id("case")
			var policy *servicecase.SLAPolicy
			if rng.IntN(4) > 0 {
				policy = SupportSLA
			}
			ok := try[servicecase.State](r, servicecase.Category, servicecase.OpenCase{CaseID: id, CustomerID: cust,
				Queue: []string{"support", "billing"}[rng.IntN(2)], Priority: servicecase.Priorities[rng.IntN(4)],
				Channel: servicecase.ChannelEmail, Subject: fmt.Sprint("Case ", r.n), SLA: policy})
			if ok {
				r.cases = append(r.cases, id)
			}
			return ok
		}
		c := pick(rng, r.cases)
		switch rng.IntN(10) {
		case 0:
			return try[servicecase.State](r, servicecase.Category, servicecase.AssignCase{CaseID: c, AgentID: r.s.Actor})
		case 1, 2:
			return try[servicecase.State](r, servicecase.Category, servicecase.RecordFirstResponse{CaseID: c, AgentID: r.s.Actor})
		case 3:
			return try[servicecase.State](r, servicecase.Category, servicecase.WaitOnCustomer{CaseID: c, Reason: "info"})
		case 4:
			return try[servicecase.State](r, servicecase.Category, servicecase.ResumeCase{CaseID: c})
		case 5:
			reason := []string{servicecase.ReasonFirstResponseBreach, servicecase.ReasonResolutionBreach, "customer_request"}[rng.IntN(3)]
			return try[servicecase.State](r, servicecase.Category, servicecase.EscalateCase{CaseID: c, Reason: reason})
		case 6, 7:
			return try[servicecase.State](r, servicecase.Category, servicecase.ResolveCase{CaseID: c, Resolution: "fixed"})
		case 8:
			return try[servicecase.State](r, servicecase.Category, servicecase.CloseCase{CaseID: c})
		}
		return try[servicecase.State](r, servicecase.Category, servicecase.ReopenCase{CaseID: c, Reason: "again"})
	case k <= 16:
		if rng.IntN(3) == 0 || len(r.complaints) == 0 {
			id := r.id("complaint")
			ok := try[complaint.State](r, complaint.Category, complaint.ReceiveComplaint{ComplaintID: id,
				Reference: fmt.Sprintf("CMP-2026-%06d", r.n), CustomerID: cust, Channel: servicecase.ChannelPhone,
				Description: "not happy", Severity: complaint.SeverityMedium, AcknowledgeWithin: sla.Target{Minutes: 8 * 60}})
			if ok {
				r.complaints = append(r.complaints, id)
			}
			return ok
		}
		c := pick(rng, r.complaints)
		yes, no := true, false
		switch rng.IntN(9) {
		case 0:
			return try[complaint.State](r, complaint.Category, complaint.AcknowledgeComplaint{ComplaintID: c})
		case 1:
			return try[complaint.State](r, complaint.Category, complaint.FlagAcknowledgementOverdue{ComplaintID: c})
		case 2:
			return try[complaint.State](r, complaint.Category, complaint.AssessComplaint{ComplaintID: c, Severity: complaint.SeverityHigh,
				Urgency: complaint.UrgencyNormal})
		case 3:
			return try[complaint.State](r, complaint.Category, complaint.RecordInvestigation{ComplaintID: c, RootCause: "cause"})
		case 4:
			return try[complaint.State](r, complaint.Category, complaint.RespondToComplaint{ComplaintID: c, Outcome: complaint.OutcomeUpheld,
				Decision: "refund"})
		case 5:
			sat := &yes
			if rng.IntN(3) == 0 {
				sat = &no
			}
			return try[complaint.State](r, complaint.Category, complaint.CloseComplaint{ComplaintID: c, CustomerSatisfied: sat})
		case 6:
			return try[complaint.State](r, complaint.Category, complaint.ReopenComplaint{ComplaintID: c, Reason: "again"})
		case 7:
			return try[complaint.State](r, complaint.Category, complaint.EscalateComplaint{ComplaintID: c, Reason: "manager"})
		}
		nc := r.id("nonconformity")
		if !try[complaint.State](r, complaint.Category, complaint.RaiseNonconformityFromComplaint{ComplaintID: c, NonconformityID: nc}) {
			return false
		}
		if try[nonconformity.State](r, nonconformity.Category, nonconformity.RaiseNonconformity{NonconformityID: nc,
			Source: nonconformity.SourceComplaint, SourceID: c, Severity: nonconformity.SeverityMinor, Title: "from complaint",
			Description: "see complaint"}) {
			r.ncs = append(r.ncs, nc)
		}
		return true
	case k <= 18:
		if len(r.ncs) == 0 {
			return false
		}
		nc := pick(rng, r.ncs)
		yes, no := true, false
		switch rng.IntN(8) {
		case 0:
			return try[nonconformity.State](r, nonconformity.Category, nonconformity.StartNonconformityAnalysis{NonconformityID: nc, AnalystID: r.s.Actor})
		case 1:
			return try[nonconformity.State](r, nonconformity.Category, nonconformity.RecordRootCause{NonconformityID: nc, RootCause: "why"})
		case 2:
			a := r.id("action")
			ok := try[nonconformity.State](r, nonconformity.Category, nonconformity.PlanCorrectiveAction{NonconformityID: nc, ActionID: a,
				Description: "fix", OwnerID: "user:lena", DueDate: r.s.Now.AddDate(0, 0, 1+rng.IntN(20)).Format(time.DateOnly)})
			if ok {
				r.actions[nc] = append(r.actions[nc], a)
			}
			return ok
		case 3:
			return try[nonconformity.State](r, nonconformity.Category, nonconformity.ApproveActionPlan{NonconformityID: nc})
		case 4:
			return try[nonconformity.State](r, nonconformity.Category, nonconformity.CompleteCorrectiveAction{NonconformityID: nc,
				ActionID: pick(rng, r.actions[nc]), Outcome: "done"})
		case 5:
			eff := &yes
			if rng.IntN(3) == 0 {
				eff = &no
			}
			return try[nonconformity.State](r, nonconformity.Category, nonconformity.VerifyEffectiveness{NonconformityID: nc, Effective: eff,
				Evidence: "checked"})
		case 6:
			return try[nonconformity.State](r, nonconformity.Category, nonconformity.ReopenCorrectiveAction{NonconformityID: nc,
				ActionID: pick(rng, r.actions[nc]), Reason: "not done"})
		}
		return try[nonconformity.State](r, nonconformity.Category, nonconformity.CloseNonconformity{NonconformityID: nc})
	case k <= 20:
		if rng.IntN(5) == 0 && len(r.feedbacks) > 0 {
			return try[feedback.State](r, feedback.Category, feedback.WithdrawFeedback{FeedbackID: pick(rng, r.feedbacks), Reason: "dup"})
		}
		id := r.id("feedback")
		csat, nps := 1+rng.IntN(5), rng.IntN(11)
		ok := try[feedback.State](r, feedback.Category, feedback.SubmitFeedback{FeedbackID: id, CustomerID: cust, CaseID: pick(rng, r.cases),
			Method: feedback.MethodSurvey, CSAT: &csat, NPS: &nps})
		if ok {
			r.feedbacks = append(r.feedbacks, id)
		}
		return ok
	default:
		if rng.IntN(4) == 0 && len(r.interactions) > 0 {
			return try[interaction.State](r, interaction.Category, interaction.CorrectInteraction{InteractionID: pick(rng, r.interactions),
				Reason: "typo", Content: interaction.Content{CustomerID: cust, Channel: interaction.ChannelEmail, Direction: interaction.Inbound,
					Subject: "corrected", OccurredAt: r.s.Now.Add(-time.Hour), Actor: r.s.Actor}})
		}
		id := r.id("interaction")
		ok := try[interaction.State](r, interaction.Category, interaction.LogInteraction{InteractionID: id,
			Content: interaction.Content{CustomerID: cust, Channel: interaction.ChannelCall, Direction: interaction.Outbound,
				Subject: fmt.Sprint("Call ", r.n), OccurredAt: r.s.Now.Add(-time.Duration(rng.IntN(60)) * time.Minute), Actor: r.s.Actor}})
		if ok {
			r.interactions = append(r.interactions, id)
		}
		return ok
	}
}

func openPoints(r requirement.Result) []string {
	if r == requirement.Rejected {
		return []string{"delivery date unclear"}
	}
	return nil
}
