package campaign_test

import (
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/domaintest"
)

var (
	id       = uuid.MustParse("ca000000-0000-4000-8000-000000000001")
	lead     = uuid.MustParse("ca000000-0000-4000-8000-0000000000d1")
	customer = uuid.MustParse("ca000000-0000-4000-8000-0000000000c1")
	now      = domaintest.Now
	start    = time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)
	end      = time.Date(2025, 4, 30, 18, 0, 0, 0, time.UTC)
	budget   = domain.Money{Amount: 500000, Currency: "EUR"}
)

var (
	planned = campaign.CampaignPlanned{CampaignID: id, Name: "Spring launch", Channel: campaign.ChannelEmail, Budget: budget,
		PlannedStart: start, PlannedEnd: end, OwnerID: "mkt.eva", Description: "New product line", At: now}
	launched  = campaign.CampaignLaunched{CampaignID: id, At: now}
	completed = campaign.CampaignCompleted{CampaignID: id, At: now}
	cancelled = campaign.CampaignCancelled{CampaignID: id, Reason: "product delayed", At: now}
	opened    = campaign.CampaignResponseRecorded{CampaignID: id, LeadID: lead, Kind: campaign.ResponseOpened, OccurredAt: now.Add(-time.Hour), At: now}
)

func given(events ...domain.Event) []domain.Event { return events }

func TestPlan(t *testing.T) {
	plan := campaign.PlanCampaign{CampaignID: id, Name: " Spring launch ", Channel: campaign.ChannelEmail, Budget: budget,
		PlannedStart: start.In(time.FixedZone("CEST", 7200)), PlannedEnd: end, OwnerID: "mkt.eva", Description: "New product line\n"}
	domaintest.Run[campaign.State](t, []domaintest.Case{
		{Name: "OK", When: plan, Then: given(planned)},
		{Name: "Minimal", When: campaign.PlanCampaign{CampaignID: id, Name: "Fair", Channel: campaign.ChannelEvent, Budget: domain.Money{Currency: "USD"}},
			Then: given(campaign.CampaignPlanned{CampaignID: id, Name: "Fair", Channel: campaign.ChannelEvent, Budget: domain.Money{Currency: "USD"}, At: now})},
		{Name: "Twice", Given: given(planned), When: plan, Err: campaign.ErrAlreadyExists},
		{Name: "Invalid", When: campaign.PlanCampaign{Channel: "carrier_pigeon", Budget: domain.Money{Amount: -1, Currency: "XXX"},
			PlannedStart: end, PlannedEnd: start, Description: "\x07"},
			Invalid: []string{"campaign_id", "name", "channel", "budget.currency", "budget.amount_minor", "planned_end", "description"}},
	})
}

func TestLifecycle(t *testing.T) {
	domaintest.Run[campaign.State](t, []domaintest.Case{
		{Name: "Launch", Given: given(planned), When: campaign.LaunchCampaign{CampaignID: id}, Then: given(launched)},
		{Name: "LaunchAgainIsNoOp", Given: given(planned, launched), When: campaign.LaunchCampaign{CampaignID: id}},
		{Name: "LaunchCompleted", Given: given(planned, launched, completed), When: campaign.LaunchCampaign{CampaignID: id}, Err: campaign.ErrClosed},
		{Name: "LaunchCancelled", Given: given(planned, cancelled), When: campaign.LaunchCampaign{CampaignID: id}, Err: campaign.ErrClosed},
		{Name: "LaunchUnknown", When: campaign.LaunchCampaign{CampaignID: id}, Err: campaign.ErrNotFound},

		{Name: "Complete", Given: given(planned, launched, opened, opened), When: campaign.CompleteCampaign{CampaignID: id},
			Then: given(campaign.CampaignCompleted{CampaignID: id, Responses: map[campaign.ResponseKind]int{campaign.ResponseOpened: 2}, At: now})},
		{Name: "CompleteWithoutResponses", Given: given(planned, launched), When: campaign.CompleteCampaign{CampaignID: id}, Then: given(completed)},
		{Name: "CompleteAgainIsNoOp", Given: given(planned, launched, completed), When: campaign.CompleteCampaign{CampaignID: id}},
		{Name: "CompletePlanned", Given: given(planned), When: campaign.CompleteCampaign{CampaignID: id}, Err: campaign.ErrNotLaunched},
		{Name: "CompleteCancelled", Given: given(planned, launched, cancelled), When: campaign.CompleteCampaign{CampaignID: id}, Err: campaign.ErrClosed},

		{Name: "CancelPlanned", Given: given(planned), When: campaign.CancelCampaign{CampaignID: id, Reason: " product delayed "}, Then: given(cancelled)},
		{Name: "CancelLaunched", Given: given(planned, launched), When: campaign.CancelCampaign{CampaignID: id, Reason: "product delayed"}, Then: given(cancelled)},
		{Name: "CancelAgainIsNoOp", Given: given(planned, cancelled), When: campaign.CancelCampaign{CampaignID: id}},
		{Name: "CancelCompleted", Given: given(planned, launched, completed), When: campaign.CancelCampaign{CampaignID: id, Reason: "x"}, Err: campaign.ErrClosed},
		{Name: "CancelWithoutReason", Given: given(planned), When: campaign.CancelCampaign{CampaignID: id}, Invalid: []string{"reason"}},

		{Name: "Budget", Given: given(planned, launched), When: campaign.ChangeCampaignBudget{CampaignID: id, Budget: domain.Money{Amount: 750000, Currency: "EUR"}},
			Then: given(campaign.CampaignBudgetChanged{CampaignID: id, Budget: domain.Money{Amount: 750000, Currency: "EUR"}, PreviousBudget: budget, At: now})},
		{Name: "SameBudgetIsNoOp", Given: given(planned), When: campaign.ChangeCampaignBudget{CampaignID: id, Budget: budget}},
		{Name: "BudgetInvalid", Given: given(planned), When: campaign.ChangeCampaignBudget{CampaignID: id, Budget: domain.Money{Amount: 1, Currency: "eur"}},
			Invalid: []string{"budget.currency"}},
		{Name: "BudgetClosed", Given: given(planned, cancelled), When: campaign.ChangeCampaignBudget{CampaignID: id, Budget: budget}, Err: campaign.ErrClosed},
		{Name: "Unknown", Given: given(planned), When: otherCommand{}, Err: domain.ErrUnknownCommand},
	})
}

func TestResponses(t *testing.T) {
	rec := campaign.RecordCampaignResponse{CampaignID: id, LeadID: lead, Kind: campaign.ResponseOpened, OccurredAt: now.Add(-time.Hour)}
	optOut := campaign.RecordCampaignResponse{CampaignID: id, CustomerID: customer, Kind: campaign.ResponseOptedOut, OccurredAt: now, ExternalRef: " msg-17 "}
	domaintest.Run[campaign.State](t, []domaintest.Case{
		{Name: "Opened", Given: given(planned, launched), When: rec, Then: given(opened)},
		{Name: "OptedOut", Given: given(planned, launched), When: optOut,
			Then: given(campaign.CampaignResponseRecorded{CampaignID: id, CustomerID: customer, Kind: campaign.ResponseOptedOut, OccurredAt: now, ExternalRef: "msg-17", At: now})},
		{Name: "AfterCompletion", Given: given(planned, launched, completed), When: rec, Then: given(opened)},
		{Name: "AfterCancellation", Given: given(planned, launched, cancelled), When: rec, Then: given(opened)},
		{Name: "NotLaunched", Given: given(planned), When: rec, Err: campaign.ErrNotLaunched},
		{Name: "CancelledBeforeLaunch", Given: given(planned, cancelled), When: rec, Err: campaign.ErrNotLaunched},
		{Name: "NoCampaign", When: rec, Err: campaign.ErrNotFound},
		{Name: "Invalid", Given: given(planned, launched), When: campaign.RecordCampaignResponse{CampaignID: id, Kind: "liked", ExternalRef: "a\nb"},
			Invalid: []string{"lead_id", "kind", "occurred_at", "external_ref"}},
		{Name: "Future", Given: given(planned, launched), When: campaign.RecordCampaignResponse{CampaignID: id, LeadID: lead, Kind: campaign.ResponseClicked,
			OccurredAt: now.Add(campaign.MaxClockSkew + time.Second)}, Invalid: []string{"occurred_at"}},
	})
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return id }

func TestState(t *testing.T) {
	var zero campaign.State
	if zero.Exists() || zero.Status() != "" || zero.ResponseCounts() != nil {
		t.Fatalf("zero State must not exist")
	}
	s := domain.Fold[campaign.State](planned, launched, opened, opened,
		campaign.CampaignResponseRecorded{CampaignID: id, LeadID: lead, Kind: campaign.ResponseClicked, OccurredAt: now, At: now},
		campaign.CampaignBudgetChanged{CampaignID: id, Budget: domain.Money{Amount: 1, Currency: "EUR"}, PreviousBudget: budget, At: now},
		completed)
	if !s.Exists() || s.ID() != id || s.Name() != "Spring launch" || s.Channel() != campaign.ChannelEmail || s.OwnerID() != "mkt.eva" {
		t.Errorf("identity: %+v", s)
	}
	if s.Status() != campaign.StatusCompleted || !s.Closed() || s.LaunchedAt() != now || s.ClosedAt() != now {
		t.Errorf("status %s closed %v", s.Status(), s.Closed())
	}
	if s.Budget() != (domain.Money{Amount: 1, Currency: "EUR"}) {
		t.Errorf("budget %v", s.Budget())
	}
	want := map[campaign.ResponseKind]int{campaign.ResponseOpened: 2, campaign.ResponseClicked: 1}
	if got := s.ResponseCounts(); !maps.Equal(got, want) || s.ResponseCount(campaign.ResponseReplied) != 0 {
		t.Errorf("ResponseCounts = %v", got)
	}
	s.ResponseCounts()[campaign.ResponseOpened] = 99
	if s.ResponseCount(campaign.ResponseOpened) != 2 {
		t.Errorf("ResponseCounts leaks internal state")
	}
}

func TestValidEnums(t *testing.T) {
	for _, c := range []campaign.Channel{campaign.ChannelEmail, campaign.ChannelSMS, campaign.ChannelPhone, campaign.ChannelPost,
		campaign.ChannelSocial, campaign.ChannelEvent, campaign.ChannelWeb, campaign.ChannelOther} {
		if !c.Valid() {
			t.Errorf("channel %s invalid", c)
		}
	}
	for _, k := range []campaign.ResponseKind{campaign.ResponseSent, campaign.ResponseOpened, campaign.ResponseClicked,
		campaign.ResponseReplied, campaign.ResponseOptedOut} {
		if !k.Valid() {
			t.Errorf("kind %s invalid", k)
		}
	}
}

func TestStreamIDAndNames(t *testing.T) {
	if got := campaign.StreamID(id); got != "campaign-"+id.String() {
		t.Errorf("StreamID = %q", got)
	}
	for want, c := range map[string]domain.Command{
		"PlanCampaign":           campaign.PlanCampaign{CampaignID: id},
		"ChangeCampaignBudget":   campaign.ChangeCampaignBudget{CampaignID: id},
		"LaunchCampaign":         campaign.LaunchCampaign{CampaignID: id},
		"CompleteCampaign":       campaign.CompleteCampaign{CampaignID: id},
		"CancelCampaign":         campaign.CancelCampaign{CampaignID: id},
		"RecordCampaignResponse": campaign.RecordCampaignResponse{CampaignID: id},
	} {
		if c.CommandType() != want || c.AggregateID() != id {
			t.Errorf("%T: %q %v", c, c.CommandType(), c.AggregateID())
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{
		planned, launched, cancelled, opened,
		campaign.CampaignBudgetChanged{CampaignID: id, Budget: budget, PreviousBudget: domain.Money{Amount: 1, Currency: "EUR"}, At: now},
		campaign.CampaignCompleted{CampaignID: id, Responses: map[campaign.ResponseKind]int{campaign.ResponseSent: 10, campaign.ResponseOpened: 4}, At: now},
		campaign.CampaignResponseRecorded{CampaignID: id, CustomerID: customer, ContactID: lead, Kind: campaign.ResponseReplied, OccurredAt: now, ExternalRef: "x", At: now},
	}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, campaign.Category, all...)
}
