package projectiontest

import (
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
)

// FixtureStart is when the fixture history begins (a Monday).
var FixtureStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// SupportSLA is the SLA policy of the fixture's cases: around the clock,
// first response within 1h (P1) to 8h (P4), resolution within 8h to 5 days.
var SupportSLA = &servicecase.SLAPolicy{Name: "standard", Targets: map[servicecase.Priority]servicecase.SLATarget{
	servicecase.P1: {FirstResponseMinutes: 60, ResolutionMinutes: 8 * 60},
	servicecase.P2: {FirstResponseMinutes: 120, ResolutionMinutes: 24 * 60},
	servicecase.P3: {FirstResponseMinutes: 240, ResolutionMinutes: 3 * 24 * 60},
	servicecase.P4: {FirstResponseMinutes: 480, ResolutionMinutes: 5 * 24 * 60},
}}

// Fixture writes the fixed history the golden files pin: three customers,
// a campaign with a converted lead, opportunities won, lost and open in two
// currencies, an order, service cases in every state, complaints (one
// reopened, one overdue) with a nonconformity and its corrective action,
// feedback over two months and segments, interactions (one corrected).
func Fixture(s *Scenario) {
	s.Now = FixtureStart
	acme, globex, bob := ID("acme"), ID("globex"), ID("bob")
	eur := func(n int64) domain.Money { return domain.Money{Amount: n * 100, Currency: "EUR"} }
	usd := func(n int64) domain.Money { return domain.Money{Amount: n * 100, Currency: "USD"} }

	// Customers.
	s.Actor = "user:alice"
	Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: acme, OwnerID: "user:alice", Segment: "enterprise",
		Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme GmbH", LegalName: "Acme Werkzeuge GmbH",
			Emails: []string{"info@acme.example"}, TaxID: "DE123456789"}})
	Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: globex, OwnerID: "user:bruno", Segment: "enterprise",
		Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Globex Inc."}})
	Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: bob, Segment: "smb",
		Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Bob Builder", Phones: []string{"+49 30 1234567"}}})
	Do[customer.State](s, customer.Category, customer.AddContactPerson{CustomerID: acme,
		ContactPerson: customer.ContactPerson{ContactID: ID("acme/anna"), Name: "Anna Schmidt", Role: "purchasing", Emails: []string{"anna@acme.example"}}})
	Do[customer.State](s, customer.Category, customer.GiveConsent{CustomerID: acme, ContactID: ID("acme/anna"), Purpose: "newsletter",
		Channel: customer.ChannelEmail, Source: "web_form", Evidence: "form 2026-01-05"})
	Do[customer.State](s, customer.Category, customer.GiveConsent{CustomerID: bob, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: "phone"})

	// Marketing: a campaign, a lead converted into an opportunity of Acme.
	s.Actor = "user:maria"
	Do[campaign.State](s, campaign.Category, campaign.PlanCampaign{CampaignID: ID("spring"), Name: "Spring fair", Channel: campaign.ChannelEvent,
		Budget: eur(5000), OwnerID: "user:maria"})
	Do[campaign.State](s, campaign.Category, campaign.LaunchCampaign{CampaignID: ID("spring")})
	Do[lead.State](s, lead.Category, lead.CaptureLead{LeadID: ID("lead1"), Source: "campaign", CampaignID: ID("spring"),
		Prospect: lead.Prospect{ContactName: "Anna Schmidt", CompanyName: "Acme GmbH"}})
	Do[lead.State](s, lead.Category, lead.CaptureLead{LeadID: ID("lead2"), Source: "campaign", CampaignID: ID("spring"),
		Prospect: lead.Prospect{ContactName: "Carl", CompanyName: "Initech"}})
	s.Advance(time.Hour)
	Do[lead.State](s, lead.Category, lead.QualifyLead{LeadID: ID("lead1"), Score: 80})
	Do[lead.State](s, lead.Category, lead.DisqualifyLead{LeadID: ID("lead2"), Reason: "no budget"})
	Do[lead.State](s, lead.Category, lead.ConvertLead{LeadID: ID("lead1"), CustomerID: acme, ExistingCustomer: true,
		OpportunityID: ID("opp-acme"), OpportunityName: "Acme tooling", Amount: eur(12000),
		ExpectedClose: time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)})

	// Sales.
	s.Actor = "user:alice"
	Do[opportunity.State](s, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: ID("opp-acme"), CustomerID: acme,
		LeadID: ID("lead1"), Name: "Acme tooling", Amount: eur(12000), OwnerID: "user:alice",
		ExpectedClose: time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)})
	Do[opportunity.State](s, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: ID("opp-globex"), CustomerID: globex,
		Name: "Globex rollout", Amount: usd(30000), OwnerID: "user:bruno", Stage: "needs_analysis",
		ExpectedClose: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)})
	Do[opportunity.State](s, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: ID("opp-bob"), CustomerID: bob,
		Name: "Bob's workshop", Amount: eur(800), OwnerID: "user:alice",
		ExpectedClose: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)})
	Do[opportunity.State](s, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: ID("opp-acme2"), CustomerID: acme,
		Name: "Acme service contract", Amount: eur(4000), OwnerID: "user:alice", Stage: "proposal",
		ExpectedClose: time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)})
	s.Advance(3 * 24 * time.Hour)
	Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityStage{OpportunityID: ID("opp-acme"), Stage: "needs_analysis"})
	Do[opportunity.State](s, opportunity.Category, opportunity.CaptureRequirements{OpportunityID: ID("opp-acme"),
		Items: []requirement.Item{{Ref: "R1", Description: "200 drill sets", Kind: requirement.KindCustomer}}})
	Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityStage{OpportunityID: ID("opp-bob"), Stage: "proposal"})
	s.Advance(4 * 24 * time.Hour)
	Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityStage{OpportunityID: ID("opp-acme"), Stage: "proposal"})
	Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityAmount{OpportunityID: ID("opp-acme"), Amount: eur(11500)})
	Do[opportunity.State](s, opportunity.Category, opportunity.ReviewRequirements{OpportunityID: ID("opp-acme"), Revision: 1,
		Reviewer: "user:quality", Result: requirement.Approved})
	Do[opportunity.State](s, opportunity.Category, opportunity.LoseOpportunity{OpportunityID: ID("opp-globex"), Reason: "price",
		Competitor: "Initrode"})
	s.Advance(2 * 24 * time.Hour)
	Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityStage{OpportunityID: ID("opp-acme"), Stage: "negotiation"})
	Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityCloseDate{OpportunityID: ID("opp-bob"),
		ExpectedClose: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	s.Advance(24 * time.Hour)
	Do[opportunity.State](s, opportunity.Category, opportunity.WinOpportunity{OpportunityID: ID("opp-acme")})
	Do[opportunity.State](s, opportunity.Category, opportunity.AssignOpportunityOwner{OpportunityID: ID("opp-acme2"), OwnerID: "user:bruno"})

	// The order of the won opportunity.
	review := requirement.Review{Revision: 1, Reviewer: "user:quality", Result: requirement.Approved, At: s.Now.Add(-3 * 24 * time.Hour)}
	Do[order.State](s, order.Category, order.PlaceOrder{OrderID: ID("order1"), CustomerID: acme, OpportunityID: ID("opp-acme"),
		OpportunityReview: &review, CustomerReference: "PO-4711",
		Lines: []order.Line{{ProductID: "DRILL-SET", Quantity: 200, UnitPrice: eur(57) /* 200 × 57.50 */}}})
	Do[order.State](s, order.Category, order.ConfirmOrder{OrderID: ID("order1"), PromisedDelivery: time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)})
	s.Advance(2 * 24 * time.Hour)
	Do[order.State](s, order.Category, order.ShipOrder{OrderID: ID("order1"), Carrier: "DHL", TrackingRef: "JD0001"})

	// Service.
	s.Actor = "user:sam"
	s.Role = "service"
	Do[servicecase.State](s, servicecase.Category, servicecase.OpenCase{CaseID: ID("case1"), CustomerID: acme, Queue: "support",
		Priority: servicecase.P2, Channel: servicecase.ChannelEmail, Subject: "Drill set missing bits", OrderID: ID("order1"), SLA: SupportSLA})
	Do[servicecase.State](s, servicecase.Category, servicecase.OpenCase{CaseID: ID("case2"), CustomerID: globex, Queue: "support",
		Priority: servicecase.P1, Channel: servicecase.ChannelPhone, Subject: "Line down", SLA: SupportSLA})
	Do[servicecase.State](s, servicecase.Category, servicecase.OpenCase{CaseID: ID("case3"), CustomerID: bob, Queue: "billing",
		Priority: servicecase.P3, Channel: servicecase.ChannelWeb, Subject: "Invoice address", SLA: SupportSLA})
	Do[servicecase.State](s, servicecase.Category, servicecase.OpenCase{CaseID: ID("case4"), CustomerID: bob, Queue: "support",
		Priority: servicecase.P4, Channel: servicecase.ChannelChat, Subject: "Question about warranty"})
	s.Advance(30 * time.Minute)
	Do[servicecase.State](s, servicecase.Category, servicecase.AssignCase{CaseID: ID("case1"), AgentID: "user:sam"})
	Do[servicecase.State](s, servicecase.Category, servicecase.RecordFirstResponse{CaseID: ID("case1"), AgentID: "user:sam"})
	Do[servicecase.State](s, servicecase.Category, servicecase.AssignCase{CaseID: ID("case2"), AgentID: "user:tina"})
	s.Advance(2 * time.Hour) // case2's first response (1h) is now late
	Do[servicecase.State](s, servicecase.Category, servicecase.EscalateCase{CaseID: ID("case2"), Reason: servicecase.ReasonFirstResponseBreach})
	Do[servicecase.State](s, servicecase.Category, servicecase.RecordFirstResponse{CaseID: ID("case2"), AgentID: "user:tina"})
	Do[servicecase.State](s, servicecase.Category, servicecase.WaitOnCustomer{CaseID: ID("case1"), Reason: "photos requested"})
	s.Advance(5 * time.Hour)
	Do[servicecase.State](s, servicecase.Category, servicecase.ResumeCase{CaseID: ID("case1")})
	Do[servicecase.State](s, servicecase.Category, servicecase.ResolveCase{CaseID: ID("case1"), Resolution: "missing bits sent"})
	Do[servicecase.State](s, servicecase.Category, servicecase.AssignCase{CaseID: ID("case3"), AgentID: "user:sam"})
	s.Advance(24 * time.Hour)
	Do[servicecase.State](s, servicecase.Category, servicecase.CloseCase{CaseID: ID("case1")})

	// Complaints and the nonconformity they raise.
	s.Actor = "user:quinn"
	s.Role = "quality"
	hours := func(n int) sla.Target { return sla.Target{Minutes: n * 60} }
	Do[complaint.State](s, complaint.Category, complaint.ReceiveComplaint{ComplaintID: ID("cmp1"), Reference: "CMP-2026-000001",
		CustomerID: acme, Channel: servicecase.ChannelEmail, Description: "Second drill set incomplete", RemedySought: "replacement",
		Severity: complaint.SeverityMedium, OrderID: ID("order1"), CaseID: ID("case1"), AcknowledgeWithin: hours(24)})
	Do[complaint.State](s, complaint.Category, complaint.ReceiveComplaint{ComplaintID: ID("cmp2"), Reference: "CMP-2026-000002",
		CustomerID: globex, Channel: servicecase.ChannelPhone, Description: "Technician was rude", Severity: complaint.SeverityLow,
		AcknowledgeWithin: hours(8)})
	s.Advance(2 * time.Hour)
	Do[complaint.State](s, complaint.Category, complaint.AcknowledgeComplaint{ComplaintID: ID("cmp1")})
	Do[complaint.State](s, complaint.Category, complaint.AssessComplaint{ComplaintID: ID("cmp1"), Severity: complaint.SeverityHigh,
		Urgency: complaint.UrgencyHigh})
	s.Advance(8 * time.Hour)
	Do[complaint.State](s, complaint.Category, complaint.FlagAcknowledgementOverdue{ComplaintID: ID("cmp2")})
	Do[complaint.State](s, complaint.Category, complaint.RecordInvestigation{ComplaintID: ID("cmp1"), RootCause: "packing check skipped"})
	Do[complaint.State](s, complaint.Category, complaint.RaiseNonconformityFromComplaint{ComplaintID: ID("cmp1"), NonconformityID: ID("nc1")})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.RaiseNonconformity{NonconformityID: ID("nc1"),
		Source: nonconformity.SourceComplaint, SourceID: ID("cmp1"), SourceRef: "CMP-2026-000001", Severity: nonconformity.SeverityMajor,
		Title: "Incomplete drill sets shipped", Description: "Packing check skipped on line 2", CustomerID: acme, OrderID: ID("order1")})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.RaiseNonconformity{NonconformityID: ID("nc2"),
		Source: nonconformity.SourceAudit, SourceRef: "IA-2026-03", Severity: nonconformity.SeverityMinor,
		Title: "Calibration record missing", Description: "Torque wrench calibration not recorded"})
	Do[complaint.State](s, complaint.Category, complaint.RespondToComplaint{ComplaintID: ID("cmp1"), Outcome: complaint.OutcomeUpheld,
		Decision: "replace the set", RemedyOffered: "replacement and 10% discount"})
	no, yes := false, true
	Do[complaint.State](s, complaint.Category, complaint.CloseComplaint{ComplaintID: ID("cmp1"), CustomerSatisfied: &no})
	s.Advance(24 * time.Hour)
	Do[complaint.State](s, complaint.Category, complaint.ReopenComplaint{ComplaintID: ID("cmp1"), Reason: "replacement also incomplete"})
	Do[complaint.State](s, complaint.Category, complaint.RespondToComplaint{ComplaintID: ID("cmp1"), Outcome: complaint.OutcomeUpheld,
		Decision: "full refund"})
	Do[complaint.State](s, complaint.Category, complaint.CloseComplaint{ComplaintID: ID("cmp1"), CustomerSatisfied: &yes})
	s.Actor = "user:quality"
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.StartNonconformityAnalysis{NonconformityID: ID("nc1"), AnalystID: "user:quality"})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.RecordImmediateAction{NonconformityID: ID("nc1"), Description: "100% check of stock"})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.RecordRootCause{NonconformityID: ID("nc1"), RootCause: "no checklist", Method: "five_whys"})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.PlanCorrectiveAction{NonconformityID: ID("nc1"), ActionID: ID("act1"),
		Description: "packing checklist with sign-off", OwnerID: "user:lena", DueDate: "2026-01-30"})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.PlanCorrectiveAction{NonconformityID: ID("nc1"), ActionID: ID("act2"),
		Description: "train packing staff", OwnerID: "user:lena", DueDate: "2026-01-23"})
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.ApproveActionPlan{NonconformityID: ID("nc1")})
	s.Advance(5 * 24 * time.Hour)
	Do[nonconformity.State](s, nonconformity.Category, nonconformity.CompleteCorrectiveAction{NonconformityID: ID("nc1"), ActionID: ID("act1"),
		Outcome: "checklist in use"})

	// Feedback in January and February, enterprise and smb.
	s.Actor = "system:survey"
	s.Role = "system"
	fb := func(name string, cust [16]byte, csat, nps int) {
		Do[feedback.State](s, feedback.Category, feedback.SubmitFeedback{FeedbackID: ID(name), CustomerID: cust, Method: feedback.MethodSurvey,
			CSAT: &csat, NPS: &nps})
	}
	fb("fb1", acme, 5, 10)
	fb("fb2", globex, 2, 3)
	fb("fb3", bob, 4, 8)
	s.Now = time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	fb("fb4", acme, 4, 9)
	fb("fb5", bob, 1, 0)
	Do[feedback.State](s, feedback.Category, feedback.WithdrawFeedback{FeedbackID: ID("fb5"), Reason: "duplicate submission"})
	fb("fb6", bob, 3, 6)

	// Interactions.
	s.Actor = "user:alice"
	s.Role = "sales"
	call := interaction.Content{CustomerID: acme, Channel: interaction.ChannelCall, Direction: interaction.Outbound,
		Subject: "Follow-up on refund", OccurredAt: s.Now.Add(-time.Hour), DurationSeconds: 600, Actor: "user:alice"}
	Do[interaction.State](s, interaction.Category, interaction.LogInteraction{InteractionID: ID("int1"), Content: call})
	mail := interaction.Content{CustomerID: acme, Channel: interaction.ChannelEmail, Direction: interaction.Inbound,
		Subject: "Rollout questions", OccurredAt: s.Now, Actor: "user:alice"}
	Do[interaction.State](s, interaction.Category, interaction.LogInteraction{InteractionID: ID("int2"), Content: mail})
	mail.CustomerID = globex // it was Globex writing
	Do[interaction.State](s, interaction.Category, interaction.CorrectInteraction{InteractionID: ID("int2"), Content: mail, Reason: "wrong customer"})
	Do[customer.State](s, customer.Category, customer.ChangeCustomerSegment{CustomerID: bob, Segment: "enterprise"})
	Do[customer.State](s, customer.Category, customer.WithdrawConsent{CustomerID: bob, Purpose: "newsletter", Channel: customer.ChannelEmail,
		Source: "email"})

	// Quality objectives: one revised, one retired (last, so the positions
	// of everything above stay those of the other golden files).
	s.Actor, s.Role = "user:quinn", "quality"
	Do[objective.State](s, objective.Category, objective.SetObjective{ObjectiveID: ID("obj/nps"), Name: "NPS", Metric: objective.NPS,
		Granularity: objective.Month, Comparator: objective.AtLeast, Target: 30, EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Owner: "quality"})
	Do[objective.State](s, objective.Category, objective.ChangeObjectiveTarget{ObjectiveID: ID("obj/nps"), Comparator: objective.AtLeast, Target: 35,
		EffectiveFrom: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Reason: "management review"})
	Do[objective.State](s, objective.Category, objective.SetObjective{ObjectiveID: ID("obj/ack"), Name: "Complaints acknowledged in time",
		Metric: objective.ComplaintsAcknowledgedOnTime, Granularity: objective.Quarter, Comparator: objective.AtLeast, Target: 95,
		EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	Do[objective.State](s, objective.Category, objective.RetireObjective{ObjectiveID: ID("obj/ack"), Reason: "replaced"})
}
