package queries_test

import (
	"context"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/servicecase"
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
	ctx := context.Background()

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
	ctx := context.Background()
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
