package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/order"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/google/uuid"
)

// domainSetup returns the dispatcher with every aggregate, on the in-memory
// event store and the PostgreSQL sequences.
func domainSetup(t *testing.T) (*commands.Dispatcher, eventstore.Store) {
	t.Helper()
	db := pgtest.New(t)
	if err := apistore.Migrate(context.Background(), db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	t.Cleanup(store.Close)
	d, err := commands.NewDispatcher(store, commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
		t.Fatal(err)
	}
	return d, store
}

func dispatch(t *testing.T, d *commands.Dispatcher, cmd domain.Command) commands.Result {
	t.Helper()
	res, err := d.Dispatch(context.Background(), cmd, commands.Metadata{Actor: "tester", Role: "admin"})
	if err != nil {
		t.Fatalf("%s: %v", cmd.CommandType(), err)
	}
	return res
}

func newCustomer(t *testing.T, d *commands.Dispatcher) uuid.UUID {
	t.Helper()
	id := uuid.New()
	dispatch(t, d, customer.RegisterCustomer{CustomerID: id, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme"}})
	return id
}

func TestRegisterDomainRequiresSequences(t *testing.T) {
	t.Parallel()
	d, err := commands.NewDispatcher(memory.New(), commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{}); err == nil {
		t.Fatal("no error without sequences")
	}
}

func TestPlaceOrderFromOpportunity(t *testing.T) {
	t.Parallel()
	d, _ := domainSetup(t)
	cust := newCustomer(t, d)
	opp := uuid.New()
	eur := func(n int64) domain.Money { return domain.Money{Amount: n, Currency: "EUR"} }
	dispatch(t, d, opportunity.OpenOpportunity{OpportunityID: opp, CustomerID: cust, Name: "Tools", Amount: eur(100000)})
	dispatch(t, d, opportunity.CaptureRequirements{OpportunityID: opp, Items: []requirement.Item{{Ref: "R1", Description: "40 wrenches", Kind: requirement.KindCustomer}}})
	lines := []order.Line{{ProductID: "TW-100", Quantity: 40, UnitPrice: eur(2500)}}
	forged := &requirement.Review{Revision: 1, Reviewer: "mallory", Result: requirement.Approved}

	// Not won yet: refused, whatever review the client claims.
	_, err := d.Dispatch(context.Background(), order.PlaceOrder{OrderID: uuid.New(), CustomerID: cust, OpportunityID: opp,
		OpportunityReview: forged, Lines: lines}, commands.Metadata{})
	if !errors.Is(err, opportunity.ErrNotWon) {
		t.Fatalf("order from an open opportunity: %v", err)
	}

	dispatch(t, d, opportunity.ReviewRequirements{OpportunityID: opp, Revision: 1, Reviewer: "ann", Result: requirement.Approved})
	dispatch(t, d, opportunity.WinOpportunity{OpportunityID: opp})

	// Another customer's opportunity: refused.
	other := newCustomer(t, d)
	_, err = d.Dispatch(context.Background(), order.PlaceOrder{OrderID: uuid.New(), CustomerID: other, OpportunityID: opp, Lines: lines}, commands.Metadata{})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != "opportunity_of_another_customer" {
		t.Fatalf("order for another customer: %v", err)
	}
	// Unknown opportunity: a validation error on opportunity_id.
	_, err = d.Dispatch(context.Background(), order.PlaceOrder{OrderID: uuid.New(), CustomerID: cust, OpportunityID: uuid.New(), Lines: lines}, commands.Metadata{})
	if !errors.As(err, &de) || de.Code != "unknown_reference" || de.Fields[0].Field != "opportunity_id" {
		t.Fatalf("order from an unknown opportunity: %v", err)
	}

	// Won with approved requirements: the order records the real review, not the forged one.
	orderID := uuid.New()
	dispatch(t, d, order.PlaceOrder{OrderID: orderID, CustomerID: cust, OpportunityID: opp, OpportunityReview: forged, Lines: lines})
	events, _ := d.Store().ReadStream(context.Background(), order.StreamID(orderID), eventstore.ReadStreamOptions{})
	if got := string(events[0].Data); !strings.Contains(got, `"reviewer":"ann"`) || strings.Contains(got, "mallory") {
		t.Fatalf("OrderPlaced = %s, want the opportunity's review by ann", got)
	}
}

func TestComplaintReferences(t *testing.T) {
	t.Parallel()
	d, store := domainSetup(t)
	cust := newCustomer(t, d)
	year := time.Now().UTC().Year()
	for i := 1; i <= 2; i++ {
		id := uuid.New()
		dispatch(t, d, complaint.ReceiveComplaint{ComplaintID: id, CustomerID: cust, Channel: "email",
			Description: "Late delivery", Severity: complaint.SeverityLow})
		events, _ := store.ReadStream(context.Background(), complaint.StreamID(id), eventstore.ReadStreamOptions{})
		want := fmt.Sprintf(`"reference":"%s"`, complaint.FormatReference(year, int64(i)))
		if !strings.Contains(string(events[0].Data), want) {
			t.Fatalf("complaint %d: %s, want %s", i, events[0].Data, want)
		}
	}
	// A reference given by the client is kept.
	id := uuid.New()
	dispatch(t, d, complaint.ReceiveComplaint{ComplaintID: id, Reference: "CMP-2020-000042", CustomerID: cust, Channel: "email",
		Description: "Imported from the old system", Severity: complaint.SeverityLow})
	events, _ := store.ReadStream(context.Background(), complaint.StreamID(id), eventstore.ReadStreamOptions{})
	if !strings.Contains(string(events[0].Data), `"reference":"CMP-2020-000042"`) {
		t.Fatalf("client reference lost: %s", events[0].Data)
	}
	// A complaint about an unknown customer is refused before a number is spent.
	_, err := d.Dispatch(context.Background(), complaint.ReceiveComplaint{ComplaintID: uuid.New(), CustomerID: uuid.New(), Channel: "email",
		Description: "x", Severity: complaint.SeverityLow}, commands.Metadata{})
	if !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("unknown customer: %v", err)
	}
}

func TestCampaignResponsesAreRecordedOnce(t *testing.T) {
	t.Parallel()
	d, store := domainSetup(t)
	id := uuid.New()
	dispatch(t, d, campaign.PlanCampaign{CampaignID: id, Name: "Spring mailing", Channel: campaign.ChannelEmail,
		Budget: domain.Money{Amount: 100000, Currency: "EUR"}})
	dispatch(t, d, campaign.LaunchCampaign{CampaignID: id})
	cust := newCustomer(t, d)
	resp := campaign.RecordCampaignResponse{CampaignID: id, CustomerID: cust, Kind: campaign.ResponseOpened,
		OccurredAt: time.Now().UTC().Add(-time.Minute).Truncate(time.Second), ExternalRef: "mailer-evt-981"}
	first := dispatch(t, d, resp)
	again := dispatch(t, d, resp) // the webhook, delivered twice
	if !again.Replayed || again.Version != first.Version {
		t.Fatalf("second delivery = %+v, want a replay of %+v", again, first)
	}
	if v, _ := store.StreamVersion(context.Background(), campaign.StreamID(id)); v != first.Version {
		t.Fatalf("stream at %d, want %d", v, first.Version)
	}
	// Without an external reference, each response is its own.
	resp.ExternalRef = ""
	a, b := dispatch(t, d, resp), dispatch(t, d, resp)
	if a.Replayed || b.Replayed || b.Version != a.Version+1 {
		t.Fatalf("responses without a reference: %+v, %+v", a, b)
	}
}

// TestMarketingSendNeedsConsent: a campaign send to a customer is refused
// without the customer's marketing consent over the campaign's channel.
func TestMarketingSendNeedsConsent(t *testing.T) {
	t.Parallel()
	d, _ := domainSetup(t)
	cust := newCustomer(t, d)
	camp := uuid.New()
	dispatch(t, d, campaign.PlanCampaign{CampaignID: camp, Name: "Spring", Channel: campaign.ChannelEmail, Budget: domain.Money{Amount: 100, Currency: "EUR"}})
	dispatch(t, d, campaign.LaunchCampaign{CampaignID: camp})
	send := campaign.RecordCampaignResponse{CampaignID: camp, CustomerID: cust, Kind: campaign.ResponseSent, OccurredAt: time.Now().UTC().Add(-time.Minute)}
	_, err := d.Dispatch(context.Background(), send, commands.Metadata{})
	if !errors.Is(err, customer.ErrNoConsent) || domain.KindOf(err) != domain.KindConflict {
		t.Fatalf("send without consent: %v", err)
	}
	// Other responses (the customer acted) need none.
	dispatch(t, d, campaign.RecordCampaignResponse{CampaignID: camp, CustomerID: cust, Kind: campaign.ResponseOpened, OccurredAt: time.Now().UTC().Add(-time.Minute)})
	dispatch(t, d, customer.GiveConsent{CustomerID: cust, Purpose: customer.MarketingPurpose, Channel: customer.ChannelSMS, Source: "web_form"})
	if _, err := d.Dispatch(context.Background(), send, commands.Metadata{}); !errors.Is(err, customer.ErrNoConsent) {
		t.Fatalf("send with consent over another channel only: %v", err)
	}
	dispatch(t, d, customer.GiveConsent{CustomerID: cust, Purpose: customer.MarketingPurpose, Channel: customer.ChannelEmail, Source: "web_form"})
	dispatch(t, d, send)
	dispatch(t, d, customer.WithdrawConsent{CustomerID: cust, Purpose: customer.MarketingPurpose, Channel: customer.ChannelEmail, Source: "letter"})
	send.OccurredAt = send.OccurredAt.Add(time.Second)
	if _, err := d.Dispatch(context.Background(), send, commands.Metadata{}); !errors.Is(err, customer.ErrNoConsent) {
		t.Fatalf("send after withdrawal: %v", err)
	}
}
