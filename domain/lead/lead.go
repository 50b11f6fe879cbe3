// Package lead is the Lead aggregate: a prospective customer captured from a
// source (a web form, a fair, a campaign...), qualified with a score from 0
// to 100 or disqualified with a reason, and at most once converted into a
// customer and an opportunity.
//
// Status rules: a new lead can be qualified or disqualified; qualifying
// again updates the score (a disqualified lead can be qualified again when
// it comes back); only a qualified lead can be converted, and only once.
// LeadConverted carries the new customer's and opportunity's IDs and the
// lead's data; the command side's process manager reacts to it by sending
// RegisterCustomer (unless ExistingCustomer) and OpenOpportunity. A repeated
// ConvertLead with the same IDs changes nothing; with other IDs it is
// refused (ErrConverted).
package lead

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/contactinfo"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of leads.
const Category = "lead"

// StreamID returns the stream of one lead, "lead-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Errors, matched with errors.Is.
var (
	ErrNotFound      = domain.NotFound("lead")
	ErrAlreadyExists = domain.AlreadyExists("lead")
	ErrNotQualified  = domain.Conflict("lead_not_qualified", "only a qualified lead can be converted")
	ErrConverted     = domain.Conflict("lead_converted", "the lead has been converted and accepts no further changes")
)

// Status of a lead.
type Status string

const (
	StatusNew          Status = "new"
	StatusQualified    Status = "qualified"
	StatusDisqualified Status = "disqualified"
	StatusConverted    Status = "converted"
)

// Prospect is who a lead is about: a person, a company, or both.
type Prospect struct {
	ContactName string `json:"contact_name,omitempty" doc:"A lead needs a contact_name, a company_name or both."`
	CompanyName string `json:"company_name,omitempty" doc:"A lead needs a contact_name, a company_name or both."`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
}

func (p Prospect) normalise() Prospect {
	return Prospect{
		ContactName: strings.TrimSpace(p.ContactName),
		CompanyName: strings.TrimSpace(p.CompanyName),
		Email:       strings.TrimSpace(p.Email),
		Phone:       strings.TrimSpace(p.Phone),
	}
}

func (p Prospect) validate(v *domain.Validator) {
	v.Require("contact_name", p.ContactName != "" || p.CompanyName != "", "contact_name or company_name is required")
	text.Line(v, "contact_name", p.ContactName, false, text.MaxName)
	text.Line(v, "company_name", p.CompanyName, false, text.MaxName)
	v.Require("email", p.Email == "" || contactinfo.ValidEmail(p.Email), "must be an email address like name@example.com")
	v.Require("phone", p.Phone == "" || contactinfo.ValidPhone(p.Phone), "must be a phone number (digits, optional leading +)")
}

// Events. Each carries the lead's ID and At, the decision time.

// LeadCaptured: a lead was captured.
type LeadCaptured struct {
	LeadID     uuid.UUID `json:"lead_id"`
	Source     string    `json:"source"` // a slug: "web_form", "trade_fair", "referral", "campaign"...
	CampaignID uuid.UUID `json:"campaign_id,omitzero"`
	Prospect
	Notes   string    `json:"notes,omitempty"`
	OwnerID string    `json:"owner_id,omitempty"`
	At      time.Time `json:"at"`
}

// LeadQualified: the lead was (re)qualified with a score from 0 to 100.
type LeadQualified struct {
	LeadID uuid.UUID `json:"lead_id"`
	Score  int       `json:"score"`
	Notes  string    `json:"notes,omitempty"`
	At     time.Time `json:"at"`
}

// LeadDisqualified: the lead was disqualified, with the reason.
type LeadDisqualified struct {
	LeadID uuid.UUID `json:"lead_id"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// LeadConverted: the lead became a customer (new, or ExistingCustomer) and
// an opportunity. It carries everything the process manager needs to
// register the customer and open the opportunity.
type LeadConverted struct {
	LeadID           uuid.UUID    `json:"lead_id"`
	CustomerID       uuid.UUID    `json:"customer_id"`
	ExistingCustomer bool         `json:"existing_customer,omitempty"`
	OpportunityID    uuid.UUID    `json:"opportunity_id"`
	OpportunityName  string       `json:"opportunity_name"`
	Amount           domain.Money `json:"amount"`
	ExpectedClose    time.Time    `json:"expected_close,omitzero"`
	Prospect
	Source     string    `json:"source"`
	CampaignID uuid.UUID `json:"campaign_id,omitzero"`
	OwnerID    string    `json:"owner_id,omitempty"`
	Score      int       `json:"score"`
	At         time.Time `json:"at"`
}

func (LeadCaptured) EventType() string     { return "LeadCaptured" }
func (LeadQualified) EventType() string    { return "LeadQualified" }
func (LeadDisqualified) EventType() string { return "LeadDisqualified" }
func (LeadConverted) EventType() string    { return "LeadConverted" }

// Personal data (docs/privacy.md): before conversion the data subject is
// the lead itself; LeadConverted links the lead to its customer, so erasing
// the customer erases the lead's data too.
var (
	subject          = []domain.SubjectRef{{Kind: Category, Path: "lead_id"}}
	prospectFields   = []string{"contact_name", "company_name", "email", "phone"}
	personalProspect = domain.Personal{Subject: subject, Fields: append(slices.Clone(prospectFields), "notes")}
)

func init() {
	domain.Events.Register(
		domain.Registration{Event: LeadCaptured{}, Personal: personalProspect, Aggregate: Category, Doc: "A lead was captured from a source, possibly a campaign."},
		domain.Registration{Event: LeadQualified{}, Personal: domain.Personal{Subject: subject, Fields: []string{"notes"}}, Aggregate: Category, Doc: "A lead was qualified, or re-scored, with a score from 0 to 100."},
		domain.Registration{Event: LeadDisqualified{}, Personal: domain.Personal{Subject: subject, Fields: []string{"reason"}}, Aggregate: Category, Doc: "A lead was disqualified, with the reason."},
		domain.Registration{Event: LeadConverted{}, Personal: domain.Personal{Subject: subject, Fields: prospectFields, LinkTo: &domain.SubjectRef{Kind: "customer", Path: "customer_id"}}, Aggregate: Category,
			Doc: "A qualified lead was converted into a customer and an opportunity, whose IDs and data the event carries."},
	)
}

// Commands.

// CaptureLead captures a new lead; LeadID is chosen by the caller.
type CaptureLead struct {
	LeadID     uuid.UUID `json:"lead_id"`
	Source     string    `json:"source"`
	CampaignID uuid.UUID `json:"campaign_id,omitzero"`
	Prospect
	Notes   string `json:"notes,omitempty"`
	OwnerID string `json:"owner_id,omitempty"`
}

// QualifyLead qualifies (or re-scores) a lead.
type QualifyLead struct {
	LeadID uuid.UUID `json:"lead_id"`
	Score  int       `json:"score"`
	Notes  string    `json:"notes,omitempty"`
}

// DisqualifyLead disqualifies a lead.
type DisqualifyLead struct {
	LeadID uuid.UUID `json:"lead_id"`
	Reason string    `json:"reason"`
}

// ConvertLead converts a qualified lead. CustomerID and OpportunityID are
// chosen by the caller; with ExistingCustomer, CustomerID names a customer
// that exists already and no new one is registered. OpportunityName
// defaults to the company name, else the contact name.
type ConvertLead struct {
	LeadID           uuid.UUID    `json:"lead_id"`
	CustomerID       uuid.UUID    `json:"customer_id"`
	ExistingCustomer bool         `json:"existing_customer,omitempty"`
	OpportunityID    uuid.UUID    `json:"opportunity_id"`
	OpportunityName  string       `json:"opportunity_name,omitempty"`
	Amount           domain.Money `json:"amount"`
	ExpectedClose    time.Time    `json:"expected_close,omitzero"`
}

func (CaptureLead) CommandType() string    { return "CaptureLead" }
func (QualifyLead) CommandType() string    { return "QualifyLead" }
func (DisqualifyLead) CommandType() string { return "DisqualifyLead" }
func (ConvertLead) CommandType() string    { return "ConvertLead" }

func (c CaptureLead) AggregateID() uuid.UUID    { return c.LeadID }
func (c QualifyLead) AggregateID() uuid.UUID    { return c.LeadID }
func (c DisqualifyLead) AggregateID() uuid.UUID { return c.LeadID }
func (c ConvertLead) AggregateID() uuid.UUID    { return c.LeadID }

// State is a lead folded from its events. The zero State is a lead that does
// not exist. *State implements domain.Decider.
type State struct {
	id          uuid.UUID
	status      Status
	source      string
	campaign    uuid.UUID
	prospect    Prospect
	owner       string
	score       int
	scored      bool
	reason      string
	customer    uuid.UUID
	opportunity uuid.UUID
	capturedAt  time.Time
	convertedAt time.Time
}

var _ domain.Decider = (*State)(nil)

// Apply folds one event into the state; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case LeadCaptured:
		s.id, s.status, s.source, s.campaign, s.prospect, s.owner, s.capturedAt =
			e.LeadID, StatusNew, e.Source, e.CampaignID, e.Prospect, e.OwnerID, e.At
	case LeadQualified:
		s.status, s.score, s.scored, s.reason = StatusQualified, e.Score, true, ""
	case LeadDisqualified:
		s.status, s.reason = StatusDisqualified, e.Reason
	case LeadConverted:
		s.status, s.customer, s.opportunity, s.convertedAt = StatusConverted, e.CustomerID, e.OpportunityID, e.At
	}
}

// Decide checks a command against the state and returns the events to
// record, or a *domain.Error. It does not change the state.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(CaptureLead); ok {
		return s.capture(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case QualifyLead:
		return s.qualify(c, now)
	case DisqualifyLead:
		return s.disqualify(c, now)
	case ConvertLead:
		return s.convert(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func (s *State) capture(c CaptureLead, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	e := LeadCaptured{LeadID: c.LeadID, Source: strings.TrimSpace(c.Source), CampaignID: c.CampaignID, Prospect: c.Prospect.normalise(),
		Notes: strings.TrimSpace(c.Notes), OwnerID: strings.TrimSpace(c.OwnerID), At: now}
	var v domain.Validator
	v.Require("lead_id", c.LeadID != uuid.Nil, "is required")
	text.Slug(&v, "source", e.Source, true)
	e.Prospect.validate(&v)
	text.Block(&v, "notes", e.Notes, false, text.MaxSummary)
	text.Line(&v, "owner_id", e.OwnerID, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{e}, nil
}

func (s *State) qualify(c QualifyLead, now time.Time) ([]domain.Event, error) {
	if s.status == StatusConverted {
		return nil, ErrConverted
	}
	notes := strings.TrimSpace(c.Notes)
	var v domain.Validator
	v.Require("score", c.Score >= 0 && c.Score <= 100, "must be between 0 and 100")
	text.Block(&v, "notes", notes, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.status == StatusQualified && s.score == c.Score {
		return nil, nil
	}
	return []domain.Event{LeadQualified{LeadID: s.id, Score: c.Score, Notes: notes, At: now}}, nil
}

func (s *State) disqualify(c DisqualifyLead, now time.Time) ([]domain.Event, error) {
	switch s.status {
	case StatusConverted:
		return nil, ErrConverted
	case StatusDisqualified:
		return nil, nil
	}
	reason := strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{LeadDisqualified{LeadID: s.id, Reason: reason, At: now}}, nil
}

func (s *State) convert(c ConvertLead, now time.Time) ([]domain.Event, error) {
	switch {
	case s.status == StatusConverted && c.CustomerID == s.customer && c.OpportunityID == s.opportunity:
		return nil, nil // a retry of the conversion that happened
	case s.status == StatusConverted:
		return nil, ErrConverted
	case s.status != StatusQualified:
		return nil, ErrNotQualified
	}
	name := strings.TrimSpace(c.OpportunityName)
	if name == "" {
		name = s.prospect.CompanyName
	}
	if name == "" {
		name = s.prospect.ContactName
	}
	var v domain.Validator
	v.Require("customer_id", c.CustomerID != uuid.Nil, "is required")
	v.Require("opportunity_id", c.OpportunityID != uuid.Nil, "is required")
	text.Line(&v, "opportunity_name", name, true, text.MaxName)
	v.Merge("amount", c.Amount.Validate(false))
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{LeadConverted{
		LeadID: s.id, CustomerID: c.CustomerID, ExistingCustomer: c.ExistingCustomer,
		OpportunityID: c.OpportunityID, OpportunityName: name, Amount: c.Amount, ExpectedClose: c.ExpectedClose.UTC(),
		Prospect: s.prospect, Source: s.source, CampaignID: s.campaign, OwnerID: s.owner, Score: s.score, At: now,
	}}, nil
}

// Exists reports whether the lead has been captured.
func (s *State) Exists() bool { return s.id != uuid.Nil }

// ID returns the lead's ID.
func (s *State) ID() uuid.UUID { return s.id }

// Status returns the lead's status ("" if it does not exist).
func (s *State) Status() Status { return s.status }

// Source returns where the lead came from.
func (s *State) Source() string { return s.source }

// CampaignID returns the campaign the lead came from (uuid.Nil if none).
func (s *State) CampaignID() uuid.UUID { return s.campaign }

// Prospect returns who the lead is about.
func (s *State) Prospect() Prospect { return s.prospect }

// OwnerID returns the owner's user principal.
func (s *State) OwnerID() string { return s.owner }

// Score returns the latest qualification score, and false if never qualified.
func (s *State) Score() (int, bool) { return s.score, s.scored }

// DisqualificationReason returns the reason while the lead is disqualified.
func (s *State) DisqualificationReason() string { return s.reason }

// Converted reports whether the lead has been converted.
func (s *State) Converted() bool { return s.status == StatusConverted }

// CustomerID returns the customer the lead was converted into (uuid.Nil if not).
func (s *State) CustomerID() uuid.UUID { return s.customer }

// OpportunityID returns the opportunity opened on conversion (uuid.Nil if not).
func (s *State) OpportunityID() uuid.UUID { return s.opportunity }

// CapturedAt returns when the lead was captured.
func (s *State) CapturedAt() time.Time { return s.capturedAt }

// ConvertedAt returns when the lead was converted (zero if not).
func (s *State) ConvertedAt() time.Time { return s.convertedAt }
