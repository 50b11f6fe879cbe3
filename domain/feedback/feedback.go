// Package feedback is the Feedback aggregate: one customer's answer about
// how they perceive the organisation's service (ISO 9001 9.1.2, ISO 10004),
// as a CSAT score (1-5), an NPS score (0-10) and/or a free comment, linked to
// the case, order or campaign it is about (or to none, for relationship
// surveys) and to the customer.
//
// One feedback is one stream: FeedbackSubmitted, then perhaps
// FeedbackWithdrawn (entered in error, or the customer asked for it to be
// disregarded). Projections compute CSAT (share of 4 and 5) and NPS (%
// promoters − % detractors) over submitted, not withdrawn, feedback; see
// CSATSatisfied and NPSCategoryOf.
package feedback

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of feedback.
const Category = "feedback"

// StreamID returns the stream of one feedback, "feedback-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Method is how the feedback was gathered (ISO 9001 9.1.2 asks for defined methods).
type Method string

const (
	MethodSurvey   Method = "survey" // a survey sent by the organisation
	MethodEmail    Method = "email"
	MethodPhone    Method = "phone"
	MethodWeb      Method = "web" // web form or portal, unsolicited
	MethodInPerson Method = "in_person"
	MethodOther    Method = "other"
)

// Methods lists every method, in order.
var Methods = domain.NewEnum("method", MethodSurvey, MethodEmail, MethodPhone, MethodWeb, MethodInPerson, MethodOther)

// Valid reports whether m is one of Methods.
func (m Method) Valid() bool { return Methods.Has(m) }

// EnumValues lists the accepted values (the API schema's enum).
func (Method) EnumValues() []string { return Methods.Strings() }

// Score ranges.
const (
	MinCSAT, MaxCSAT = 1, 5
	MinNPS, MaxNPS   = 0, 10
)

// CSATSatisfied reports whether a CSAT score counts as satisfied (4 or 5).
func CSATSatisfied(score int) bool { return score >= 4 }

// NPSCategory sorts NPS answers.
type NPSCategory string

const (
	Promoter  NPSCategory = "promoter"  // 9-10
	Passive   NPSCategory = "passive"   // 7-8
	Detractor NPSCategory = "detractor" // 0-6
)

// NPSCategoryOf returns the category of an NPS score.
func NPSCategoryOf(score int) NPSCategory {
	switch {
	case score >= 9:
		return Promoter
	case score >= 7:
		return Passive
	}
	return Detractor
}

// Errors of the feedback aggregate, for errors.Is.
var (
	ErrNotFound      = domain.NotFound("feedback")
	ErrAlreadyExists = domain.AlreadyExists("feedback")
)

// SubmitFeedback records a customer's feedback. At least one of CSAT, NPS and
// Comment is given; at most one of CaseID, OrderID and CampaignID.
type SubmitFeedback struct {
	FeedbackID uuid.UUID `json:"feedback_id"`
	CustomerID uuid.UUID `json:"customer_id"`
	CaseID     uuid.UUID `json:"case_id,omitzero"`
	OrderID    uuid.UUID `json:"order_id,omitzero"`
	CampaignID uuid.UUID `json:"campaign_id,omitzero"`
	Method     Method    `json:"method"`
	CSAT       *int      `json:"csat,omitempty"`
	NPS        *int      `json:"nps,omitempty"`
	Comment    string    `json:"comment,omitempty"`
}

// WithdrawFeedback takes a feedback out of the statistics; it stays in the log.
type WithdrawFeedback struct {
	FeedbackID uuid.UUID `json:"feedback_id"`
	Reason     string    `json:"reason"`
}

func (SubmitFeedback) CommandType() string   { return "SubmitFeedback" }
func (WithdrawFeedback) CommandType() string { return "WithdrawFeedback" }

func (c SubmitFeedback) AggregateID() uuid.UUID   { return c.FeedbackID }
func (c WithdrawFeedback) AggregateID() uuid.UUID { return c.FeedbackID }

// FeedbackSubmitted: a customer gave feedback.
type FeedbackSubmitted struct {
	FeedbackID  uuid.UUID `json:"feedback_id"`
	CustomerID  uuid.UUID `json:"customer_id"`
	CaseID      uuid.UUID `json:"case_id,omitzero"`
	OrderID     uuid.UUID `json:"order_id,omitzero"`
	CampaignID  uuid.UUID `json:"campaign_id,omitzero"`
	Method      Method    `json:"method"`
	CSAT        *int      `json:"csat,omitempty"`
	NPS         *int      `json:"nps,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// Subject returns what the feedback is about: "case", "order" or "campaign"
// and its ID, or "" and uuid.Nil for feedback on the relationship as a whole.
func (e FeedbackSubmitted) Subject() (kind string, id uuid.UUID) {
	switch {
	case e.CaseID != uuid.Nil:
		return "case", e.CaseID
	case e.OrderID != uuid.Nil:
		return "order", e.OrderID
	case e.CampaignID != uuid.Nil:
		return "campaign", e.CampaignID
	}
	return "", uuid.Nil
}

// FeedbackWithdrawn: the feedback no longer counts in the statistics.
type FeedbackWithdrawn struct {
	FeedbackID  uuid.UUID `json:"feedback_id"`
	CustomerID  uuid.UUID `json:"customer_id"`
	Reason      string    `json:"reason"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

func (FeedbackSubmitted) EventType() string { return "FeedbackSubmitted" }
func (FeedbackWithdrawn) EventType() string { return "FeedbackWithdrawn" }

// Personal data (docs/privacy.md): the customer's comment; the scores are
// the quality record and stay readable.
var subject = []domain.SubjectRef{{Kind: "customer", Path: "customer_id"}}

func init() {
	domain.Events.Register(
		domain.Registration{Event: FeedbackSubmitted{}, Personal: domain.Personal{Subject: subject, Fields: []string{"comment"}}, Aggregate: Category,
			Doc: "A customer gave feedback (CSAT 1-5, NPS 0-10, comment) on a case, order, campaign or the relationship."},
		domain.Registration{Event: FeedbackWithdrawn{}, Personal: domain.Personal{Subject: subject, Fields: []string{"reason"}}, Aggregate: Category,
			Doc: "A feedback was withdrawn and no longer counts in satisfaction statistics."},
	)
}

// State is one feedback folded from its events; the zero State does not exist.
type State struct {
	submitted   FeedbackSubmitted
	withdrawn   bool
	withdrawnAt time.Time
}

var _ domain.Decider = (*State)(nil)

func (s *State) Exists() bool { return s.submitted.FeedbackID != uuid.Nil }

func (s *State) ID() uuid.UUID          { return s.submitted.FeedbackID }
func (s *State) CustomerID() uuid.UUID  { return s.submitted.CustomerID }
func (s *State) Method() Method         { return s.submitted.Method }
func (s *State) Comment() string        { return s.submitted.Comment }
func (s *State) SubmittedAt() time.Time { return s.submitted.SubmittedAt }

// Subject is FeedbackSubmitted.Subject.
func (s *State) Subject() (kind string, id uuid.UUID) { return s.submitted.Subject() }

// CSAT returns the CSAT score and whether one was given.
func (s *State) CSAT() (int, bool) { return deref(s.submitted.CSAT) }

// NPS returns the NPS score and whether one was given.
func (s *State) NPS() (int, bool) { return deref(s.submitted.NPS) }

func (s *State) Withdrawn() bool        { return s.withdrawn }
func (s *State) WithdrawnAt() time.Time { return s.withdrawnAt }

func deref(p *int) (int, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// Apply folds one event into the state; it ignores events of other aggregates.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case FeedbackSubmitted:
		e.CSAT, e.NPS = clone(e.CSAT), clone(e.NPS)
		*s = State{submitted: e}
	case FeedbackWithdrawn:
		s.withdrawn, s.withdrawnAt = true, e.WithdrawnAt
	}
}

func clone(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Decide checks cmd against the feedback and returns the events to record.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	switch c := cmd.(type) {
	case SubmitFeedback:
		return s.submit(c, now)
	case WithdrawFeedback:
		return s.withdraw(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func (s *State) submit(c SubmitFeedback, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	c.Comment = strings.TrimSpace(c.Comment)
	var v domain.Validator
	v.Require("feedback_id", c.FeedbackID != uuid.Nil, "is required")
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	Methods.Check(&v, "method", c.Method)
	links := 0
	for _, id := range []uuid.UUID{c.CaseID, c.OrderID, c.CampaignID} {
		if id != uuid.Nil {
			links++
		}
	}
	v.Require("case_id", links <= 1, "give at most one of case_id, order_id and campaign_id")
	if c.CSAT != nil {
		v.Require("csat", *c.CSAT >= MinCSAT && *c.CSAT <= MaxCSAT, "must be between 1 and 5")
	}
	if c.NPS != nil {
		v.Require("nps", *c.NPS >= MinNPS && *c.NPS <= MaxNPS, "must be between 0 and 10")
	}
	text.Block(&v, "comment", c.Comment, false, text.MaxSummary)
	v.Require("comment", c.CSAT != nil || c.NPS != nil || c.Comment != "", "is required when there is neither csat nor nps")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{FeedbackSubmitted{
		FeedbackID: c.FeedbackID, CustomerID: c.CustomerID, CaseID: c.CaseID, OrderID: c.OrderID, CampaignID: c.CampaignID,
		Method: c.Method, CSAT: clone(c.CSAT), NPS: clone(c.NPS), Comment: c.Comment, SubmittedAt: now,
	}}, nil
}

func (s *State) withdraw(c WithdrawFeedback, now time.Time) ([]domain.Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound
	}
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.withdrawn {
		return nil, nil
	}
	return []domain.Event{FeedbackWithdrawn{FeedbackID: s.ID(), CustomerID: s.CustomerID(), Reason: c.Reason, WithdrawnAt: now}}, nil
}
