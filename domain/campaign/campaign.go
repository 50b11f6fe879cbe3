// Package campaign is the Campaign aggregate: a marketing action over one
// channel with a budget, planned, launched, then completed or cancelled, and
// the responses of the leads and customers it reached (sent, opened,
// clicked, replied, opted out).
//
// Status rules: planned → launched → completed; planned or launched →
// cancelled. Launching a launched campaign, completing a completed one or
// cancelling a cancelled one changes nothing (no events). Responses are
// accepted once the campaign has been launched, also after it was completed
// or cancelled, since opens and replies keep arriving.
//
// Volume. Each response is one CampaignResponseRecorded event on the
// campaign's own stream, and the State keeps only counters per kind, so
// loading a campaign costs one pass over its stream but little memory. This
// is right for the campaigns a CRM team runs by hand (up to some tens of
// thousands of recipients). A mass mailing with millions of recipients would
// make the stream long to load and a hot spot for appends; it should then
// either record responses with an expected version of "any" (a response only
// depends on the campaign having been launched, which never becomes untrue),
// or move responses to their own streams, for instance one per campaign and
// recipient. The event shape does not change either way.
//
// The command side starts from a snapshot of the State when it has one
// (State implements domain.Snapshotter, see snapshot.go), so a long stream
// costs only the events since the last snapshot.
package campaign

import (
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of campaigns.
const Category = "campaign"

// StreamID returns the stream of one campaign, "campaign-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// MaxClockSkew is how far in the future a response's OccurredAt may lie.
const MaxClockSkew = 5 * time.Minute

// Errors, matched with errors.Is.
var (
	ErrNotFound      = domain.NotFound("campaign")
	ErrAlreadyExists = domain.AlreadyExists("campaign")
	ErrNotLaunched   = domain.Conflict("campaign_not_launched", "the campaign has not been launched")
	ErrClosed        = domain.Conflict("campaign_closed", "the campaign is completed or cancelled")
)

// Status of a campaign.
type Status string

const (
	StatusPlanned   Status = "planned"
	StatusLaunched  Status = "launched"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
)

// Channel is the medium a campaign uses.
type Channel string

const (
	ChannelEmail  Channel = "email"
	ChannelSMS    Channel = "sms"
	ChannelPhone  Channel = "phone"
	ChannelPost   Channel = "post"
	ChannelSocial Channel = "social"
	ChannelEvent  Channel = "event"
	ChannelWeb    Channel = "web"
	ChannelOther  Channel = "other"
)

// Channels lists every channel, in order.
var Channels = domain.NewEnum("channel", ChannelEmail, ChannelSMS, ChannelPhone, ChannelPost, ChannelSocial, ChannelEvent, ChannelWeb, ChannelOther)

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool { return Channels.Has(c) }

// EnumValues lists the accepted values (the API schema's enum).
func (Channel) EnumValues() []string { return Channels.Strings() }

// ResponseKind is what a recipient did.
type ResponseKind string

const (
	ResponseSent     ResponseKind = "sent"
	ResponseOpened   ResponseKind = "opened"
	ResponseClicked  ResponseKind = "clicked"
	ResponseReplied  ResponseKind = "replied"
	ResponseOptedOut ResponseKind = "opted_out"
)

// ResponseKinds lists every response kind, in order.
var ResponseKinds = domain.NewEnum("response kind", ResponseSent, ResponseOpened, ResponseClicked, ResponseReplied, ResponseOptedOut)

// Valid reports whether k is one of ResponseKinds.
func (k ResponseKind) Valid() bool { return ResponseKinds.Has(k) }

// EnumValues lists the accepted values (the API schema's enum).
func (ResponseKind) EnumValues() []string { return ResponseKinds.Strings() }

// Events. Each carries the campaign's ID and At, the decision time.

// CampaignPlanned: a campaign was planned.
type CampaignPlanned struct {
	CampaignID   uuid.UUID    `json:"campaign_id"`
	Name         string       `json:"name"`
	Channel      Channel      `json:"channel"`
	Budget       domain.Money `json:"budget"`
	PlannedStart time.Time    `json:"planned_start,omitzero"`
	PlannedEnd   time.Time    `json:"planned_end,omitzero"`
	OwnerID      string       `json:"owner_id,omitempty"`
	Description  string       `json:"description,omitempty"`
	At           time.Time    `json:"at"`
}

// CampaignBudgetChanged: the budget changed.
type CampaignBudgetChanged struct {
	CampaignID     uuid.UUID    `json:"campaign_id"`
	Budget         domain.Money `json:"budget"`
	PreviousBudget domain.Money `json:"previous_budget"`
	At             time.Time    `json:"at"`
}

// CampaignLaunched: the campaign went live.
type CampaignLaunched struct {
	CampaignID uuid.UUID `json:"campaign_id"`
	At         time.Time `json:"at"`
}

// CampaignCompleted: the campaign ended as planned; Responses counts the
// responses recorded until then, by kind.
type CampaignCompleted struct {
	CampaignID uuid.UUID            `json:"campaign_id"`
	Responses  map[ResponseKind]int `json:"responses,omitempty"`
	At         time.Time            `json:"at"`
}

// CampaignCancelled: the campaign was called off.
type CampaignCancelled struct {
	CampaignID uuid.UUID `json:"campaign_id"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// CampaignResponseRecorded: a lead or customer responded to the campaign.
type CampaignResponseRecorded struct {
	CampaignID  uuid.UUID    `json:"campaign_id"`
	LeadID      uuid.UUID    `json:"lead_id,omitzero"`
	CustomerID  uuid.UUID    `json:"customer_id,omitzero"`
	ContactID   uuid.UUID    `json:"contact_id,omitzero"`
	Kind        ResponseKind `json:"kind"`
	OccurredAt  time.Time    `json:"occurred_at"`
	ExternalRef string       `json:"external_ref,omitempty"` // the sending platform's ID of the event, if any
	At          time.Time    `json:"at"`
}

func (CampaignPlanned) EventType() string          { return "CampaignPlanned" }
func (CampaignBudgetChanged) EventType() string    { return "CampaignBudgetChanged" }
func (CampaignLaunched) EventType() string         { return "CampaignLaunched" }
func (CampaignCompleted) EventType() string        { return "CampaignCompleted" }
func (CampaignCancelled) EventType() string        { return "CampaignCancelled" }
func (CampaignResponseRecorded) EventType() string { return "CampaignResponseRecorded" }

func init() {
	domain.Events.Register(
		domain.Registration{Event: CampaignPlanned{}, Aggregate: Category, Doc: "A marketing campaign was planned with its channel and budget."},
		domain.Registration{Event: CampaignBudgetChanged{}, Aggregate: Category, Doc: "A campaign's budget changed."},
		domain.Registration{Event: CampaignLaunched{}, Aggregate: Category, Doc: "A campaign went live."},
		domain.Registration{Event: CampaignCompleted{}, Aggregate: Category, Doc: "A campaign ended as planned, with its response counts by kind."},
		domain.Registration{Event: CampaignCancelled{}, Aggregate: Category, Doc: "A campaign was called off, with the reason."},
		domain.Registration{Event: CampaignResponseRecorded{}, Aggregate: Category,
			Doc: "A lead or customer responded to a campaign (sent, opened, clicked, replied, opted out)."},
	)
}

// Commands.

// PlanCampaign plans a new campaign; CampaignID is chosen by the caller.
type PlanCampaign struct {
	CampaignID   uuid.UUID    `json:"campaign_id"`
	Name         string       `json:"name"`
	Channel      Channel      `json:"channel"`
	Budget       domain.Money `json:"budget"`
	PlannedStart time.Time    `json:"planned_start,omitzero"`
	PlannedEnd   time.Time    `json:"planned_end,omitzero"`
	OwnerID      string       `json:"owner_id,omitempty"`
	Description  string       `json:"description,omitempty"`
}

// ChangeCampaignBudget sets a new budget while the campaign is not closed.
type ChangeCampaignBudget struct {
	CampaignID uuid.UUID    `json:"campaign_id"`
	Budget     domain.Money `json:"budget"`
}

// LaunchCampaign starts a planned campaign.
type LaunchCampaign struct {
	CampaignID uuid.UUID `json:"campaign_id"`
}

// CompleteCampaign ends a launched campaign.
type CompleteCampaign struct {
	CampaignID uuid.UUID `json:"campaign_id"`
}

// CancelCampaign calls off a planned or launched campaign.
type CancelCampaign struct {
	CampaignID uuid.UUID `json:"campaign_id"`
	Reason     string    `json:"reason"`
}

// RecordCampaignResponse records what a lead or customer did. The command
// handler may derive the event ID from ExternalRef, so a platform's webhook
// delivered twice is stored once (the event store is idempotent by event ID).
type RecordCampaignResponse struct {
	CampaignID  uuid.UUID    `json:"campaign_id"`
	LeadID      uuid.UUID    `json:"lead_id,omitzero"`
	CustomerID  uuid.UUID    `json:"customer_id,omitzero"`
	ContactID   uuid.UUID    `json:"contact_id,omitzero"`
	Kind        ResponseKind `json:"kind"`
	OccurredAt  time.Time    `json:"occurred_at"`
	ExternalRef string       `json:"external_ref,omitempty"`
}

func (PlanCampaign) CommandType() string           { return "PlanCampaign" }
func (ChangeCampaignBudget) CommandType() string   { return "ChangeCampaignBudget" }
func (LaunchCampaign) CommandType() string         { return "LaunchCampaign" }
func (CompleteCampaign) CommandType() string       { return "CompleteCampaign" }
func (CancelCampaign) CommandType() string         { return "CancelCampaign" }
func (RecordCampaignResponse) CommandType() string { return "RecordCampaignResponse" }

func (c PlanCampaign) AggregateID() uuid.UUID           { return c.CampaignID }
func (c ChangeCampaignBudget) AggregateID() uuid.UUID   { return c.CampaignID }
func (c LaunchCampaign) AggregateID() uuid.UUID         { return c.CampaignID }
func (c CompleteCampaign) AggregateID() uuid.UUID       { return c.CampaignID }
func (c CancelCampaign) AggregateID() uuid.UUID         { return c.CampaignID }
func (c RecordCampaignResponse) AggregateID() uuid.UUID { return c.CampaignID }

// State is a campaign folded from its events. The zero State is a campaign
// that does not exist. *State implements domain.Decider.
type State struct {
	id         uuid.UUID
	name       string
	channel    Channel
	budget     domain.Money
	owner      string
	status     Status
	launchedAt time.Time
	closedAt   time.Time
	responses  map[ResponseKind]int
}

var _ domain.Decider = (*State)(nil)

// Apply folds one event into the state; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case CampaignPlanned:
		s.id, s.name, s.channel, s.budget, s.owner, s.status = e.CampaignID, e.Name, e.Channel, e.Budget, e.OwnerID, StatusPlanned
	case CampaignBudgetChanged:
		s.budget = e.Budget
	case CampaignLaunched:
		s.status, s.launchedAt = StatusLaunched, e.At
	case CampaignCompleted:
		s.status, s.closedAt = StatusCompleted, e.At
	case CampaignCancelled:
		s.status, s.closedAt = StatusCancelled, e.At
	case CampaignResponseRecorded:
		if s.responses == nil {
			s.responses = map[ResponseKind]int{}
		}
		s.responses[e.Kind]++
	}
}

// Decide checks a command against the state and returns the events to
// record, or a *domain.Error. It does not change the state.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	if c, ok := cmd.(PlanCampaign); ok {
		return s.plan(c, now)
	}
	if !s.Exists() {
		return nil, ErrNotFound
	}
	switch c := cmd.(type) {
	case ChangeCampaignBudget:
		return s.changeBudget(c, now)
	case LaunchCampaign:
		switch s.status {
		case StatusLaunched:
			return nil, nil
		case StatusCompleted, StatusCancelled:
			return nil, ErrClosed
		}
		return []domain.Event{CampaignLaunched{CampaignID: s.id, At: now}}, nil
	case CompleteCampaign:
		switch s.status {
		case StatusCompleted:
			return nil, nil
		case StatusCancelled:
			return nil, ErrClosed
		case StatusPlanned:
			return nil, ErrNotLaunched
		}
		return []domain.Event{CampaignCompleted{CampaignID: s.id, Responses: s.ResponseCounts(), At: now}}, nil
	case CancelCampaign:
		return s.cancel(c, now)
	case RecordCampaignResponse:
		return s.recordResponse(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func (s *State) plan(c PlanCampaign, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	e := CampaignPlanned{
		CampaignID: c.CampaignID, Name: strings.TrimSpace(c.Name), Channel: c.Channel, Budget: c.Budget,
		PlannedStart: c.PlannedStart.UTC(), PlannedEnd: c.PlannedEnd.UTC(),
		OwnerID: strings.TrimSpace(c.OwnerID), Description: strings.TrimSpace(c.Description), At: now,
	}
	var v domain.Validator
	v.Require("campaign_id", c.CampaignID != uuid.Nil, "is required")
	text.Line(&v, "name", e.Name, true, text.MaxName)
	Channels.Check(&v, "channel", e.Channel)
	v.Merge("budget", e.Budget.Validate(false))
	v.Require("planned_end", e.PlannedStart.IsZero() || e.PlannedEnd.IsZero() || !e.PlannedEnd.Before(e.PlannedStart),
		"must not be before planned_start")
	text.Line(&v, "owner_id", e.OwnerID, false, text.MaxName)
	text.Block(&v, "description", e.Description, false, text.MaxSummary)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{e}, nil
}

func (s *State) changeBudget(c ChangeCampaignBudget, now time.Time) ([]domain.Event, error) {
	if s.Closed() {
		return nil, ErrClosed
	}
	var v domain.Validator
	v.Merge("budget", c.Budget.Validate(false))
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.Budget == s.budget {
		return nil, nil
	}
	return []domain.Event{CampaignBudgetChanged{CampaignID: s.id, Budget: c.Budget, PreviousBudget: s.budget, At: now}}, nil
}

func (s *State) cancel(c CancelCampaign, now time.Time) ([]domain.Event, error) {
	switch s.status {
	case StatusCancelled:
		return nil, nil
	case StatusCompleted:
		return nil, ErrClosed
	}
	reason := strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{CampaignCancelled{CampaignID: s.id, Reason: reason, At: now}}, nil
}

func (s *State) recordResponse(c RecordCampaignResponse, now time.Time) ([]domain.Event, error) {
	if s.launchedAt.IsZero() {
		return nil, ErrNotLaunched
	}
	e := CampaignResponseRecorded{CampaignID: s.id, LeadID: c.LeadID, CustomerID: c.CustomerID, ContactID: c.ContactID,
		Kind: c.Kind, OccurredAt: c.OccurredAt.UTC(), ExternalRef: strings.TrimSpace(c.ExternalRef), At: now}
	var v domain.Validator
	v.Require("lead_id", e.LeadID != uuid.Nil || e.CustomerID != uuid.Nil, "lead_id or customer_id is required")
	ResponseKinds.Check(&v, "kind", e.Kind)
	switch {
	case e.OccurredAt.IsZero():
		v.Add("occurred_at", "is required")
	case e.OccurredAt.After(now.Add(MaxClockSkew)):
		v.Add("occurred_at", "must not be in the future")
	}
	text.Line(&v, "external_ref", e.ExternalRef, false, text.MaxName)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{e}, nil
}

// Exists reports whether the campaign has been planned.
func (s *State) Exists() bool { return s.id != uuid.Nil }

// ID returns the campaign's ID.
func (s *State) ID() uuid.UUID { return s.id }

// Name returns the campaign's name.
func (s *State) Name() string { return s.name }

// Channel returns the campaign's channel.
func (s *State) Channel() Channel { return s.channel }

// Budget returns the current budget.
func (s *State) Budget() domain.Money { return s.budget }

// OwnerID returns the owner's user principal.
func (s *State) OwnerID() string { return s.owner }

// Status returns the campaign's status ("" if it does not exist).
func (s *State) Status() Status { return s.status }

// Closed reports whether the campaign is completed or cancelled.
func (s *State) Closed() bool { return s.status == StatusCompleted || s.status == StatusCancelled }

// LaunchedAt returns when it was launched (zero if never).
func (s *State) LaunchedAt() time.Time { return s.launchedAt }

// ClosedAt returns when it was completed or cancelled (zero if open).
func (s *State) ClosedAt() time.Time { return s.closedAt }

// ResponseCount returns how many responses of a kind were recorded.
func (s *State) ResponseCount(kind ResponseKind) int { return s.responses[kind] }

// ResponseCounts returns a copy of the response counts by kind (nil if none).
func (s *State) ResponseCounts() map[ResponseKind]int { return maps.Clone(s.responses) }
