// Package interaction is the Interaction aggregate: one call, email,
// meeting, chat, visit or letter between the organisation and a customer (or
// a lead not yet a customer). ISO 9001 8.2.1 asks to show what was
// communicated, by whom and when; an interaction records the channel and
// direction, subject and summary, the staff member who handled it (Actor)
// and the other participants, when it happened (OccurredAt), and optional
// links to the lead, opportunity, order, case, complaint or campaign it
// concerns.
//
// Interactions are the highest-volume records of the CRM, so each one is its
// own stream ("interaction-<uuid>"): a large customer's history is never one
// contended stream, and appends never conflict across interactions. The
// customer timeline is a read model over the category. A logged interaction
// is never edited in place: InteractionCorrected appends the full corrected
// content, with the reason, to the interaction's own stream, so the original
// stays in the record.
package interaction

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of interactions.
const Category = "interaction"

// StreamID returns the stream of one interaction, "interaction-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Errors, matched with errors.Is.
var (
	ErrNotFound      = domain.NotFound("interaction")
	ErrAlreadyExists = domain.AlreadyExists("interaction")
)

// MaxClockSkew is how far in the future (relative to the decision time) an
// interaction's OccurredAt may lie, to allow for clients' clocks.
const MaxClockSkew = 5 * time.Minute

// Limits, against runaway or hostile input.
const (
	MaxSubject      = 500
	MaxParticipants = 100
	MaxDuration     = 7 * 24 * 60 * 60 // seconds
)

// Channel is the medium of an interaction.
type Channel string

const (
	ChannelCall    Channel = "call"
	ChannelEmail   Channel = "email"
	ChannelMeeting Channel = "meeting"
	ChannelChat    Channel = "chat"
	ChannelVisit   Channel = "visit"
	ChannelLetter  Channel = "letter"
)

// Channels lists every channel, in order.
var Channels = domain.NewEnum("channel", ChannelCall, ChannelEmail, ChannelMeeting, ChannelChat, ChannelVisit, ChannelLetter)

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool { return Channels.Has(c) }

// EnumValues lists the accepted values (the API schema's enum).
func (Channel) EnumValues() []string { return Channels.Strings() }

// Direction says who started the communication.
type Direction string

const (
	Inbound  Direction = "inbound"  // the customer reached us
	Outbound Direction = "outbound" // we reached the customer
)

// Directions lists every direction, in order.
var Directions = domain.NewEnum("direction", Inbound, Outbound)

// Valid reports whether d is one of Directions.
func (d Direction) Valid() bool { return Directions.Has(d) }

// EnumValues lists the accepted values (the API schema's enum).
func (Direction) EnumValues() []string { return Directions.Strings() }

// ParticipantKind says who a participant is.
type ParticipantKind string

const (
	ParticipantUser     ParticipantKind = "user"     // one of our staff: UserID
	ParticipantContact  ParticipantKind = "contact"  // a contact person of the customer: ContactID
	ParticipantExternal ParticipantKind = "external" // anyone else: Name and/or Address
)

// ParticipantKinds lists every participant kind, in order.
var ParticipantKinds = domain.NewEnum("participant kind", ParticipantUser, ParticipantContact, ParticipantExternal)

// Valid reports whether k is one of ParticipantKinds.
func (k ParticipantKind) Valid() bool { return ParticipantKinds.Has(k) }

// EnumValues lists the accepted values (the API schema's enum).
func (ParticipantKind) EnumValues() []string { return ParticipantKinds.Strings() }

// Participant is someone who took part in an interaction besides the Actor.
type Participant struct {
	Kind      ParticipantKind `json:"kind"`
	UserID    string          `json:"user_id,omitempty"`
	ContactID uuid.UUID       `json:"contact_id,omitzero"`
	Name      string          `json:"name,omitempty"`
	Address   string          `json:"address,omitempty"` // the email address or phone number used
}

// Links are the optional records an interaction concerns.
type Links struct {
	LeadID        uuid.UUID `json:"lead_id,omitzero"`
	OpportunityID uuid.UUID `json:"opportunity_id,omitzero"`
	OrderID       uuid.UUID `json:"order_id,omitzero"`
	CaseID        uuid.UUID `json:"case_id,omitzero"`
	ComplaintID   uuid.UUID `json:"complaint_id,omitzero"`
	CampaignID    uuid.UUID `json:"campaign_id,omitzero"`
}

// Content is what an interaction records; it is logged, and corrected, as a
// whole. An interaction concerns a customer, or a lead (Links.LeadID) that is
// not yet a customer, or both.
type Content struct {
	CustomerID      uuid.UUID     `json:"customer_id,omitzero"`
	Channel         Channel       `json:"channel"`
	Direction       Direction     `json:"direction"`
	Subject         string        `json:"subject"`
	Summary         string        `json:"summary,omitempty"` // what was communicated
	OccurredAt      time.Time     `json:"occurred_at"`       // when it happened (UTC)
	DurationSeconds int           `json:"duration_seconds,omitempty"`
	Actor           string        `json:"actor"` // user principal of the staff member who handled it
	Participants    []Participant `json:"participants,omitempty"`
	Links
}

func (c Content) normalise() Content {
	c.Subject = strings.TrimSpace(c.Subject)
	c.Summary = strings.TrimSpace(c.Summary)
	c.Actor = strings.TrimSpace(c.Actor)
	c.OccurredAt = c.OccurredAt.UTC()
	ps := c.Participants
	c.Participants = nil
	for _, p := range ps {
		p.UserID, p.Name, p.Address = strings.TrimSpace(p.UserID), strings.TrimSpace(p.Name), strings.TrimSpace(p.Address)
		c.Participants = append(c.Participants, p)
	}
	return c
}

func (c Content) validate(v *domain.Validator, now time.Time) {
	v.Require("customer_id", c.CustomerID != uuid.Nil || c.LeadID != uuid.Nil, "customer_id or lead_id is required")
	Channels.Check(v, "channel", c.Channel)
	Directions.Check(v, "direction", c.Direction)
	text.Line(v, "subject", c.Subject, true, MaxSubject)
	text.Block(v, "summary", c.Summary, false, text.MaxSummary)
	switch {
	case c.OccurredAt.IsZero():
		v.Add("occurred_at", "is required")
	case c.OccurredAt.After(now.Add(MaxClockSkew)):
		v.Add("occurred_at", "must not be in the future")
	}
	v.Require("duration_seconds", c.DurationSeconds >= 0 && c.DurationSeconds <= MaxDuration, "must be between 0 and 604800 (7 days)")
	text.Line(v, "actor", c.Actor, true, text.MaxName)
	if len(c.Participants) > MaxParticipants {
		v.Add("participants", "at most "+strconv.Itoa(MaxParticipants)+" participants")
		return
	}
	for i, p := range c.Participants {
		p.validate(v, "participants["+strconv.Itoa(i)+"]")
	}
}

func (p Participant) validate(v *domain.Validator, prefix string) {
	switch p.Kind {
	case ParticipantUser:
		v.Require(prefix+".user_id", p.UserID != "", "is required for a user")
	case ParticipantContact:
		v.Require(prefix+".contact_id", p.ContactID != uuid.Nil, "is required for a contact")
	case ParticipantExternal:
		v.Require(prefix+".name", p.Name != "" || p.Address != "", "name or address is required for an external participant")
	default:
		v.Add(prefix+".kind", ParticipantKinds.Refusal(p.Kind))
	}
	text.Line(v, prefix+".user_id", p.UserID, false, text.MaxName)
	text.Line(v, prefix+".name", p.Name, false, text.MaxName)
	text.Line(v, prefix+".address", p.Address, false, text.MaxName)
}

func (c Content) equal(o Content) bool {
	return c.CustomerID == o.CustomerID && c.Channel == o.Channel && c.Direction == o.Direction &&
		c.Subject == o.Subject && c.Summary == o.Summary && c.OccurredAt.Equal(o.OccurredAt) &&
		c.DurationSeconds == o.DurationSeconds && c.Actor == o.Actor &&
		slices.Equal(c.Participants, o.Participants) && c.Links == o.Links
}

func (c Content) clone() Content {
	c.Participants = slices.Clone(c.Participants)
	return c
}

// InteractionLogged: an interaction was recorded.
type InteractionLogged struct {
	InteractionID uuid.UUID `json:"interaction_id"`
	Content
	At time.Time `json:"at"` // when it was recorded
}

// InteractionCorrected: the content of an interaction was corrected; the
// event carries the whole corrected content (which may move it to another
// customer), the reason, and the correction's number (1, 2, ...).
type InteractionCorrected struct {
	InteractionID uuid.UUID `json:"interaction_id"`
	Content
	Reason     string    `json:"reason"`
	Correction int       `json:"correction"`
	At         time.Time `json:"at"`
}

func (InteractionLogged) EventType() string    { return "InteractionLogged" }
func (InteractionCorrected) EventType() string { return "InteractionCorrected" }

// Personal data (docs/privacy.md): what was said and who took part; the
// data subject is the customer, or the lead before it became one.
var personal = domain.Personal{
	Subject: []domain.SubjectRef{{Kind: "customer", Path: "customer_id"}, {Kind: "lead", Path: "links.lead_id"}},
	Fields:  []string{"subject", "summary", "participants[].name", "participants[].address"},
}

func init() {
	domain.Events.Register(
		domain.Registration{Event: InteractionLogged{}, Personal: personal, Aggregate: Category,
			Doc: "A call, email, meeting, chat, visit or letter with a customer or lead was recorded: what, by whom, when."},
		domain.Registration{Event: InteractionCorrected{}, Personal: domain.Personal{Subject: personal.Subject, Fields: append(slices.Clone(personal.Fields), "reason")}, Aggregate: Category,
			Doc: "A recorded interaction was corrected; the event carries the full corrected content and the reason."},
	)
}

// LogInteraction records an interaction; InteractionID is chosen by the caller.
type LogInteraction struct {
	InteractionID uuid.UUID `json:"interaction_id"`
	Content
}

// CorrectInteraction replaces the content of a logged interaction, giving a reason.
type CorrectInteraction struct {
	InteractionID uuid.UUID `json:"interaction_id"`
	Content
	Reason string `json:"reason"`
}

func (LogInteraction) CommandType() string          { return "LogInteraction" }
func (CorrectInteraction) CommandType() string      { return "CorrectInteraction" }
func (c LogInteraction) AggregateID() uuid.UUID     { return c.InteractionID }
func (c CorrectInteraction) AggregateID() uuid.UUID { return c.InteractionID }

// State is an interaction folded from its events. The zero State is an
// interaction that does not exist. *State implements domain.Decider.
type State struct {
	id          uuid.UUID
	content     Content
	loggedAt    time.Time
	corrections int
	correctedAt time.Time
}

var _ domain.Decider = (*State)(nil)

// Apply folds one event into the state; unknown events are ignored.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case InteractionLogged:
		s.id, s.content, s.loggedAt = e.InteractionID, e.Content.clone(), e.At
	case InteractionCorrected:
		s.content, s.corrections, s.correctedAt = e.Content.clone(), e.Correction, e.At
	}
}

// Decide checks a command against the state and returns the events to
// record, or a *domain.Error. It does not change the state.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	switch c := cmd.(type) {
	case LogInteraction:
		if s.Exists() {
			return nil, ErrAlreadyExists
		}
		content := c.Content.normalise()
		var v domain.Validator
		v.Require("interaction_id", c.InteractionID != uuid.Nil, "is required")
		content.validate(&v, now)
		if err := v.Err(); err != nil {
			return nil, err
		}
		return []domain.Event{InteractionLogged{InteractionID: c.InteractionID, Content: content, At: now}}, nil
	case CorrectInteraction:
		if !s.Exists() {
			return nil, ErrNotFound
		}
		content, reason := c.Content.normalise(), strings.TrimSpace(c.Reason)
		var v domain.Validator
		content.validate(&v, now)
		text.Line(&v, "reason", reason, true, text.MaxReason)
		if err := v.Err(); err != nil {
			return nil, err
		}
		if content.equal(s.content) {
			return nil, nil
		}
		return []domain.Event{InteractionCorrected{InteractionID: s.id, Content: content, Reason: reason, Correction: s.corrections + 1, At: now}}, nil
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

// Exists reports whether the interaction has been logged.
func (s *State) Exists() bool { return s.id != uuid.Nil }

// ID returns the interaction's ID.
func (s *State) ID() uuid.UUID { return s.id }

// Content returns a copy of the current (possibly corrected) content.
func (s *State) Content() Content { return s.content.clone() }

// CustomerID returns the customer the interaction concerns (uuid.Nil for a lead only).
func (s *State) CustomerID() uuid.UUID { return s.content.CustomerID }

// LoggedAt returns when the interaction was first recorded.
func (s *State) LoggedAt() time.Time { return s.loggedAt }

// Corrections returns how many times it was corrected.
func (s *State) Corrections() int { return s.corrections }

// CorrectedAt returns when it was last corrected (zero if never).
func (s *State) CorrectedAt() time.Time { return s.correctedAt }
