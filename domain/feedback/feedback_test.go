package feedback_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	"github.com/evcrm/evcrm/domain/feedback"
)

var (
	feedbackID = uuid.MustParse("00000000-0000-4000-8000-0000000fb001")
	customerID = uuid.MustParse("00000000-0000-4000-8000-0000000c0001")
	caseID     = uuid.MustParse("00000000-0000-4000-8000-00000000c001")
	orderID    = uuid.MustParse("00000000-0000-4000-8000-0000000d0001")
	campaignID = uuid.MustParse("00000000-0000-4000-8000-0000000ca001")
	now        = time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
)

func ptr(i int) *int { return &i }

func given(t *testing.T, events ...domain.Event) *domaintest.Scenario[feedback.State, *feedback.State] {
	return domaintest.Given[feedback.State](t, events...).At(now)
}

var submitted = feedback.FeedbackSubmitted{FeedbackID: feedbackID, CustomerID: customerID, CaseID: caseID,
	Method: feedback.MethodSurvey, CSAT: ptr(4), NPS: ptr(9), Comment: "Quick and friendly", SubmittedAt: now}

func submitCmd() feedback.SubmitFeedback {
	return feedback.SubmitFeedback{FeedbackID: feedbackID, CustomerID: customerID, CaseID: caseID,
		Method: feedback.MethodSurvey, CSAT: ptr(4), NPS: ptr(9), Comment: " Quick and friendly\n"}
}

func TestSubmitFeedback(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		st := given(t).When(submitCmd()).Then(submitted)
		csat, okC := st.CSAT()
		nps, okN := st.NPS()
		kind, id := st.Subject()
		if !st.Exists() || st.ID() != feedbackID || st.CustomerID() != customerID || csat != 4 || !okC || nps != 9 || !okN ||
			kind != "case" || id != caseID || st.Method() != feedback.MethodSurvey || st.Comment() != "Quick and friendly" ||
			!st.SubmittedAt().Equal(now) || st.Withdrawn() {
			t.Errorf("state after submit: %+v", st)
		}
	})
	boundaries := []struct {
		name      string
		csat, nps *int
		comment   string
	}{
		{"CSATMin", ptr(1), nil, ""}, {"CSATMax", ptr(5), nil, ""},
		{"NPSMin", nil, ptr(0), ""}, {"NPSMax", nil, ptr(10), ""},
		{"CommentOnly", nil, nil, "The invoice layout is confusing"},
	}
	for _, b := range boundaries {
		t.Run(b.name, func(t *testing.T) {
			cmd := feedback.SubmitFeedback{FeedbackID: feedbackID, CustomerID: customerID, OrderID: orderID, Method: feedback.MethodEmail,
				CSAT: b.csat, NPS: b.nps, Comment: b.comment}
			given(t).When(cmd).Then(feedback.FeedbackSubmitted{FeedbackID: feedbackID, CustomerID: customerID, OrderID: orderID,
				Method: feedback.MethodEmail, CSAT: b.csat, NPS: b.nps, Comment: b.comment, SubmittedAt: now})
		})
	}
	t.Run("ErrAlreadyExists", func(t *testing.T) {
		given(t, submitted).When(submitCmd()).ThenError(feedback.ErrAlreadyExists)
		given(t, submitted).When(submitCmd()).ThenError(domain.ErrAlreadyExists)
	})
	invalid := []struct {
		name   string
		edit   func(c *feedback.SubmitFeedback)
		fields []string
	}{
		{"Empty", func(c *feedback.SubmitFeedback) { *c = feedback.SubmitFeedback{} }, []string{"feedback_id", "customer_id", "method", "comment"}},
		{"CSATZero", func(c *feedback.SubmitFeedback) { c.CSAT = ptr(0) }, []string{"csat"}},
		{"CSATSix", func(c *feedback.SubmitFeedback) { c.CSAT = ptr(6) }, []string{"csat"}},
		{"NPSNegative", func(c *feedback.SubmitFeedback) { c.NPS = ptr(-1) }, []string{"nps"}},
		{"NPSEleven", func(c *feedback.SubmitFeedback) { c.NPS = ptr(11) }, []string{"nps"}},
		{"TwoSubjects", func(c *feedback.SubmitFeedback) { c.CampaignID = campaignID }, []string{"case_id"}},
		{"NothingSaid", func(c *feedback.SubmitFeedback) { c.CSAT, c.NPS, c.Comment = nil, nil, "   " }, []string{"comment"}},
		{"CommentTooLong", func(c *feedback.SubmitFeedback) { c.Comment = strings.Repeat("x", 20001) }, []string{"comment"}},
		{"Method", func(c *feedback.SubmitFeedback) { c.Method = "carrier_pigeon" }, []string{"method"}},
	}
	for _, tt := range invalid {
		t.Run("Invalid"+tt.name, func(t *testing.T) {
			cmd := submitCmd()
			tt.edit(&cmd)
			given(t).When(cmd).ThenInvalid(tt.fields...)
		})
	}
	t.Run("EventDoesNotAliasCommand", func(t *testing.T) {
		cmd := submitCmd()
		var st feedback.State
		events, err := st.Decide(cmd, now)
		if err != nil {
			t.Fatal(err)
		}
		*cmd.CSAT = 1
		st.Apply(events[0])
		if v, _ := st.CSAT(); v != 4 {
			t.Errorf("the event shares the command's score: %d", v)
		}
	})
}

func TestWithdrawFeedback(t *testing.T) {
	cmd := feedback.WithdrawFeedback{FeedbackID: feedbackID, Reason: "entered on the wrong customer"}
	withdrawn := feedback.FeedbackWithdrawn{FeedbackID: feedbackID, CustomerID: customerID, Reason: cmd.Reason, WithdrawnAt: now}
	t.Run("OK", func(t *testing.T) {
		st := given(t, submitted).When(cmd).Then(withdrawn)
		if !st.Withdrawn() || !st.WithdrawnAt().Equal(now) {
			t.Errorf("not withdrawn")
		}
	})
	t.Run("TwiceIsNoOp", func(t *testing.T) { given(t, submitted, withdrawn).When(cmd).Then() })
	t.Run("ErrNotFound", func(t *testing.T) { given(t).When(cmd).ThenError(feedback.ErrNotFound) })
	t.Run("Invalid", func(t *testing.T) {
		given(t, submitted).When(feedback.WithdrawFeedback{FeedbackID: feedbackID}).ThenInvalid("reason")
	})
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return feedbackID }

func TestUnknownCommand(t *testing.T) {
	given(t).When(otherCommand{}).ThenError(domain.ErrUnknownCommand)
}

func TestHelpers(t *testing.T) {
	for score, want := range map[int]feedback.NPSCategory{0: feedback.Detractor, 6: feedback.Detractor, 7: feedback.Passive,
		8: feedback.Passive, 9: feedback.Promoter, 10: feedback.Promoter} {
		if got := feedback.NPSCategoryOf(score); got != want {
			t.Errorf("NPSCategoryOf(%d) = %s, want %s", score, got, want)
		}
	}
	for score, want := range map[int]bool{1: false, 3: false, 4: true, 5: true} {
		if feedback.CSATSatisfied(score) != want {
			t.Errorf("CSATSatisfied(%d) != %v", score, want)
		}
	}
	for _, e := range []struct {
		ev   feedback.FeedbackSubmitted
		kind string
		id   uuid.UUID
	}{
		{feedback.FeedbackSubmitted{OrderID: orderID}, "order", orderID},
		{feedback.FeedbackSubmitted{CampaignID: campaignID}, "campaign", campaignID},
		{feedback.FeedbackSubmitted{}, "", uuid.Nil},
	} {
		if k, id := e.ev.Subject(); k != e.kind || id != e.id {
			t.Errorf("Subject() = %s %s, want %s %s", k, id, e.kind, e.id)
		}
	}
	if got := feedback.StreamID(feedbackID); got != "feedback-"+feedbackID.String() {
		t.Errorf("StreamID = %q", got)
	}
	if feedback.Method("x").Valid() {
		t.Errorf("unknown method is valid")
	}
	var zero feedback.State
	zero.Apply(otherEvent{})
	if zero.Exists() {
		t.Errorf("zero state exists")
	}
	if _, ok := zero.CSAT(); ok {
		t.Errorf("zero state has a CSAT")
	}
	if feedback.SubmitFeedback.AggregateID(submitCmd()) != feedbackID || (feedback.WithdrawFeedback{FeedbackID: feedbackID}).AggregateID() != feedbackID {
		t.Errorf("AggregateID")
	}
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "Other" }

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{submitted,
		feedback.FeedbackSubmitted{FeedbackID: feedbackID, CustomerID: customerID, Method: feedback.MethodPhone, NPS: ptr(0), SubmittedAt: now},
		feedback.FeedbackWithdrawn{FeedbackID: feedbackID, CustomerID: customerID, Reason: "r", WithdrawnAt: now}}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, feedback.Category, all...)
	for _, e := range all {
		typ, v, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.Events.Decode(typ, v, data)
		if err != nil || !reflect.DeepEqual(back, e) {
			t.Errorf("%s: %+v (%v)", typ, back, err)
		}
	}
}
