// Package demo generates realistic, seeded demo data for evcrm and loads it
// through the command handlers — over the HTTP API of a running server, or
// in-process through the dispatcher — never by writing events directly.
//
// Plan builds the whole history up front, deterministically from a seed: the
// same seed, customer count and end time give the same commands with the
// same IDs and the same idempotency keys, so loading a plan twice changes
// nothing the second time. The history covers the cycle: campaigns, leads
// (qualified, disqualified, converted), opportunities moving through the
// pipeline with requirements captured and reviewed, orders through their
// statuses, service cases under an SLA (some breached, left for the SLA
// watcher to escalate), complaints (some acknowledged late or not at all),
// nonconformities with corrective actions, feedback and interactions. Each
// step carries the time it happened (backdated over the last months).
package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

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

// Step is one command of the plan.
type Step struct {
	Command    domain.Command
	OccurredAt time.Time // when it happened; the aggregate decides with this time
	Actor      string    // the user the command is recorded for (as Extra "demo_user")
	// Key is the step's idempotency key: "demo/<seed>/<n>".
	Key string
}

// Config shapes a plan.
type Config struct {
	Customers int   // number of customer stories (>= 1)
	Seed      int64 // the same seed gives the same plan
	// End is the time of the last step (default: now, truncated to the
	// minute); the history spans the months before it.
	End time.Time
	// Span is how far back the history goes (default 120 days).
	Span time.Duration
}

// Plan returns the steps of a demo history, in time order.
func Plan(cfg Config) ([]Step, error) {
	if cfg.Customers < 1 || cfg.Customers > 1_000_000 {
		return nil, fmt.Errorf("demo: customers must be between 1 and 1000000, not %d", cfg.Customers)
	}
	if cfg.End.IsZero() {
		cfg.End = time.Now()
	}
	cfg.End = cfg.End.UTC().Truncate(time.Minute)
	if cfg.Span <= 0 {
		cfg.Span = 120 * 24 * time.Hour
	}
	g := &gen{
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x65766372_6d64656d)), // "evcrmdem"
		seed:  cfg.Seed,
		start: cfg.End.Add(-cfg.Span),
		end:   cfg.End,
	}
	g.campaigns()
	for i := range cfg.Customers {
		g.story(i)
	}
	// Merge the stories by time; each story's own steps are already in
	// order, and a stable sort keeps ties in the order they were planned.
	slices.SortStableFunc(g.steps, func(a, b Step) int { return a.OccurredAt.Compare(b.OccurredAt) })
	for i := range g.steps {
		g.steps[i].Key = fmt.Sprintf("demo/%d/%d", cfg.Seed, i)
	}
	// The quality objectives come first, with keys of their own (so the
	// stories' keys stay those of earlier releases).
	sets, change := g.objectives()
	steps := append(sets, g.steps...)
	at, _ := slices.BinarySearchFunc(steps[len(sets):], change.OccurredAt, func(s Step, t time.Time) int {
		if s.OccurredAt.After(t) {
			return 1
		}
		return -1
	})
	return slices.Insert(steps, len(sets)+at, change), nil
}

// objectives sets the quality objectives of the demo organisation at the
// start of its history, and raises one target half-way (change).
func (g *gen) objectives() (sets []Step, change Step) {
	type def struct {
		name   string
		metric objective.Metric
		gran   objective.Granularity
		cmp    objective.Comparator
		target float64
	}
	defs := []def{
		{"Complaints acknowledged within their deadline", objective.ComplaintsAcknowledgedOnTime, objective.Quarter, objective.AtLeast, 95},
		{"Net promoter score", objective.NPS, objective.Month, objective.AtLeast, 30},
		{"Win rate", objective.WinRate, objective.Quarter, objective.AtLeast, 25},
		{"First response within SLA", objective.FirstResponseWithinSLA, objective.Month, objective.AtLeast, 90},
		{"Mean CSAT", objective.CSATAverage, objective.Month, objective.AtLeast, 4},
		{"SLA breach rate", objective.SLABreachRate, objective.Month, objective.AtMost, 10},
	}
	var steps []Step
	key := func() string { return fmt.Sprintf("demo/%d/objective/%d", g.seed, len(steps)) }
	id := func(i int) uuid.UUID {
		return uuid.NewSHA1(demoNamespace, fmt.Appendf(nil, "objective/%d/%d", g.seed, i))
	}
	for i, d := range defs {
		steps = append(steps, Step{OccurredAt: g.start, Actor: "user:lena", Key: key(), Command: objective.SetObjective{
			ObjectiveID: id(i), Name: d.name, Metric: d.metric, Granularity: d.gran, Comparator: d.cmp, Target: d.target,
			EffectiveFrom: d.gran.PeriodStart(g.start), Owner: "quality manager",
			Note: "Set in the management review before the period (ISO 9001 6.2).",
		}})
	}
	// Half-way, the management review raises the NPS target from the next month on.
	mid := g.start.Add(g.end.Sub(g.start) / 2)
	change = Step{OccurredAt: mid, Actor: "user:lena", Key: key(), Command: objective.ChangeObjectiveTarget{
		ObjectiveID: id(1), Comparator: objective.AtLeast, Target: 35, EffectiveFrom: objective.Month.Next(objective.Month.PeriodStart(mid)),
		Reason: "Raised in the management review after two months above target.",
	}}
	return steps, change
}

// demoNamespace names the IDs the demo derives rather than draws.
var demoNamespace = uuid.MustParse("6d1b0c52-0d7e-4a4b-9a55-2f6a0c0de0b1")

type gen struct {
	rng        *rand.Rand
	seed       int64
	start, end time.Time
	steps      []Step
	camps      []uuid.UUID
}

// id makes a UUID from the seeded generator (version 4 layout).
func (g *gen) id() uuid.UUID {
	var u uuid.UUID
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	for i := range 8 {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }
func (g *gen) chance(p float64) bool   { return g.rng.Float64() < p }

func (g *gen) add(at time.Time, actor string, cmd domain.Command) {
	if at.After(g.end) {
		return // the story's future: not yet happened
	}
	g.steps = append(g.steps, Step{Command: cmd, OccurredAt: at, Actor: actor})
}

// clock walks a story forwards in time.
type clock struct {
	g  *gen
	at time.Time
}

// after advances by a random duration between lo and hi.
func (c *clock) after(lo, hi time.Duration) time.Time {
	c.at = c.at.Add(lo + time.Duration(c.g.rng.Int64N(int64(hi-lo)+1))).Truncate(time.Minute)
	return c.at
}

var (
	agents     = []string{"user:alice", "user:bruno", "user:chen", "user:dana"}
	sellers    = []string{"user:eva", "user:farid", "user:greta"}
	quality    = []string{"user:lena", "user:marc"}
	currencies = []string{"EUR", "EUR", "EUR", "USD", "GBP"}
	products   = []string{"PUMP-100", "PUMP-250", "VALVE-20", "SENSOR-7", "CTRL-UNIT", "SERVICE-PLAN"}
	companies  = []string{"Nordwind", "Aster", "Bluewater", "Calder", "Deltaform", "Ember", "Fjord", "Granite", "Helix",
		"Iberia", "Juniper", "Kestrel", "Lumen", "Meridian", "Northgate", "Orchid", "Pioneer", "Quarry", "Riverside", "Summit"}
	suffixes       = []string{"GmbH", "Ltd", "SA", "BV", "AB", "Oy", "S.r.l.", "Inc"}
	firsts         = []string{"Ada", "Bela", "Carla", "Dmitri", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kofi", "Lea"}
	lasts          = []string{"Almeida", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ivanova", "Jansen"}
	subjects       = []string{"Pump leaks at the seal", "Sensor reports wrong values", "Invoice does not match the order", "Controller restarts", "Spare part missing", "Installation question"}
	complaintTexts = []string{"Delivery arrived two weeks late", "Unit failed after one week", "Wrong item delivered", "Technician missed the appointment", "Invoice charged twice"}
)

// supportSLA is the demo organisation's service-level agreement.
var supportSLA = &servicecase.SLAPolicy{
	Name:     "standard",
	Calendar: sla.WeekdaysNineToFive("+01:00"),
	Targets: map[servicecase.Priority]servicecase.SLATarget{
		servicecase.P1: {FirstResponseMinutes: 30, ResolutionMinutes: 4 * 60},
		servicecase.P2: {FirstResponseMinutes: 2 * 60, ResolutionMinutes: 2 * 8 * 60},
		servicecase.P3: {FirstResponseMinutes: 8 * 60, ResolutionMinutes: 5 * 8 * 60},
		servicecase.P4: {FirstResponseMinutes: 16 * 60, ResolutionMinutes: 10 * 8 * 60},
	},
}

func (g *gen) money(lo, hi int64) domain.Money {
	cents := (lo + g.rng.Int64N(hi-lo+1)) * 100
	return domain.Money{Amount: cents, Currency: g.pick(currencies)}
}

func (g *gen) campaigns() {
	names := []string{"Spring trade fair", "Pump efficiency webinar", "Service plan mailing", "Partner newsletter"}
	channels := []campaign.Channel{campaign.ChannelEmail, campaign.ChannelEmail, campaign.ChannelEmail, campaign.ChannelEmail}
	for i, name := range names {
		id := g.id()
		c := &clock{g: g, at: g.start.Add(time.Duration(i) * 24 * time.Hour)}
		owner := g.pick(sellers)
		g.add(c.after(time.Hour, 4*time.Hour), owner, campaign.PlanCampaign{CampaignID: id, Name: name, Channel: channels[i],
			Budget: g.money(2_000, 20_000), OwnerID: owner, Description: "Demo campaign"})
		g.add(c.after(24*time.Hour, 72*time.Hour), owner, campaign.LaunchCampaign{CampaignID: id})
		if i == 0 {
			g.add(g.end.Add(-10*24*time.Hour), owner, campaign.CompleteCampaign{CampaignID: id})
		}
		g.camps = append(g.camps, id)
	}
}

// story is the history of one customer.
func (g *gen) story(i int) {
	cust := g.id()
	// Stories start spread over the first two thirds of the span.
	c := &clock{g: g, at: g.start.Add(7*24*time.Hour + time.Duration(g.rng.Int64N(int64(g.end.Sub(g.start)*2/3))))}
	seller := g.pick(sellers)
	org := g.chance(0.8)
	name := g.pick(firsts) + " " + g.pick(lasts)
	details := customer.Details{Kind: customer.KindPerson, DisplayName: name,
		Emails: []string{fmt.Sprintf("customer%d@example.com", i)}}
	if org {
		company := g.pick(companies) + " " + g.pick(suffixes)
		details = customer.Details{Kind: customer.KindOrganisation, DisplayName: company, LegalName: company,
			Emails: []string{fmt.Sprintf("info%d@example.com", i)}, Phones: []string{fmt.Sprintf("+3120555%04d", i%10000)}}
	}

	// Marketing: a lead from a campaign, qualified, converted into this
	// customer with an opportunity the lead-conversion process opens.
	if g.chance(0.5) {
		l := g.id()
		camp := g.camps[g.rng.IntN(len(g.camps))]
		g.add(c.after(time.Hour, 48*time.Hour), seller, lead.CaptureLead{LeadID: l, Source: "campaign", CampaignID: camp,
			Prospect: lead.Prospect{ContactName: name, CompanyName: details.LegalName, Email: details.Emails[0]}, OwnerID: seller})
		switch {
		case g.chance(0.2):
			g.add(c.after(time.Hour, 72*time.Hour), seller, lead.DisqualifyLead{LeadID: l, Reason: "No budget this year"})
			g.add(c.after(time.Hour, 24*time.Hour), seller, customer.RegisterCustomer{CustomerID: cust, Details: details, OwnerID: seller})
		default:
			g.add(c.after(time.Hour, 72*time.Hour), seller, lead.QualifyLead{LeadID: l, Score: 50 + g.rng.IntN(50)})
			g.add(c.after(time.Hour, 24*time.Hour), seller, customer.RegisterCustomer{CustomerID: cust, Details: details, OwnerID: seller})
			g.add(c.after(time.Minute, time.Hour), seller, lead.ConvertLead{LeadID: l, CustomerID: cust, ExistingCustomer: true,
				OpportunityID: g.id(), OpportunityName: "First order " + details.DisplayName, Amount: g.money(5_000, 80_000)})
		}
	} else {
		g.add(c.after(time.Hour, 24*time.Hour), seller, customer.RegisterCustomer{CustomerID: cust, Details: details, OwnerID: seller})
	}
	g.interaction(c, cust, seller, "Introduction call")

	var orders []uuid.UUID
	for range 1 + g.rng.IntN(2) {
		if o := g.opportunity(c, cust, seller); o != uuid.Nil {
			orders = append(orders, o)
		}
	}
	var cases []uuid.UUID
	for range g.rng.IntN(3) {
		var ord uuid.UUID
		if len(orders) > 0 && g.chance(0.5) {
			ord = orders[g.rng.IntN(len(orders))]
		}
		cases = append(cases, g.serviceCase(c, cust, ord))
	}
	if g.chance(0.3) {
		var ord uuid.UUID
		if len(orders) > 0 {
			ord = orders[g.rng.IntN(len(orders))]
		}
		g.complaint(c, cust, ord)
	}
	if g.chance(0.6) {
		fb := feedback.SubmitFeedback{FeedbackID: g.id(), CustomerID: cust, Method: feedback.MethodSurvey}
		csat, nps := 1+g.rng.IntN(5), g.rng.IntN(11)
		if g.chance(0.7) { // most customers are content
			csat, nps = 4+g.rng.IntN(2), 7+g.rng.IntN(4)
		}
		fb.CSAT, fb.NPS = &csat, &nps
		if len(cases) > 0 {
			fb.CaseID = cases[0]
		} else if len(orders) > 0 {
			fb.OrderID = orders[0]
		}
		g.add(c.after(24*time.Hour, 10*24*time.Hour), "user:survey", fb)
	}
}

func (g *gen) interaction(c *clock, cust uuid.UUID, actor, subject string) {
	at := c.after(time.Hour, 72*time.Hour)
	g.add(at, actor, interaction.LogInteraction{InteractionID: g.id(), Content: interaction.Content{
		CustomerID: cust, Channel: interaction.ChannelCall, Direction: interaction.Outbound, Subject: subject,
		Summary: "Discussed needs and next steps", OccurredAt: at.Add(-30 * time.Minute), DurationSeconds: 600 + g.rng.IntN(1800),
		Actor: actor,
	}})
}

// opportunity plays one deal; it returns the order placed, if any.
func (g *gen) opportunity(c *clock, cust uuid.UUID, seller string) uuid.UUID {
	opp := g.id()
	amount := g.money(3_000, 150_000)
	at := c.after(24*time.Hour, 10*24*time.Hour)
	g.add(at, seller, opportunity.OpenOpportunity{OpportunityID: opp, CustomerID: cust, Name: g.pick(products) + " project",
		Amount: amount, OwnerID: seller, ExpectedClose: at.Truncate(24*time.Hour).AddDate(0, 1+g.rng.IntN(3), 0)})
	stages := opportunity.DefaultPipeline().Stages
	reached := 1 + g.rng.IntN(len(stages)-1)
	for s := 1; s <= reached; s++ {
		g.add(c.after(24*time.Hour, 7*24*time.Hour), seller, opportunity.ChangeOpportunityStage{OpportunityID: opp, Stage: stages[s].Name})
		if s == 1 {
			g.add(c.after(time.Hour, 48*time.Hour), seller, opportunity.CaptureRequirements{OpportunityID: opp, Items: []requirement.Item{
				{Ref: "R1", Description: "Flow rate of at least 250 l/min", Kind: requirement.KindCustomer},
				{Ref: "R2", Description: "Delivery within six weeks", Kind: requirement.KindDelivery},
				{Ref: "R3", Description: "CE marking", Kind: requirement.KindStatutory},
			}})
		}
	}
	if reached < 2 || g.chance(0.15) {
		return uuid.Nil // still open
	}
	reviewer := g.pick(quality)
	rev := 1
	if g.chance(0.25) { // the first review finds open points
		g.add(c.after(time.Hour, 48*time.Hour), reviewer, opportunity.ReviewRequirements{OpportunityID: opp, Revision: 1,
			Reviewer: reviewer, Result: requirement.Rejected, OpenPoints: []string{"Delivery date cannot be met from stock"}})
		g.add(c.after(time.Hour, 48*time.Hour), seller, opportunity.CaptureRequirements{OpportunityID: opp, Items: []requirement.Item{
			{Ref: "R1", Description: "Flow rate of at least 250 l/min", Kind: requirement.KindCustomer},
			{Ref: "R2", Description: "Delivery within ten weeks", Kind: requirement.KindDelivery},
			{Ref: "R3", Description: "CE marking", Kind: requirement.KindStatutory},
		}})
		rev = 2
	}
	g.add(c.after(time.Hour, 48*time.Hour), reviewer, opportunity.ReviewRequirements{OpportunityID: opp, Revision: rev,
		Reviewer: reviewer, Result: requirement.Approved})
	if g.chance(0.3) {
		g.add(c.after(24*time.Hour, 10*24*time.Hour), seller, opportunity.LoseOpportunity{OpportunityID: opp,
			Reason: g.pick([]string{"Price", "Lead time", "Went with incumbent"}), Competitor: g.pick([]string{"", "Acme Pumps"})})
		return uuid.Nil
	}
	g.add(c.after(24*time.Hour, 10*24*time.Hour), seller, opportunity.WinOpportunity{OpportunityID: opp})

	ord := g.id()
	qty := 1 + g.rng.Int64N(8)
	unit := domain.Money{Amount: amount.Amount / qty, Currency: amount.Currency}
	g.add(c.after(time.Hour, 72*time.Hour), seller, order.PlaceOrder{OrderID: ord, CustomerID: cust, OpportunityID: opp,
		CustomerReference: fmt.Sprintf("PO-%05d", g.rng.IntN(100000)),
		Lines:             []order.Line{{ProductID: g.pick(products), Description: "As reviewed", Quantity: qty, UnitPrice: unit}}})
	if g.chance(0.08) {
		g.add(c.after(time.Hour, 7*24*time.Hour), seller, order.CancelOrder{OrderID: ord, Reason: "Customer budget withdrawn"})
		return ord
	}
	confirmed := c.after(time.Hour, 48*time.Hour)
	g.add(confirmed, seller, order.ConfirmOrder{OrderID: ord, PromisedDelivery: confirmed.Truncate(24*time.Hour).AddDate(0, 0, 21+g.rng.IntN(21))})
	ops := "user:ops"
	g.add(c.after(24*time.Hour, 5*24*time.Hour), ops, order.StartOrderProduction{OrderID: ord})
	g.add(c.after(5*24*time.Hour, 20*24*time.Hour), ops, order.ShipOrder{OrderID: ord, Carrier: g.pick([]string{"DHL", "DB Schenker", "UPS"}),
		TrackingRef: fmt.Sprintf("TRK%08d", g.rng.IntN(100_000_000))})
	g.add(c.after(24*time.Hour, 5*24*time.Hour), ops, order.DeliverOrder{OrderID: ord, ReceivedBy: "Goods receipt"})
	return ord
}

// serviceCase plays one service request under the SLA. Some are answered
// late, some wait on the customer, some are still open past their
// deadlines (the SLA watcher escalates those).
func (g *gen) serviceCase(c *clock, cust, ord uuid.UUID) uuid.UUID {
	id := g.id()
	agent := g.pick(agents)
	prio := servicecase.Priorities[g.rng.IntN(len(servicecase.Priorities))]
	g.add(c.after(24*time.Hour, 15*24*time.Hour), agent, servicecase.OpenCase{CaseID: id, CustomerID: cust, OrderID: ord,
		Queue: g.pick([]string{"support", "support", "field_service", "billing"}), Priority: prio,
		Channel: servicecase.Channel(g.pick([]string{"email", "phone", "web"})), Subject: g.pick(subjects), SLA: supportSLA})
	g.add(c.after(time.Minute, 30*time.Minute), agent, servicecase.AssignCase{CaseID: id, AgentID: agent})
	if g.chance(0.15) {
		return id // untouched: the SLA watcher escalates it
	}
	if g.chance(0.7) {
		g.add(c.after(10*time.Minute, 3*time.Hour), agent, servicecase.RecordFirstResponse{CaseID: id, AgentID: agent})
	} else {
		g.add(c.after(24*time.Hour, 4*24*time.Hour), agent, servicecase.RecordFirstResponse{CaseID: id, AgentID: agent}) // late
	}
	if g.chance(0.3) {
		g.add(c.after(time.Hour, 24*time.Hour), agent, servicecase.WaitOnCustomer{CaseID: id, Reason: "Waiting for photos of the defect"})
		g.add(c.after(24*time.Hour, 5*24*time.Hour), agent, servicecase.ResumeCase{CaseID: id})
	}
	if g.chance(0.1) {
		return id // still being worked on
	}
	g.add(c.after(2*time.Hour, 6*24*time.Hour), agent, servicecase.ResolveCase{CaseID: id,
		Resolution: g.pick([]string{"Replaced the seal", "Recalibrated the sensor", "Credit note issued", "Sent the spare part"})})
	if g.chance(0.08) {
		g.add(c.after(24*time.Hour, 3*24*time.Hour), agent, servicecase.ReopenCase{CaseID: id, Reason: "The problem came back"})
		g.add(c.after(24*time.Hour, 3*24*time.Hour), agent, servicecase.ResolveCase{CaseID: id, Resolution: "Replaced the unit"})
	}
	g.add(c.after(2*24*time.Hour, 7*24*time.Hour), agent, servicecase.CloseCase{CaseID: id})
	return id
}

// complaint plays one complaint (ISO 10002), sometimes raising a
// nonconformity with corrective actions (ISO 9001 10.2).
func (g *gen) complaint(c *clock, cust, ord uuid.UUID) {
	id := g.id()
	agent := g.pick(agents)
	g.add(c.after(24*time.Hour, 10*24*time.Hour), agent, complaint.ReceiveComplaint{ComplaintID: id, CustomerID: cust, OrderID: ord,
		Channel: servicecase.Channel(g.pick([]string{"email", "phone"})), Description: g.pick(complaintTexts),
		RemedySought:      g.pick([]string{"Refund", "Replacement", "Apology and a fix"}),
		Severity:          []complaint.Severity{complaint.SeverityLow, complaint.SeverityMedium, complaint.SeverityHigh}[g.rng.IntN(3)],
		AcknowledgeWithin: sla.Target{Minutes: 8 * 60, Calendar: sla.WeekdaysNineToFive("+01:00")}})
	if g.chance(0.15) {
		return // never acknowledged: the SLA watcher flags it
	}
	if g.chance(0.75) {
		g.add(c.after(30*time.Minute, 6*time.Hour), agent, complaint.AcknowledgeComplaint{ComplaintID: id})
	} else {
		g.add(c.after(2*24*time.Hour, 5*24*time.Hour), agent, complaint.AcknowledgeComplaint{ComplaintID: id}) // late
	}
	g.add(c.after(time.Hour, 48*time.Hour), agent, complaint.AssessComplaint{ComplaintID: id, Severity: complaint.SeverityMedium,
		Urgency: complaint.UrgencyNormal})
	g.add(c.after(24*time.Hour, 5*24*time.Hour), agent, complaint.RecordInvestigation{ComplaintID: id,
		RootCause: g.pick([]string{"Carrier delay not reported", "Seal batch out of tolerance", "Picking error"})})
	if g.chance(0.5) {
		g.nonconformity(c, id, cust, ord)
	}
	g.add(c.after(time.Hour, 3*24*time.Hour), agent, complaint.RespondToComplaint{ComplaintID: id, Outcome: complaint.OutcomeUpheld,
		Decision: "We accept the complaint", RemedyOffered: "Replacement shipped free of charge"})
	if g.chance(0.2) {
		return // awaiting the customer's answer
	}
	satisfied := g.chance(0.75)
	g.add(c.after(24*time.Hour, 10*24*time.Hour), agent, complaint.CloseComplaint{ComplaintID: id, CustomerSatisfied: &satisfied})
}

func (g *gen) nonconformity(c *clock, cmpID, cust, ord uuid.UUID) {
	nc := g.id()
	q := g.pick(quality)
	g.add(c.after(time.Hour, 24*time.Hour), q, complaint.RaiseNonconformityFromComplaint{ComplaintID: cmpID, NonconformityID: nc})
	g.add(c.after(time.Minute, time.Hour), q, nonconformity.RaiseNonconformity{NonconformityID: nc, Source: nonconformity.SourceComplaint,
		SourceID: cmpID, Severity: nonconformity.SeverityMinor, Title: "Nonconforming delivery", Description: "Raised from a customer complaint",
		CustomerID: cust, OrderID: ord})
	g.add(c.after(time.Hour, 48*time.Hour), q, nonconformity.StartNonconformityAnalysis{NonconformityID: nc, AnalystID: q})
	g.add(c.after(time.Hour, 24*time.Hour), q, nonconformity.RecordImmediateAction{NonconformityID: nc, Description: "Blocked the affected batch"})
	g.add(c.after(24*time.Hour, 5*24*time.Hour), q, nonconformity.RecordRootCause{NonconformityID: nc,
		RootCause: "Incoming inspection skipped for the supplier's new batch", Method: "five_whys"})
	actions := 1 + g.rng.IntN(2)
	var ids []uuid.UUID
	for range actions {
		a := g.id()
		ids = append(ids, a)
		at := c.after(time.Hour, 24*time.Hour)
		g.add(at, q, nonconformity.PlanCorrectiveAction{NonconformityID: nc, ActionID: a,
			Description: g.pick([]string{"Add the supplier to incoming inspection", "Train the picking team", "Update the work instruction"}),
			OwnerID:     g.pick(quality), DueDate: at.AddDate(0, 0, 14+g.rng.IntN(14)).Format(time.DateOnly)})
	}
	g.add(c.after(time.Hour, 48*time.Hour), q, nonconformity.ApproveActionPlan{NonconformityID: nc})
	if g.chance(0.3) {
		return // actions in progress
	}
	for _, a := range ids {
		g.add(c.after(24*time.Hour, 10*24*time.Hour), q, nonconformity.CompleteCorrectiveAction{NonconformityID: nc, ActionID: a, Outcome: "Done as planned"})
	}
	effective := g.chance(0.85)
	g.add(c.after(7*24*time.Hour, 20*24*time.Hour), q, nonconformity.VerifyEffectiveness{NonconformityID: nc, Effective: &effective,
		Evidence: "No repeat in the following deliveries"})
	if effective {
		g.add(c.after(time.Hour, 48*time.Hour), q, nonconformity.CloseNonconformity{NonconformityID: nc, Summary: "Corrected and verified"})
	}
}

// Summary counts the steps of a plan by command type.
func Summary(steps []Step) map[string]int {
	out := map[string]int{}
	for _, s := range steps {
		out[s.Command.CommandType()]++
	}
	return out
}
