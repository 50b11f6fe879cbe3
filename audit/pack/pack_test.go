package pack_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/audit/pack"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/demo"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
)

// fixture: the demo history loaded, read models caught up, the log built
// and a key to sign with.
type fixture struct {
	src     pack.Source
	q       *queries.Queries
	period  queries.Period
	tenant  string
	vkey    string
	first   []byte // a checkpoint signed before the last events
	zipData []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	for _, m := range []func(context.Context) error{
		func(ctx context.Context) error { return postgres.Migrate(ctx, db.Pool) },
		func(ctx context.Context) error { return apistore.Migrate(ctx, db.Pool, nil) },
		func(ctx context.Context) error { return auditlog.Migrate(ctx, db.Pool) },
	} {
		if err := m(ctx); err != nil {
			t.Fatal(err)
		}
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
	end := time.Now().UTC().Truncate(time.Minute)
	steps, err := demo.Plan(demo.Config{Customers: 50, Seed: 7, End: end, Span: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := demo.Load(ctx, steps, demo.Direct{Dispatcher: d, Tenant: "acme"}, nil); err != nil || len(rep.Refused) != 0 {
		t.Fatalf("loading the demo: %v %v", err, rep.Refused)
	}
	skey, vkey, err := audit.GenerateKey("audit.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := audit.LoadKey("", skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Config{Pool: db.Pool, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: db.Pool, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := l.Publish(ctx)
	if err != nil {
		t.Fatal(err)
	}

	rt, err := projections.New(ctx, projections.Config{Pool: db.Pool, Store: store, Logger: slog.New(slog.DiscardHandler),
		PollInterval: 20 * time.Millisecond}, readmodels.All()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	if err := rt.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, nil, head); err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		q:      queries.New(db.Pool),
		period: queries.Period{From: end.Add(-100 * 24 * time.Hour), To: end.Add(time.Hour)},
		tenant: "acme",
		vkey:   vkey,
		first:  first.Note,
	}
	f.src = pack.Source{Log: l, Queries: f.q, PublicKey: vkey}
	return f
}

func (f *fixture) write(t *testing.T, previous []byte) (pack.Summary, []byte) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := pack.Write(context.Background(), &buf, f.src, pack.Options{Tenant: f.tenant, Period: f.period, Previous: previous})
	if err != nil {
		t.Fatal(err)
	}
	return sum, buf.Bytes()
}

func (f *fixture) verify(t *testing.T, data []byte, vkey string) (pack.Summary, error) {
	t.Helper()
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return pack.Verify(bytes.NewReader(data), int64(len(data)), v)
}

// rewrite returns the pack with its files changed by edit (which may
// delete or add entries).
func rewrite(t *testing.T, data []byte, edit func(files map[string][]byte)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[zf.Name] = b
		names = append(names, zf.Name)
	}
	edit(files)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, _ := zw.Create(name)
		_, _ = w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func csvOf(t *testing.T, data []byte, name string) [][]string {
	t.Helper()
	var rows [][]string
	rewrite(t, data, func(files map[string][]byte) {
		var err error
		if rows, err = csv.NewReader(bytes.NewReader(files[name])).ReadAll(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	})
	return rows
}

func TestPackOfTheDemo(t *testing.T) {
	f := newFixture(t)
	sum, data := f.write(t, f.first)
	if sum.Events < 100 || sum.Previous == 0 || sum.Files < 12 {
		t.Fatalf("summary %+v", sum)
	}
	got, err := f.verify(t, data, f.vkey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != sum.Events || got.Backdated != sum.Backdated || got.TreeSize != sum.TreeSize || got.Previous != sum.Previous {
		t.Fatalf("verified %+v, written %+v", got, sum)
	}

	// The report's figures are the read models' for the period.
	ctx := tenant.WithContext(context.Background(), f.tenant)
	want, err := f.q.QualityReport(ctx, f.period)
	if err != nil {
		t.Fatal(err)
	}
	if want.Complaints.Received < 2 || len(want.Satisfaction) == 0 || len(want.Nonconformities) == 0 {
		t.Fatalf("the demo period has too little to compare: %+v", want)
	}
	summary := map[string]string{}
	for _, r := range csvOf(t, data, "report/summary.csv") {
		summary[r[0]] = r[1]
	}
	for k, v := range map[string]int64{
		"complaints_received": want.Complaints.Received, "complaints_closed": want.Complaints.Closed,
		"complaints_acknowledged": want.Complaints.Acknowledged, "complaints_with_nonconformity": want.Complaints.WithNonconformity,
		"nonconformities": int64(len(want.Nonconformities)), "won_opportunities": want.Reviews.Opportunities,
		"confirmed_orders": want.Reviews.Orders, "events_recorded": int64(sum.Events), "backdated_facts": int64(sum.Backdated),
	} {
		if summary[k] != strconv.FormatInt(v, 10) {
			t.Errorf("summary %s = %q, read models say %d", k, summary[k], v)
		}
	}
	if n := len(csvOf(t, data, "report/complaints.csv")) - 1; int64(n) != want.Complaints.Received {
		t.Errorf("complaint register of %d rows, %d received", n, want.Complaints.Received)
	}
	sat := csvOf(t, data, "report/satisfaction.csv")
	if len(sat)-1 != len(want.Satisfaction) {
		t.Fatalf("satisfaction rows %d, read models %d", len(sat)-1, len(want.Satisfaction))
	}
	for i, s := range want.Satisfaction {
		r := sat[i+1]
		if r[0] != s.Month || r[1] != s.Segment || r[2] != strconv.FormatInt(s.CSATAnswers, 10) || (s.NPS != nil && r[8] != strconv.FormatFloat(*s.NPS, 'f', -1, 64)) {
			t.Errorf("satisfaction row %v, read model %+v", r, s)
		}
	}
	svc, err := f.q.ServiceMetrics(ctx, "", f.period)
	if err != nil {
		t.Fatal(err)
	}
	if sla := csvOf(t, data, "report/sla.csv"); len(sla)-1 != len(svc.Months) {
		t.Errorf("sla rows %d, read models %d months", len(sla)-1, len(svc.Months))
	}
	var pdf []byte
	rewrite(t, data, func(files map[string][]byte) { pdf = files[pack.ReportPDFFile] })
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 2000 {
		t.Errorf("report PDF of %d bytes", len(pdf))
	}

	// Tampering is detected, each with its own message.
	other, _, err := audit.GenerateKey("audit.test/log")
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, otherV, err := audit.LoadKey("", other)
	if err != nil {
		t.Fatal(err)
	}
	_ = otherSigner
	for name, tc := range map[string]struct {
		data []byte
		key  string
		want string
	}{
		"EditedEventLine": {rewrite(t, data, func(files map[string][]byte) {
			files[pack.EventsFile] = bytes.Replace(files[pack.EventsFile], []byte(`\"version\":1`), []byte(`\"version\":9`), 1)
		}), f.vkey, "events.jsonl: changed"},
		"EditedReport": {rewrite(t, data, func(files map[string][]byte) {
			files["report/summary.csv"] = bytes.Replace(files["report/summary.csv"], []byte("complaints_received,"), []byte("complaints_received,1"), 1)
		}), f.vkey, "report/summary.csv: changed"},
		"MissingFile": {rewrite(t, data, func(files map[string][]byte) { delete(files, pack.ReportPDFFile) }), f.vkey,
			"report/quality-report.pdf: missing"},
		"AddedFile":  {rewrite(t, data, func(files map[string][]byte) { files["report/extra.csv"] = []byte("x\n") }), f.vkey, "report/extra.csv: not listed"},
		"WrongKey":   {data, otherV, "manifest.txt: signature does not verify"},
		"NoManifest": {rewrite(t, data, func(files map[string][]byte) { delete(files, pack.ManifestFile) }), f.vkey, "manifest.txt: missing"},
		"NotAZip":    {[]byte("PK nothing"), f.vkey, "not a zip file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.verify(t, tc.data, tc.key)
			var p *pack.Problem
			if !errors.As(err, &p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify: %v, want %q", err, tc.want)
			}
		})
	}
}
