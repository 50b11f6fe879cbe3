package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	_ "github.com/evcrm/evcrm/domain/all"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/nonconformity"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/process"
)

func logger() *slog.Logger {
	if os.Getenv("PROCESS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// clock is a settable clock shared by the dispatcher and the watcher.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// world is a migrated schema with the PostgreSQL event store and the
// dispatcher of every aggregate; processes (buses) come and go on it.
type world struct {
	db         *pgxpool.Pool
	store      *postgres.Store
	dispatcher *commands.Dispatcher
	clock      *clock
}

func newWorld(t *testing.T, start time.Time) *world {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	for _, m := range []func(context.Context, *pgxpool.Pool) error{postgres.Migrate, bus.Migrate, process.Migrate} {
		if err := m(ctx, db.Pool); err != nil {
			t.Fatal(err)
		}
	}
	if err := apistore.Migrate(ctx, db.Pool, logger()); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{Logger: logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	c := &clock{now: start}
	d, err := commands.NewDispatcher(store, commands.Config{Clock: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
		t.Fatal(err)
	}
	return &world{db: db.Pool, store: store, dispatcher: d, clock: c}
}

// node is one evcrm process: a bus serving the commands, forwarding the
// events, and running the process managers.
type node struct {
	bus     *bus.Bus
	watcher *process.SLAWatcher
	stop    func()
}

func (w *world) start(t *testing.T) *node {
	t.Helper()
	b, err := bus.New(bus.Config{
		Retry:  bus.RetryConfig{MaxRetries: 3, InitialInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond},
		Logger: logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ServeCommands(w.dispatcher); err != nil {
		t.Fatal(err)
	}
	f, err := bus.NewForwarder(w.store, b.Publisher(), bus.NewCheckpoints(w.db), bus.ForwarderConfig{Name: "bus", Logger: logger()})
	if err != nil {
		t.Fatal(err)
	}
	b.AddForwarder(f)
	watcher, err := process.NewSLAWatcher(w.db, w.store, b, process.SLAConfig{Clock: w.clock.Now, Logger: logger()})
	if err != nil {
		t.Fatal(err)
	}
	// The test drives the checks itself (Check) instead of the ticker.
	if err := watcher.Subscribe(b); err != nil {
		t.Fatal(err)
	}
	if err := process.NewLeadConversion(b, logger()).Register(b); err != nil {
		t.Fatal(err)
	}
	if err := process.NewComplaintFollowUp(b, w.store, logger()).Register(b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	select {
	case <-b.Running():
	case err := <-done:
		t.Fatalf("bus: %v", err)
	}
	var once sync.Once
	n := &node{bus: b, watcher: watcher}
	n.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("bus: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("bus did not stop")
			}
		})
	}
	t.Cleanup(n.stop)
	return n
}

func (w *world) do(t *testing.T, cmd domain.Command) commands.Result {
	t.Helper()
	res, err := w.dispatcher.Dispatch(context.Background(), cmd, commands.Metadata{Actor: "ann", Role: "agent", Tenant: "acme"})
	if err != nil {
		t.Fatalf("%s: %v", cmd.CommandType(), err)
	}
	return res
}

func (w *world) events(t *testing.T, streamID string, typ string) []eventstore.RecordedEvent {
	t.Helper()
	all, err := w.store.ReadStream(context.Background(), streamID, eventstore.ReadStreamOptions{})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatal(err)
	}
	var out []eventstore.RecordedEvent
	for _, e := range all {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// eventually polls cond for up to 20s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// applied reports whether the watcher has applied streamID up to version.
func (w *world) applied(t *testing.T, streamID string, version uint64) bool {
	var v int64
	err := w.db.QueryRow(context.Background(), `SELECT version FROM process_sla_streams WHERE stream_id = $1`, streamID).Scan(&v)
	return err == nil && uint64(v) >= version
}

func (w *world) newCustomer(t *testing.T) uuid.UUID {
	id := uuid.New()
	w.do(t, customer.RegisterCustomer{CustomerID: id, Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: "Acme"}})
	return id
}

func decodeInto(t *testing.T, e eventstore.RecordedEvent, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)

func TestSLAWatcher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, t0)
	n := w.start(t)

	cust := w.newCustomer(t)
	caseID := uuid.New()
	opened := w.do(t, servicecase.OpenCase{
		CaseID: caseID, CustomerID: cust, Queue: "support", Priority: servicecase.P2, Channel: servicecase.ChannelEmail,
		Subject: "Pump leaks",
		SLA: &servicecase.SLAPolicy{Name: "standard", Targets: map[servicecase.Priority]servicecase.SLATarget{
			servicecase.P2: {FirstResponseMinutes: 60, ResolutionMinutes: 480},
		}},
	})
	cmpID := uuid.New()
	received := w.do(t, complaint.ReceiveComplaint{
		ComplaintID: cmpID, CustomerID: cust, Channel: servicecase.ChannelEmail, Description: "Late delivery",
		Severity: complaint.SeverityMedium, AcknowledgeWithin: sla.Target{Minutes: 120},
	})
	caseStream, cmpStream := servicecase.StreamID(caseID), complaint.StreamID(cmpID)
	eventually(t, "the watcher to see the case and complaint", func() bool {
		return w.applied(t, caseStream, opened.Version) && w.applied(t, cmpStream, received.Version)
	})

	check := func(at time.Time, want int) {
		t.Helper()
		w.clock.Set(at)
		sent, err := n.watcher.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sent != want {
			t.Fatalf("at %s: sent %d commands, want %d", at.Format(time.TimeOnly), sent, want)
		}
	}
	check(t0.Add(59*time.Minute), 0)
	check(t0.Add(61*time.Minute), 1) // first response breached
	eventually(t, "the escalation to be recorded and applied", func() bool {
		return len(w.events(t, caseStream, "CaseEscalated")) == 1 && w.applied(t, caseStream, opened.Version+1)
	})
	esc := w.events(t, caseStream, "CaseEscalated")[0]
	if esc.Metadata.Actor != process.SLAWatcherActor || esc.Metadata.Tenant != "acme" {
		t.Errorf("escalated by %q of tenant %q", esc.Metadata.Actor, esc.Metadata.Tenant)
	}
	check(t0.Add(62*time.Minute), 0) // done: never again

	// The agent responds and the case waits on the customer: the resolution
	// clock stops, so nothing is due while it waits.
	w.do(t, servicecase.RecordFirstResponse{CaseID: caseID, AgentID: "ann"})
	res := w.do(t, servicecase.WaitOnCustomer{CaseID: caseID, Reason: "photos"})
	eventually(t, "the pause to be applied", func() bool { return w.applied(t, caseStream, res.Version) })
	check(t0.Add(10*time.Hour), 1) // only the complaint's acknowledgement (due at 11:00)
	eventually(t, "the complaint to be flagged", func() bool {
		return len(w.events(t, cmpStream, "ComplaintAcknowledgementOverdue")) == 1
	})

	// A restart: a new process on the same database, with a duplicate
	// delivery of an old event and a trigger whose event was lost in the
	// crash (its timer row says "not done, never fired").
	n.stop()
	w.clock.Set(t0.Add(11 * time.Hour))
	res = w.do(t, servicecase.ResumeCase{CaseID: caseID}) // resolution due 8h of working time after opening + paused time
	n2 := w.start(t)
	eventually(t, "the restarted watcher to catch up", func() bool { return w.applied(t, caseStream, res.Version) })
	dup := w.events(t, caseStream, "CaseOpened")[0]
	go func() {
		_ = n2.bus.Publisher().Publish(bus.EventTopicPrefix+servicecase.Category, bus.EventMessage(dup))
	}()
	if _, err := w.db.Exec(ctx, `UPDATE process_sla_timers SET done = false, fired_at = NULL, due_at = $2
		WHERE stream_id = $1 AND kind = 'acknowledgement'`, cmpStream, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n = n2
	check(t0.Add(11*time.Hour+time.Minute), 1) // the lost one is sent again, with the same command ID
	time.Sleep(50 * time.Millisecond)
	if got := len(w.events(t, cmpStream, "ComplaintAcknowledgementOverdue")); got != 1 {
		t.Fatalf("complaint flagged %d times", got)
	}
	if got := len(w.events(t, caseStream, "CaseEscalated")); got != 1 {
		t.Fatalf("case escalated %d times after the restart", got)
	}

	// The resolution deadline, pushed by the two hours paused, breaches later.
	resumed := w.events(t, caseStream, "CaseResumed")[0]
	var due struct {
		ResolutionDue time.Time `json:"resolution_due"`
	}
	decodeInto(t, resumed, &due)
	check(due.ResolutionDue.Add(-time.Minute), 0)
	// Two processes check at the same moment: one of them sends.
	w.clock.Set(due.ResolutionDue.Add(time.Minute))
	var (
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for range 2 {
		wg.Go(func() {
			sent, err := n.watcher.Check(ctx)
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(sent))
		})
	}
	wg.Wait()
	if total.Load() != 1 {
		t.Fatalf("two concurrent checks sent %d commands, want 1", total.Load())
	}
	eventually(t, "the resolution escalation", func() bool { return len(w.events(t, caseStream, "CaseEscalated")) == 2 })
	check(due.ResolutionDue.Add(time.Hour), 0)
}

func TestLeadConversion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, time.Now().UTC())
	n := w.start(t)

	leadID, custID, oppID := uuid.New(), uuid.New(), uuid.New()
	w.do(t, lead.CaptureLead{LeadID: leadID, Source: "web", Prospect: lead.Prospect{
		ContactName: "Ada Lovelace", CompanyName: "Analytical Engines Ltd", Email: "ada@example.com",
	}})
	w.do(t, lead.QualifyLead{LeadID: leadID, Score: 80})
	conv := w.do(t, lead.ConvertLead{LeadID: leadID, CustomerID: custID, OpportunityID: oppID,
		OpportunityName: "Engines for Acme", Amount: domain.Money{Amount: 1_000_000, Currency: "EUR"}})

	eventually(t, "the opportunity to be opened", func() bool {
		return len(w.events(t, opportunity.StreamID(oppID), "OpportunityOpened")) == 1
	})
	reg := w.events(t, customer.StreamID(custID), "CustomerRegistered")
	if len(reg) != 1 {
		t.Fatalf("customer registered %d times", len(reg))
	}
	if m := reg[0].Metadata; m.CausationID != conv.EventIDs[0] || m.Actor != process.LeadConversionActor || m.Tenant != "acme" {
		t.Errorf("customer metadata = %+v, want causation %s", m, conv.EventIDs[0])
	}

	// LeadConverted delivered again (a broker's redelivery): nothing new.
	converted := w.events(t, lead.StreamID(leadID), "LeadConverted")[0]
	if err := n.bus.Publisher().Publish(bus.EventTopicPrefix+lead.Category, bus.EventMessage(converted)); err != nil {
		t.Fatal(err)
	}
	// In-process publishing returns once handled.
	if got := len(w.events(t, customer.StreamID(custID), "CustomerRegistered")); got != 1 {
		t.Fatalf("customer registered %d times", got)
	}
	if got := len(w.events(t, opportunity.StreamID(oppID), "OpportunityOpened")); got != 1 {
		t.Fatalf("opportunity opened %d times", got)
	}
	for _, s := range []string{customer.StreamID(custID), opportunity.StreamID(oppID)} {
		if v, err := w.store.StreamVersion(ctx, s); err != nil || v != 1 {
			t.Fatalf("%s at version %d, %v", s, v, err)
		}
	}
}

func TestComplaintFollowUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, time.Now().UTC())
	n := w.start(t)

	cust := w.newCustomer(t)
	cmpID, ncID := uuid.New(), uuid.New()
	w.do(t, complaint.ReceiveComplaint{
		ComplaintID: cmpID, CustomerID: cust, Channel: servicecase.ChannelEmail, Description: "Pump arrived cracked",
		RemedySought: "Replacement", Severity: complaint.SeverityHigh, AcknowledgeWithin: sla.Target{Minutes: 120},
	})
	raised := w.do(t, complaint.RaiseNonconformityFromComplaint{ComplaintID: cmpID, NonconformityID: ncID})

	ncStream := nonconformity.StreamID(ncID)
	eventually(t, "the nonconformity to be raised", func() bool { return len(w.events(t, ncStream, "NonconformityRaised")) == 1 })
	var got nonconformity.NonconformityRaised
	e := w.events(t, ncStream, "NonconformityRaised")[0]
	decodeInto(t, e, &got)
	if got.Source != nonconformity.SourceComplaint || got.SourceID != cmpID || got.Severity != nonconformity.SeverityMajor ||
		got.CustomerID != cust || !strings.Contains(got.Description, "Pump arrived cracked") || !strings.Contains(got.Description, "Replacement") {
		t.Fatalf("NonconformityRaised = %+v", got)
	}
	if e.Metadata.CausationID != raised.EventIDs[0] || e.Metadata.Actor != process.ComplaintFollowUpActor || e.Metadata.Tenant != "acme" {
		t.Errorf("metadata = %+v, want causation %s", e.Metadata, raised.EventIDs[0])
	}

	// Redelivered: nothing new.
	ev := w.events(t, complaint.StreamID(cmpID), "NonconformityRaisedFromComplaint")[0]
	if err := n.bus.Publisher().Publish(bus.EventTopicPrefix+complaint.Category, bus.EventMessage(ev)); err != nil {
		t.Fatal(err)
	}
	if v, err := w.store.StreamVersion(ctx, ncStream); err != nil || v != 1 {
		t.Fatalf("%s at version %d, %v", ncStream, v, err)
	}
}

func TestNonconformitySeverity(t *testing.T) {
	for in, want := range map[complaint.Severity]nonconformity.Severity{
		complaint.SeverityLow: nonconformity.SeverityMinor, complaint.SeverityMedium: nonconformity.SeverityMinor,
		complaint.SeverityHigh: nonconformity.SeverityMajor, complaint.SeverityCritical: nonconformity.SeverityCritical,
	} {
		if got := process.NonconformitySeverity(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}
