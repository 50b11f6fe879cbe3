package commands_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/google/uuid"
)

// TestTenantIsolation: a command of tenant B never reads nor changes a
// record of tenant A, on every event store backend with a local server
// (ESDB reads the stream's tenant the same way, through ReadStream).
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T, db *pgtest.DB) eventstore.Store{
		"memory": func(t *testing.T, _ *pgtest.DB) eventstore.Store {
			s := memory.New()
			t.Cleanup(s.Close)
			return s
		},
		"postgres": func(t *testing.T, db *pgtest.DB) eventstore.Store {
			ctx := context.Background()
			if err := postgres.Migrate(ctx, db.Pool); err != nil {
				t.Fatal(err)
			}
			s, err := postgres.New(ctx, db.Pool, postgres.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			if err := apistore.Migrate(context.Background(), db.Pool, nil); err != nil {
				t.Fatal(err)
			}
			store := open(t, db)
			snaps := &commands.MemorySnapshots{}
			d, err := commands.NewDispatcher(store, commands.Config{Snapshots: snaps, SnapshotEvery: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
				t.Fatal(err)
			}
			testTenantIsolation(t, d, store)
		})
	}
}

func testTenantIsolation(t *testing.T, d *commands.Dispatcher, store eventstore.Store) {
	ctx := context.Background()
	as := func(tenant string) commands.Metadata {
		return commands.Metadata{Actor: "tester", Role: "admin", Tenant: tenant}
	}
	ok := func(tenant string, cmd domain.Command) commands.Result {
		t.Helper()
		res, err := d.Dispatch(ctx, cmd, as(tenant))
		if err != nil {
			t.Fatalf("%s for %s: %v", cmd.CommandType(), tenant, err)
		}
		return res
	}
	eur := func(n int64) domain.Money { return domain.Money{Amount: n, Currency: "EUR"} }

	// Tenant A's records.
	custA, oppA, caseA, campA, leadA := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	ok("a", customer.RegisterCustomer{CustomerID: custA, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme"}})
	ok("a", customer.ChangeCustomerSegment{CustomerID: custA, Segment: "key"})
	ok("a", customer.ChangeCustomerSegment{CustomerID: custA, Segment: "smb"}) // a snapshot now
	ok("a", opportunity.OpenOpportunity{OpportunityID: oppA, CustomerID: custA, Name: "Tools", Amount: eur(100000)})
	ok("a", opportunity.CaptureRequirements{OpportunityID: oppA, Items: []requirement.Item{{Ref: "R1", Description: "40 wrenches", Kind: requirement.KindCustomer}}})
	ok("a", opportunity.ReviewRequirements{OpportunityID: oppA, Revision: 1, Reviewer: "ann", Result: requirement.Approved})
	ok("a", opportunity.WinOpportunity{OpportunityID: oppA})
	ok("a", servicecase.OpenCase{CaseID: caseA, CustomerID: custA, Subject: "Broken", Channel: servicecase.ChannelEmail, Queue: "support", Priority: servicecase.P3})
	ok("a", campaign.PlanCampaign{CampaignID: campA, Name: "Spring", Channel: campaign.ChannelEmail, Budget: eur(1000)})
	ok("a", lead.CaptureLead{LeadID: leadA, Source: "web", Prospect: lead.Prospect{ContactName: "Bob", Email: "bob@example.com"}})

	snapshot := func(stream string) []eventstore.RecordedEvent {
		t.Helper()
		evs, err := store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	streams := []string{customer.StreamID(custA), opportunity.StreamID(oppA), servicecase.StreamID(caseA), campaign.StreamID(campA), lead.StreamID(leadA)}
	before := map[string]int{}
	for _, s := range streams {
		before[s] = len(snapshot(s))
	}

	// Tenant B's own customer, to refer from.
	custB := uuid.New()
	ok("b", customer.RegisterCustomer{CustomerID: custB, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Bea"}})

	notFound := func(cmd domain.Command) {
		t.Helper()
		_, err := d.Dispatch(ctx, cmd, as("b"))
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != domain.KindNotFound {
			t.Errorf("%s on tenant a's record by tenant b: %v, want not found", cmd.CommandType(), err)
		}
		// The same answer as for a record that does not exist at all.
		_, errMissing := d.Dispatch(ctx, withID(t, cmd, uuid.New()), as("b"))
		if errMissing == nil || err == nil || errMissing.Error() != err.Error() {
			t.Errorf("%s: foreign record answers %v, a missing one %v", cmd.CommandType(), err, errMissing)
		}
	}
	notFound(customer.ChangeCustomerSegment{CustomerID: custA, Segment: "stolen"})
	notFound(customer.MergeCustomer{CustomerID: custA, SurvivorID: custB})
	notFound(customer.RequestErasure{CustomerID: custA, ReceivedVia: "email"})
	notFound(opportunity.LoseOpportunity{OpportunityID: oppA, Reason: "price"})
	notFound(servicecase.EscalateCase{CaseID: caseA, Reason: "x"})
	notFound(campaign.LaunchCampaign{CampaignID: campA})
	notFound(lead.QualifyLead{LeadID: leadA, Score: 50})

	unknownRef := func(cmd domain.Command, field string) {
		t.Helper()
		_, err := d.Dispatch(ctx, cmd, as("b"))
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != "unknown_reference" || len(de.Fields) == 0 || de.Fields[0].Field != field {
			t.Errorf("%s referring to tenant a's record: %v, want unknown_reference on %s", cmd.CommandType(), err, field)
		}
	}
	// B's customer merged into A's: the survivor is unknown to B.
	unknownRef(customer.MergeCustomer{CustomerID: custB, SurvivorID: custA}, "survivor_id")
	unknownRef(opportunity.OpenOpportunity{OpportunityID: uuid.New(), CustomerID: custA, Name: "x", Amount: eur(1)}, "customer_id")
	unknownRef(servicecase.OpenCase{CaseID: uuid.New(), CustomerID: custA, Subject: "x", Channel: servicecase.ChannelEmail, Queue: "support", Priority: servicecase.P3}, "customer_id")
	unknownRef(complaint.ReceiveComplaint{ComplaintID: uuid.New(), CustomerID: custB, CaseID: caseA, Channel: "email",
		Description: "x", Severity: complaint.SeverityLow}, "case_id")
	unknownRef(lead.CaptureLead{LeadID: uuid.New(), Source: "web", CampaignID: campA, Prospect: lead.Prospect{ContactName: "x", Email: "x@example.com"}}, "campaign_id")
	// An order of B from A's won opportunity (with B's customer, so the
	// opportunity check itself must refuse).
	unknownRef(order.PlaceOrder{OrderID: uuid.New(), CustomerID: custB, OpportunityID: oppA,
		Lines: []order.Line{{ProductID: "TW-100", Quantity: 1, UnitPrice: eur(100)}}}, "opportunity_id")

	// A creation with an ID taken in tenant A: refused without a word
	// about the record.
	_, err := d.Dispatch(ctx, customer.RegisterCustomer{CustomerID: custA, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Eve"}}, as("b"))
	if !errors.Is(err, commands.ErrIDUnavailable) || strings.Contains(err.Error(), "Acme") {
		t.Errorf("creation with tenant a's ID: %v", err)
	}
	// With an If-Match, the answer is the one for a missing record too.
	m := as("b")
	m.Expected = eventstore.StreamExists
	_, err = d.Dispatch(ctx, customer.ChangeCustomerSegment{CustomerID: custA, Segment: "x"}, m)
	_, missing := d.Dispatch(ctx, customer.ChangeCustomerSegment{CustomerID: uuid.New(), Segment: "x"}, m)
	if missing == nil || err == nil || err.Error() != missing.Error() {
		t.Errorf("If-Match on a foreign record: %v, want what a missing record gets: %v", err, missing)
	}

	// Nothing of A's changed.
	for _, s := range streams {
		if got := len(snapshot(s)); got != before[s] {
			t.Errorf("%s: %d events, had %d", s, got, before[s])
		}
	}
	// And A still works on its own records (snapshot included).
	ok("a", customer.ChangeCustomerSegment{CustomerID: custA, Segment: "key"})
	ok("a", order.PlaceOrder{OrderID: uuid.New(), CustomerID: custA, OpportunityID: oppA,
		Lines: []order.Line{{ProductID: "TW-100", Quantity: 1, UnitPrice: eur(100)}}})

	// Complaint references count per tenant.
	year := time.Now().UTC().Year()
	for _, tn := range []string{"a", "b"} {
		cust := custA
		if tn == "b" {
			cust = custB
		}
		id := uuid.New()
		ok(tn, complaint.ReceiveComplaint{ComplaintID: id, CustomerID: cust, Channel: "email", Description: "Late", Severity: complaint.SeverityLow})
		evs := snapshot(complaint.StreamID(id))
		if want := complaint.FormatReference(year, 1); !strings.Contains(string(evs[0].Data), want) {
			t.Errorf("tenant %s's first complaint: %s, want %s", tn, evs[0].Data, want)
		}
	}
}

// withID returns cmd with its aggregate ID field replaced by id.
func withID(t *testing.T, cmd domain.Command, id uuid.UUID) domain.Command {
	t.Helper()
	switch c := cmd.(type) {
	case customer.ChangeCustomerSegment:
		c.CustomerID = id
		return c
	case customer.MergeCustomer:
		c.CustomerID = id
		return c
	case customer.RequestErasure:
		c.CustomerID = id
		return c
	case opportunity.LoseOpportunity:
		c.OpportunityID = id
		return c
	case servicecase.EscalateCase:
		c.CaseID = id
		return c
	case campaign.LaunchCampaign:
		c.CampaignID = id
		return c
	case lead.QualifyLead:
		c.LeadID = id
		return c
	}
	t.Fatalf("withID: %T", cmd)
	return nil
}
