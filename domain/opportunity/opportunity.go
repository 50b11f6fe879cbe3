// Package opportunity is the Opportunity aggregate: a potential sale to a
// customer, moving through the stages of a sales pipeline until it is won or
// lost, and the customer's requirements with their review before commitment.
//
// Rules the aggregate enforces:
//
//   - An opportunity is opened once, in a Pipeline it records (default:
//     DefaultPipeline), at one of its stages; its probability is the stage's.
//   - Stage changes move between open stages, forwards or backwards by any
//     number of stages; "won" and "lost" are outcomes, reached only with
//     WinOpportunity and LoseOpportunity. Each change records from and to.
//   - Requirements (ISO 9001 8.2.2) are captured as numbered revisions; each
//     revision needs its own review (8.2.3): RequirementsReviewed records the
//     reviewer, the result (approved or rejected) and the open points. An
//     opportunity cannot be won until its CURRENT revision has a positive
//     review (ErrRequirementsNotReviewed, ErrRequirementsRejected); capturing
//     new requirements after a review asks for a new one.
//   - A won or lost opportunity is closed: only ReopenOpportunity and
//     AssignOpportunityOwner are accepted (ErrClosed otherwise).
//   - Commands that would change nothing (same stage, same amount, winning a
//     won opportunity...) return no events and no error.
//
// The order side asks CheckOrderable before placing an order from an
// opportunity: it must be won, on an approved revision, whose review the
// order then records.
package opportunity

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of opportunities.
const Category = "opportunity"

// StreamID returns the stream of one opportunity, "opportunity-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Errors, matched with errors.Is.
var (
	ErrNotFound      = domain.NotFound("opportunity")
	ErrAlreadyExists = domain.AlreadyExists("opportunity")
	ErrClosed        = domain.Conflict("opportunity_closed", "the opportunity is won or lost; reopen it first")
	ErrNotWon        = domain.Conflict("opportunity_not_won", "the opportunity has not been won")

	// The requirement-review errors, under this package's names.
	ErrRequirementsNotCaptured   = requirement.ErrNotCaptured
	ErrRequirementsRevisionStale = requirement.ErrStaleRevision
	ErrRequirementsNotReviewed   = requirement.ErrNotReviewed
	ErrRequirementsRejected      = requirement.ErrRejected
)

// Status of an opportunity.
type Status string

const (
	StatusOpen Status = "open"
	StatusWon  Status = "won"
	StatusLost Status = "lost"
)

// State is an opportunity folded from its events. The zero State is an
// opportunity that does not exist. *State implements domain.Decider.
type State struct {
	id             uuid.UUID
	customer       uuid.UUID
	lead           uuid.UUID
	name           string
	pipeline       Pipeline
	stage          string
	stageEnteredAt time.Time
	amount         domain.Money
	expectedClose  time.Time
	owner          string
	status         Status
	openedAt       time.Time
	closedAt       time.Time
	lostReason     string
	items          []requirement.Item
	reqs           requirement.Record
}

var _ domain.Decider = (*State)(nil)

// Apply folds one event into the state; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case OpportunityOpened:
		s.id, s.customer, s.lead, s.name = e.OpportunityID, e.CustomerID, e.LeadID, e.Name
		s.pipeline, s.stage, s.stageEnteredAt = e.Pipeline.clone(), e.Stage, e.At
		s.amount, s.expectedClose, s.owner = e.Amount, e.ExpectedClose, e.OwnerID
		s.status, s.openedAt = StatusOpen, e.At
	case OpportunityStageChanged:
		s.stage, s.stageEnteredAt = e.To, e.At
	case OpportunityAmountChanged:
		s.amount = e.Amount
	case OpportunityCloseDateChanged:
		s.expectedClose = e.ExpectedClose
	case OpportunityOwnerAssigned:
		s.owner = e.OwnerID
	case RequirementsCaptured:
		s.items = slices.Clone(e.Items)
		s.reqs.Revise(e.Revision)
	case RequirementsReviewed:
		s.reqs.Reviewed(requirement.Review{Revision: e.Revision, Reviewer: e.Reviewer, Result: e.Result,
			OpenPoints: slices.Clone(e.OpenPoints), At: e.At})
	case OpportunityWon:
		s.status, s.closedAt = StatusWon, e.At
	case OpportunityLost:
		s.status, s.closedAt, s.lostReason = StatusLost, e.At, e.Reason
	case OpportunityReopened:
		s.status, s.closedAt, s.lostReason = StatusOpen, time.Time{}, ""
		s.stage, s.stageEnteredAt = e.Stage, e.At
	}
}

// Decide checks a command against the state and returns the events to
// record, or a *domain.Error. It does not change the state.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(OpenOpportunity); ok {
		return s.open(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case AssignOpportunityOwner:
		return s.assignOwner(c, now)
	case LoseOpportunity:
		return s.lose(c, now)
	case ReopenOpportunity:
		return s.reopen(c, now)
	case WinOpportunity:
		if s.status == StatusWon {
			return nil, nil
		}
	}
	if s.status != StatusOpen {
		return nil, ErrClosed
	}
	switch c := cmd.(type) {
	case ChangeOpportunityStage:
		return s.changeStage(c, now)
	case ChangeOpportunityAmount:
		return s.changeAmount(c, now)
	case ChangeOpportunityCloseDate:
		return s.changeCloseDate(c, now)
	case CaptureRequirements:
		return s.captureRequirements(c, now)
	case ReviewRequirements:
		return s.reviewRequirements(c, now)
	case WinOpportunity:
		return s.win(now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

// date keeps only the calendar date (in UTC) of t; zero stays zero.
func date(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *State) open(c OpenOpportunity, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	p := c.Pipeline
	if p.IsZero() {
		p = DefaultPipeline()
	}
	e := OpportunityOpened{OpportunityID: c.OpportunityID, CustomerID: c.CustomerID, LeadID: c.LeadID, Name: strings.TrimSpace(c.Name),
		Pipeline: p.clone(), Stage: strings.TrimSpace(c.Stage), Amount: c.Amount, ExpectedClose: date(c.ExpectedClose),
		OwnerID: strings.TrimSpace(c.OwnerID), At: now}
	var v domain.Validator
	v.Require("opportunity_id", c.OpportunityID != uuid.Nil, "is required")
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	text.Line(&v, "name", e.Name, true, text.MaxName)
	p.Validate(&v, "pipeline")
	v.Merge("amount", c.Amount.Validate(false))
	text.Line(&v, "owner_id", e.OwnerID, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if e.Stage == "" {
		e.Stage = p.Stages[0].Name
	}
	p.checkTarget(&v, "stage", e.Stage)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, _ := p.Stage(e.Stage)
	e.Probability = st.Probability
	return []domain.Event{e}, nil
}

func (s *State) changeStage(c ChangeOpportunityStage, now time.Time) ([]domain.Event, error) {
	to := strings.TrimSpace(c.Stage)
	var v domain.Validator
	s.pipeline.checkTarget(&v, "stage", to)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if to == s.stage {
		return nil, nil
	}
	st, _ := s.pipeline.Stage(to)
	return []domain.Event{OpportunityStageChanged{OpportunityID: s.id, CustomerID: s.customer, From: s.stage, To: to,
		Probability: st.Probability, Amount: s.amount, At: now}}, nil
}

func (s *State) changeAmount(c ChangeOpportunityAmount, now time.Time) ([]domain.Event, error) {
	var v domain.Validator
	v.Merge("amount", c.Amount.Validate(false))
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.Amount == s.amount {
		return nil, nil
	}
	return []domain.Event{OpportunityAmountChanged{OpportunityID: s.id, CustomerID: s.customer, Amount: c.Amount,
		PreviousAmount: s.amount, Probability: s.Probability(), At: now}}, nil
}

func (s *State) changeCloseDate(c ChangeOpportunityCloseDate, now time.Time) ([]domain.Event, error) {
	d := date(c.ExpectedClose)
	if d.Equal(s.expectedClose) {
		return nil, nil
	}
	return []domain.Event{OpportunityCloseDateChanged{OpportunityID: s.id, CustomerID: s.customer, ExpectedClose: d,
		PreviousExpectedClose: s.expectedClose, At: now}}, nil
}

func (s *State) assignOwner(c AssignOpportunityOwner, now time.Time) ([]domain.Event, error) {
	owner := strings.TrimSpace(c.OwnerID)
	var v domain.Validator
	text.Line(&v, "owner_id", owner, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if owner == s.owner {
		return nil, nil
	}
	return []domain.Event{OpportunityOwnerAssigned{OpportunityID: s.id, CustomerID: s.customer, OwnerID: owner,
		PreviousOwnerID: s.owner, At: now}}, nil
}

func (s *State) captureRequirements(c CaptureRequirements, now time.Time) ([]domain.Event, error) {
	items := requirement.NormaliseItems(c.Items)
	var v domain.Validator
	requirement.ValidateItems(&v, "items", items)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.reqs.Revision() > 0 && slices.Equal(items, s.items) {
		return nil, nil
	}
	return []domain.Event{RequirementsCaptured{OpportunityID: s.id, CustomerID: s.customer, Revision: s.reqs.Revision() + 1,
		Items: items, At: now}}, nil
}

func (s *State) reviewRequirements(c ReviewRequirements, now time.Time) ([]domain.Event, error) {
	reviewer, points := strings.TrimSpace(c.Reviewer), requirement.NormaliseOpenPoints(c.OpenPoints)
	var v domain.Validator
	requirement.ValidateReview(&v, c.Revision, reviewer, c.Result, points)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.reqs.CheckReview(c.Revision); err != nil {
		return nil, err
	}
	if s.reqs.RepeatsLast(c.Revision, reviewer, c.Result, points) {
		return nil, nil
	}
	return []domain.Event{RequirementsReviewed{OpportunityID: s.id, CustomerID: s.customer, Revision: c.Revision,
		Reviewer: reviewer, Result: c.Result, OpenPoints: points, At: now}}, nil
}

func (s *State) win(now time.Time) ([]domain.Event, error) {
	if err := s.reqs.CheckCommitment(); err != nil {
		return nil, err
	}
	return []domain.Event{OpportunityWon{OpportunityID: s.id, CustomerID: s.customer, Amount: s.amount, Stage: s.stage,
		RequirementsRevision: s.reqs.Revision(), At: now}}, nil
}

func (s *State) lose(c LoseOpportunity, now time.Time) ([]domain.Event, error) {
	reason, competitor := strings.TrimSpace(c.Reason), strings.TrimSpace(c.Competitor)
	var v domain.Validator
	text.Line(&v, "reason", reason, true, text.MaxReason)
	text.Line(&v, "competitor", competitor, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case s.status == StatusLost && reason == s.lostReason:
		return nil, nil // a retry
	case s.status != StatusOpen:
		return nil, ErrClosed
	}
	return []domain.Event{OpportunityLost{OpportunityID: s.id, CustomerID: s.customer, Amount: s.amount, Stage: s.stage,
		Reason: reason, Competitor: competitor, At: now}}, nil
}

func (s *State) reopen(c ReopenOpportunity, now time.Time) ([]domain.Event, error) {
	if s.status == StatusOpen {
		return nil, nil
	}
	stage, reason := strings.TrimSpace(c.Stage), strings.TrimSpace(c.Reason)
	if stage == "" {
		stage = s.stage
	}
	var v domain.Validator
	s.pipeline.checkTarget(&v, "stage", stage)
	text.Line(&v, "reason", reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, _ := s.pipeline.Stage(stage)
	return []domain.Event{OpportunityReopened{OpportunityID: s.id, CustomerID: s.customer, PreviousStatus: s.status,
		Stage: stage, Probability: st.Probability, Amount: s.amount, Reason: reason, At: now}}, nil
}

// CheckOrderable tells the order side whether an order may be placed from
// this opportunity: it must exist (ErrNotFound), be won (ErrNotWon), and its
// current requirements must have a positive review
// (ErrRequirementsNotReviewed, ErrRequirementsRejected). It returns that
// review, which PlaceOrder carries so the order records what it relied on.
func (s *State) CheckOrderable() (requirement.Review, error) {
	switch {
	case !s.Exists():
		return requirement.Review{}, ErrNotFound
	case s.status != StatusWon:
		return requirement.Review{}, ErrNotWon
	}
	if err := s.reqs.CheckCommitment(); err != nil {
		return requirement.Review{}, err
	}
	rv, _ := s.reqs.LastReview()
	return rv, nil
}

// Exists reports whether the opportunity has been opened.
func (s *State) Exists() bool { return s.id != uuid.Nil }

// ID returns the opportunity's ID.
func (s *State) ID() uuid.UUID { return s.id }

// CustomerID returns the customer the opportunity is with.
func (s *State) CustomerID() uuid.UUID { return s.customer }

// LeadID returns the lead it came from (uuid.Nil if none).
func (s *State) LeadID() uuid.UUID { return s.lead }

// Name returns the opportunity's name.
func (s *State) Name() string { return s.name }

// Pipeline returns a copy of the pipeline the opportunity was opened in.
func (s *State) Pipeline() Pipeline { return s.pipeline.clone() }

// Stage returns the current stage (for a closed opportunity, the stage it
// was closed from).
func (s *State) Stage() string { return s.stage }

// StageEnteredAt returns when the opportunity entered its current stage.
func (s *State) StageEnteredAt() time.Time { return s.stageEnteredAt }

// Probability returns the win probability in percent: the stage's while
// open, 100 when won, 0 when lost.
func (s *State) Probability() int {
	switch s.status {
	case StatusWon:
		return 100
	case StatusLost:
		return 0
	}
	st, _ := s.pipeline.Stage(s.stage)
	return st.Probability
}

// Amount returns the expected amount.
func (s *State) Amount() domain.Money { return s.amount }

// ExpectedClose returns the expected close date (zero if none).
func (s *State) ExpectedClose() time.Time { return s.expectedClose }

// OwnerID returns the owner's user principal.
func (s *State) OwnerID() string { return s.owner }

// Status returns open, won or lost ("" if it does not exist).
func (s *State) Status() Status { return s.status }

// IsOpen reports whether the opportunity is open.
func (s *State) IsOpen() bool { return s.status == StatusOpen }

// Won reports whether the opportunity is won.
func (s *State) Won() bool { return s.status == StatusWon }

// Lost reports whether the opportunity is lost.
func (s *State) Lost() bool { return s.status == StatusLost }

// LostReason returns why it was lost (while lost).
func (s *State) LostReason() string { return s.lostReason }

// OpenedAt returns when it was opened.
func (s *State) OpenedAt() time.Time { return s.openedAt }

// ClosedAt returns when it was won or lost (zero while open).
func (s *State) ClosedAt() time.Time { return s.closedAt }

// Requirements returns a copy of the current requirement items.
func (s *State) Requirements() []requirement.Item { return slices.Clone(s.items) }

// RequirementsRevision returns the current revision (0: none captured).
func (s *State) RequirementsRevision() int { return s.reqs.Revision() }

// RequirementsStatus returns none, pending_review, approved or rejected.
func (s *State) RequirementsStatus() requirement.Status { return s.reqs.Status() }

// RequirementsApproved reports whether the current revision has a positive review.
func (s *State) RequirementsApproved() bool { return s.reqs.Approved() }

// LastReview returns the latest requirements review, of whatever revision.
func (s *State) LastReview() (requirement.Review, bool) { return s.reqs.LastReview() }
