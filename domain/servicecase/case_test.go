package servicecase_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	sc "github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
)

var (
	caseID     = uuid.MustParse("00000000-0000-4000-8000-00000000c001")
	customerID = uuid.MustParse("00000000-0000-4000-8000-0000000c0001")
	agentID    = "ann"
	agent2ID   = "bob"
	orderID    = uuid.MustParse("00000000-0000-4000-8000-0000000d0001")
)

// at parses a UTC time; 2026-03-06 is a Friday, 2026-03-09 the Monday after.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var nineToFive = sla.WeekdaysNineToFive("")

func policy() *sc.SLAPolicy {
	return &sc.SLAPolicy{Name: "standard", Calendar: nineToFive, Targets: map[sc.Priority]sc.SLATarget{
		sc.P1: {FirstResponseMinutes: 60, ResolutionMinutes: 240},
		sc.P2: {FirstResponseMinutes: 120, ResolutionMinutes: 480},
		sc.P3: {FirstResponseMinutes: 240, ResolutionMinutes: 1440},
		sc.P4: {FirstResponseMinutes: 480, ResolutionMinutes: 2400},
	}}
}

func openCmd() sc.OpenCase {
	return sc.OpenCase{CaseID: caseID, CustomerID: customerID, Queue: "support", Priority: sc.P2,
		Channel: sc.ChannelEmail, Subject: "Invoice is wrong", OrderID: orderID, SLA: policy()}
}

// opened is a P2 case opened Friday 16:00 UTC: first response due Monday
// 10:00 (2 working hours), resolution due Monday 16:00 (8 working hours).
var opened = sc.CaseOpened{
	CaseID: caseID, CustomerID: customerID, Queue: "support", Priority: sc.P2, Channel: sc.ChannelEmail,
	Subject: "Invoice is wrong", OrderID: orderID, OpenedAt: at("2026-03-06T16:00:00Z"),
	SLA:              &sc.SLATerms{Policy: "standard", Calendar: nineToFive, FirstResponseMinutes: 120, ResolutionMinutes: 480},
	FirstResponseDue: at("2026-03-09T10:00:00Z"), ResolutionDue: at("2026-03-09T16:00:00Z"),
}

var openedNoSLA = sc.CaseOpened{
	CaseID: caseID, CustomerID: customerID, Queue: "support", Priority: sc.P3, Channel: sc.ChannelPhone,
	Subject: "Question", OpenedAt: at("2026-03-06T16:00:00Z"),
}

var (
	paused   = sc.CaseWaitingOnCustomer{CaseID: caseID, Reason: "need invoice number", PausedAt: at("2026-03-09T09:30:00Z")}
	resolved = sc.CaseResolved{CaseID: caseID, Resolution: "credit note sent", ResolvedAt: at("2026-03-09T12:00:00Z"),
		ResolutionDue: at("2026-03-09T16:00:00Z"), ResolutionMet: true}
	closed     = sc.CaseClosed{CaseID: caseID, ClosedAt: at("2026-03-10T12:00:00Z")}
	responded  = sc.CaseFirstResponseGiven{CaseID: caseID, AgentID: agentID, RespondedAt: at("2026-03-09T09:15:00Z"), Due: at("2026-03-09T10:00:00Z"), Met: true}
	assigned   = sc.CaseAssigned{CaseID: caseID, AgentID: agentID, Queue: "support", AssignedAt: at("2026-03-09T09:00:00Z")}
	frEscalate = sc.EscalateCase{CaseID: caseID, Reason: sc.ReasonFirstResponseBreach}
)

func given(t *testing.T, events ...domain.Event) *domaintest.Scenario[sc.State, *sc.State] {
	return domaintest.Given[sc.State](t, events...)
}

func TestOpenCase(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		st := given(t).At(at("2026-03-06T16:00:00Z")).When(openCmd()).Then(opened)
		if st.Status() != sc.StatusOpen || st.Priority() != sc.P2 || st.Queue() != "support" || !st.Exists() {
			t.Errorf("state after open: %+v", st)
		}
		if terms, ok := st.SLA(); !ok || terms.ResolutionMinutes != 480 {
			t.Errorf("SLA() = %+v, %v", terms, ok)
		}
	})
	t.Run("TrimsText", func(t *testing.T) {
		cmd := openCmd()
		cmd.Subject, cmd.Queue = "  Invoice is wrong\t", " support "
		given(t).At(at("2026-03-06T16:00:00Z")).When(cmd).Then(opened)
	})
	t.Run("NowIsUTC", func(t *testing.T) {
		paris := time.FixedZone("CET", 3600)
		given(t).At(at("2026-03-06T16:00:00Z").In(paris)).When(openCmd()).Then(opened)
	})
	t.Run("WithoutSLA", func(t *testing.T) {
		cmd := openCmd()
		cmd.SLA, cmd.Priority, cmd.Channel, cmd.Subject, cmd.OrderID = nil, sc.P3, sc.ChannelPhone, "Question", uuid.Nil
		st := given(t).At(at("2026-03-06T16:00:00Z")).When(cmd).Then(openedNoSLA)
		if _, ok := st.SLA(); ok || st.Pending(sc.FirstResponse) || st.Breached(sc.Resolution, at("2030-01-01T00:00:00Z")) {
			t.Errorf("a case without SLA has deadlines")
		}
	})
	t.Run("ErrAlreadyExists", func(t *testing.T) {
		given(t, opened).When(openCmd()).ThenError(sc.ErrAlreadyExists)
		given(t, opened).When(openCmd()).ThenError(domain.ErrAlreadyExists)
	})
	invalid := []struct {
		name   string
		edit   func(c *sc.OpenCase)
		fields []string
	}{
		{"Empty", func(c *sc.OpenCase) { *c = sc.OpenCase{} }, []string{"case_id", "customer_id", "queue", "priority", "channel", "subject"}},
		{"OldPriorityWord", func(c *sc.OpenCase) { c.Priority = "high" }, []string{"priority"}},
		{"UnknownChannel", func(c *sc.OpenCase) { c.Channel = sc.ChannelUnknown }, []string{"channel"}},
		{"BlankSubject", func(c *sc.OpenCase) { c.Subject = "  \t" }, []string{"subject"}},
		{"LongSubject", func(c *sc.OpenCase) { c.Subject = strings.Repeat("é", 201) }, []string{"subject"}},
		{"QueueNotSlug", func(c *sc.OpenCase) { c.Queue = "Support Team" }, []string{"queue"}},
		{"BadUTF8", func(c *sc.OpenCase) { c.Description = "\xff" }, []string{"description"}},
		{"NoTargetForPriority", func(c *sc.OpenCase) { delete(c.SLA.Targets, sc.P2) }, []string{"sla.targets"}},
		{"PolicyWithoutTargets", func(c *sc.OpenCase) { c.SLA.Targets = nil }, []string{"sla.targets"}},
		{"BadPolicy", func(c *sc.OpenCase) {
			c.SLA.Name = ""
			c.SLA.Calendar.Opens = "nine"
			c.SLA.Targets["P5"] = sc.SLATarget{FirstResponseMinutes: 1, ResolutionMinutes: 1}
			c.SLA.Targets[sc.P1] = sc.SLATarget{FirstResponseMinutes: 60, ResolutionMinutes: 30}
			c.SLA.Targets[sc.P4] = sc.SLATarget{FirstResponseMinutes: 0, ResolutionMinutes: sla.MaxTargetMinutes + 1}
		}, []string{"sla.name", "sla.calendar.opens", "sla.targets.P1.resolution_minutes", "sla.targets.P4.first_response_minutes", "sla.targets.P4.resolution_minutes", "sla.targets.P5"}},
	}
	for _, tt := range invalid {
		t.Run("Invalid"+tt.name, func(t *testing.T) {
			cmd := openCmd()
			tt.edit(&cmd)
			given(t).When(cmd).ThenInvalid(tt.fields...)
		})
	}
}

func TestNotFound(t *testing.T) {
	for _, cmd := range []domain.Command{
		sc.AssignCase{CaseID: caseID, AgentID: agentID}, sc.RecordFirstResponse{CaseID: caseID},
		sc.WaitOnCustomer{CaseID: caseID}, sc.ResumeCase{CaseID: caseID}, frEscalate,
		sc.ResolveCase{CaseID: caseID, Resolution: "x"}, sc.CloseCase{CaseID: caseID}, sc.ReopenCase{CaseID: caseID, Reason: "x"},
	} {
		t.Run(cmd.CommandType(), func(t *testing.T) {
			if cmd.AggregateID() != caseID {
				t.Errorf("AggregateID() = %s", cmd.AggregateID())
			}
			given(t).When(cmd).ThenError(sc.ErrNotFound)
			given(t).When(cmd).ThenError(domain.ErrNotFound)
		})
	}
}

type otherCommand struct{}

func (otherCommand) CommandType() string    { return "Other" }
func (otherCommand) AggregateID() uuid.UUID { return caseID }

func TestUnknownCommand(t *testing.T) {
	given(t).When(otherCommand{}).ThenError(domain.ErrUnknownCommand)
	given(t, opened).When(otherCommand{}).ThenError(domain.ErrUnknownCommand)
}

func TestAssignCase(t *testing.T) {
	now := at("2026-03-09T09:00:00Z")
	t.Run("OK", func(t *testing.T) {
		st := given(t, opened).At(now).When(sc.AssignCase{CaseID: caseID, AgentID: agentID}).Then(assigned)
		if st.AgentID() != agentID {
			t.Errorf("AgentID() = %q", st.AgentID())
		}
	})
	t.Run("SameAgentIsNoOp", func(t *testing.T) {
		given(t, opened, assigned).At(now).When(sc.AssignCase{CaseID: caseID, AgentID: agentID}).Then()
		given(t, opened, assigned).At(now).When(sc.AssignCase{CaseID: caseID, AgentID: agentID, Queue: "support"}).Then()
	})
	t.Run("Reassign", func(t *testing.T) {
		given(t, opened, assigned).At(now).When(sc.AssignCase{CaseID: caseID, AgentID: agent2ID}).
			Then(sc.CaseAssigned{CaseID: caseID, AgentID: agent2ID, PreviousAgentID: agentID, Queue: "support", AssignedAt: now})
	})
	t.Run("MoveQueue", func(t *testing.T) {
		st := given(t, opened, assigned).At(now).When(sc.AssignCase{CaseID: caseID, AgentID: agentID, Queue: "billing"}).
			Then(sc.CaseAssigned{CaseID: caseID, AgentID: agentID, PreviousAgentID: agentID, Queue: "billing", AssignedAt: now})
		if st.Queue() != "billing" {
			t.Errorf("Queue() = %q", st.Queue())
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, opened).When(sc.AssignCase{CaseID: caseID, Queue: strings.Repeat("q", 65)}).ThenInvalid("agent_id", "queue")
	})
	t.Run("ErrResolved", func(t *testing.T) {
		given(t, opened, resolved).When(sc.AssignCase{CaseID: caseID, AgentID: agentID}).ThenError(sc.ErrResolved)
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, opened, resolved, closed).When(sc.AssignCase{CaseID: caseID, AgentID: agentID}).ThenError(sc.ErrClosed)
	})
}

func TestRecordFirstResponse(t *testing.T) {
	cmd := sc.RecordFirstResponse{CaseID: caseID, AgentID: agentID}
	tests := []struct {
		name  string
		given []domain.Event
		now   string
		want  []domain.Event
	}{
		{"OnTime", []domain.Event{opened}, "2026-03-09T09:15:00Z", []domain.Event{responded}},
		{"ExactlyAtDeadline", []domain.Event{opened}, "2026-03-09T10:00:00Z", []domain.Event{
			sc.CaseFirstResponseGiven{CaseID: caseID, AgentID: agentID, RespondedAt: at("2026-03-09T10:00:00Z"), Due: at("2026-03-09T10:00:00Z"), Met: true}}},
		{"Late", []domain.Event{opened}, "2026-03-09T10:00:01Z", []domain.Event{
			sc.CaseFirstResponseGiven{CaseID: caseID, AgentID: agentID, RespondedAt: at("2026-03-09T10:00:01Z"), Due: at("2026-03-09T10:00:00Z"), Met: false}}},
		// Paused Monday 09:30 with 30 working minutes left; answered Tuesday
		// 09:20: the deadline has moved by 7h50 of working time, to 09:50 Tuesday.
		{"WhileWaitingOnCustomer", []domain.Event{opened, paused}, "2026-03-10T09:20:00Z", []domain.Event{
			sc.CaseFirstResponseGiven{CaseID: caseID, AgentID: agentID, RespondedAt: at("2026-03-10T09:20:00Z"), Due: at("2026-03-10T09:50:00Z"), Met: true}}},
		{"WithoutSLA", []domain.Event{openedNoSLA}, "2026-03-20T10:00:00Z", []domain.Event{
			sc.CaseFirstResponseGiven{CaseID: caseID, AgentID: agentID, RespondedAt: at("2026-03-20T10:00:00Z"), Met: true}}},
		{"SecondIsNoOp", []domain.Event{opened, responded}, "2026-03-09T11:00:00Z", nil},
		{"SecondAfterCloseIsNoOp", []domain.Event{opened, responded, resolved, closed}, "2026-03-11T11:00:00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := given(t, tt.given...).At(at(tt.now)).When(cmd).Then(tt.want...)
			if st.FirstResponseAt().IsZero() {
				t.Errorf("FirstResponseAt() is zero after a first response")
			}
		})
	}
	t.Run("ErrResolved", func(t *testing.T) {
		given(t, opened, resolved).When(cmd).ThenError(sc.ErrResolved)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, opened).When(sc.RecordFirstResponse{CaseID: caseID, AgentID: "a\nb"}).ThenInvalid("agent_id")
	})
	t.Run("LateIsBreached", func(t *testing.T) {
		st := given(t, opened).At(at("2026-03-09T11:00:00Z")).When(cmd).Then(
			sc.CaseFirstResponseGiven{CaseID: caseID, AgentID: agentID, RespondedAt: at("2026-03-09T11:00:00Z"), Due: at("2026-03-09T10:00:00Z")})
		if !st.Breached(sc.FirstResponse, at("2026-03-09T11:00:00Z")) || st.Pending(sc.FirstResponse) {
			t.Errorf("a late first response is not a breach")
		}
	})
}

func TestWaitAndResume(t *testing.T) {
	t.Run("Wait", func(t *testing.T) {
		st := given(t, opened).At(paused.PausedAt).When(sc.WaitOnCustomer{CaseID: caseID, Reason: paused.Reason}).Then(paused)
		if st.Status() != sc.StatusWaitingOnCustomer || !st.PausedAt().Equal(paused.PausedAt) || !st.Active() {
			t.Errorf("status %s paused at %s", st.Status(), st.PausedAt())
		}
	})
	t.Run("WaitTwiceIsNoOp", func(t *testing.T) {
		given(t, opened, paused).When(sc.WaitOnCustomer{CaseID: caseID}).Then()
	})
	t.Run("WaitInvalid", func(t *testing.T) {
		given(t, opened).When(sc.WaitOnCustomer{CaseID: caseID, Reason: "line one\nline two"}).ThenInvalid("reason")
	})
	t.Run("WaitErrResolved", func(t *testing.T) {
		given(t, opened, resolved).When(sc.WaitOnCustomer{CaseID: caseID}).ThenError(sc.ErrResolved)
	})
	t.Run("WaitErrClosed", func(t *testing.T) {
		given(t, opened, resolved, closed).When(sc.WaitOnCustomer{CaseID: caseID}).ThenError(sc.ErrClosed)
	})
	t.Run("ResumeWhenOpenIsNoOp", func(t *testing.T) {
		given(t, opened).When(sc.ResumeCase{CaseID: caseID}).Then()
	})
	t.Run("ResumeErrClosed", func(t *testing.T) {
		given(t, opened, resolved, closed).When(sc.ResumeCase{CaseID: caseID}).ThenError(sc.ErrClosed)
	})

	// Business-hours arithmetic of the pause, at its boundaries.
	tests := []struct {
		name             string
		given            []domain.Event
		resume           string
		pausedWorking    time.Duration
		firstDue, resDue string
	}{
		// Paused Monday 09:30 (first response 30 min left, resolution 6h30
		// left); resumed Tuesday 11:00: 7h30 + 2h = 9h30 of working time paused.
		{"AcrossNight", []domain.Event{opened, paused}, "2026-03-10T11:00:00Z", 9*time.Hour + 30*time.Minute,
			"2026-03-10T11:30:00Z", "2026-03-11T09:30:00Z"},
		// Paused and resumed within the same hour: pushed by exactly that.
		{"SameDay", []domain.Event{opened, paused}, "2026-03-09T09:45:00Z", 15 * time.Minute,
			"2026-03-09T10:15:00Z", "2026-03-09T16:15:00Z"},
		// Paused Friday 16:30, resumed Monday 08:00, before opening: only the
		// last half hour of Friday counts.
		{"OverWeekend", []domain.Event{opened, sc.CaseWaitingOnCustomer{CaseID: caseID, PausedAt: at("2026-03-06T16:30:00Z")}},
			"2026-03-09T08:00:00Z", 30 * time.Minute, "2026-03-09T10:30:00Z", "2026-03-09T16:30:00Z"},
		// Paused and resumed outside working hours: nothing moves.
		{"OutsideHours", []domain.Event{opened, sc.CaseWaitingOnCustomer{CaseID: caseID, PausedAt: at("2026-03-06T18:00:00Z")}},
			"2026-03-07T10:00:00Z", 0, "2026-03-09T10:00:00Z", "2026-03-09T16:00:00Z"},
		// First response given: only the resolution deadline moves, by one
		// hour to closing time Monday (not to the next opening).
		{"FirstResponseGiven", []domain.Event{opened, responded, paused}, "2026-03-09T10:30:00Z", time.Hour,
			"", "2026-03-09T17:00:00Z"},
	}
	for _, tt := range tests {
		t.Run("Resume"+tt.name, func(t *testing.T) {
			pausedAt := tt.given[len(tt.given)-1].(sc.CaseWaitingOnCustomer).PausedAt
			want := sc.CaseResumed{CaseID: caseID, PausedAt: pausedAt, ResumedAt: at(tt.resume),
				PausedWorkingSeconds: int64(tt.pausedWorking / time.Second)}
			if tt.firstDue != "" {
				want.FirstResponseDue = at(tt.firstDue)
			}
			want.ResolutionDue = at(tt.resDue)
			st := given(t, tt.given...).At(at(tt.resume)).When(sc.ResumeCase{CaseID: caseID}).Then(want)
			if st.Status() != sc.StatusOpen || !st.ResolutionDue().Equal(at(tt.resDue)) || !st.PausedAt().IsZero() {
				t.Errorf("after resume: status %s, resolution due %s", st.Status(), st.ResolutionDue())
			}
			if got, want := st.PausedTotal(at("2027-01-01T00:00:00Z")), at(tt.resume).Sub(pausedAt); got != want {
				t.Errorf("PausedTotal = %s, want %s", got, want)
			}
		})
	}
	t.Run("ResumeWithoutSLA", func(t *testing.T) {
		p := sc.CaseWaitingOnCustomer{CaseID: caseID, PausedAt: at("2026-03-07T10:00:00Z")}
		given(t, openedNoSLA, p).At(at("2026-03-07T11:00:00Z")).When(sc.ResumeCase{CaseID: caseID}).
			Then(sc.CaseResumed{CaseID: caseID, PausedAt: p.PausedAt, ResumedAt: at("2026-03-07T11:00:00Z"), PausedWorkingSeconds: 3600})
	})
}

func TestEscalateCase(t *testing.T) {
	breachAt := at("2026-03-09T10:05:00Z") // first response was due 10:00
	frEscalated := sc.CaseEscalated{CaseID: caseID, Level: 1, Reason: sc.ReasonFirstResponseBreach,
		Breach: sc.FirstResponse, Due: opened.FirstResponseDue, EscalatedAt: breachAt}
	tests := []struct {
		name  string
		given []domain.Event
		now   string
		cmd   sc.EscalateCase
		want  []domain.Event
		err   error
	}{
		{"FirstResponseBreach", []domain.Event{opened}, "2026-03-09T10:05:00Z", frEscalate, []domain.Event{frEscalated}, nil},
		{"FirstResponseBreachTwiceIsNoOp", []domain.Event{opened, frEscalated}, "2026-03-09T10:06:00Z", frEscalate, nil, nil},
		{"BreachRetryAfterResolutionIsNoOp", []domain.Event{opened, frEscalated, resolved}, "2026-03-09T12:06:00Z", frEscalate, nil, nil},
		{"ResolutionBreachAfterFirst", []domain.Event{opened, frEscalated}, "2026-03-09T16:01:00Z",
			sc.EscalateCase{CaseID: caseID, Reason: sc.ReasonResolutionBreach}, []domain.Event{
				sc.CaseEscalated{CaseID: caseID, Level: 2, PreviousLevel: 1, Reason: sc.ReasonResolutionBreach,
					Breach: sc.Resolution, Due: opened.ResolutionDue, EscalatedAt: at("2026-03-09T16:01:00Z")}}, nil},
		{"BreachAtMaxLevelKeepsLevel", []domain.Event{opened, sc.CaseEscalated{CaseID: caseID, Level: 5, Reason: "vip"}}, "2026-03-09T10:05:00Z", frEscalate,
			[]domain.Event{sc.CaseEscalated{CaseID: caseID, Level: 5, PreviousLevel: 5, Reason: sc.ReasonFirstResponseBreach,
				Breach: sc.FirstResponse, Due: opened.FirstResponseDue, EscalatedAt: breachAt}}, nil},
		{"BreachExplicitLowerLevelKeepsLevel", []domain.Event{opened, sc.CaseEscalated{CaseID: caseID, Level: 3, Reason: "vip"}}, "2026-03-09T10:05:00Z",
			sc.EscalateCase{CaseID: caseID, Level: 1, Reason: sc.ReasonFirstResponseBreach},
			[]domain.Event{sc.CaseEscalated{CaseID: caseID, Level: 3, PreviousLevel: 3, Reason: sc.ReasonFirstResponseBreach,
				Breach: sc.FirstResponse, Due: opened.FirstResponseDue, EscalatedAt: breachAt}}, nil},
		{"BeforeDeadline", []domain.Event{opened}, "2026-03-09T09:59:00Z", frEscalate, nil, sc.ErrNotBreached},
		{"AtDeadline", []domain.Event{opened}, "2026-03-09T10:00:00Z", frEscalate, nil, sc.ErrNotBreached},
		{"FirstResponseGiven", []domain.Event{opened, responded}, "2026-03-09T10:05:00Z", frEscalate, nil, sc.ErrNotBreached},
		{"NoSLA", []domain.Event{openedNoSLA}, "2026-04-09T10:05:00Z", frEscalate, nil, sc.ErrNotBreached},
		{"ClockStoppedBeforeDeadline", []domain.Event{opened, paused}, "2026-03-09T12:00:00Z", frEscalate, nil, sc.ErrNotBreached},
		{"ClockStoppedAfterDeadline", []domain.Event{opened, sc.CaseWaitingOnCustomer{CaseID: caseID, PausedAt: at("2026-03-09T10:01:00Z")}},
			"2026-03-09T12:00:00Z", frEscalate, []domain.Event{sc.CaseEscalated{CaseID: caseID, Level: 1, Reason: sc.ReasonFirstResponseBreach,
				Breach: sc.FirstResponse, Due: opened.FirstResponseDue, EscalatedAt: at("2026-03-09T12:00:00Z")}}, nil},
		{"BreachOnResolved", []domain.Event{opened, resolved}, "2026-03-09T12:05:00Z", frEscalate, nil, sc.ErrResolved},
		{"ManualNextLevel", []domain.Event{opened}, "2026-03-09T09:00:00Z", sc.EscalateCase{CaseID: caseID, Reason: "angry customer", Note: "called twice"},
			[]domain.Event{sc.CaseEscalated{CaseID: caseID, Level: 1, Reason: "angry customer", Note: "called twice", EscalatedAt: at("2026-03-09T09:00:00Z")}}, nil},
		{"ManualToLevel", []domain.Event{opened}, "2026-03-09T09:00:00Z", sc.EscalateCase{CaseID: caseID, Level: 3, Reason: "vip"},
			[]domain.Event{sc.CaseEscalated{CaseID: caseID, Level: 3, Reason: "vip", EscalatedAt: at("2026-03-09T09:00:00Z")}}, nil},
		{"ManualToSameLevelIsNoOp", []domain.Event{opened, sc.CaseEscalated{CaseID: caseID, Level: 3, Reason: "vip"}}, "2026-03-09T09:00:00Z",
			sc.EscalateCase{CaseID: caseID, Level: 3, Reason: "vip"}, nil, nil},
		{"ManualAtMaxIsNoOp", []domain.Event{opened, sc.CaseEscalated{CaseID: caseID, Level: 5, Reason: "vip"}}, "2026-03-09T09:00:00Z",
			sc.EscalateCase{CaseID: caseID, Reason: "again"}, nil, nil},
		{"ManualOnClosed", []domain.Event{opened, resolved, closed}, "2026-03-11T09:00:00Z",
			sc.EscalateCase{CaseID: caseID, Reason: "vip"}, nil, sc.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := given(t, tt.given...).At(at(tt.now)).When(tt.cmd)
			if tt.err != nil {
				s.ThenError(tt.err)
				return
			}
			s.Then(tt.want...)
		})
	}
	t.Run("Invalid", func(t *testing.T) {
		given(t, opened).When(sc.EscalateCase{CaseID: caseID, Level: 6, Note: strings.Repeat("n", 2001)}).ThenInvalid("level", "reason", "note")
		given(t, opened).When(sc.EscalateCase{CaseID: caseID, Level: -1, Reason: "x"}).ThenInvalid("level")
	})
	t.Run("StateFlags", func(t *testing.T) {
		st := domain.Fold[sc.State](opened, frEscalated)
		if !st.Escalated(sc.FirstResponse) || st.Escalated(sc.Resolution) || st.EscalationLevel() != 1 {
			t.Errorf("escalation flags wrong: %+v", st)
		}
		if !st.Breached(sc.FirstResponse, breachAt) || st.Breached(sc.Resolution, breachAt) {
			t.Errorf("breach flags wrong")
		}
		if !st.Breached(sc.Resolution, at("2026-03-09T16:00:01Z")) {
			t.Errorf("resolution is not breached after its deadline")
		}
	})
}

func TestBreachedWhileClockStopped(t *testing.T) {
	st := domain.Fold[sc.State](opened, paused)
	late := at("2026-03-20T00:00:00Z")
	if st.Breached(sc.FirstResponse, late) || st.Breached(sc.Resolution, late) {
		t.Errorf("a case waiting on the customer since before its deadlines is breached")
	}
	early := sc.CaseResolved{CaseID: caseID, Resolution: "done", ResolvedAt: at("2026-03-09T09:45:00Z"), ResolutionDue: opened.ResolutionDue, ResolutionMet: true}
	st = domain.Fold[sc.State](opened, early)
	if st.Breached(sc.FirstResponse, late) || st.Breached(sc.Resolution, late) || st.Pending(sc.Resolution) || !st.Pending(sc.FirstResponse) {
		t.Errorf("a case resolved before its deadlines is breached")
	}
	if st.Due(sc.Resolution) != st.ResolutionDue() || st.Due(sc.FirstResponse) != st.FirstResponseDue() {
		t.Errorf("Due disagrees with the named accessors")
	}
}

func TestResolveCase(t *testing.T) {
	cmd := sc.ResolveCase{CaseID: caseID, Resolution: "credit note sent"}
	t.Run("OnTime", func(t *testing.T) {
		st := given(t, opened).At(resolved.ResolvedAt).When(cmd).Then(resolved)
		if st.Status() != sc.StatusResolved || !st.ResolvedAt().Equal(resolved.ResolvedAt) || st.Resolution() != cmd.Resolution || st.Active() {
			t.Errorf("after resolve: %s at %s", st.Status(), st.ResolvedAt())
		}
	})
	t.Run("Late", func(t *testing.T) {
		now := at("2026-03-10T09:00:00Z")
		st := given(t, opened).At(now).When(cmd).Then(sc.CaseResolved{CaseID: caseID, Resolution: cmd.Resolution, ResolvedAt: now,
			ResolutionDue: opened.ResolutionDue, ResolutionMet: false})
		if !st.Breached(sc.Resolution, now) {
			t.Errorf("a late resolution is not a breach")
		}
	})
	t.Run("WhileWaitingResumesFirst", func(t *testing.T) {
		// Paused Monday 09:30, resolved Tuesday 10:00: 8h30 of working time
		// paused, so the resolution deadline moved from Monday 16:00 to Tuesday 16:30.
		now := at("2026-03-10T10:00:00Z")
		given(t, opened, paused).At(now).When(cmd).Then(
			sc.CaseResumed{CaseID: caseID, PausedAt: paused.PausedAt, ResumedAt: now, PausedWorkingSeconds: 8*3600 + 1800,
				FirstResponseDue: at("2026-03-10T10:30:00Z"), ResolutionDue: at("2026-03-10T16:30:00Z")},
			sc.CaseResolved{CaseID: caseID, Resolution: cmd.Resolution, ResolvedAt: now,
				ResolutionDue: at("2026-03-10T16:30:00Z"), ResolutionMet: true, PausedSeconds: int64(now.Sub(paused.PausedAt) / time.Second)})
	})
	t.Run("WithoutSLA", func(t *testing.T) {
		now := at("2026-04-10T10:00:00Z")
		given(t, openedNoSLA).At(now).When(cmd).Then(sc.CaseResolved{CaseID: caseID, Resolution: cmd.Resolution, ResolvedAt: now, ResolutionMet: true})
	})
	t.Run("SameAgainIsNoOp", func(t *testing.T) {
		given(t, opened, resolved).When(cmd).Then()
		given(t, opened, resolved).When(sc.ResolveCase{CaseID: caseID, Resolution: " credit note sent\n"}).Then()
		given(t, opened, resolved, closed).When(cmd).Then()
	})
	t.Run("ErrResolved", func(t *testing.T) {
		given(t, opened, resolved).When(sc.ResolveCase{CaseID: caseID, Resolution: "other"}).ThenError(sc.ErrResolved)
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, opened, resolved, closed).When(sc.ResolveCase{CaseID: caseID, Resolution: "other"}).ThenError(sc.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, opened).When(sc.ResolveCase{CaseID: caseID}).ThenInvalid("resolution")
	})
}

func TestCloseCase(t *testing.T) {
	cmd := sc.CloseCase{CaseID: caseID}
	t.Run("OK", func(t *testing.T) {
		st := given(t, opened, resolved).At(closed.ClosedAt).When(cmd).Then(closed)
		if st.Status() != sc.StatusClosed || !st.ClosedAt().Equal(closed.ClosedAt) {
			t.Errorf("after close: %s", st.Status())
		}
	})
	t.Run("TwiceIsNoOp", func(t *testing.T) { given(t, opened, resolved, closed).When(cmd).Then() })
	t.Run("ErrNotResolved", func(t *testing.T) {
		given(t, opened).When(cmd).ThenError(sc.ErrNotResolved)
		given(t, opened, paused).When(cmd).ThenError(sc.ErrNotResolved)
	})
}

func TestReopenCase(t *testing.T) {
	cmd := sc.ReopenCase{CaseID: caseID, Reason: "credit note has the wrong amount"}
	t.Run("PushesDeadlinesByTimeResolved", func(t *testing.T) {
		// Resolved Monday 12:00 with 4 working hours of resolution time left
		// and no first response yet (due 10:00, so already missed); reopened
		// Tuesday 10:00 after 6 working hours: both pending deadlines move by
		// 6 hours, and the missed first response stays missed.
		now := at("2026-03-10T10:00:00Z")
		st := given(t, opened, resolved).At(now).When(cmd).Then(sc.CaseReopened{CaseID: caseID, Reason: cmd.Reason, ReopenedAt: now,
			FirstResponseDue: at("2026-03-09T16:00:00Z"), ResolutionDue: at("2026-03-10T14:00:00Z")})
		if !st.Breached(sc.FirstResponse, now) || st.Breached(sc.Resolution, now) {
			t.Errorf("breach flags after reopen are wrong")
		}
	})
	t.Run("AfterFirstResponse", func(t *testing.T) {
		now := at("2026-03-10T10:00:00Z")
		st := given(t, opened, responded, resolved).At(now).When(cmd).Then(sc.CaseReopened{CaseID: caseID, Reason: cmd.Reason, ReopenedAt: now,
			ResolutionDue: at("2026-03-10T14:00:00Z")})
		if st.Status() != sc.StatusOpen || st.ReopenCount() != 1 || !st.ResolvedAt().IsZero() || st.Resolution() != "" || !st.Pending(sc.Resolution) {
			t.Errorf("after reopen: %s, reopens %d", st.Status(), st.ReopenCount())
		}
		if st.Breached(sc.Resolution, at("2026-03-10T13:59:00Z")) || !st.Breached(sc.Resolution, at("2026-03-10T14:00:01Z")) {
			t.Errorf("reopened resolution deadline is not at 14:00")
		}
	})
	t.Run("WithoutSLA", func(t *testing.T) {
		r := sc.CaseResolved{CaseID: caseID, Resolution: "done", ResolvedAt: at("2026-03-09T12:00:00Z"), ResolutionMet: true}
		given(t, openedNoSLA, r).At(at("2026-03-10T10:00:00Z")).When(cmd).Then(sc.CaseReopened{CaseID: caseID, Reason: cmd.Reason, ReopenedAt: at("2026-03-10T10:00:00Z")})
	})
	t.Run("OpenIsNoOp", func(t *testing.T) { given(t, opened).When(cmd).Then() })
	t.Run("ErrClosed", func(t *testing.T) { given(t, opened, resolved, closed).When(cmd).ThenError(sc.ErrClosed) })
	t.Run("Invalid", func(t *testing.T) {
		given(t, opened, resolved).When(sc.ReopenCase{CaseID: caseID}).ThenInvalid("reason")
	})
}

func TestValues(t *testing.T) {
	for _, p := range sc.Priorities {
		if !p.Valid() {
			t.Errorf("%s is not valid", p)
		}
	}
	for _, c := range sc.Channels {
		if !c.Valid() {
			t.Errorf("%s is not valid", c)
		}
	}
	if sc.Priority("urgent").Valid() || sc.ChannelUnknown.Valid() {
		t.Errorf("legacy values are valid for new cases")
	}
	if _, ok := sc.BreachOf("vip"); ok {
		t.Errorf("vip is a breach reason")
	}
	if got := sc.StreamID(caseID); got != "case-"+caseID.String() {
		t.Errorf("StreamID = %q", got)
	}
	st := domain.Fold[sc.State](opened, assigned)
	if st.ID() != caseID || st.CustomerID() != customerID || st.OrderID() != orderID || st.Channel() != sc.ChannelEmail ||
		st.Subject() != "Invoice is wrong" || !st.OpenedAt().Equal(opened.OpenedAt) {
		t.Errorf("accessors disagree with CaseOpened: %+v", st)
	}
	var zero sc.State
	if zero.Exists() {
		t.Errorf("the zero State exists")
	}
	zero.Apply(otherEvent{}) // ignored
}

type otherEvent struct{}

func (otherEvent) EventType() string { return "Other" }
