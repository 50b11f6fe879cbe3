package app_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/contactinfo"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/config"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/privacy"
	"github.com/evcrm/evcrm/projections"
)

// The person's data, spread over customer, contact, consent, lead,
// interaction, case, complaint and feedback. None may survive erasure.
var personal = []string{
	"Erika Mustermann", "Mustermann", "erika.m@example.org", "+49 221 5550199", "DE811122233", "Heidestrasse 17", "Koeln-Porz",
	"Hans Kontakt", "hans.k@example.org", "signed form 0815", "Lead-Erika", "lead.erika@example.org", "call Erika after five",
	"Erika complained on the phone", "Erika wants a refund", "printer spits toner at Erika", "Erika loved the service",
	"Erika rang back",
}

func TestEraseCustomerLeavesNoPlaintextAnywhere(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	signer, verifier, err := audit.GenerateKey("evcrm-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.FromEnv()
	cfg.DatabaseURL = db.URL
	cfg.EventStore = "postgres"
	cfg.Bus = "inprocess"
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Privacy = config.Privacy{Key: privacy.NewMasterKeyText()}
	cfg.Audit.Key = signer
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if a.Privacy == nil {
		t.Fatal("privacy decorator not installed with a master key")
	}
	adminTok, _, err := a.Tokens.Create(ctx, "dpo.alice", auth.Admin, "acme", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	serviceTok, _, err := a.Tokens.Create(ctx, "agent.bob", auth.Service, "acme", time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	// Everything the bus carries, as carried.
	var busMu sync.Mutex
	var busMsgs []string
	var busErased bool
	for _, cat := range []string{"customer", "lead", "interaction", "case", "complaint", "feedback", "opportunity"} {
		if err := a.Bus.AddEventConsumer("test.capture."+cat, cat, func(_ context.Context, e domain.Event, env eventstore.RecordedEvent) error {
			busMu.Lock()
			defer busMu.Unlock()
			busMsgs = append(busMsgs, string(env.Data))
			if _, ok := e.(customer.CustomerErased); ok {
				busErased = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	select {
	case <-a.Bus.Running():
	case <-ctx.Done():
		t.Fatal("the bus never started")
	}

	custID, contactID, leadID, caseID, complaintID := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	md := commands.Metadata{Actor: "agent.bob", Role: string(auth.Service), Tenant: "acme"}
	send := func(cmd domain.Command) {
		t.Helper()
		if _, err := a.Dispatcher.Dispatch(ctx, cmd, md); err != nil {
			t.Fatalf("%s: %v", cmd.CommandType(), err)
		}
	}
	send(customer.RegisterCustomer{CustomerID: custID, Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Erika Mustermann",
		Emails: []string{"erika.m@example.org"}, Phones: []string{"+49 221 5550199"}, TaxID: "DE811122233",
		Address: contactinfo.Address{Lines: []string{"Heidestrasse 17"}, City: "Koeln-Porz", PostalCode: "51147", Country: "DE"}}, Segment: "retail"})
	send(customer.AddContactPerson{CustomerID: custID, ContactPerson: customer.ContactPerson{ContactID: contactID, Name: "Hans Kontakt",
		Emails: []string{"hans.k@example.org"}}})
	send(customer.GiveConsent{CustomerID: custID, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: "web_form", Evidence: "signed form 0815"})
	send(lead.CaptureLead{LeadID: leadID, Source: "web_form", Prospect: lead.Prospect{ContactName: "Lead-Erika", Email: "lead.erika@example.org"},
		Notes: "call Erika after five"})
	send(lead.QualifyLead{LeadID: leadID, Score: 80})
	oppID := uuid.New()
	send(lead.ConvertLead{LeadID: leadID, CustomerID: custID, ExistingCustomer: true, OpportunityID: oppID, OpportunityName: "Printer fleet",
		Amount: domain.Money{Amount: 100000, Currency: "EUR"}})
	send(interaction.LogInteraction{InteractionID: uuid.New(), Content: interaction.Content{CustomerID: custID, Channel: interaction.ChannelCall,
		Direction: interaction.Inbound, Subject: "Erika rang back", Summary: "Erika complained on the phone", OccurredAt: time.Now().UTC().Add(-time.Hour),
		Actor: "agent.bob", Participants: []interaction.Participant{{Kind: interaction.ParticipantContact, ContactID: contactID, Name: "Hans Kontakt", Address: "hans.k@example.org"}}}})
	send(servicecase.OpenCase{CaseID: caseID, CustomerID: custID, Queue: "support", Priority: servicecase.P3, Channel: servicecase.ChannelPhone,
		Subject: "printer spits toner at Erika", Description: "Erika Mustermann called"})
	send(complaint.ReceiveComplaint{ComplaintID: complaintID, CustomerID: custID, Channel: servicecase.ChannelPhone,
		Description: "Erika complained on the phone", RemedySought: "Erika wants a refund", Severity: complaint.SeverityMedium,
		AcknowledgeWithin: sla.Target{Minutes: 24 * 60}})
	csat := 5
	send(feedback.SubmitFeedback{FeedbackID: uuid.New(), CustomerID: custID, Method: feedback.MethodPhone, CSAT: &csat, Comment: "Erika loved the service"})

	get := func(tok, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	caughtUp := func() {
		t.Helper()
		head, err := a.Store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Projections.WaitFor(ctx, nil, head); err != nil {
			t.Fatal(err)
		}
		events := countEvents(t, ctx, a.StoredEvents)
		for {
			st, err := a.Audit.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size >= events {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("audit log at %d of %d events", st.Size, events)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	reports := []string{"/v1/quality/complaints", "/v1/service/metrics", "/v1/service/queues", "/v1/pipeline/summary",
		"/v1/analytics/funnel", "/v1/quality/report?from=2024-01-01&to=2028-01-01"}
	// The lead conversion (a process manager on the bus) opens the opportunity.
	for v := uint64(0); v == 0; {
		if v, err = a.Store.StreamVersion(ctx, "opportunity-"+oppID.String()); err != nil || ctx.Err() != nil {
			t.Fatalf("waiting for the opportunity: %v %v", err, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	caughtUp()
	// Before erasure the data is readable where it should be.
	if code, body := get(adminTok, "/v1/customers/"+custID.String()); code != 200 || !strings.Contains(body, "Erika Mustermann") {
		t.Fatalf("customer 360 before erasure: %d %s", code, body)
	}
	// Right of access: everything, decrypted, as JSON and as a document.
	exportPath := "/v1/customers/" + custID.String() + "/export"
	if code, body := get(adminTok, exportPath); code != 200 || !strings.Contains(body, "Erika Mustermann") || !strings.Contains(body, "signed form 0815") ||
		!strings.Contains(body, "call Erika after five") || !strings.Contains(body, "Erika loved the service") || !strings.Contains(body, "rm_customer_profiles") {
		t.Fatalf("export before erasure: %d %s", code, body)
	}
	if code, body := get(adminTok, exportPath+"?format=html"); code != 200 || !strings.Contains(body, "<h2>Consents</h2>") || !strings.Contains(body, "Erika complained on the phone") {
		t.Fatalf("html export: %d %s", code, body)
	}
	if code, _ := get(serviceTok, exportPath); code != http.StatusForbidden {
		t.Errorf("export by the service role: %d", code)
	}
	if code, _ := get(adminTok, "/v1/customers/"+uuid.NewString()+"/export"); code != http.StatusNotFound {
		t.Errorf("export of an unknown customer: %d", code)
	}
	before := map[string]string{}
	for _, r := range reports {
		code, body := get(adminTok, r)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", r, code, body)
		}
		before[r] = counts(t, body)
	}
	if _, err := a.Audit.Publish(ctx); err != nil {
		t.Fatal(err)
	}

	// Only an admin may erase.
	erase := func(tok string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/customers/"+custID.String()+"/erasure",
			strings.NewReader(`{"reason":"data subject request DSR-42","reference":"DSR-42"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := erase(serviceTok); code != http.StatusForbidden {
		t.Fatalf("erasure by the service role: %d %s", code, body)
	}
	if code, body := erase(adminTok); code >= 300 {
		t.Fatalf("erasure: %d %s", code, body)
	}
	caughtUp()
	deadline := time.Now().Add(30 * time.Second)
	for {
		busMu.Lock()
		ok := busErased
		busMu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bus never carried CustomerErased")
		}
		time.Sleep(50 * time.Millisecond)
	}
	caughtUp()

	// 1. Every table of the database (event store, read models of every
	// generation, keys, audit log, bus checkpoints...): no plaintext.
	scan := scanTables(t, ctx, db)
	if scan.tables < 10 {
		t.Fatalf("scanned only %d tables", scan.tables)
	}
	for table, text := range scan.text {
		assertErased(t, "table "+table, text)
	}
	// 2. The bus: every message as carried.
	busMu.Lock()
	if len(busMsgs) < 10 {
		t.Errorf("only %d bus messages", len(busMsgs))
	}
	assertErased(t, "the bus messages", strings.Join(busMsgs, "\n"))
	busMu.Unlock()
	// 3. The API: customer 360, timeline, streams.
	for _, p := range []string{"/v1/customers/" + custID.String(), "/v1/customers/" + custID.String() + "/timeline",
		"/v1/streams/customer-" + custID.String(), "/v1/streams/lead-" + leadID.String(), "/v1/streams/case-" + caseID.String(),
		"/v1/streams/complaint-" + complaintID.String(), exportPath, exportPath + "?format=html"} {
		code, body := get(adminTok, p)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", p, code, body)
		}
		assertErased(t, p, body)
	}
	if _, body := get(adminTok, exportPath); !strings.Contains(body, `"erased": true`) {
		t.Errorf("export after erasure does not say so: %s", body)
	}
	// The timeline shows the erasure and who ordered it.
	if _, body := get(adminTok, "/v1/customers/"+custID.String()+"/timeline"); !strings.Contains(body, "CustomerErased") || !strings.Contains(body, "dpo.alice") {
		t.Errorf("timeline does not show the erasure and its actor: %s", body)
	}
	// 4. Report counts unchanged.
	for _, r := range reports {
		if _, body := get(adminTok, r); counts(t, body) != before[r] {
			t.Errorf("report %s: counts changed:\nbefore %s\nafter  %s", r, before[r], counts(t, body))
		}
	}
	// 5. The audit log still verifies: its hashes cover the ciphertext, which erasure leaves alone.
	if _, err := a.Audit.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewVerifier(verifier)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := auditlog.Verify(ctx, a.Audit, a.StoredEvents, auditlog.VerifyOptions{Key: v})
	if err != nil {
		t.Fatalf("audit verification after erasure: %v", err)
	}
	if rep.Leaves != rep.Events || rep.Checkpoints < 2 {
		t.Errorf("audit report: %+v", rep)
	}
	// 6. Rebuilding every read model from the erased events gives the same rows.
	live := readModelRows(scanTables(t, ctx, db))
	for _, p := range a.Projections.Projections() {
		if err := a.Projections.Rebuild(ctx, p.Name(), projections.RebuildOptions{}); err != nil {
			t.Fatalf("rebuilding %s: %v", p.Name(), err)
		}
	}
	caughtUp()
	rebuilt := readModelRows(scanTables(t, ctx, db))
	if len(rebuilt) != len(live) {
		t.Errorf("read-model tables: %d live, %d rebuilt", len(live), len(rebuilt))
	}
	for table, rows := range live {
		if rebuilt[table] != rows {
			t.Errorf("%s differs after a rebuild:\nlive    %s\nrebuilt %s", table, rows, rebuilt[table])
		}
	}
}

// counts lists every number of a JSON report with its path, sorted.
func counts(t *testing.T, body string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("report: %v: %s", err, body)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case float64:
			out = append(out, fmt.Sprintf("%s=%v", path, x))
		}
	}
	walk("", v)
	slices.Sort(out)
	return strings.Join(out, " ")
}

// readModelRows keys the read-model tables' rows by table name (without
// the generation's schema), each table's rows sorted.
func readModelRows(scan tableScan) map[string]string {
	out := map[string]string{}
	for qualified, text := range scan.text {
		schema, table, _ := strings.Cut(qualified, ".")
		if !strings.Contains(schema, "__") || !strings.HasPrefix(table, "rm_") {
			continue
		}
		lines := strings.Split(text, "\n")
		slices.Sort(lines)
		out[table] = strings.Join(lines, "\n")
	}
	return out
}

func assertErased(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range personal {
		if strings.Contains(text, s) || strings.Contains(text, hex.EncodeToString([]byte(s))) {
			t.Errorf("%s still holds %q", where, s)
		}
	}
}

func countEvents(t *testing.T, ctx context.Context, s eventstore.Store) int64 {
	t.Helper()
	var n int64
	after := eventstore.Start
	for {
		page, err := s.ReadAll(ctx, eventstore.ReadAllOptions{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return n
		}
		n += int64(len(page))
		after = page[len(page)-1].Position
	}
}

type tableScan struct {
	tables int
	text   map[string]string
}

// scanTables reads every row of every table in the test's schemas (the
// read models' generations included) as text, bypassing row-level security.
func scanTables(t *testing.T, ctx context.Context, db *pgtest.DB) tableScan {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["evcrm.all_tenants"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT schemaname, tablename FROM pg_tables WHERE schemaname = $1 OR starts_with(schemaname, $1 || '__')`, db.Schema)
	if err != nil {
		t.Fatal(err)
	}
	type table struct{ schema, name string }
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var tb table
		return tb, r.Scan(&tb.schema, &tb.name)
	})
	if err != nil {
		t.Fatal(err)
	}
	out := tableScan{text: map[string]string{}}
	for _, tb := range tables {
		ident := pgx.Identifier{tb.schema, tb.name}.Sanitize()
		var text *string
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT string_agg(row_to_json(t)::text, E'\n') FROM %s t`, ident)).Scan(&text); err != nil {
			t.Fatalf("scanning %s: %v", ident, err)
		}
		out.tables++
		if text != nil {
			out.text[tb.schema+"."+tb.name] = *text
		}
	}
	names := slices.Collect(func(yield func(string) bool) {
		for k := range out.text {
			if !yield(k) {
				return
			}
		}
	})
	slices.Sort(names)
	t.Logf("scanned %d tables, %d with rows", out.tables, len(names))
	return out
}
