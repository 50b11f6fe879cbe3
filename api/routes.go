package api

import (
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
	"github.com/evcrm/evcrm/internal/auth"
)

// Who may send which commands. Auditors and analysts send none.
var (
	CustomerWriters    = []auth.Role{auth.Admin, auth.Sales, auth.Service, auth.Marketing}
	InteractionWriters = []auth.Role{auth.Admin, auth.Sales, auth.Service, auth.Marketing}
	CampaignWriters    = []auth.Role{auth.Admin, auth.Marketing}
	LeadWriters        = []auth.Role{auth.Admin, auth.Marketing, auth.Sales}
	OpportunityWriters = []auth.Role{auth.Admin, auth.Sales}
	OrderWriters       = []auth.Role{auth.Admin, auth.Sales}
	OrderFulfilment    = []auth.Role{auth.Admin, auth.Sales, auth.Service}
	CaseWriters        = []auth.Role{auth.Admin, auth.Service}
	ComplaintWriters   = []auth.Role{auth.Admin, auth.Service, auth.Quality}
	FeedbackWriters    = []auth.Role{auth.Admin, auth.Service, auth.Marketing, auth.Quality}
	QualityWriters     = []auth.Role{auth.Admin, auth.Quality}
	// SystemCommands are normally sent by evcrm's own process managers
	// (SLA watcher, merge follow-up); admins may send them by hand.
	SystemCommands = []auth.Role{auth.Admin}
)

// registerCommands adds an endpoint for every command of the domain.
func (s *Server) registerCommands() {
	s.registerCustomerCommands()
	s.registerInteractionCommands()
	s.registerCampaignCommands()
	s.registerLeadCommands()
	s.registerOpportunityCommands()
	s.registerOrderCommands()
	s.registerCaseCommands()
	s.registerComplaintCommands()
	s.registerFeedbackCommands()
	s.registerNonconformityCommands()
}

func (s *Server) registerCustomerCommands() {
	tags := []string{"Customers"}
	RegisterCommand(s, CommandRoute[customer.RegisterCustomer]{
		OperationID: "registerCustomer", Path: "/v1/customers", Creates: true, Tags: tags, Roles: CustomerWriters,
		Summary: "Register a customer",
	})
	RegisterCommand(s, CommandRoute[customer.ChangeCustomerDetails]{
		OperationID: "changeCustomerDetails", Path: "/v1/customers/{id}/details", Tags: tags, Roles: CustomerWriters,
		Summary: "Replace the customer's details",
	})
	RegisterCommand(s, CommandRoute[customer.AddContactPerson]{
		OperationID: "addContactPerson", Path: "/v1/customers/{id}/contacts", Tags: tags, Roles: CustomerWriters,
		Summary: "Add a contact person", Description: "contact_id is chosen by the client and never reused.",
	})
	RegisterCommand(s, CommandRoute[customer.UpdateContactPerson]{
		OperationID: "updateContactPerson", Path: "/v1/customers/{id}/contacts/update", Tags: tags, Roles: CustomerWriters,
		Summary: "Replace a contact person's data",
	})
	RegisterCommand(s, CommandRoute[customer.RemoveContactPerson]{
		OperationID: "removeContactPerson", Path: "/v1/customers/{id}/contacts/remove", Tags: tags, Roles: CustomerWriters,
		Summary: "Remove a contact person",
	})
	RegisterCommand(s, CommandRoute[customer.AssignCustomerOwner]{
		OperationID: "assignCustomerOwner", Path: "/v1/customers/{id}/owner", Tags: tags, Roles: CustomerWriters,
		Summary: "Set or clear the account owner",
	})
	RegisterCommand(s, CommandRoute[customer.ChangeCustomerSegment]{
		OperationID: "changeCustomerSegment", Path: "/v1/customers/{id}/segment", Tags: tags, Roles: CustomerWriters,
		Summary: "Set or clear the segment",
	})
	RegisterCommand(s, CommandRoute[customer.GiveConsent]{
		OperationID: "giveConsent", Path: "/v1/customers/{id}/consents", Tags: tags, Roles: CustomerWriters,
		Summary: "Record a consent of the customer or a contact person",
	})
	RegisterCommand(s, CommandRoute[customer.WithdrawConsent]{
		OperationID: "withdrawConsent", Path: "/v1/customers/{id}/consents/withdraw", Tags: tags, Roles: CustomerWriters,
		Summary: "Record the withdrawal of a consent",
	})
	RegisterCommand(s, CommandRoute[customer.MergeCustomer]{
		OperationID: "mergeCustomer", Path: "/v1/customers/{id}/merge", Tags: tags, Roles: CustomerWriters,
		Summary: "Merge this duplicate into another customer",
	})
	RegisterCommand(s, CommandRoute[customer.RecordDuplicateMerged]{
		OperationID: "recordDuplicateMerged", Path: "/v1/customers/{id}/merged-duplicates", Tags: tags, Roles: SystemCommands,
		Summary: "Record on the survivor that a duplicate was merged into it",
	})
	RegisterCommand(s, CommandRoute[customer.RequestErasure]{
		OperationID: "requestErasure", Path: "/v1/customers/{id}/erasure-requests", Tags: tags,
		Roles:   []auth.Role{auth.Admin, auth.Service},
		Summary: "Record a data subject's erasure request",
	})
}

func (s *Server) registerInteractionCommands() {
	tags := []string{"Interactions"}
	RegisterCommand(s, CommandRoute[interaction.LogInteraction]{
		OperationID: "logCustomerInteraction", Path: "/v1/customers/{id}/interactions", PathField: "customer_id", Creates: true,
		Tags: tags, Roles: InteractionWriters,
		Summary: "Log an interaction with a customer", Description: "A call, email, meeting, chat, visit or letter (ISO 9001 8.2.1).",
	})
	RegisterCommand(s, CommandRoute[interaction.LogInteraction]{
		OperationID: "logInteraction", Path: "/v1/interactions", Creates: true, Tags: tags, Roles: InteractionWriters,
		Summary: "Log an interaction with a lead or customer",
	})
	RegisterCommand(s, CommandRoute[interaction.CorrectInteraction]{
		OperationID: "correctInteraction", Path: "/v1/interactions/{id}/corrections", Tags: tags, Roles: InteractionWriters,
		Summary: "Correct a logged interaction", Description: "The correction carries the full content and a reason; the original stays in the history.",
	})
}

func (s *Server) registerCampaignCommands() {
	tags := []string{"Campaigns"}
	RegisterCommand(s, CommandRoute[campaign.PlanCampaign]{
		OperationID: "planCampaign", Path: "/v1/campaigns", Creates: true, Tags: tags, Roles: CampaignWriters,
		Summary: "Plan a campaign",
	})
	RegisterCommand(s, CommandRoute[campaign.ChangeCampaignBudget]{
		OperationID: "changeCampaignBudget", Path: "/v1/campaigns/{id}/budget", Tags: tags, Roles: CampaignWriters,
		Summary: "Change the budget",
	})
	RegisterCommand(s, CommandRoute[campaign.LaunchCampaign]{
		OperationID: "launchCampaign", Path: "/v1/campaigns/{id}/launch", Tags: tags, Roles: CampaignWriters,
		Summary: "Launch a planned campaign",
	})
	RegisterCommand(s, CommandRoute[campaign.CompleteCampaign]{
		OperationID: "completeCampaign", Path: "/v1/campaigns/{id}/complete", Tags: tags, Roles: CampaignWriters,
		Summary: "Complete a launched campaign",
	})
	RegisterCommand(s, CommandRoute[campaign.CancelCampaign]{
		OperationID: "cancelCampaign", Path: "/v1/campaigns/{id}/cancel", Tags: tags, Roles: CampaignWriters,
		Summary: "Call off a campaign",
	})
	RegisterCommand(s, CommandRoute[campaign.RecordCampaignResponse]{
		OperationID: "recordCampaignResponse", Path: "/v1/campaigns/{id}/responses", Tags: tags, Roles: CampaignWriters,
		Summary:     "Record a response to a campaign",
		Description: "With external_ref (the platform's ID of the response) a webhook delivered twice is recorded once.",
	})
}

func (s *Server) registerLeadCommands() {
	tags := []string{"Leads"}
	RegisterCommand(s, CommandRoute[lead.CaptureLead]{
		OperationID: "captureLead", Path: "/v1/leads", Creates: true, Tags: tags, Roles: LeadWriters,
		Summary: "Capture a lead",
	})
	RegisterCommand(s, CommandRoute[lead.QualifyLead]{
		OperationID: "qualifyLead", Path: "/v1/leads/{id}/qualify", Tags: tags, Roles: LeadWriters,
		Summary: "Qualify or re-score a lead",
	})
	RegisterCommand(s, CommandRoute[lead.DisqualifyLead]{
		OperationID: "disqualifyLead", Path: "/v1/leads/{id}/disqualify", Tags: tags, Roles: LeadWriters,
		Summary: "Disqualify a lead",
	})
	RegisterCommand(s, CommandRoute[lead.ConvertLead]{
		OperationID: "convertLead", Path: "/v1/leads/{id}/convert", Tags: tags, Roles: LeadWriters,
		Summary:     "Convert a qualified lead into a customer and an opportunity",
		Description: "customer_id and opportunity_id are chosen by the client; the customer and the opportunity are created from the conversion.",
	})
}

func (s *Server) registerCaseCommands() {
	tags := []string{"Service cases"}
	RegisterCommand(s, CommandRoute[servicecase.OpenCase]{
		OperationID: "openCase", Path: "/v1/cases", Creates: true, Tags: tags, Roles: CaseWriters,
		Summary: "Open a service case",
	})
	RegisterCommand(s, CommandRoute[servicecase.AssignCase]{
		OperationID: "assignCase", Path: "/v1/cases/{id}/assign", Tags: tags, Roles: CaseWriters,
		Summary: "Assign the case to an agent",
	})
	RegisterCommand(s, CommandRoute[servicecase.RecordFirstResponse]{
		OperationID: "recordFirstResponse", Path: "/v1/cases/{id}/first-response", Tags: tags, Roles: CaseWriters,
		Summary: "Record the first response to the customer",
	})
	RegisterCommand(s, CommandRoute[servicecase.WaitOnCustomer]{
		OperationID: "waitOnCustomer", Path: "/v1/cases/{id}/wait", Tags: tags, Roles: CaseWriters,
		Summary: "Wait on the customer (SLA clocks stop)",
	})
	RegisterCommand(s, CommandRoute[servicecase.ResumeCase]{
		OperationID: "resumeCase", Path: "/v1/cases/{id}/resume", Tags: tags, Roles: CaseWriters,
		Summary: "Resume after waiting on the customer",
	})
	RegisterCommand(s, CommandRoute[servicecase.EscalateCase]{
		OperationID: "escalateCase", Path: "/v1/cases/{id}/escalate", Tags: tags, Roles: CaseWriters,
		Summary: "Escalate the case",
	})
	RegisterCommand(s, CommandRoute[servicecase.ResolveCase]{
		OperationID: "resolveCase", Path: "/v1/cases/{id}/resolve", Tags: tags, Roles: CaseWriters,
		Summary: "Record the solution given to the customer",
	})
	RegisterCommand(s, CommandRoute[servicecase.CloseCase]{
		OperationID: "closeCase", Path: "/v1/cases/{id}/close", Tags: tags, Roles: CaseWriters,
		Summary: "Close a resolved case",
	})
	RegisterCommand(s, CommandRoute[servicecase.ReopenCase]{
		OperationID: "reopenCase", Path: "/v1/cases/{id}/reopen", Tags: tags, Roles: CaseWriters,
		Summary: "Reopen a resolved case",
	})
}

func (s *Server) registerComplaintCommands() {
	tags := []string{"Complaints"}
	RegisterCommand(s, CommandRoute[complaint.ReceiveComplaint]{
		OperationID: "receiveComplaint", Path: "/v1/complaints", Creates: true, Tags: tags, Roles: ComplaintWriters,
		Optional: []string{"reference", "acknowledge_within"},
		Summary:  "Record a complaint (ISO 10002)",
		Description: "Without reference the server allocates the next CMP-YYYY-NNNNNN; without acknowledge_within " +
			"the organisation's acknowledgement target applies.",
	})
	RegisterCommand(s, CommandRoute[complaint.AcknowledgeComplaint]{
		OperationID: "acknowledgeComplaint", Path: "/v1/complaints/{id}/acknowledge", Tags: tags, Roles: ComplaintWriters,
		Summary: "Record that the customer was told the complaint is being handled",
	})
	RegisterCommand(s, CommandRoute[complaint.FlagAcknowledgementOverdue]{
		OperationID: "flagComplaintAcknowledgementOverdue", Path: "/v1/complaints/{id}/acknowledgement-overdue", Tags: tags,
		Roles: SystemCommands, Summary: "Flag a missed acknowledgement deadline (SLA watcher)",
	})
	RegisterCommand(s, CommandRoute[complaint.AssessComplaint]{
		OperationID: "assessComplaint", Path: "/v1/complaints/{id}/assess", Tags: tags, Roles: ComplaintWriters,
		Summary: "Assess severity and urgency",
	})
	RegisterCommand(s, CommandRoute[complaint.RecordInvestigation]{
		OperationID: "recordComplaintInvestigation", Path: "/v1/complaints/{id}/investigation", Tags: tags, Roles: ComplaintWriters,
		Summary: "Record the root cause and findings",
	})
	RegisterCommand(s, CommandRoute[complaint.RespondToComplaint]{
		OperationID: "respondToComplaint", Path: "/v1/complaints/{id}/response", Tags: tags, Roles: ComplaintWriters,
		Summary: "Record the decision communicated to the customer",
	})
	RegisterCommand(s, CommandRoute[complaint.CloseComplaint]{
		OperationID: "closeComplaint", Path: "/v1/complaints/{id}/close", Tags: tags, Roles: ComplaintWriters,
		Summary: "Close the complaint, recording whether the customer was satisfied",
	})
	RegisterCommand(s, CommandRoute[complaint.EscalateComplaint]{
		OperationID: "escalateComplaint", Path: "/v1/complaints/{id}/escalate", Tags: tags, Roles: ComplaintWriters,
		Summary: "Refer the complaint to a higher level",
	})
	RegisterCommand(s, CommandRoute[complaint.RaiseNonconformityFromComplaint]{
		OperationID: "raiseNonconformityFromComplaint", Path: "/v1/complaints/{id}/nonconformities", Tags: tags,
		Roles: QualityWriters, Summary: "Link a new nonconformity to the complaint",
	})
	RegisterCommand(s, CommandRoute[complaint.ReopenComplaint]{
		OperationID: "reopenComplaint", Path: "/v1/complaints/{id}/reopen", Tags: tags, Roles: ComplaintWriters,
		Summary: "Reopen a closed complaint",
	})
}

func (s *Server) registerFeedbackCommands() {
	tags := []string{"Feedback"}
	RegisterCommand(s, CommandRoute[feedback.SubmitFeedback]{
		OperationID: "submitFeedback", Path: "/v1/feedback", Creates: true, Tags: tags, Roles: FeedbackWriters,
		Summary: "Record a customer's feedback (CSAT, NPS, comment)",
	})
	RegisterCommand(s, CommandRoute[feedback.WithdrawFeedback]{
		OperationID: "withdrawFeedback", Path: "/v1/feedback/{id}/withdraw", Tags: tags, Roles: FeedbackWriters,
		Summary: "Take a feedback out of the statistics",
	})
}

func (s *Server) registerOpportunityCommands() {
	tags := []string{"Opportunities"}
	RegisterCommand(s, CommandRoute[opportunity.OpenOpportunity]{
		OperationID: "openOpportunity", Path: "/v1/opportunities", Creates: true, Tags: tags, Roles: OpportunityWriters,
		Hidden:  []string{"pipeline"},
		Summary: "Open an opportunity", Description: "It opens in the organisation's sales pipeline, at the given stage (default: the first).",
	})
	RegisterCommand(s, CommandRoute[opportunity.ChangeOpportunityStage]{
		OperationID: "changeOpportunityStage", Path: "/v1/opportunities/{id}/stage", Tags: tags, Roles: OpportunityWriters,
		Summary: "Move the opportunity to another stage",
	})
	RegisterCommand(s, CommandRoute[opportunity.ChangeOpportunityAmount]{
		OperationID: "changeOpportunityAmount", Path: "/v1/opportunities/{id}/amount", Tags: tags, Roles: OpportunityWriters,
		Summary: "Set the expected amount",
	})
	RegisterCommand(s, CommandRoute[opportunity.ChangeOpportunityCloseDate]{
		OperationID: "changeOpportunityCloseDate", Path: "/v1/opportunities/{id}/close-date", Tags: tags, Roles: OpportunityWriters,
		Summary: "Set or clear the expected close date",
	})
	RegisterCommand(s, CommandRoute[opportunity.AssignOpportunityOwner]{
		OperationID: "assignOpportunityOwner", Path: "/v1/opportunities/{id}/owner", Tags: tags, Roles: OpportunityWriters,
		Summary: "Set or clear the owner",
	})
	RegisterCommand(s, CommandRoute[opportunity.CaptureRequirements]{
		OperationID: "captureRequirements", Path: "/v1/opportunities/{id}/requirements", Tags: tags, Roles: OpportunityWriters,
		Summary: "Record the customer's requirements as a new revision (ISO 9001 8.2.2)",
	})
	RegisterCommand(s, CommandRoute[opportunity.ReviewRequirements]{
		OperationID: "reviewRequirements", Path: "/v1/opportunities/{id}/requirements/review", Tags: tags, Roles: OpportunityWriters,
		Summary: "Record the review of the current requirements revision (ISO 9001 8.2.3)",
	})
	RegisterCommand(s, CommandRoute[opportunity.WinOpportunity]{
		OperationID: "winOpportunity", Path: "/v1/opportunities/{id}/win", Tags: tags, Roles: OpportunityWriters,
		Summary: "Record that the customer committed", Description: "Refused unless the current requirements were reviewed and approved.",
	})
	RegisterCommand(s, CommandRoute[opportunity.LoseOpportunity]{
		OperationID: "loseOpportunity", Path: "/v1/opportunities/{id}/lose", Tags: tags, Roles: OpportunityWriters,
		Summary: "Record that the opportunity was lost",
	})
	RegisterCommand(s, CommandRoute[opportunity.ReopenOpportunity]{
		OperationID: "reopenOpportunity", Path: "/v1/opportunities/{id}/reopen", Tags: tags, Roles: OpportunityWriters,
		Summary: "Reopen a won or lost opportunity",
	})
}

func (s *Server) registerOrderCommands() {
	tags := []string{"Orders"}
	RegisterCommand(s, CommandRoute[order.PlaceOrder]{
		OperationID: "placeOrder", Path: "/v1/orders", Creates: true, Tags: tags, Roles: OrderWriters,
		Hidden:  []string{"opportunity_review"},
		Summary: "Place an order",
		Description: "From a won opportunity (opportunity_id): refused unless its current requirements were reviewed and approved; " +
			"the order records that review. Directly (no opportunity_id): the order needs its own review before confirmation.",
	})
	RegisterCommand(s, CommandRoute[order.AmendOrder]{
		OperationID: "amendOrder", Path: "/v1/orders/{id}/amend", Tags: tags, Roles: OrderWriters,
		Summary: "Replace the lines and terms of an order not yet confirmed",
	})
	RegisterCommand(s, CommandRoute[order.ReviewOrder]{
		OperationID: "reviewOrder", Path: "/v1/orders/{id}/review", Tags: tags, Roles: OrderWriters,
		Summary: "Record the review of the order's current revision (ISO 9001 8.2.3)",
	})
	RegisterCommand(s, CommandRoute[order.ConfirmOrder]{
		OperationID: "confirmOrder", Path: "/v1/orders/{id}/confirm", Tags: tags, Roles: OrderWriters,
		Summary: "Commit to supply the order",
	})
	RegisterCommand(s, CommandRoute[order.StartOrderProduction]{
		OperationID: "startOrderProduction", Path: "/v1/orders/{id}/production", Tags: tags, Roles: OrderFulfilment,
		Summary: "Record that production started",
	})
	RegisterCommand(s, CommandRoute[order.ShipOrder]{
		OperationID: "shipOrder", Path: "/v1/orders/{id}/ship", Tags: tags, Roles: OrderFulfilment,
		Summary: "Record that the order was shipped",
	})
	RegisterCommand(s, CommandRoute[order.DeliverOrder]{
		OperationID: "deliverOrder", Path: "/v1/orders/{id}/deliver", Tags: tags, Roles: OrderFulfilment,
		Summary: "Record that the order was delivered",
	})
	RegisterCommand(s, CommandRoute[order.CancelOrder]{
		OperationID: "cancelOrder", Path: "/v1/orders/{id}/cancel", Tags: tags, Roles: OrderWriters,
		Summary: "Cancel an order that has not been shipped",
	})
}

func (s *Server) registerNonconformityCommands() {
	tags := []string{"Nonconformities"}
	RegisterCommand(s, CommandRoute[nonconformity.RaiseNonconformity]{
		OperationID: "raiseNonconformity", Path: "/v1/nonconformities", Creates: true, Tags: tags, Roles: QualityWriters,
		Summary: "Record a nonconformity (ISO 9001 10.2)",
	})
	RegisterCommand(s, CommandRoute[nonconformity.StartNonconformityAnalysis]{
		OperationID: "startNonconformityAnalysis", Path: "/v1/nonconformities/{id}/analysis", Tags: tags, Roles: QualityWriters,
		Summary: "Name the analyst and start the analysis",
	})
	RegisterCommand(s, CommandRoute[nonconformity.RecordImmediateAction]{
		OperationID: "recordImmediateAction", Path: "/v1/nonconformities/{id}/immediate-actions", Tags: tags, Roles: QualityWriters,
		Summary: "Record a correction or containment done at once",
	})
	RegisterCommand(s, CommandRoute[nonconformity.RecordRootCause]{
		OperationID: "recordRootCause", Path: "/v1/nonconformities/{id}/root-cause", Tags: tags, Roles: QualityWriters,
		Summary: "Record or revise the root cause",
	})
	RegisterCommand(s, CommandRoute[nonconformity.PlanCorrectiveAction]{
		OperationID: "planCorrectiveAction", Path: "/v1/nonconformities/{id}/actions", Tags: tags, Roles: QualityWriters,
		Summary: "Add a corrective action to the plan", Description: "action_id is chosen by the client, so the request can be retried.",
	})
	RegisterCommand(s, CommandRoute[nonconformity.ApproveActionPlan]{
		OperationID: "approveActionPlan", Path: "/v1/nonconformities/{id}/action-plan/approve", Tags: tags, Roles: QualityWriters,
		Summary: "Approve the action plan",
	})
	RegisterCommand(s, CommandRoute[nonconformity.CompleteCorrectiveAction]{
		OperationID: "completeCorrectiveAction", Path: "/v1/nonconformities/{id}/actions/complete", Tags: tags, Roles: QualityWriters,
		Summary: "Record that a corrective action was done",
	})
	RegisterCommand(s, CommandRoute[nonconformity.ReopenCorrectiveAction]{
		OperationID: "reopenCorrectiveAction", Path: "/v1/nonconformities/{id}/actions/reopen", Tags: tags, Roles: QualityWriters,
		Summary: "Reopen a corrective action that proved insufficient",
	})
	RegisterCommand(s, CommandRoute[nonconformity.VerifyEffectiveness]{
		OperationID: "verifyEffectiveness", Path: "/v1/nonconformities/{id}/effectiveness", Tags: tags, Roles: QualityWriters,
		Summary: "Record the effectiveness review",
	})
	RegisterCommand(s, CommandRoute[nonconformity.CloseNonconformity]{
		OperationID: "closeNonconformity", Path: "/v1/nonconformities/{id}/close", Tags: tags, Roles: QualityWriters,
		Summary: "Close the nonconformity",
	})
}
