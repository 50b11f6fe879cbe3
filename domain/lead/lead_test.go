package lead_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	"github.com/evcrm/evcrm/domain/lead"
)

var (
	id       = uuid.MustParse("1e000000-0000-4000-8000-000000000001")
	camp     = uuid.MustParse("1e000000-0000-4000-8000-0000000000a1")
	customer = uuid.MustParse("1e000000-0000-4000-8000-0000000000c1")
	opp      = uuid.MustParse("1e000000-0000-4000-8000-0000000000b1")
	opp2     = uuid.MustParse("1e000000-0000-4000-8000-0000000000b2")
	now      = domaintest.Now
	closeOn  = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	amount   = domain.Money{Amount: 12_000_00, Currency: "EUR"}
)

var (
	prospect     = lead.Prospect{ContactName: "Anna Schmidt", CompanyName: "Acme GmbH", Email: "anna@acme.example", Phone: "+49 30 1234567"}
	captured     = lead.LeadCaptured{LeadID: id, Source: "trade_fair", CampaignID: camp, Prospect: prospect, Notes: "Met at booth 4", OwnerID: "sales.ana", At: now}
	qualified    = lead.LeadQualified{LeadID: id, Score: 70, Notes: "budget confirmed", At: now}
	disqualified = lead.LeadDisqualified{LeadID: id, Reason: "no budget", At: now}
	converted    = lead.LeadConverted{LeadID: id, CustomerID: customer, OpportunityID: opp, OpportunityName: "Acme GmbH", Amount: amount,
		ExpectedClose: closeOn, Prospect: prospect, Source: "trade_fair", CampaignID: camp, OwnerID: "sales.ana", Score: 70, At: now}
	convert = lead.ConvertLead{LeadID: id, CustomerID: customer, OpportunityID: opp, Amount: amount, ExpectedClose: closeOn}
)

func given(events ...domain.Event) []domain.Event { return events }

func TestCapture(t *testing.T) {
	messy := lead.Prospect{ContactName: " Anna Schmidt", CompanyName: "Acme GmbH ", Email: " anna@acme.example", Phone: "+49 30 1234567 "}
	domaintest.Run[lead.State](t, []domaintest.Case{
		{Name: "OK", When: lead.CaptureLead{LeadID: id, Source: "trade_fair", CampaignID: camp, Prospect: messy, Notes: "Met at booth 4 ", OwnerID: "sales.ana"},
			Then: given(captured)},
		{Name: "PersonOnly", When: lead.CaptureLead{LeadID: id, Source: "web_form", Prospect: lead.Prospect{ContactName: "Jo"}},
			Then: given(lead.LeadCaptured{LeadID: id, Source: "web_form", Prospect: lead.Prospect{ContactName: "Jo"}, At: now})},
		{Name: "Twice", Given: given(captured), When: lead.CaptureLead{LeadID: id, Source: "web_form", Prospect: prospect}, Err: lead.ErrAlreadyExists},
		{Name: "Invalid", When: lead.CaptureLead{Source: "Web Form", Prospect: lead.Prospect{Email: "nope", Phone: "call me"}, OwnerID: "a\nb"},
			Invalid: []string{"lead_id", "source", "contact_name", "email", "phone", "owner_id"}},
		{Name: "TooLong", When: lead.CaptureLead{LeadID: id, Source: "x", Prospect: lead.Prospect{CompanyName: strings.Repeat("c", 201)}, Notes: "\x00"},
			Invalid: []string{"company_name", "notes"}},
	})
}

func TestQualify(t *testing.T) {
	domaintest.Run[lead.State](t, []domaintest.Case{
		{Name: "New", Given: given(captured), When: lead.QualifyLead{LeadID: id, Score: 70, Notes: " budget confirmed "}, Then: given(qualified)},
		{Name: "Rescore", Given: given(captured, qualified), When: lead.QualifyLead{LeadID: id, Score: 85},
			Then: given(lead.LeadQualified{LeadID: id, Score: 85, At: now})},
		{Name: "ZeroScore", Given: given(captured), When: lead.QualifyLead{LeadID: id, Score: 0},
			Then: given(lead.LeadQualified{LeadID: id, Score: 0, At: now})},
		{Name: "SameScoreIsNoOp", Given: given(captured, qualified), When: lead.QualifyLead{LeadID: id, Score: 70}},
		{Name: "AfterDisqualification", Given: given(captured, qualified, disqualified), When: lead.QualifyLead{LeadID: id, Score: 70},
			Then: given(lead.LeadQualified{LeadID: id, Score: 70, At: now})},
		{Name: "ScoreTooHigh", Given: given(captured), When: lead.QualifyLead{LeadID: id, Score: 101}, Invalid: []string{"score"}},
		{Name: "ScoreNegative", Given: given(captured), When: lead.QualifyLead{LeadID: id, Score: -1}, Invalid: []string{"score"}},
		{Name: "Converted", Given: given(captured, qualified, converted), When: lead.QualifyLead{LeadID: id, Score: 90}, Err: lead.ErrConverted},
		{Name: "Unknown", When: lead.QualifyLead{LeadID: id, Score: 50}, Err: lead.ErrNotFound},
	})
}

func TestDisqualify(t *testing.T) {
	domaintest.Run[lead.State](t, []domaintest.Case{
		{Name: "New", Given: given(captured), When: lead.DisqualifyLead{LeadID: id, Reason: "no budget "}, Then: given(disqualified)},
		{Name: "Qualified", Given: given(captured, qualified), When: lead.DisqualifyLead{LeadID: id, Reason: "no budget"}, Then: given(disqualified)},
		{Name: "AgainIsNoOp", Given: given(captured, disqualified), When: lead.DisqualifyLead{LeadID: id, Reason: "other"}},
		{Name: "NoReason", Given: given(captured), When: lead.DisqualifyLead{LeadID: id, Reason: " "}, Invalid: []string{"reason"}},
		{Name: "Converted", Given: given(captured, qualified, converted), When: lead.DisqualifyLead{LeadID: id, Reason: "x"}, Err: lead.ErrConverted},
		{Name: "Unknown", When: lead.DisqualifyLead{LeadID: id, Reason: "x"}, Err: lead.ErrNotFound},
	})
}

func TestConvert(t *testing.T) {
	personOnly := lead.LeadCaptured{LeadID: id, Source: "web_form", Prospect: lead.Prospect{ContactName: "Jo Bloggs"}, At: now}
	domaintest.Run[lead.State](t, []domaintest.Case{
		{Name: "OK", Given: given(captured, qualified), When: convert, Then: given(converted)},
		{Name: "NamedAndExistingCustomer", Given: given(captured, qualified),
			When: lead.ConvertLead{LeadID: id, CustomerID: customer, ExistingCustomer: true, OpportunityID: opp, OpportunityName: " Line 2 retrofit ", Amount: amount},
			Then: given(lead.LeadConverted{LeadID: id, CustomerID: customer, ExistingCustomer: true, OpportunityID: opp, OpportunityName: "Line 2 retrofit",
				Amount: amount, Prospect: prospect, Source: "trade_fair", CampaignID: camp, OwnerID: "sales.ana", Score: 70, At: now})},
		{Name: "NameFromContact", Given: given(personOnly, qualified), When: lead.ConvertLead{LeadID: id, CustomerID: customer, OpportunityID: opp, Amount: amount},
			Then: given(lead.LeadConverted{LeadID: id, CustomerID: customer, OpportunityID: opp, OpportunityName: "Jo Bloggs", Amount: amount,
				Prospect: lead.Prospect{ContactName: "Jo Bloggs"}, Source: "web_form", Score: 70, At: now})},
		{Name: "RetryIsNoOp", Given: given(captured, qualified, converted), When: convert},
		{Name: "OnlyOnce", Given: given(captured, qualified, converted),
			When: lead.ConvertLead{LeadID: id, CustomerID: customer, OpportunityID: opp2, Amount: amount}, Err: lead.ErrConverted},
		{Name: "New", Given: given(captured), When: convert, Err: lead.ErrNotQualified},
		{Name: "Disqualified", Given: given(captured, qualified, disqualified), When: convert, Err: lead.ErrNotQualified},
		{Name: "Invalid", Given: given(captured, qualified), When: lead.ConvertLead{LeadID: id, Amount: domain.Money{Amount: -5}},
			Invalid: []string{"customer_id", "opportunity_id", "amount.currency", "amount.amount_minor"}},
		{Name: "Unknown", When: convert, Err: lead.ErrNotFound},
		{Name: "OtherCommand", Given: given(captured), When: otherCommand{}, Err: domain.ErrUnknownCommand},
	})
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return id }

func TestState(t *testing.T) {
	var zero lead.State
	if zero.Exists() || zero.Status() != "" {
		t.Fatalf("zero State must not exist")
	}
	if _, scored := zero.Score(); scored {
		t.Errorf("zero State has a score")
	}
	s := domain.Fold[lead.State](captured, disqualified)
	if s.Status() != lead.StatusDisqualified || s.DisqualificationReason() != "no budget" {
		t.Errorf("disqualified: %s %q", s.Status(), s.DisqualificationReason())
	}
	s = domain.Fold[lead.State](captured, disqualified, qualified, converted)
	if !s.Exists() || s.ID() != id || s.Status() != lead.StatusConverted || !s.Converted() || s.DisqualificationReason() != "" {
		t.Errorf("status: %s", s.Status())
	}
	if score, ok := s.Score(); !ok || score != 70 {
		t.Errorf("Score = %d %v", score, ok)
	}
	if s.Source() != "trade_fair" || s.CampaignID() != camp || s.Prospect() != prospect || s.OwnerID() != "sales.ana" {
		t.Errorf("captured data: %+v", s)
	}
	if s.CustomerID() != customer || s.OpportunityID() != opp || s.CapturedAt() != now || s.ConvertedAt() != now {
		t.Errorf("conversion: %v %v", s.CustomerID(), s.OpportunityID())
	}
}

func TestStreamIDAndNames(t *testing.T) {
	if got := lead.StreamID(id); got != "lead-"+id.String() {
		t.Errorf("StreamID = %q", got)
	}
	for want, c := range map[string]domain.Command{
		"CaptureLead":    lead.CaptureLead{LeadID: id},
		"QualifyLead":    lead.QualifyLead{LeadID: id},
		"DisqualifyLead": lead.DisqualifyLead{LeadID: id},
		"ConvertLead":    lead.ConvertLead{LeadID: id},
	} {
		if c.CommandType() != want || c.AggregateID() != id {
			t.Errorf("%T: %q %v", c, c.CommandType(), c.AggregateID())
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{captured, qualified, disqualified, converted}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, lead.Category, all...)
}
