package interaction_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	"github.com/evcrm/evcrm/domain/interaction"
)

var (
	id       = uuid.MustParse("1a000000-0000-4000-8000-000000000001")
	customer = uuid.MustParse("1a000000-0000-4000-8000-0000000000c1")
	other    = uuid.MustParse("1a000000-0000-4000-8000-0000000000c2")
	lead     = uuid.MustParse("1a000000-0000-4000-8000-0000000000d1")
	contact  = uuid.MustParse("1a000000-0000-4000-8000-0000000000e1")
	caseID   = uuid.MustParse("1a000000-0000-4000-8000-0000000000f1")
	now      = domaintest.Now
	then     = now.Add(-2 * time.Hour)
)

var call = interaction.Content{
	CustomerID:      customer,
	Channel:         interaction.ChannelCall,
	Direction:       interaction.Inbound,
	Subject:         "Delivery date for PO 4711",
	Summary:         "Customer asked whether the May delivery can move to April.\nPromised an answer by Friday.",
	OccurredAt:      then,
	DurationSeconds: 420,
	Actor:           "sales.ana",
	Participants: []interaction.Participant{
		{Kind: interaction.ParticipantContact, ContactID: contact, Name: "Anna Schmidt", Address: "+49 30 1234567"},
		{Kind: interaction.ParticipantUser, UserID: "logistics.ben"},
	},
	Links: interaction.Links{CaseID: caseID},
}

var logged = interaction.InteractionLogged{InteractionID: id, Content: call, At: now}

func given(events ...domain.Event) []domain.Event { return events }

func TestLog(t *testing.T) {
	messy := call
	messy.Subject, messy.Actor, messy.OccurredAt = "  Delivery date for PO 4711 ", " sales.ana", then.In(time.FixedZone("CET", 3600))
	messy.Participants = []interaction.Participant{
		{Kind: interaction.ParticipantContact, ContactID: contact, Name: " Anna Schmidt", Address: "+49 30 1234567 "},
		{Kind: interaction.ParticipantUser, UserID: " logistics.ben "},
	}
	leadOnly := interaction.Content{Channel: interaction.ChannelEmail, Direction: interaction.Outbound, Subject: "Your enquiry",
		OccurredAt: then, Actor: "sales.ana", Links: interaction.Links{LeadID: lead}}
	future := call
	future.OccurredAt = now.Add(interaction.MaxClockSkew + time.Second)
	skewed := call
	skewed.OccurredAt = now.Add(interaction.MaxClockSkew)
	tooMany := call
	tooMany.Participants = make([]interaction.Participant, interaction.MaxParticipants+1)

	domaintest.Run[interaction.State](t, []domaintest.Case{
		{Name: "OK", When: interaction.LogInteraction{InteractionID: id, Content: call}, Then: given(logged)},
		{Name: "Normalised", When: interaction.LogInteraction{InteractionID: id, Content: messy}, Then: given(logged)},
		{Name: "LeadOnly", When: interaction.LogInteraction{InteractionID: id, Content: leadOnly},
			Then: given(interaction.InteractionLogged{InteractionID: id, Content: leadOnly, At: now})},
		{Name: "ClockSkewTolerated", When: interaction.LogInteraction{InteractionID: id, Content: skewed},
			Then: given(interaction.InteractionLogged{InteractionID: id, Content: skewed, At: now})},
		{Name: "Twice", Given: given(logged), When: interaction.LogInteraction{InteractionID: id, Content: call}, Err: interaction.ErrAlreadyExists},
		{Name: "Future", When: interaction.LogInteraction{InteractionID: id, Content: future}, Invalid: []string{"occurred_at"}},
		{Name: "Empty", When: interaction.LogInteraction{}, Invalid: []string{"interaction_id", "customer_id", "channel", "direction", "subject", "occurred_at", "actor"}},
		{Name: "BadValues", When: interaction.LogInteraction{InteractionID: id, Content: interaction.Content{
			CustomerID: customer, Channel: "fax", Direction: "sideways", Subject: strings.Repeat("s", 501), Summary: "a\x00b",
			OccurredAt: then, DurationSeconds: -1, Actor: "a"}},
			Invalid: []string{"channel", "direction", "subject", "summary", "duration_seconds"}},
		{Name: "TooLong", When: interaction.LogInteraction{InteractionID: id, Content: interaction.Content{
			CustomerID: customer, Channel: interaction.ChannelVisit, Direction: interaction.Outbound, Subject: "s",
			OccurredAt: then, DurationSeconds: interaction.MaxDuration + 1, Actor: "a"}}, Invalid: []string{"duration_seconds"}},
		{Name: "TooManyParticipants", When: interaction.LogInteraction{InteractionID: id, Content: tooMany}, Invalid: []string{"participants"}},
		{Name: "BadParticipants", When: interaction.LogInteraction{InteractionID: id, Content: interaction.Content{
			CustomerID: customer, Channel: interaction.ChannelMeeting, Direction: interaction.Outbound, Subject: "s", OccurredAt: then, Actor: "a",
			Participants: []interaction.Participant{
				{Kind: interaction.ParticipantUser},
				{Kind: interaction.ParticipantContact},
				{Kind: interaction.ParticipantExternal},
				{Kind: "robot", Name: "a\nb"},
			}}},
			Invalid: []string{"participants[0].user_id", "participants[1].contact_id", "participants[2].name", "participants[3].kind", "participants[3].name"}},
	})
}

func TestCorrect(t *testing.T) {
	fixed := call
	fixed.CustomerID = other // logged on the wrong customer
	fixed.Summary = "Customer asked whether the May delivery can move to April."
	corrected := interaction.InteractionCorrected{InteractionID: id, Content: fixed, Reason: "logged on the wrong customer", Correction: 1, At: now}
	again := fixed
	again.Direction = interaction.Outbound
	domaintest.Run[interaction.State](t, []domaintest.Case{
		{Name: "OK", Given: given(logged), When: interaction.CorrectInteraction{InteractionID: id, Content: fixed, Reason: " logged on the wrong customer "},
			Then: given(corrected)},
		{Name: "SecondCorrection", Given: given(logged, corrected), When: interaction.CorrectInteraction{InteractionID: id, Content: again, Reason: "was outbound"},
			Then: given(interaction.InteractionCorrected{InteractionID: id, Content: again, Reason: "was outbound", Correction: 2, At: now})},
		{Name: "UnchangedIsNoOp", Given: given(logged), When: interaction.CorrectInteraction{InteractionID: id, Content: call, Reason: "typo"}},
		{Name: "NoReason", Given: given(logged), When: interaction.CorrectInteraction{InteractionID: id, Content: fixed}, Invalid: []string{"reason"}},
		{Name: "InvalidContent", Given: given(logged), When: interaction.CorrectInteraction{InteractionID: id, Reason: "x"}, Invalid: []string{"customer_id", "subject"}},
		{Name: "NotLogged", When: interaction.CorrectInteraction{InteractionID: id, Content: fixed, Reason: "x"}, Err: interaction.ErrNotFound},
		{Name: "Unknown", When: other2{}, Err: domain.ErrUnknownCommand},
	})

	s := domain.Fold[interaction.State](logged, corrected)
	if !s.Exists() || s.ID() != id || s.CustomerID() != other || s.Corrections() != 1 || s.CorrectedAt() != now || s.LoggedAt() != now {
		t.Errorf("state after correction: %+v", s)
	}
	c := s.Content()
	c.Participants[0].Name = "changed"
	if s.Content().Participants[0].Name != "Anna Schmidt" || s.Content().Summary != fixed.Summary {
		t.Errorf("Content leaks internal state or was not corrected")
	}
}

type other2 struct{}

func (other2) CommandType() string    { return "Other" }
func (other2) AggregateID() uuid.UUID { return id }

func TestStreamIDAndNames(t *testing.T) {
	if got := interaction.StreamID(id); got != "interaction-"+id.String() {
		t.Errorf("StreamID = %q", got)
	}
	for want, c := range map[string]domain.Command{
		"LogInteraction":     interaction.LogInteraction{InteractionID: id},
		"CorrectInteraction": interaction.CorrectInteraction{InteractionID: id},
	} {
		if c.CommandType() != want || c.AggregateID() != id {
			t.Errorf("%T: %q %v", c, c.CommandType(), c.AggregateID())
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{logged, interaction.InteractionCorrected{InteractionID: id, Content: call, Reason: "r", Correction: 1, At: now}}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, interaction.Category, all...)
}
