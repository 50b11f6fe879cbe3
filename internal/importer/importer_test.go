package importer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/importer"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/tenant"
)

type bundle struct {
	store eventstore.Store
	d     *commands.Dispatcher
}

func setup(t *testing.T) bundle {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	d, err := commands.NewDispatcher(store, commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
		t.Fatal(err)
	}
	return bundle{store: store, d: d}
}

func (b bundle) cfg(tenant string, role auth.Role) importer.Config {
	return importer.Config{Dispatcher: b.d, Catalogues: b.d.Catalogues(), Tenant: tenant, Actor: "importer-test", Role: role}
}

func (b bundle) head(t *testing.T) eventstore.Position {
	t.Helper()
	h, err := b.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// CustomersCSV generates n customer rows; bad(i) rows are broken on purpose.
func customersCSV(n int, bad func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString("external_id,kind,display_name,emails,phones,city,country,segment,created_at\r\n")
	created := time.Now().UTC().AddDate(0, -3, 0).Format("2006-01-02")
	for i := range n {
		if bad != nil {
			if row := bad(i); row != "" {
				b.WriteString(row + "\r\n")
				continue
			}
		}
		fmt.Fprintf(&b, "C%05d,organisation,\"Customer %d, Ltd\",c%d@example.org;sales%d@example.org,+44 20 7946 %04d,London,gb,smb,%s\r\n",
			i, i, i, i, i%10000, created)
	}
	return b.Bytes()
}

// rows is the size of TestManyCustomers's file: 2,000 in CI (about 15 s
// under -race); EVCRM_TEST_IMPORT_ROWS=10000 runs the 10,000.
func rows(t *testing.T) int {
	n, err := strconv.Atoi(os.Getenv("EVCRM_TEST_IMPORT_ROWS"))
	if err != nil || n < 20 {
		return 2_000
	}
	return n
}

// TestManyCustomers: a file of thousands of customers imports in one run,
// with its bad rows refused and reported while the rest go in; a second run
// adds nothing.
func TestManyCustomers(t *testing.T) {
	t.Parallel()
	n := rows(t)
	ctx := context.Background()
	b := setup(t)
	old := time.Now().UTC().AddDate(-3, 0, 0).Format(time.RFC3339)
	badRows := []int{17, n * 42 / 100, n / 2, n * 77 / 100, n - 2}
	bad := func(i int) string {
		switch i {
		case badRows[0]:
			return fmt.Sprintf("C%05d,organisation,,,,,,,", i) // no display_name
		case badRows[1]:
			return fmt.Sprintf("C%05d,alien,Zork,,,,,,", i) // unknown kind
		case badRows[2]:
			return fmt.Sprintf("C%05d,organisation,Too Old,,,,,,%s", i, old) // outside the backdating window
		case badRows[3]:
			return fmt.Sprintf("C%05d,organisation,Short Row", i)
		case badRows[4]:
			return "C00001,organisation,Duplicate,,,,,," // external_id of row 2
		}
		return ""
	}
	data := customersCSV(n, bad)
	var progressed int
	start := time.Now()
	cfg := b.cfg("acme", auth.Admin)
	cfg.Progress = func(p importer.Progress) { progressed = p.Rows }
	rep, err := importer.Run(ctx, cfg, importer.Customers, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %v, %d rows, %d imported, %d refused", time.Since(start), rep.Rows, rep.Imported, len(rep.Refused))
	if rep.Rows != n || rep.Imported != n-5 || len(rep.Refused) != 5 || rep.Events != n-5 || progressed != n {
		t.Fatalf("report %+v (refused %v), progress %d", rep, rep.Refused, progressed)
	}
	codes := []string{"validation_failed", "validation_failed", "occurred_at_outside_window", "wrong_field_count", "duplicate_external_id"}
	for i, code := range codes {
		got := rep.Refused[i]
		if got.Row != badRows[i]+1 || got.Code != code || got.Line != badRows[i]+2 || got.Message == "" {
			t.Errorf("refusal %d: %+v, want row %d code %s", i, got, badRows[i]+1, code)
		}
	}
	// The record has its derived ID, the row's date and the tenant.
	id := importer.RecordID("acme", importer.Customers, "C00042")
	evs, err := b.store.ReadStream(ctx, customer.StreamID(id), eventstore.ReadStreamOptions{Direction: eventstore.Forwards, From: 1, Limit: 10})
	if err != nil || len(evs) != 1 {
		t.Fatalf("customer C00042: %d events, %v", len(evs), err)
	}
	if m := evs[0].Metadata; m.Tenant != "acme" || m.Actor != "importer-test" || m.Source != "evcrm-import" ||
		time.Since(m.OccurredAt) < 80*24*time.Hour || m.Extra["import_external_id"] != "C00042" {
		t.Errorf("metadata %+v", m)
	}

	head := b.head(t)
	again, err := importer.Run(ctx, b.cfg("acme", auth.Admin), importer.Customers, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if again.Imported != 0 || again.Unchanged != n-5 || len(again.Refused) != 5 || again.Events != 0 {
		t.Fatalf("second run: %+v", again)
	}
	if h := b.head(t); h != head {
		t.Fatalf("the second run wrote events: head %s → %s", head, h)
	}
}

func TestResumeAndTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	data := customersCSV(300, nil)
	// An interrupted run: the checkpoint says how far it got.
	cctx, cancel := context.WithCancel(ctx)
	var done int
	cfg := b.cfg("t1", auth.Sales)
	cfg.CheckpointEvery = 10
	cfg.Checkpoint = func(n int, _ []importer.Refusal) {
		done = n
		if n >= 100 {
			cancel()
		}
	}
	if _, err := importer.Run(cctx, cfg, importer.Customers, bytes.NewReader(data)); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if done < 100 {
		t.Fatalf("checkpoint at %d", done)
	}
	cfg = b.cfg("t1", auth.Sales)
	cfg.Skip = done
	rep, err := importer.Run(ctx, cfg, importer.Customers, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != done || rep.Imported+rep.Unchanged != 300-done || len(rep.Refused) != 0 {
		t.Fatalf("resumed: %+v (checkpoint %d)", rep, done)
	}
	// The same file in another tenant makes other records.
	rep, err = importer.Run(ctx, b.cfg("t2", auth.Admin), importer.Customers, bytes.NewReader(data))
	if err != nil || rep.Imported != 300 {
		t.Fatalf("tenant t2: %+v %v", rep, err)
	}
	if importer.RecordID("t1", importer.Customers, "C00001") == importer.RecordID("t2", importer.Customers, "C00001") {
		t.Fatal("two tenants share a record ID")
	}
}

func TestCasesRefersToCustomersOfTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	if _, err := importer.Run(ctx, b.cfg("t1", auth.Admin), importer.Customers, bytes.NewReader(customersCSV(3, nil))); err != nil {
		t.Fatal(err)
	}
	day := func(d int) string { return time.Now().UTC().AddDate(0, 0, -d).Format(time.RFC3339) }
	cases := "external_id,customer_external_id,subject,priority,channel,created_at,resolved_at,resolution,closed_at\n" +
		"K1,C00001,Printer jams,P2,email," + day(30) + "," + day(29) + ",Replaced the roller," + day(28) + "\n" +
		"K2,C00002,Still open,,phone," + day(10) + ",,,\n" +
		"K3,NOPE,Unknown customer,,web,,,,\n" +
		"K4,C00001,Closed without resolution,,web,," + ",," + day(1) + "\n" +
		"K5,C00001,Resolved before opened,,web," + day(5) + "," + day(6) + ",Fixed,\n"
	rep, err := importer.Run(ctx, b.cfg("t1", auth.Service), importer.Cases, strings.NewReader(cases))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 2 || len(rep.Refused) != 3 {
		t.Fatalf("%+v", rep)
	}
	codes := []string{rep.Refused[0].Code, rep.Refused[1].Code, rep.Refused[2].Code}
	if codes[0] != "unknown_reference" || rep.Refused[0].Field != "customer_id" || codes[1] != "validation_failed" || rep.Refused[1].Field != "closed_at" ||
		codes[2] != "occurred_at_before_previous_fact" {
		t.Errorf("refusals %+v", rep.Refused)
	}
	st, _, err := commands.Load[servicecase.State](tenant.WithContext(ctx, "t1"), b.store, nil, servicecase.StreamID(importer.RecordID("t1", importer.Cases, "K1")))
	if err != nil || st.Status() != servicecase.StatusClosed {
		t.Fatalf("case K1: %v %v", st.Status(), err)
	}
	// Another tenant's customer with the same external ID is not found.
	rep, err = importer.Run(ctx, b.cfg("t2", auth.Admin), importer.Cases, strings.NewReader("external_id,customer_external_id,subject,channel\nK1,C00001,x,chat\n"))
	if err != nil || len(rep.Refused) != 1 || rep.Refused[0].Code != "unknown_reference" {
		t.Fatalf("tenant t2: %+v %v", rep, err)
	}
	// A role that may not open cases cannot import them.
	if _, err := importer.Run(ctx, b.cfg("t1", auth.Marketing), importer.Cases, strings.NewReader(cases)); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("marketing imported cases: %v", err)
	}
}

func TestHostileFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	run := func(t *testing.T, data string) (importer.Report, error) {
		t.Helper()
		cfg := b.cfg("h", auth.Admin)
		cfg.MaxRecordBytes = 64 << 10
		return importer.Run(ctx, cfg, importer.Customers, strings.NewReader(data))
	}
	fileErr := func(t *testing.T, data, code string) {
		t.Helper()
		_, err := run(t, data)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != code {
			t.Fatalf("got %v, want %s", err, code)
		}
	}
	t.Run("Empty", func(t *testing.T) { fileErr(t, "", "empty_file") })
	t.Run("WrongColumns", func(t *testing.T) { fileErr(t, "id,name\n1,x\n", "wrong_columns") })
	t.Run("MissingRequired", func(t *testing.T) { fileErr(t, "external_id,city\n1,x\n", "wrong_columns") })
	t.Run("DuplicateColumn", func(t *testing.T) { fileErr(t, "external_id,display_name,display_name\n1,x,y\n", "wrong_columns") })
	t.Run("NULInHeader", func(t *testing.T) { fileErr(t, "external_id,display\x00_name\n1,x\n", "wrong_columns") })
	t.Run("HugeHeader", func(t *testing.T) { fileErr(t, strings.Repeat("x", 1<<20)+"\n", "record_too_large") })
	t.Run("BOMAndCRLF", func(t *testing.T) {
		rep, err := run(t, "\xef\xbb\xbfExternal_ID,Display_Name\r\nB1,Bom Ltd\r\nB2,\"Multi\r\nLine\"\r\n")
		if err != nil || rep.Imported != 1 || len(rep.Refused) != 1 || rep.Refused[0].Field != "display_name" {
			t.Fatalf("%+v %v", rep, err)
		}
	})
	t.Run("BadRowsDoNotStopTheRest", func(t *testing.T) {
		rep, err := run(t, "external_id,display_name\n"+
			"N1,Nul\x00Byte\n"+
			"N2,\xff\xfe invalid utf8\n"+
			"N3,"+strings.Repeat("y", importer.MaxFieldChars+1)+"\n"+
			"N4,Fine\n"+
			"N5,\"unterminated\n"+
			"N6,Swallowed by the quote\n")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Imported != 1 || len(rep.Refused) != 4 || rep.Refused[3].Code != "malformed_csv" {
			t.Fatalf("%+v", rep)
		}
		for _, r := range rep.Refused {
			if r.Code == "" || r.Message == "" {
				t.Errorf("refusal without a reason: %+v", r)
			}
		}
	})
	t.Run("HugeRecordStops", func(t *testing.T) {
		rep, err := run(t, "external_id,display_name\nH1,Before\nH2,"+strings.Repeat("z", 200<<10)+"\nH3,After\n")
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != "record_too_large" || rep.Imported != 1 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}
