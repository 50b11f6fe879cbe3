package commands_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/google/uuid"
)

func refusedBy(t *testing.T, err error, code string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindValidation || de.Code != code || len(de.Fields) != 1 || de.Fields[0].Field != "occurred_at" {
		t.Fatalf("want validation error %s on occurred_at, got %v", code, err)
	}
}

func TestBackdatingRules(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	id := uuid.New()
	at := func(d time.Duration) commands.Metadata { return commands.Metadata{OccurredAt: t0.Add(d)} }
	mustDispatch(t, b.d, OpenTally{TallyID: id, Name: "t"}, at(-2*time.Hour))
	mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, at(-time.Hour))

	t.Run("BeforePreviousFact", func(t *testing.T) {
		_, err := b.d.Dispatch(context.Background(), CountTally{TallyID: id, By: 1}, at(-90*time.Minute))
		refusedBy(t, err, "occurred_at_before_previous_fact")
	})
	t.Run("SameInstantAsPreviousFact", func(t *testing.T) {
		mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, at(-time.Hour))
	})
	t.Run("OutsideWindow", func(t *testing.T) {
		_, err := b.d.Dispatch(context.Background(), OpenTally{TallyID: uuid.New(), Name: "old"}, at(-commands.DefaultMaxBackdate-time.Second))
		refusedBy(t, err, "occurred_at_outside_window")
	})
	t.Run("Before1900", func(t *testing.T) {
		_, err := b.d.Dispatch(context.Background(), OpenTally{TallyID: uuid.New(), Name: "old"},
			commands.Metadata{OccurredAt: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)})
		refusedBy(t, err, "occurred_at_before_1900")
	})
	t.Run("RepeatOutsideWindowReplays", func(t *testing.T) {
		// A repeat returns its result, whatever the window says now.
		cid := uuid.New()
		first := mustDispatch(t, b.d, CountTally{TallyID: id, By: 1}, commands.Metadata{CommandID: cid, OccurredAt: t0})
		d2, err := commands.NewDispatcher(b.store, commands.Config{Registry: tallyEvents, Clock: func() time.Time { return t0.AddDate(2, 0, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		commands.Register[TallyState](d2, tallyCategory, []domain.Command{OpenTally{}, CountTally{}, CloseTally{}})
		again := mustDispatch(t, d2, CountTally{TallyID: id, By: 1}, commands.Metadata{CommandID: cid, OccurredAt: t0})
		if !again.Replayed || again.Version != first.Version {
			t.Fatalf("repeat: %+v, first %+v", again, first)
		}
	})
}

type counter struct{ n atomic.Int64 }

func (c *counter) Next(context.Context, string, string) (int64, error) { return c.n.Add(1), nil }

// TestBackdatingAgreesWithSLAVerdicts replays the findings on the
// real aggregates: facts dated before the record's own earlier facts are
// refused, and once the SLA watcher has flagged an acknowledgement overdue,
// no acknowledgement can be backdated to before the flag (so "on time",
// judged by occurred-at, can no longer contradict the watcher).
func TestBackdatingAgreesWithSLAVerdicts(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	store := memory.New()
	t.Cleanup(store.Close)
	d, err := commands.NewDispatcher(store, commands.Config{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: &counter{}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := func(tm time.Time) commands.Metadata { return commands.Metadata{Actor: "user:ann", OccurredAt: tm} }
	cust := uuid.New()
	mustDispatch(t, d, customer.RegisterCustomer{CustomerID: cust, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Ann"}},
		at(now.Add(-72*time.Hour)))

	// A first response dated before the case was opened.
	cs := uuid.New()
	mustDispatch(t, d, servicecase.OpenCase{CaseID: cs, CustomerID: cust, Queue: "support", Priority: servicecase.P3,
		Channel: servicecase.ChannelEmail, Subject: "broken"}, at(now.Add(-2*time.Hour)))
	_, err = d.Dispatch(ctx, servicecase.RecordFirstResponse{CaseID: cs, AgentID: "user:ann"}, at(now.Add(-3*time.Hour)))
	refusedBy(t, err, "occurred_at_before_previous_fact")

	// A complaint acknowledged before it was received, and closed before.
	cmp := uuid.New()
	received := now.Add(-48 * time.Hour)
	mustDispatch(t, d, complaint.ReceiveComplaint{ComplaintID: cmp, CustomerID: cust, Channel: servicecase.ChannelEmail, Description: "late",
		Severity: complaint.SeverityMedium, AcknowledgeWithin: sla.Target{Minutes: 24 * 60}}, at(received))
	_, err = d.Dispatch(ctx, complaint.AcknowledgeComplaint{ComplaintID: cmp}, at(received.Add(-time.Hour)))
	refusedBy(t, err, "occurred_at_before_previous_fact")

	// The watcher flags it overdue (as system:sla-watcher, occurred-at the
	// check time); a late acknowledgement backdated into the deadline is refused.
	flagged := received.Add(25 * time.Hour)
	mustDispatch(t, d, complaint.FlagAcknowledgementOverdue{ComplaintID: cmp},
		commands.Metadata{Actor: "system:sla-watcher", OccurredAt: flagged})
	_, err = d.Dispatch(ctx, complaint.AcknowledgeComplaint{ComplaintID: cmp}, at(received.Add(time.Hour)))
	refusedBy(t, err, "occurred_at_before_previous_fact")
	mustDispatch(t, d, complaint.AcknowledgeComplaint{ComplaintID: cmp}, at(flagged.Add(time.Minute)))

	// Escalated three days before it was received (the aggregate would
	// escalate it: only the date is wrong).
	_, err = d.Dispatch(ctx, complaint.EscalateComplaint{ComplaintID: cmp, Reason: "no answer"}, at(received.Add(-72*time.Hour)))
	refusedBy(t, err, "occurred_at_before_previous_fact")
}

// TestRefusalComesBeforeTheDate: a command the aggregate refuses gets that
// refusal whatever its occurred-at, so a process manager's redelivered
// creation, dated before the record's later facts, still learns "exists".
func TestRefusalComesBeforeTheDate(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	store := memory.New()
	t.Cleanup(store.Close)
	d, err := commands.NewDispatcher(store, commands.Config{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: &counter{}}); err != nil {
		t.Fatal(err)
	}
	at := func(tm time.Time) commands.Metadata { return commands.Metadata{Actor: "user:ann", OccurredAt: tm} }
	cust := uuid.New()
	details := customer.Details{Kind: customer.KindPerson, DisplayName: "Ann"}
	mustDispatch(t, d, customer.RegisterCustomer{CustomerID: cust, Details: details}, at(now.Add(-time.Hour)))
	mustDispatch(t, d, customer.AssignCustomerOwner{CustomerID: cust, OwnerID: "user:bob"}, at(now.Add(-time.Minute)))
	_, err = d.Dispatch(context.Background(), customer.RegisterCustomer{CustomerID: cust, Details: details}, at(now.Add(-2*time.Hour)))
	if !errors.Is(err, customer.ErrAlreadyExists) {
		t.Fatalf("a second creation dated before the record's facts: got %v, want %v", err, customer.ErrAlreadyExists)
	}
}
