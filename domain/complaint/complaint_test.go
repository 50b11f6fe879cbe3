package complaint_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/domaintest"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
)

var (
	complaintID = uuid.MustParse("00000000-0000-4000-8000-0000000cc001")
	customerID  = uuid.MustParse("00000000-0000-4000-8000-0000000c0001")
	orderID     = uuid.MustParse("00000000-0000-4000-8000-0000000d0001")
	ncID        = uuid.MustParse("00000000-0000-4000-8000-00000000bc01")
	nc2ID       = uuid.MustParse("00000000-0000-4000-8000-00000000bc02")
	yes, no     = true, false
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Received Friday 2026-03-06 15:00 UTC; acknowledgement within 4 working
// hours on weekdays 09:00-17:00: due Monday 11:00.
var ackTarget = sla.Target{Minutes: 240, Calendar: sla.WeekdaysNineToFive("")}

func receiveCmd() complaint.ReceiveComplaint {
	return complaint.ReceiveComplaint{
		ComplaintID: complaintID, Reference: "CMP-2026-000123", CustomerID: customerID, Channel: servicecase.ChannelEmail,
		Description: "Delivered pump leaks", RemedySought: "Replacement", Severity: complaint.SeverityHigh,
		OrderID: orderID, AcknowledgeWithin: ackTarget,
	}
}

var (
	received = complaint.ComplaintReceived{
		ComplaintID: complaintID, Reference: "CMP-2026-000123", CustomerID: customerID, Channel: servicecase.ChannelEmail,
		Description: "Delivered pump leaks", RemedySought: "Replacement", Severity: complaint.SeverityHigh, OrderID: orderID,
		ReceivedAt: at("2026-03-06T15:00:00Z"), AcknowledgementTarget: ackTarget, AcknowledgementDue: at("2026-03-09T11:00:00Z"),
	}
	acknowledged = complaint.ComplaintAcknowledged{ComplaintID: complaintID, AcknowledgedAt: at("2026-03-09T10:00:00Z"),
		Due: at("2026-03-09T11:00:00Z"), OnTime: true}
	responded = complaint.ComplaintResponded{ComplaintID: complaintID, Outcome: complaint.OutcomeUpheld,
		Decision: "We replace the pump", RemedyOffered: "Replacement and 10% credit", RespondedAt: at("2026-03-10T10:00:00Z")}
	closed = complaint.ComplaintClosed{ComplaintID: complaintID, Reference: "CMP-2026-000123", CustomerSatisfied: true,
		ReceivedAt: received.ReceivedAt, ClosedAt: at("2026-03-12T10:00:00Z")}
	reopened = complaint.ComplaintReopened{ComplaintID: complaintID, Reason: "Replacement leaks too", ReopenedAt: at("2026-03-20T10:00:00Z"), ReopenCount: 1}
	flagged  = complaint.ComplaintAcknowledgementOverdue{ComplaintID: complaintID, Due: received.AcknowledgementDue, FlaggedAt: at("2026-03-09T11:01:00Z")}
)

func given(t *testing.T, events ...domain.Event) *domaintest.Scenario[complaint.State, *complaint.State] {
	return domaintest.Given[complaint.State](t, events...)
}

func TestReceiveComplaint(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		st := given(t).At(received.ReceivedAt).When(receiveCmd()).Then(received)
		if st.Status() != complaint.StatusReceived || st.Reference() != "CMP-2026-000123" || !st.AcknowledgementDue().Equal(received.AcknowledgementDue) {
			t.Errorf("state after receipt: %+v", st)
		}
		if st.ID() != complaintID || st.CustomerID() != customerID || st.OrderID() != orderID || st.CaseID() != uuid.Nil ||
			st.Channel() != servicecase.ChannelEmail || st.Severity() != complaint.SeverityHigh || st.Urgency() != "" || !st.ReceivedAt().Equal(received.ReceivedAt) {
			t.Errorf("accessors disagree with ComplaintReceived: %+v", st)
		}
	})
	t.Run("TrimsText", func(t *testing.T) {
		cmd := receiveCmd()
		cmd.Reference, cmd.Description, cmd.RemedySought = " CMP-2026-000123 ", "\nDelivered pump leaks ", " Replacement"
		given(t).At(received.ReceivedAt).When(cmd).Then(received)
	})
	t.Run("ErrAlreadyExists", func(t *testing.T) {
		given(t, received).When(receiveCmd()).ThenError(complaint.ErrAlreadyExists)
	})
	invalid := []struct {
		name   string
		edit   func(c *complaint.ReceiveComplaint)
		fields []string
	}{
		{"Empty", func(c *complaint.ReceiveComplaint) { *c = complaint.ReceiveComplaint{} },
			[]string{"complaint_id", "reference", "customer_id", "channel", "description", "severity", "acknowledge_within.minutes"}},
		{"ReferenceFormat", func(c *complaint.ReceiveComplaint) { c.Reference = "CMP-26-123" }, []string{"reference"}},
		{"UnknownChannel", func(c *complaint.ReceiveComplaint) { c.Channel = servicecase.ChannelUnknown }, []string{"channel"}},
		{"Severity", func(c *complaint.ReceiveComplaint) { c.Severity = "urgent" }, []string{"severity"}},
		{"RemedyTooLong", func(c *complaint.ReceiveComplaint) { c.RemedySought = strings.Repeat("x", 2001) }, []string{"remedy_sought"}},
		{"Calendar", func(c *complaint.ReceiveComplaint) { c.AcknowledgeWithin.Calendar.Zone = "CET" }, []string{"acknowledge_within.calendar.zone"}},
	}
	for _, tt := range invalid {
		t.Run("Invalid"+tt.name, func(t *testing.T) {
			cmd := receiveCmd()
			tt.edit(&cmd)
			given(t).When(cmd).ThenInvalid(tt.fields...)
		})
	}
}

func TestReference(t *testing.T) {
	if got := complaint.FormatReference(2026, 123); got != "CMP-2026-000123" {
		t.Errorf("FormatReference = %q", got)
	}
	if got := complaint.FormatReference(2026, 12345678); got != "CMP-2026-12345678" {
		t.Errorf("FormatReference = %q", got)
	}
	for ref, want := range map[string]bool{
		"CMP-2026-000123": true, "CMP-2026-123456789": true, "CMP-2000-000001": true,
		"CMP-2026-00012": false, "CMP-2026-1234567890": false, "cmp-2026-000123": false, "CMP-1999-000001": false,
		"CMP-2026-000000": false, "CMP-20a6-000123": false, "CMP-2026-00012x": false, "CMP-2026_000123": false, "": false,
	} {
		if _, _, ok := complaint.ParseReference(ref); ok != want {
			t.Errorf("ParseReference(%q) ok = %v, want %v", ref, ok, want)
		}
	}
	y, n, ok := complaint.ParseReference(complaint.FormatReference(2031, 42))
	if !ok || y != 2031 || n != 42 {
		t.Errorf("round trip: %d %d %v", y, n, ok)
	}
	if got := complaint.StreamID(complaintID); got != "complaint-"+complaintID.String() {
		t.Errorf("StreamID = %q", got)
	}
}

func TestNotFoundAndUnknown(t *testing.T) {
	for _, cmd := range []domain.Command{
		complaint.AcknowledgeComplaint{ComplaintID: complaintID}, complaint.FlagAcknowledgementOverdue{ComplaintID: complaintID},
		complaint.AssessComplaint{ComplaintID: complaintID}, complaint.RecordInvestigation{ComplaintID: complaintID},
		complaint.RespondToComplaint{ComplaintID: complaintID}, complaint.CloseComplaint{ComplaintID: complaintID},
		complaint.EscalateComplaint{ComplaintID: complaintID}, complaint.RaiseNonconformityFromComplaint{ComplaintID: complaintID},
		complaint.ReopenComplaint{ComplaintID: complaintID},
	} {
		t.Run(cmd.CommandType(), func(t *testing.T) {
			if cmd.AggregateID() != complaintID {
				t.Errorf("AggregateID() = %s", cmd.AggregateID())
			}
			given(t).When(cmd).ThenError(complaint.ErrNotFound)
		})
	}
	given(t, received).When(servicecase.CloseCase{}).ThenError(domain.ErrUnknownCommand)
}

func TestAcknowledge(t *testing.T) {
	cmd := complaint.AcknowledgeComplaint{ComplaintID: complaintID}
	t.Run("OnTime", func(t *testing.T) {
		st := given(t, received).At(acknowledged.AcknowledgedAt).When(cmd).Then(acknowledged)
		if st.Status() != complaint.StatusAcknowledged || !st.Acknowledged() || st.AcknowledgementOverdue(at("2030-01-01T00:00:00Z")) {
			t.Errorf("state after acknowledgement: %s", st.Status())
		}
	})
	t.Run("AtDeadline", func(t *testing.T) {
		given(t, received).At(at("2026-03-09T11:00:00Z")).When(cmd).Then(
			complaint.ComplaintAcknowledged{ComplaintID: complaintID, AcknowledgedAt: at("2026-03-09T11:00:00Z"), Due: received.AcknowledgementDue, OnTime: true})
	})
	t.Run("Late", func(t *testing.T) {
		now := at("2026-03-09T11:00:01Z")
		st := given(t, received).At(now).When(cmd).Then(
			complaint.ComplaintAcknowledged{ComplaintID: complaintID, AcknowledgedAt: now, Due: received.AcknowledgementDue, OnTime: false})
		if !st.AcknowledgementOverdue(now) {
			t.Errorf("a late acknowledgement is not overdue")
		}
	})
	t.Run("TwiceIsNoOp", func(t *testing.T) {
		given(t, received, acknowledged).When(cmd).Then()
		given(t, received, acknowledged, responded, closed).When(cmd).Then()
	})
}

func TestFlagAcknowledgementOverdue(t *testing.T) {
	cmd := complaint.FlagAcknowledgementOverdue{ComplaintID: complaintID}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received).At(flagged.FlaggedAt).When(cmd).Then(flagged)
		if !st.FlaggedOverdue() || !st.AcknowledgementOverdue(flagged.FlaggedAt) {
			t.Errorf("not flagged")
		}
	})
	t.Run("TwiceIsNoOp", func(t *testing.T) {
		given(t, received, flagged).At(at("2026-03-09T12:00:00Z")).When(cmd).Then()
		st := given(t, received, flagged, acknowledged).At(at("2026-03-09T12:00:00Z")).When(cmd).Then()
		if !st.AcknowledgementOverdue(at("2026-03-09T12:00:00Z")) {
			t.Errorf("a flagged complaint is not overdue")
		}
	})
	t.Run("ErrNotOverdue", func(t *testing.T) {
		given(t, received).At(at("2026-03-09T11:00:00Z")).When(cmd).ThenError(complaint.ErrNotOverdue)
		st := domain.Fold[complaint.State](received)
		if st.AcknowledgementOverdue(at("2026-03-09T11:00:00Z")) || !st.AcknowledgementOverdue(at("2026-03-09T11:00:01Z")) {
			t.Errorf("AcknowledgementOverdue disagrees with the deadline")
		}
	})
	t.Run("ErrAlreadyAcknowledged", func(t *testing.T) {
		given(t, received, acknowledged).At(at("2026-03-09T12:00:00Z")).When(cmd).ThenError(complaint.ErrAlreadyAcknowledged)
	})
}

func TestAssess(t *testing.T) {
	cmd := complaint.AssessComplaint{ComplaintID: complaintID, Severity: complaint.SeverityCritical, Urgency: complaint.UrgencyHigh, Notes: "leak near wiring"}
	now := at("2026-03-09T12:00:00Z")
	want := complaint.ComplaintAssessed{ComplaintID: complaintID, Severity: complaint.SeverityCritical, PreviousSeverity: complaint.SeverityHigh,
		Urgency: complaint.UrgencyHigh, Notes: "leak near wiring", AssessedAt: now}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received).At(now).When(cmd).Then(want)
		if st.Severity() != complaint.SeverityCritical || st.Urgency() != complaint.UrgencyHigh {
			t.Errorf("after assessment: %s %s", st.Severity(), st.Urgency())
		}
	})
	t.Run("SameIsNoOp", func(t *testing.T) {
		given(t, received, want).When(cmd).Then()
		given(t, received, acknowledged, want, responded, closed).When(cmd).Then()
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, received, acknowledged, responded, closed).When(cmd).ThenError(complaint.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, received).When(complaint.AssessComplaint{ComplaintID: complaintID, Notes: "\x00"}).ThenInvalid("severity", "urgency", "notes")
	})
}

func TestInvestigate(t *testing.T) {
	cmd := complaint.RecordInvestigation{ComplaintID: complaintID, RootCause: "Seal not torqued", Findings: "Assembly step 4 skipped"}
	now := at("2026-03-09T14:00:00Z")
	want := complaint.ComplaintInvestigated{ComplaintID: complaintID, RootCause: cmd.RootCause, Findings: cmd.Findings, InvestigatedAt: now}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received, acknowledged).At(now).When(cmd).Then(want)
		if st.RootCause() != cmd.RootCause {
			t.Errorf("RootCause() = %q", st.RootCause())
		}
	})
	t.Run("SameIsNoOp", func(t *testing.T) { given(t, received, want).When(cmd).Then() })
	t.Run("Revised", func(t *testing.T) {
		given(t, received, want).At(now).When(complaint.RecordInvestigation{ComplaintID: complaintID, RootCause: "Wrong seal"}).
			Then(complaint.ComplaintInvestigated{ComplaintID: complaintID, RootCause: "Wrong seal", InvestigatedAt: now})
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, received, acknowledged, responded, closed).When(cmd).ThenError(complaint.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, received).When(complaint.RecordInvestigation{ComplaintID: complaintID, RootCause: "  "}).ThenInvalid("root_cause")
	})
}

func TestRespond(t *testing.T) {
	cmd := complaint.RespondToComplaint{ComplaintID: complaintID, Outcome: complaint.OutcomeUpheld, Decision: "We replace the pump",
		RemedyOffered: "Replacement and 10% credit"}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received, acknowledged).At(responded.RespondedAt).When(cmd).Then(responded)
		if r, ok := st.Response(); !ok || r.Outcome != complaint.OutcomeUpheld || st.Status() != complaint.StatusResponded {
			t.Errorf("Response() = %+v, %v", r, ok)
		}
	})
	t.Run("BeforeAcknowledgement", func(t *testing.T) {
		// Answering acknowledges: never responded (nor closed) without an
		// acknowledgement on record, here a late one.
		st := given(t, received).At(responded.RespondedAt).When(cmd).Then(
			complaint.ComplaintAcknowledged{ComplaintID: complaintID, AcknowledgedAt: responded.RespondedAt, Due: received.AcknowledgementDue, OnTime: false},
			responded)
		if !st.Acknowledged() || st.Status() != complaint.StatusResponded {
			t.Errorf("acknowledged %v, status %s", st.Acknowledged(), st.Status())
		}
		given(t, received).At(received.ReceivedAt.Add(time.Hour)).When(cmd).Then(
			complaint.ComplaintAcknowledged{ComplaintID: complaintID, AcknowledgedAt: received.ReceivedAt.Add(time.Hour), Due: received.AcknowledgementDue, OnTime: true},
			complaint.ComplaintResponded{ComplaintID: complaintID, Outcome: cmd.Outcome, Decision: cmd.Decision, RemedyOffered: cmd.RemedyOffered,
				RespondedAt: received.ReceivedAt.Add(time.Hour)})
		// Then it can be closed.
		yes := true
		given(t, received, complaint.ComplaintAcknowledged{ComplaintID: complaintID, AcknowledgedAt: responded.RespondedAt, Due: received.AcknowledgementDue},
			responded).When(complaint.CloseComplaint{ComplaintID: complaintID, CustomerSatisfied: &yes}).Then(
			complaint.ComplaintClosed{ComplaintID: complaintID, Reference: received.Reference, CustomerSatisfied: true,
				ReceivedAt: received.ReceivedAt, ClosedAt: domaintest.Now})
	})
	t.Run("SameIsNoOp", func(t *testing.T) {
		given(t, received, acknowledged, responded).When(cmd).Then()
		given(t, received, acknowledged, responded, closed).When(cmd).Then()
	})
	t.Run("RevisedDecision", func(t *testing.T) {
		now := at("2026-03-11T10:00:00Z")
		given(t, received, acknowledged, responded).At(now).When(complaint.RespondToComplaint{ComplaintID: complaintID,
			Outcome: complaint.OutcomePartiallyUpheld, Decision: "Repair instead"}).
			Then(complaint.ComplaintResponded{ComplaintID: complaintID, Outcome: complaint.OutcomePartiallyUpheld, Decision: "Repair instead", RespondedAt: now})
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, received, acknowledged, responded, closed).When(complaint.RespondToComplaint{ComplaintID: complaintID,
			Outcome: complaint.OutcomeRejected, Decision: "No"}).ThenError(complaint.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, received).When(complaint.RespondToComplaint{ComplaintID: complaintID, Outcome: "maybe"}).ThenInvalid("outcome", "decision")
	})
}

func TestClose(t *testing.T) {
	cmd := complaint.CloseComplaint{ComplaintID: complaintID, CustomerSatisfied: &yes}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received, acknowledged, responded).At(closed.ClosedAt).When(cmd).Then(closed)
		if !st.Closed() || st.Status() != complaint.StatusClosed || !st.CustomerSatisfied() || !st.ClosedAt().Equal(closed.ClosedAt) {
			t.Errorf("after close: %+v", st)
		}
	})
	t.Run("NotSatisfied", func(t *testing.T) {
		st := given(t, received, acknowledged, responded).At(closed.ClosedAt).When(complaint.CloseComplaint{ComplaintID: complaintID, CustomerSatisfied: &no, Note: "wanted cash"}).
			Then(complaint.ComplaintClosed{ComplaintID: complaintID, Reference: received.Reference, Note: "wanted cash", ReceivedAt: received.ReceivedAt, ClosedAt: closed.ClosedAt})
		if st.CustomerSatisfied() {
			t.Errorf("CustomerSatisfied() = true")
		}
	})
	t.Run("SameIsNoOp", func(t *testing.T) { given(t, received, acknowledged, responded, closed).When(cmd).Then() })
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, received, acknowledged, responded, closed).When(complaint.CloseComplaint{ComplaintID: complaintID, CustomerSatisfied: &no}).ThenError(complaint.ErrClosed)
	})
	t.Run("ErrNotAcknowledged", func(t *testing.T) {
		given(t, received).When(cmd).ThenError(complaint.ErrNotAcknowledged)
		given(t, received, responded).When(cmd).ThenError(complaint.ErrNotAcknowledged)
	})
	t.Run("ErrNotResponded", func(t *testing.T) {
		given(t, received, acknowledged).When(cmd).ThenError(complaint.ErrNotResponded)
		given(t, received, acknowledged, responded, closed, reopened).When(cmd).ThenError(complaint.ErrNotResponded)
	})
	t.Run("SatisfactionRequired", func(t *testing.T) {
		given(t, received, acknowledged, responded).When(complaint.CloseComplaint{ComplaintID: complaintID}).ThenInvalid("customer_satisfied")
	})
}

func TestEscalate(t *testing.T) {
	now := at("2026-03-09T12:00:00Z")
	t.Run("NextLevel", func(t *testing.T) {
		st := given(t, received).At(now).When(complaint.EscalateComplaint{ComplaintID: complaintID, Reason: "safety risk"}).
			Then(complaint.ComplaintEscalated{ComplaintID: complaintID, Level: 1, Reason: "safety risk", EscalatedAt: now})
		if st.EscalationLevel() != 1 {
			t.Errorf("EscalationLevel() = %d", st.EscalationLevel())
		}
	})
	esc3 := complaint.ComplaintEscalated{ComplaintID: complaintID, Level: 3, Reason: "ombudsman", EscalatedAt: now}
	t.Run("ToLevel", func(t *testing.T) {
		given(t, received).At(now).When(complaint.EscalateComplaint{ComplaintID: complaintID, Level: 3, Reason: "ombudsman"}).Then(esc3)
	})
	t.Run("SameLevelIsNoOp", func(t *testing.T) {
		given(t, received, esc3).When(complaint.EscalateComplaint{ComplaintID: complaintID, Level: 3, Reason: "ombudsman"}).Then()
		given(t, received, esc3).When(complaint.EscalateComplaint{ComplaintID: complaintID, Level: 2, Reason: "lower"}).Then()
	})
	t.Run("AtMaxIsNoOp", func(t *testing.T) {
		given(t, received, complaint.ComplaintEscalated{ComplaintID: complaintID, Level: complaint.MaxEscalationLevel}).
			When(complaint.EscalateComplaint{ComplaintID: complaintID, Reason: "again"}).Then()
	})
	t.Run("ErrClosed", func(t *testing.T) {
		given(t, received, acknowledged, responded, closed).When(complaint.EscalateComplaint{ComplaintID: complaintID, Reason: "x"}).ThenError(complaint.ErrClosed)
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, received).When(complaint.EscalateComplaint{ComplaintID: complaintID, Level: 9}).ThenInvalid("level", "reason")
	})
}

func TestRaiseNonconformity(t *testing.T) {
	now := at("2026-03-10T12:00:00Z")
	raised := complaint.NonconformityRaisedFromComplaint{ComplaintID: complaintID, Reference: received.Reference, NonconformityID: ncID, RaisedAt: now}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received).At(now).When(complaint.RaiseNonconformityFromComplaint{ComplaintID: complaintID, NonconformityID: ncID}).Then(raised)
		if !reflect.DeepEqual(st.Nonconformities(), []uuid.UUID{ncID}) {
			t.Errorf("Nonconformities() = %v", st.Nonconformities())
		}
	})
	t.Run("SameIsNoOp", func(t *testing.T) {
		given(t, received, raised).When(complaint.RaiseNonconformityFromComplaint{ComplaintID: complaintID, NonconformityID: ncID}).Then()
	})
	t.Run("SecondOnClosedComplaint", func(t *testing.T) {
		st := given(t, received, raised, acknowledged, responded, closed).At(now).
			When(complaint.RaiseNonconformityFromComplaint{ComplaintID: complaintID, NonconformityID: nc2ID}).
			Then(complaint.NonconformityRaisedFromComplaint{ComplaintID: complaintID, Reference: received.Reference, NonconformityID: nc2ID, RaisedAt: now})
		if len(st.Nonconformities()) != 2 {
			t.Errorf("Nonconformities() = %v", st.Nonconformities())
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, received).When(complaint.RaiseNonconformityFromComplaint{ComplaintID: complaintID}).ThenInvalid("nonconformity_id")
	})
}

func TestReopen(t *testing.T) {
	cmd := complaint.ReopenComplaint{ComplaintID: complaintID, Reason: "Replacement leaks too"}
	t.Run("OK", func(t *testing.T) {
		st := given(t, received, acknowledged, responded, closed).At(reopened.ReopenedAt).When(cmd).Then(reopened)
		if st.Closed() || st.Status() != complaint.StatusAcknowledged || st.ReopenCount() != 1 || !st.ClosedAt().IsZero() {
			t.Errorf("after reopen: %s", st.Status())
		}
		if _, ok := st.Response(); ok {
			t.Errorf("the old response is still in force")
		}
	})
	t.Run("Twice", func(t *testing.T) {
		now := at("2026-04-01T10:00:00Z")
		given(t, received, acknowledged, responded, closed, reopened, responded, closed).At(now).When(cmd).
			Then(complaint.ComplaintReopened{ComplaintID: complaintID, Reason: cmd.Reason, ReopenedAt: now, ReopenCount: 2})
	})
	t.Run("OpenIsNoOp", func(t *testing.T) {
		given(t, received).When(cmd).Then()
		given(t, received, acknowledged, responded, closed, reopened).When(cmd).Then()
	})
	t.Run("Invalid", func(t *testing.T) {
		given(t, received, acknowledged, responded, closed).When(complaint.ReopenComplaint{ComplaintID: complaintID}).ThenInvalid("reason")
	})
}

func TestValues(t *testing.T) {
	if complaint.Severity("x").Valid() || complaint.Urgency("x").Valid() || complaint.Outcome("x").Valid() {
		t.Errorf("unknown values are valid")
	}
	var zero complaint.State
	if zero.Exists() || zero.AcknowledgementOverdue(at("2030-01-01T00:00:00Z")) {
		t.Errorf("the zero State exists or is overdue")
	}
	zero.Apply(servicecase.CaseClosed{}) // ignored
}

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{
		received, acknowledged, flagged,
		complaint.ComplaintAssessed{ComplaintID: complaintID, Severity: complaint.SeverityCritical, PreviousSeverity: complaint.SeverityHigh,
			Urgency: complaint.UrgencyHigh, Notes: "n", AssessedAt: at("2026-03-09T12:00:00Z")},
		complaint.ComplaintInvestigated{ComplaintID: complaintID, RootCause: "r", Findings: "f", InvestigatedAt: at("2026-03-09T12:00:00Z")},
		responded, closed,
		complaint.ComplaintEscalated{ComplaintID: complaintID, Level: 2, PreviousLevel: 1, Reason: "r", EscalatedAt: at("2026-03-09T12:00:00Z")},
		complaint.NonconformityRaisedFromComplaint{ComplaintID: complaintID, Reference: received.Reference, NonconformityID: ncID, RaisedAt: at("2026-03-09T12:00:00Z")},
		reopened,
	}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, complaint.Category, all...)
	for _, e := range all {
		typ, version, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.Events.Decode(typ, version, data)
		if err != nil || !reflect.DeepEqual(back, e) {
			t.Errorf("%s: decoded %+v (%v), want %+v", typ, back, err, e)
		}
	}
}
