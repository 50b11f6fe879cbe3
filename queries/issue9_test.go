package queries_test

import (
	"context"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/internal/tenant"
	pt "github.com/evcrm/evcrm/projections/projectiontest"
	"github.com/evcrm/evcrm/queries"
)

// TestCasesWithoutSLAWaitingAndRespondedUnassigned reproduces the service
// figures of issue 9 that disagreed with their events.
func TestCasesWithoutSLAWaitingAndRespondedUnassigned(t *testing.T) {
	t.Parallel()
	ann := pt.ID("ann")
	noSLA, waiting, responded := pt.ID("no-sla"), pt.ID("waiting"), pt.ID("responded")
	q := setupWith(t, func(s *pt.Scenario) {
		pt.Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: ann,
			Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Ann"}})
		open := func(id [16]byte, subject string, sla *servicecase.SLAPolicy) {
			pt.Do[servicecase.State](s, servicecase.Category, servicecase.OpenCase{CaseID: id, CustomerID: ann, Queue: "support",
				Priority: servicecase.P1, Channel: servicecase.ChannelEmail, Subject: subject, SLA: sla})
		}
		open(noSLA, "no SLA", nil)
		open(waiting, "waiting", pt.SupportSLA)
		open(responded, "responded", pt.SupportSLA)
		pt.Do[servicecase.State](s, servicecase.Category, servicecase.WaitOnCustomer{CaseID: waiting, Reason: "photos"})
		// A first response naming an agent on an unassigned case: no assignment.
		pt.Do[servicecase.State](s, servicecase.Category, servicecase.RecordFirstResponse{CaseID: responded, AgentID: "user:sam"})
	})
	// now (the golden clock) is days after every deadline of SupportSLA's P1.
	ctx := tenant.WithContext(context.Background(), pt.Tenant)

	c, err := q.Customer360(ctx, ann)
	if err != nil {
		t.Fatalf("customer 360 with an open case without SLA: %v", err) // was: cannot scan NULL into *bool (500)
	}
	byID := map[[16]byte]queries.OpenCase{}
	for _, oc := range c.OpenCases {
		byID[oc.CaseID] = oc
	}
	if oc := byID[noSLA]; oc.SLAPolicy != "none" || oc.NextDue != nil || oc.Breached {
		t.Errorf("case without SLA: %+v, want sla_policy none, no next_due, not breached", oc)
	}
	if oc := byID[waiting]; oc.Status != "waiting_on_customer" || oc.NextDue != nil || oc.SLAPolicy != "standard" {
		t.Errorf("waiting case: %+v, want no next_due while the clocks are stopped", oc)
	}

	page, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support"})
	if err != nil {
		t.Fatal(err)
	}
	for _, qc := range page.Items {
		switch qc.CaseID {
		case responded:
			if qc.AgentID != "" || qc.FirstResponseAt == nil {
				t.Errorf("responded case: agent %q, first response %v; want no agent (never assigned)", qc.AgentID, qc.FirstResponseAt)
			}
		case waiting:
			if qc.NextDue != nil && qc.NextDue.Before(now) && !qc.Overdue {
				t.Errorf("waiting case: next_due %v in the past with overdue=false", qc.NextDue)
			}
			if qc.NextDue != nil {
				t.Errorf("waiting case: next_due %v, want none while waiting", qc.NextDue)
			}
		case noSLA:
			if qc.SLAPolicy != "none" || qc.Overdue || qc.Breached {
				t.Errorf("case without SLA: %+v", qc)
			}
		}
	}
	ov, err := q.Queues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var without, unassigned int64
	for _, l := range ov.Queues {
		without += l.WithoutSLA
		unassigned += l.Unassigned
	}
	if without != 1 || unassigned != 3 {
		t.Errorf("queues: %d without SLA, %d unassigned; want 1 and 3", without, unassigned)
	}
}

// TestDailyEventsIncludeTheDayOfTo: the default period ends now, and today
// (so far) is reported; a period ending at a midnight stops the day before.
func TestDailyEventsIncludeTheDayOfTo(t *testing.T) {
	t.Parallel()
	q := setupWith(t, func(s *pt.Scenario) {
		s.Advance(10 * time.Hour) // FixtureStart + 10h, the same UTC day
		pt.Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: pt.ID("ann"),
			Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Ann"}})
	})
	ctx := tenant.WithContext(context.Background(), pt.Tenant)
	at := pt.FixtureStart.Add(10 * time.Hour)
	day := at.UTC().Format(time.DateOnly)
	midnight := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		to   time.Time
		want int
	}{
		{"ToLaterThatDay", at.Add(time.Minute), 1},
		{"ToNextMidnight", midnight.AddDate(0, 0, 1), 1},
		{"ToThatMidnight", midnight, 0},
	} {
		got, err := q.DailyEvents(ctx, queries.Period{From: midnight.AddDate(0, 0, -30), To: tc.to}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range got {
			if d.Day == day {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%s: %d rows for %s, want %d (%+v)", tc.name, n, day, tc.want, got)
		}
	}
}

// TestFunnelAndStageDefinitions: a lead qualified then disqualified still
// counts as qualified (it reached the stage); an opportunity that visits a
// stage twice counts once in entered, advanced and exits alike, with the
// total of its visits as its time in the stage.
func TestFunnelAndStageDefinitions(t *testing.T) {
	t.Parallel()
	camp, cust, opp := pt.ID("camp"), pt.ID("cust"), pt.ID("opp")
	q := setupWith(t, func(s *pt.Scenario) {
		pt.Do[campaign.State](s, campaign.Category, campaign.PlanCampaign{CampaignID: camp, Name: "Fair", Channel: campaign.ChannelEvent,
			Budget: domain.Money{Amount: 100, Currency: "EUR"}})
		for _, l := range []string{"l1", "l2", "l3"} {
			pt.Do[lead.State](s, lead.Category, lead.CaptureLead{LeadID: pt.ID(l), Source: "campaign", CampaignID: camp,
				Prospect: lead.Prospect{CompanyName: "Co " + l}})
		}
		pt.Do[lead.State](s, lead.Category, lead.QualifyLead{LeadID: pt.ID("l1"), Score: 50})
		pt.Do[lead.State](s, lead.Category, lead.QualifyLead{LeadID: pt.ID("l2"), Score: 50})
		pt.Do[lead.State](s, lead.Category, lead.DisqualifyLead{LeadID: pt.ID("l2"), Reason: "no budget"})
		pt.Do[lead.State](s, lead.Category, lead.DisqualifyLead{LeadID: pt.ID("l3"), Reason: "spam"})

		pt.Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: cust,
			Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Co"}})
		pt.Do[opportunity.State](s, opportunity.Category, opportunity.OpenOpportunity{OpportunityID: opp, CustomerID: cust,
			Name: "Deal", Amount: domain.Money{Amount: 1000, Currency: "EUR"}})
		stage := func(name string, after time.Duration) {
			s.Advance(after)
			pt.Do[opportunity.State](s, opportunity.Category, opportunity.ChangeOpportunityStage{OpportunityID: opp, Stage: name})
		}
		stage("needs_analysis", 2*time.Hour) // 2h in qualification
		stage("qualification", 3*time.Hour)  // back
		stage("proposal", 4*time.Hour)       // 4h more in qualification: 6h in all
	})
	ctx := tenant.WithContext(context.Background(), pt.Tenant)
	funnel, err := q.Funnel(ctx, camp)
	if err != nil {
		t.Fatal(err)
	}
	if len(funnel) != 1 || funnel[0].Leads != 3 || funnel[0].Qualified != 2 || funnel[0].Disqualified != 2 {
		t.Errorf("funnel = %+v, want 3 leads, 2 qualified (one later disqualified), 2 disqualified", funnel)
	}
	m, err := q.PipelineMetrics(ctx, queries.PipelineFilter{}, queries.Period{From: pt.FixtureStart.Add(-time.Hour), To: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range m.Stages {
		if st.Stage != "qualification" {
			continue
		}
		if st.Entered != 1 || st.Advanced != 1 || st.Exits != 1 || st.MeanHours == nil || *st.MeanHours != 6 {
			t.Errorf("qualification = entered %d, advanced %d, exits %d, mean %v h; want 1, 1, 1, 6", st.Entered, st.Advanced, st.Exits, st.MeanHours)
		}
		return
	}
	t.Errorf("no qualification stage in %+v", m.Stages)
}
