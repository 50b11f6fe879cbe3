package opportunity_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/requirement"
)

var (
	id       = uuid.MustParse("0990a000-0000-4000-8000-000000000001")
	customer = uuid.MustParse("0990a000-0000-4000-8000-0000000000c1")
	lead     = uuid.MustParse("0990a000-0000-4000-8000-0000000000d1")
	now      = domaintest.Now
	june30   = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	eur10k   = domain.Money{Amount: 10_000_00, Currency: "EUR"}
	eur12k   = domain.Money{Amount: 12_000_00, Currency: "EUR"}
	def      = opportunity.DefaultPipeline()
)

var (
	opened = opportunity.OpportunityOpened{OpportunityID: id, CustomerID: customer, LeadID: lead, Name: "Line 2 retrofit", Pipeline: def,
		Stage: "qualification", Probability: 10, Amount: eur10k, ExpectedClose: june30, OwnerID: "sales.ana", At: now}
	toProposal = opportunity.OpportunityStageChanged{OpportunityID: id, CustomerID: customer, From: "qualification", To: "proposal",
		Probability: 50, Amount: eur10k, At: now}
	items = []requirement.Item{
		{Ref: "R1", Description: "Throughput 1200 parts/h", Kind: requirement.KindCustomer},
		{Ref: "R2", Description: "CE marking and machinery directive", Kind: requirement.KindStatutory},
	}
	items2    = append(slices.Clone(items), requirement.Item{Ref: "R3", Description: "Installation in week 32", Kind: requirement.KindDelivery})
	captured1 = opportunity.RequirementsCaptured{OpportunityID: id, CustomerID: customer, Revision: 1, Items: items, At: now}
	captured2 = opportunity.RequirementsCaptured{OpportunityID: id, CustomerID: customer, Revision: 2, Items: items2, At: now}
	approved1 = opportunity.RequirementsReviewed{OpportunityID: id, CustomerID: customer, Revision: 1, Reviewer: "qa.lena",
		Result: requirement.Approved, At: now}
	rejected1 = opportunity.RequirementsReviewed{OpportunityID: id, CustomerID: customer, Revision: 1, Reviewer: "qa.lena",
		Result: requirement.Rejected, OpenPoints: []string{"throughput not proven"}, At: now}
	approved2 = opportunity.RequirementsReviewed{OpportunityID: id, CustomerID: customer, Revision: 2, Reviewer: "qa.lena",
		Result: requirement.Approved, At: now}
	won  = opportunity.OpportunityWon{OpportunityID: id, CustomerID: customer, Amount: eur10k, Stage: "qualification", RequirementsRevision: 1, At: now}
	lost = opportunity.OpportunityLost{OpportunityID: id, CustomerID: customer, Amount: eur10k, Stage: "qualification",
		Reason: "price", Competitor: "Globex", At: now}
)

func given(events ...domain.Event) []domain.Event { return events }

func TestOpen(t *testing.T) {
	custom := opportunity.Pipeline{Name: "service_contracts", Stages: []opportunity.Stage{{Name: "offer", Probability: 40}, {Name: "signature", Probability: 90}}}
	open := opportunity.OpenOpportunity{OpportunityID: id, CustomerID: customer, LeadID: lead, Name: " Line 2 retrofit ", Amount: eur10k,
		ExpectedClose: time.Date(2025, 6, 30, 23, 15, 0, 0, time.UTC), OwnerID: "sales.ana"}
	withStage := func(stage string) opportunity.OpenOpportunity { o := open; o.Stage = stage; return o }
	withPipeline := func(p opportunity.Pipeline) opportunity.OpenOpportunity { o := open; o.Pipeline = p; return o }
	domaintest.Run[opportunity.State](t, []domaintest.Case{
		{Name: "DefaultPipelineFirstStage", When: open, Then: given(opened)},
		{Name: "CustomPipelineAndStage", When: opportunity.OpenOpportunity{OpportunityID: id, CustomerID: customer, Name: "Service", Pipeline: custom,
			Stage: "signature", Amount: eur10k},
			Then: given(opportunity.OpportunityOpened{OpportunityID: id, CustomerID: customer, Name: "Service", Pipeline: custom, Stage: "signature",
				Probability: 90, Amount: eur10k, At: now})},
		{Name: "Twice", Given: given(opened), When: open, Err: opportunity.ErrAlreadyExists},
		{Name: "AtWon", When: withStage("won"), Invalid: []string{"stage"}},
		{Name: "AtUnknownStage", When: withStage("closing"), Invalid: []string{"stage"}},
		{Name: "Invalid", When: opportunity.OpenOpportunity{Amount: domain.Money{Amount: -1, Currency: "EURO"}, OwnerID: "\x01"},
			Invalid: []string{"opportunity_id", "customer_id", "name", "amount.currency", "amount.amount_minor", "owner_id"}},
		{Name: "PipelineWithoutStages", When: withPipeline(opportunity.Pipeline{Name: "empty"}), Invalid: []string{"pipeline.stages"}},
		{Name: "PipelineTooLong", When: withPipeline(opportunity.Pipeline{Name: "long", Stages: make([]opportunity.Stage, opportunity.MaxStages+1)}),
			Invalid: []string{"pipeline.stages"}},
		{Name: "PipelineBadStages", When: withPipeline(opportunity.Pipeline{Name: "Bad Name", Stages: []opportunity.Stage{
			{Name: "offer", Probability: 40}, {Name: "offer", Probability: 50}, {Name: "won", Probability: 100}, {Name: "Sign", Probability: 101},
		}}), Invalid: []string{"pipeline.name", "pipeline.stages[1].name", "pipeline.stages[2].name", "pipeline.stages[3].name", "pipeline.stages[3].probability"}},
	})
}

func TestChangeStage(t *testing.T) {
	stage := func(s string) opportunity.ChangeOpportunityStage {
		return opportunity.ChangeOpportunityStage{OpportunityID: id, Stage: s}
	}
	domaintest.Run[opportunity.State](t, []domaintest.Case{
		{Name: "ForwardOne", Given: given(opened), When: stage("needs_analysis"),
			Then: given(opportunity.OpportunityStageChanged{OpportunityID: id, CustomerID: customer, From: "qualification", To: "needs_analysis",
				Probability: 25, Amount: eur10k, At: now})},
		{Name: "ForwardSeveral", Given: given(opened), When: stage("proposal"), Then: given(toProposal)},
		{Name: "Back", Given: given(opened, toProposal), When: stage(" qualification "),
			Then: given(opportunity.OpportunityStageChanged{OpportunityID: id, CustomerID: customer, From: "proposal", To: "qualification",
				Probability: 10, Amount: eur10k, At: now})},
		{Name: "SameIsNoOp", Given: given(opened, toProposal), When: stage("proposal")},
		{Name: "ToWon", Given: given(opened), When: stage("won"), Invalid: []string{"stage"}},
		{Name: "ToLost", Given: given(opened), When: stage("lost"), Invalid: []string{"stage"}},
		{Name: "Unknown", Given: given(opened), When: stage("closing"), Invalid: []string{"stage"}},
		{Name: "Won", Given: given(opened, captured1, approved1, won), When: stage("proposal"), Err: opportunity.ErrClosed},
		{Name: "Lost", Given: given(opened, lost), When: stage("proposal"), Err: opportunity.ErrClosed},
		{Name: "NotOpened", When: stage("proposal"), Err: opportunity.ErrNotFound},
		{Name: "NotOpenedIsNotFoundKind", When: stage("proposal"), Err: domain.ErrNotFound},
	})
}

func TestAmountCloseDateOwner(t *testing.T) {
	domaintest.Run[opportunity.State](t, []domaintest.Case{
		{Name: "Amount", Given: given(opened, toProposal), When: opportunity.ChangeOpportunityAmount{OpportunityID: id, Amount: eur12k},
			Then: given(opportunity.OpportunityAmountChanged{OpportunityID: id, CustomerID: customer, Amount: eur12k, PreviousAmount: eur10k,
				Probability: 50, At: now})},
		{Name: "AmountSameIsNoOp", Given: given(opened), When: opportunity.ChangeOpportunityAmount{OpportunityID: id, Amount: eur10k}},
		{Name: "AmountInvalid", Given: given(opened), When: opportunity.ChangeOpportunityAmount{OpportunityID: id, Amount: domain.Money{Amount: -1, Currency: "EUR"}},
			Invalid: []string{"amount.amount_minor"}},
		{Name: "AmountClosed", Given: given(opened, lost), When: opportunity.ChangeOpportunityAmount{OpportunityID: id, Amount: eur12k}, Err: opportunity.ErrClosed},

		{Name: "CloseDate", Given: given(opened), When: opportunity.ChangeOpportunityCloseDate{OpportunityID: id, ExpectedClose: time.Date(2025, 7, 15, 12, 0, 0, 0, time.UTC)},
			Then: given(opportunity.OpportunityCloseDateChanged{OpportunityID: id, CustomerID: customer, ExpectedClose: time.Date(2025, 7, 15, 0, 0, 0, 0, time.UTC),
				PreviousExpectedClose: june30, At: now})},
		{Name: "CloseDateSameDayIsNoOp", Given: given(opened), When: opportunity.ChangeOpportunityCloseDate{OpportunityID: id, ExpectedClose: june30.Add(9 * time.Hour)}},
		{Name: "CloseDateCleared", Given: given(opened), When: opportunity.ChangeOpportunityCloseDate{OpportunityID: id},
			Then: given(opportunity.OpportunityCloseDateChanged{OpportunityID: id, CustomerID: customer, PreviousExpectedClose: june30, At: now})},
		{Name: "CloseDateClosed", Given: given(opened, lost), When: opportunity.ChangeOpportunityCloseDate{OpportunityID: id}, Err: opportunity.ErrClosed},

		{Name: "Owner", Given: given(opened), When: opportunity.AssignOpportunityOwner{OpportunityID: id, OwnerID: "sales.ben"},
			Then: given(opportunity.OpportunityOwnerAssigned{OpportunityID: id, CustomerID: customer, OwnerID: "sales.ben", PreviousOwnerID: "sales.ana", At: now})},
		{Name: "OwnerOnClosed", Given: given(opened, lost), When: opportunity.AssignOpportunityOwner{OpportunityID: id, OwnerID: "sales.ben"},
			Then: given(opportunity.OpportunityOwnerAssigned{OpportunityID: id, CustomerID: customer, OwnerID: "sales.ben", PreviousOwnerID: "sales.ana", At: now})},
		{Name: "OwnerSameIsNoOp", Given: given(opened), When: opportunity.AssignOpportunityOwner{OpportunityID: id, OwnerID: " sales.ana "}},
		{Name: "OwnerInvalid", Given: given(opened), When: opportunity.AssignOpportunityOwner{OpportunityID: id, OwnerID: strings.Repeat("x", 201)},
			Invalid: []string{"owner_id"}},
	})
}

func TestRequirements(t *testing.T) {
	capture := func(it []requirement.Item) opportunity.CaptureRequirements {
		return opportunity.CaptureRequirements{OpportunityID: id, Items: it}
	}
	review := func(rev int, result requirement.Result, points ...string) opportunity.ReviewRequirements {
		return opportunity.ReviewRequirements{OpportunityID: id, Revision: rev, Reviewer: "qa.lena", Result: result, OpenPoints: points}
	}
	domaintest.Run[opportunity.State](t, []domaintest.Case{
		{Name: "CaptureFirst", Given: given(opened), When: capture(items), Then: given(captured1)},
		{Name: "CaptureTrimmed", Given: given(opened), When: capture([]requirement.Item{
			{Ref: " R1", Description: "Throughput 1200 parts/h ", Kind: requirement.KindCustomer},
			{Ref: "R2", Description: "CE marking and machinery directive", Kind: requirement.KindStatutory}}), Then: given(captured1)},
		{Name: "CaptureChangeAfterReview", Given: given(opened, captured1, approved1), When: capture(items2), Then: given(captured2)},
		{Name: "CaptureSameIsNoOp", Given: given(opened, captured1), When: capture(items)},
		{Name: "CaptureInvalid", Given: given(opened), When: capture([]requirement.Item{{Ref: "R1", Kind: "wish"}}),
			Invalid: []string{"items[0].description", "items[0].kind"}},
		{Name: "CaptureEmpty", Given: given(opened), When: capture(nil), Invalid: []string{"items"}},
		{Name: "CaptureClosed", Given: given(opened, captured1, approved1, won), When: capture(items2), Err: opportunity.ErrClosed},

		{Name: "Approve", Given: given(opened, captured1), When: review(1, requirement.Approved), Then: given(approved1)},
		{Name: "Reject", Given: given(opened, captured1), When: review(1, requirement.Rejected, " throughput not proven ", ""), Then: given(rejected1)},
		{Name: "ApproveAfterRejection", Given: given(opened, captured1, rejected1), When: review(1, requirement.Approved), Then: given(approved1)},
		{Name: "SameReviewIsNoOp", Given: given(opened, captured1, approved1), When: review(1, requirement.Approved)},
		{Name: "ReviewStaleRevision", Given: given(opened, captured1, captured2), When: review(1, requirement.Approved),
			Err: opportunity.ErrRequirementsRevisionStale},
		{Name: "ReviewFutureRevision", Given: given(opened, captured1), When: review(2, requirement.Approved), Err: opportunity.ErrRequirementsRevisionStale},
		{Name: "ReviewNothingCaptured", Given: given(opened), When: review(1, requirement.Approved), Err: opportunity.ErrRequirementsNotCaptured},
		{Name: "ApproveWithOpenPoints", Given: given(opened, captured1), When: review(1, requirement.Approved, "lead time?"), Invalid: []string{"open_points"}},
		{Name: "RejectWithoutPoints", Given: given(opened, captured1), When: review(1, requirement.Rejected), Invalid: []string{"open_points"}},
		{Name: "ReviewInvalid", Given: given(opened, captured1), When: opportunity.ReviewRequirements{OpportunityID: id, Result: "maybe"},
			Invalid: []string{"revision", "reviewer", "result"}},
		{Name: "ReviewClosed", Given: given(opened, captured1, lost), When: review(1, requirement.Approved), Err: opportunity.ErrClosed},
	})
}

func TestWin(t *testing.T) {
	win := opportunity.WinOpportunity{OpportunityID: id}
	domaintest.Run[opportunity.State](t, []domaintest.Case{
		{Name: "Approved", Given: given(opened, captured1, approved1), When: win, Then: given(won)},
		{Name: "ApprovedSecondRevision", Given: given(opened, toProposal, captured1, approved1, captured2, approved2), When: win,
			Then: given(opportunity.OpportunityWon{OpportunityID: id, CustomerID: customer, Amount: eur10k, Stage: "proposal", RequirementsRevision: 2, At: now})},
		{Name: "NoRequirements", Given: given(opened), When: win, Err: opportunity.ErrRequirementsNotReviewed},
		{Name: "NotReviewed", Given: given(opened, captured1), When: win, Err: opportunity.ErrRequirementsNotReviewed},
		{Name: "Rejected", Given: given(opened, captured1, rejected1), When: win, Err: opportunity.ErrRequirementsRejected},
		{Name: "ChangedAfterApproval", Given: given(opened, captured1, approved1, captured2), When: win, Err: opportunity.ErrRequirementsNotReviewed},
		{Name: "IsConflictKind", Given: given(opened, captured1), When: win, Err: domain.ErrConflict},
		{Name: "WonAgainIsNoOp", Given: given(opened, captured1, approved1, won), When: win},
		{Name: "Lost", Given: given(opened, captured1, approved1, lost), When: win, Err: opportunity.ErrClosed},
		{Name: "NotOpened", When: win, Err: opportunity.ErrNotFound},
	})
}

func TestLoseAndReopen(t *testing.T) {
	lose := opportunity.LoseOpportunity{OpportunityID: id, Reason: " price ", Competitor: "Globex"}
	domaintest.Run[opportunity.State](t, []domaintest.Case{
		{Name: "Lose", Given: given(opened), When: lose, Then: given(lost)},
		{Name: "LoseAgainIsNoOp", Given: given(opened, lost), When: lose},
		{Name: "LoseAgainOtherReason", Given: given(opened, lost), When: opportunity.LoseOpportunity{OpportunityID: id, Reason: "timing"}, Err: opportunity.ErrClosed},
		{Name: "LoseWon", Given: given(opened, captured1, approved1, won), When: lose, Err: opportunity.ErrClosed},
		{Name: "LoseWithoutReason", Given: given(opened), When: opportunity.LoseOpportunity{OpportunityID: id}, Invalid: []string{"reason"}},
		{Name: "LoseNotOpened", When: lose, Err: opportunity.ErrNotFound},

		{Name: "ReopenLostAtSameStage", Given: given(opened, toProposal, lost), When: opportunity.ReopenOpportunity{OpportunityID: id, Reason: "budget found"},
			Then: given(opportunity.OpportunityReopened{OpportunityID: id, CustomerID: customer, PreviousStatus: opportunity.StatusLost, Stage: "proposal",
				Probability: 50, Amount: eur10k, Reason: "budget found", At: now})},
		{Name: "ReopenWonAtStage", Given: given(opened, captured1, approved1, won),
			When: opportunity.ReopenOpportunity{OpportunityID: id, Stage: "negotiation", Reason: "customer withdrew the PO"},
			Then: given(opportunity.OpportunityReopened{OpportunityID: id, CustomerID: customer, PreviousStatus: opportunity.StatusWon, Stage: "negotiation",
				Probability: 75, Amount: eur10k, Reason: "customer withdrew the PO", At: now})},
		{Name: "ReopenOpenIsNoOp", Given: given(opened), When: opportunity.ReopenOpportunity{OpportunityID: id, Reason: "x"}},
		{Name: "ReopenAtWon", Given: given(opened, lost), When: opportunity.ReopenOpportunity{OpportunityID: id, Stage: "won", Reason: "x"}, Invalid: []string{"stage"}},
		{Name: "ReopenWithoutReason", Given: given(opened, lost), When: opportunity.ReopenOpportunity{OpportunityID: id}, Invalid: []string{"reason"}},
		{Name: "ReopenNotOpened", When: opportunity.ReopenOpportunity{OpportunityID: id, Reason: "x"}, Err: opportunity.ErrNotFound},
		{Name: "OtherCommand", Given: given(opened), When: otherCommand{}, Err: domain.ErrUnknownCommand},
	})
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return id }

func TestCheckOrderable(t *testing.T) {
	reopened := opportunity.OpportunityReopened{OpportunityID: id, CustomerID: customer, PreviousStatus: opportunity.StatusWon, Stage: "negotiation", Reason: "x", At: now}
	cases := []struct {
		name  string
		given []domain.Event
		err   error
	}{
		{"NotOpened", nil, opportunity.ErrNotFound},
		{"Open", given(opened, captured1, approved1), opportunity.ErrNotWon},
		{"Lost", given(opened, lost), opportunity.ErrNotWon},
		{"Reopened", given(opened, captured1, approved1, won, reopened), opportunity.ErrNotWon},
		{"Won", given(opened, captured1, approved1, won), nil},
		// Not reachable through Decide (a won opportunity refuses new
		// requirements), but the check holds on any history.
		{"WonThenChanged", given(opened, captured1, approved1, won, captured2), opportunity.ErrRequirementsNotReviewed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := domain.Fold[opportunity.State](c.given...)
			rv, err := s.CheckOrderable()
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("CheckOrderable() error = %v, want %v", err, c.err)
			}
			if err == nil && (rv.Revision != 1 || rv.Reviewer != "qa.lena" || rv.Result != requirement.Approved || rv.At != now) {
				t.Errorf("CheckOrderable() review = %+v", rv)
			}
		})
	}
}

func TestState(t *testing.T) {
	var zero opportunity.State
	if zero.Exists() || zero.Status() != "" || zero.IsOpen() || zero.RequirementsStatus() != requirement.StatusNone {
		t.Fatalf("zero State must not exist")
	}
	later := now.Add(time.Hour)
	s := domain.Fold[opportunity.State](opened,
		opportunity.OpportunityStageChanged{OpportunityID: id, CustomerID: customer, From: "qualification", To: "proposal", Probability: 50, Amount: eur10k, At: later},
		opportunity.OpportunityAmountChanged{OpportunityID: id, CustomerID: customer, Amount: eur12k, PreviousAmount: eur10k, At: later},
		opportunity.OpportunityCloseDateChanged{OpportunityID: id, CustomerID: customer, PreviousExpectedClose: june30, At: later},
		opportunity.OpportunityOwnerAssigned{OpportunityID: id, CustomerID: customer, OwnerID: "sales.ben", At: later},
		captured1, rejected1)
	if !s.Exists() || s.ID() != id || s.CustomerID() != customer || s.LeadID() != lead || s.Name() != "Line 2 retrofit" {
		t.Errorf("identity: %+v", s)
	}
	if s.Stage() != "proposal" || s.StageEnteredAt() != later || s.Probability() != 50 || s.Amount() != eur12k || !s.ExpectedClose().IsZero() {
		t.Errorf("pipeline position: %s %v %d %v", s.Stage(), s.StageEnteredAt(), s.Probability(), s.Amount())
	}
	if s.OwnerID() != "sales.ben" || !s.IsOpen() || s.Won() || s.Lost() || s.OpenedAt() != now || !s.ClosedAt().IsZero() {
		t.Errorf("status: %s", s.Status())
	}
	if p := s.Pipeline(); p.Name != "default" || len(p.Stages) != 4 {
		t.Errorf("Pipeline = %+v", p)
	}
	s.Pipeline().Stages[0].Probability = 99
	if s.Pipeline().Stages[0].Probability != 10 {
		t.Errorf("Pipeline leaks internal state")
	}
	if s.RequirementsRevision() != 1 || s.RequirementsStatus() != requirement.StatusRejected || s.RequirementsApproved() ||
		!slices.Equal(s.Requirements(), items) {
		t.Errorf("requirements: rev %d status %s", s.RequirementsRevision(), s.RequirementsStatus())
	}
	if rv, ok := s.LastReview(); !ok || rv.Result != requirement.Rejected || rv.OpenPoints[0] != "throughput not proven" {
		t.Errorf("LastReview = %+v %v", rv, ok)
	}

	s = domain.Fold[opportunity.State](opened, lost)
	if !s.Lost() || s.Probability() != 0 || s.LostReason() != "price" || s.ClosedAt() != now || s.Status() != opportunity.StatusLost {
		t.Errorf("lost: %s %d %q", s.Status(), s.Probability(), s.LostReason())
	}
	s = domain.Fold[opportunity.State](opened, captured1, approved1, won)
	if !s.Won() || s.Probability() != 100 || !s.RequirementsApproved() {
		t.Errorf("won: %s %d", s.Status(), s.Probability())
	}
	s = domain.Fold[opportunity.State](opened, lost, opportunity.OpportunityReopened{OpportunityID: id, CustomerID: customer,
		PreviousStatus: opportunity.StatusLost, Stage: "negotiation", Probability: 75, Reason: "x", At: later})
	if !s.IsOpen() || s.Stage() != "negotiation" || s.Probability() != 75 || s.LostReason() != "" || !s.ClosedAt().IsZero() || s.StageEnteredAt() != later {
		t.Errorf("reopened: %s %s %d", s.Status(), s.Stage(), s.Probability())
	}
}

func TestPipeline(t *testing.T) {
	p := opportunity.DefaultPipeline()
	if st, ok := p.Stage("proposal"); !ok || st.Probability != 50 || p.Index("negotiation") != 3 {
		t.Errorf("Stage/Index wrong: %+v", st)
	}
	if _, ok := p.Stage("won"); ok || p.Index("won") != -1 {
		t.Errorf("won must not be a stage")
	}
	if p.IsZero() || !(opportunity.Pipeline{}).IsZero() {
		t.Errorf("IsZero wrong")
	}
	var v domain.Validator
	p.Validate(&v, "pipeline")
	if err := v.Err(); err != nil {
		t.Errorf("default pipeline invalid: %v", err)
	}
	want := []int{10, 25, 50, 75}
	for i, st := range p.Stages {
		if st.Probability != want[i] {
			t.Errorf("default stage %s has probability %d, want %d", st.Name, st.Probability, want[i])
		}
	}
}

func TestStreamIDAndNames(t *testing.T) {
	if got := opportunity.StreamID(id); got != "opportunity-"+id.String() {
		t.Errorf("StreamID = %q", got)
	}
	for want, c := range map[string]domain.Command{
		"OpenOpportunity":            opportunity.OpenOpportunity{OpportunityID: id},
		"ChangeOpportunityStage":     opportunity.ChangeOpportunityStage{OpportunityID: id},
		"ChangeOpportunityAmount":    opportunity.ChangeOpportunityAmount{OpportunityID: id},
		"ChangeOpportunityCloseDate": opportunity.ChangeOpportunityCloseDate{OpportunityID: id},
		"AssignOpportunityOwner":     opportunity.AssignOpportunityOwner{OpportunityID: id},
		"CaptureRequirements":        opportunity.CaptureRequirements{OpportunityID: id},
		"ReviewRequirements":         opportunity.ReviewRequirements{OpportunityID: id},
		"WinOpportunity":             opportunity.WinOpportunity{OpportunityID: id},
		"LoseOpportunity":            opportunity.LoseOpportunity{OpportunityID: id},
		"ReopenOpportunity":          opportunity.ReopenOpportunity{OpportunityID: id},
	} {
		if c.CommandType() != want || c.AggregateID() != id {
			t.Errorf("%T: %q %v", c, c.CommandType(), c.AggregateID())
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{
		opened, toProposal, captured1, rejected1, approved1, won, lost,
		opportunity.OpportunityAmountChanged{OpportunityID: id, CustomerID: customer, Amount: eur12k, PreviousAmount: eur10k, Probability: 50, At: now},
		opportunity.OpportunityCloseDateChanged{OpportunityID: id, CustomerID: customer, ExpectedClose: june30, At: now},
		opportunity.OpportunityOwnerAssigned{OpportunityID: id, CustomerID: customer, OwnerID: "a", PreviousOwnerID: "b", At: now},
		opportunity.OpportunityReopened{OpportunityID: id, CustomerID: customer, PreviousStatus: opportunity.StatusWon, Stage: "proposal",
			Probability: 50, Amount: eur10k, Reason: "x", At: now},
	}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, opportunity.Category, all...)
}
