package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/campaign"
	"github.com/evcrm/evcrm/domain/complaint"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/domain/interaction"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/requirement"
	"github.com/evcrm/evcrm/domain/servicecase"
	"github.com/evcrm/evcrm/domain/sla"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
)

type projBenchOptions struct {
	events   int  // events in the log
	writers  int  // concurrent writers loading the log
	batch    int  // events per projection transaction
	samples  int  // query samples per query
	parallel bool // also rebuild every read model at once
	progress bool
	keep     bool // keep the scratch schema
}

func newBenchProjectionsCmd() *cobra.Command {
	o := projBenchOptions{progress: isTerminal(os.Stderr)}
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "Measure read-model rebuilds and query latency on a large log",
		Long: `In a scratch schema of --database-url (dropped at the end):

  load     write --events realistic domain events (customers, opportunities, cases,
           complaints, feedback, interactions, leads, campaigns) through the event store;
  rebuild  rebuild each read model from the whole log, one after the other (events/s,
           all events counted, handled or not), then all of them at once; the peak Go
           heap while rebuilding and the process's peak RSS;
  query    p50 and p99 latency of the pipeline summary, a service queue page, the
           opportunity list and a customer timeline page, over --samples runs each.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.events < 1 || o.writers < 1 || o.writers > 64 || o.samples < 1 || o.batch < 1 {
				return errors.New("--events, --writers (1..64), --samples and --batch-size must be positive")
			}
			return runProjectionsBench(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.events, "events", 1_000_000, "events in the log")
	f.IntVar(&o.writers, "writers", 8, "concurrent writers loading the log")
	f.IntVar(&o.batch, "batch-size", 1000, "events per projection transaction")
	f.IntVar(&o.samples, "samples", 300, "runs of each query")
	f.BoolVar(&o.parallel, "parallel", true, "also rebuild every read model at once")
	f.BoolVar(&o.progress, "progress", o.progress, "show progress bars (default: when stderr is a terminal)")
	f.BoolVar(&o.keep, "keep", false, "keep the scratch schema (its name is printed)")
	return cmd
}

func runProjectionsBench(ctx context.Context, out io.Writer, o projBenchOptions) error {
	admin, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer admin.Close()
	var id [4]byte
	_, _ = crand.Read(id[:])
	schema := "evcrm_benchp_" + hex.EncodeToString(id[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return fmt.Errorf("creating the scratch schema: %w", err)
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(out, "kept schema %s\n", schema)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// The read models' generation schemas are named after the scratch schema.
		_, err := admin.Exec(ctx, `DO $$DECLARE s text; BEGIN
			FOR s IN SELECT nspname FROM pg_namespace WHERE nspname = '`+schema+`' OR starts_with(nspname, '`+schema+`__') LOOP
				EXECUTE format('DROP SCHEMA %I CASCADE', s);
			END LOOP; END$$`)
		if err != nil {
			fmt.Fprintf(os.Stderr, "evcrm bench projections: dropping schema %s: %v\n", schema, err)
		}
	}()
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	pcfg.ConnConfig.RuntimeParams["search_path"] = schema
	pcfg.MaxConns = int32(o.writers + 8)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	store, err := postgres.New(ctx, pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		return err
	}
	defer store.Close()
	var pg string
	_ = pool.QueryRow(ctx, "SHOW server_version").Scan(&pg)
	fmt.Fprintf(out, "evcrm bench projections: PostgreSQL %s, Go %s, %d CPUs, schema %s\n", pg, runtime.Version(), runtime.NumCPU(), schema)

	start := time.Now()
	loaded, streams, err := loadBenchLog(ctx, store, o)
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE evcrm_events"); err != nil {
		return err
	}
	fmt.Fprintf(out, "loaded %d events in %d streams in %.1f s\n\n", loaded, streams, time.Since(start).Seconds())

	rt, err := projections.New(ctx, projections.Config{Pool: pool, Store: store, BatchSize: o.batch,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, readmodels.All()...)
	if err != nil {
		return err
	}
	defer rt.Close()
	heap := startHeapSampler()
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rebuild\tevents\tseconds\tevents/s\t")
	var total time.Duration
	for _, p := range rt.Projections() {
		el, n, err := benchRebuild(ctx, rt, p.Name(), int64(loaded), o)
		if err != nil {
			return err
		}
		total += el
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t\n", p.Name(), n, el.Seconds(), float64(n)/el.Seconds())
	}
	fmt.Fprintf(tw, "all, one after the other\t%d\t%.1f\t%.0f\t\n", loaded, total.Seconds(), float64(loaded)/total.Seconds())
	if o.parallel {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, len(rt.Projections()))
		for i, p := range rt.Projections() {
			wg.Go(func() { errs[i] = rt.Rebuild(ctx, p.Name(), projections.RebuildOptions{}) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		el := time.Since(start)
		fmt.Fprintf(tw, "all at once\t%d\t%.1f\t%.0f\t\n", loaded, el.Seconds(), float64(loaded)/el.Seconds())
	}
	tw.Flush()
	peakHeap := heap.stop()
	fmt.Fprintf(out, "peak Go heap while rebuilding: %.0f MiB; peak RSS of the process: %s\n\n", float64(peakHeap)/(1<<20), peakRSS())

	return benchQueries(ctx, out, pool, o)
}

// benchRebuild times one read model's rebuild.
func benchRebuild(ctx context.Context, rt *projections.Runtime, name string, total int64, o projBenchOptions) (time.Duration, int64, error) {
	bar := progressbar.NewOptions64(total, progressbar.OptionSetVisibility(o.progress), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("%-12s", "rebuild "+name)), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	defer bar.Close()
	var events int64
	start := time.Now()
	err := rt.Rebuild(ctx, name, projections.RebuildOptions{Progress: func(p projections.Progress) {
		events = p.Events
		_ = bar.Set64(p.Events)
	}})
	return time.Since(start), events, err
}

// benchTenant is the tenant of the benchmark's events.
const benchTenant = "bench"

// benchQueries measures query latency on the rebuilt read models.
func benchQueries(ctx context.Context, out io.Writer, pool *pgxpool.Pool, o projBenchOptions) error {
	q := queries.New(pool)
	ctx = tenant.WithContext(ctx, benchTenant)
	tx, err := pool.Begin(ctx) // the read models' row-level security shows the bench tenant's rows
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if err := projections.SetTenant(ctx, tx, benchTenant); err != nil {
		return err
	}
	var rows struct{ opps, open, cases, openCases, timeline int64 }
	err = tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_pipeline_opportunities),
		(SELECT count(*) FROM rm_pipeline_opportunities WHERE status = 'open'), (SELECT count(*) FROM rm_service_cases),
		(SELECT count(*) FROM rm_service_cases WHERE queue = 'support' AND status IN ('open', 'waiting_on_customer')),
		(SELECT count(*) FROM rm_customer_timeline)`).Scan(&rows.opps, &rows.open, &rows.cases, &rows.openCases, &rows.timeline)
	if err != nil {
		return err
	}
	var busy uuid.UUID
	if err := tx.QueryRow(ctx, `SELECT customer_id FROM rm_customer_timeline GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1`).
		Scan(&busy); err != nil {
		return err
	}
	_ = tx.Rollback(ctx)
	fmt.Fprintf(out, "read models: %d opportunities (%d open), %d cases (%d open in the support queue), %d timeline entries\n",
		rows.opps, rows.open, rows.cases, rows.openCases, rows.timeline)
	page, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Limit: 50})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\truns\tp50 ms\tp99 ms\t")
	for _, b := range []struct {
		name string
		run  func() error
	}{
		{"pipeline summary", func() error { _, err := q.PipelineSummary(ctx, queries.PipelineFilter{}); return err }},
		{"queue page (support, 50)", func() error {
			_, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Limit: 50})
			return err
		}},
		{"queue page 2 (keyset)", func() error {
			_, err := q.QueueCases(ctx, queries.QueueFilter{Queue: "support", Limit: 50, Cursor: page.Next})
			return err
		}},
		{"open opportunities (50)", func() error { _, err := q.Opportunities(ctx, queries.OpportunityFilter{Limit: 50}); return err }},
		{"busiest customer timeline (50)", func() error { _, err := q.Timeline(ctx, busy, queries.TimelineFilter{Limit: 50}); return err }},
		{"queue overview", func() error { _, err := q.Queues(ctx); return err }},
	} {
		for range 5 { // warm the caches and prepared statements
			if err := b.run(); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
		}
		lat := make([]time.Duration, o.samples)
		for i := range lat {
			t := time.Now()
			if err := b.run(); err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			lat[i] = time.Since(t)
		}
		slices.Sort(lat)
		p := func(x float64) float64 { return float64(lat[int(x*float64(len(lat)-1))].Microseconds()) / 1000 }
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t\n", b.name, len(lat), p(0.5), p(0.99))
	}
	return tw.Flush()
}

// heapSampler records the peak Go heap in use.
type heapSampler struct {
	peak atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.peak.Load() {
				h.peak.Store(ms.HeapInuse)
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	})
	return h
}

func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return h.peak.Load()
}

// peakRSS is the process's peak resident set size (Linux), or "n/a".
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
			}
		}
	}
	return "n/a"
}

// loadBenchLog writes about o.events events through the store, one
// aggregate's history per append, from o.writers writers.
func loadBenchLog(ctx context.Context, store eventstore.Store, o projBenchOptions) (events, streams int, err error) {
	bar := progressbar.NewOptions64(int64(o.events), progressbar.OptionSetVisibility(o.progress), progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("loading the log"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	defer bar.Close()
	type job struct {
		stream string
		events []eventstore.EventData
	}
	jobs := make(chan job, 4*o.writers)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range o.writers {
		wg.Go(func() {
			for j := range jobs {
				if _, err := store.Append(ctx, j.stream, eventstore.NoStream, j.events...); err != nil {
					cancel(err)
					return
				}
				_ = bar.Add(len(j.events))
			}
		})
	}
	g := newBenchGen(1)
	for events < o.events && ctx.Err() == nil {
		stream, evs := g.next()
		data := make([]eventstore.EventData, len(evs))
		for i, e := range evs {
			typ, ver, raw, err := domain.Events.Encode(e)
			if err != nil {
				close(jobs)
				wg.Wait()
				return 0, 0, err
			}
			data[i] = eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: ver, Data: raw,
				Metadata: eventstore.Metadata{Actor: "user:bench", ActorRole: "admin", Source: "bench", Tenant: benchTenant, OccurredAt: g.at}}
		}
		select {
		case jobs <- job{stream, data}:
		case <-ctx.Done():
		}
		events += len(evs)
		streams++
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return 0, 0, fmt.Errorf("loading the log: %w", err)
	}
	return events, streams, ctx.Err()
}

// benchGen makes plausible aggregate histories, deterministically.
type benchGen struct {
	rng       *rand.Rand
	t0        time.Time
	at        time.Time
	n         int
	customers []uuid.UUID
	campaigns []uuid.UUID
}

func newBenchGen(seed uint64) *benchGen {
	return &benchGen{rng: rand.New(rand.NewPCG(seed, 42)), t0: time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)}
}

func (g *benchGen) id() uuid.UUID {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b)
}

func (g *benchGen) later(maxHours int) time.Time {
	g.at = g.at.Add(time.Duration(1+g.rng.IntN(maxHours*60)) * time.Minute)
	return g.at
}

func (g *benchGen) customer() uuid.UUID {
	if len(g.customers) == 0 {
		return g.id()
	}
	return g.customers[g.rng.IntN(len(g.customers))]
}

func (g *benchGen) money() domain.Money {
	cur := []string{"EUR", "EUR", "EUR", "USD", "GBP"}[g.rng.IntN(5)]
	return domain.Money{Amount: int64(500+g.rng.IntN(100000)) * 100, Currency: cur}
}

var benchQueues = []string{"support", "billing", "returns", "technical"}

// next returns the stream and the events of one new aggregate.
func (g *benchGen) next() (string, []domain.Event) {
	g.n++
	g.at = g.t0.Add(time.Duration(g.rng.IntN(365*24*60)) * time.Minute)
	id := g.id()
	at := g.at
	switch k := g.rng.IntN(100); {
	case k < 8 || len(g.customers) < 50:
		g.customers = append(g.customers, id)
		evs := []domain.Event{customer.CustomerRegistered{CustomerID: id, OwnerID: fmt.Sprint("user:owner", g.rng.IntN(20)),
			Segment: []string{"enterprise", "smb", "public"}[g.rng.IntN(3)],
			Details: customer.Details{Kind: customer.KindOrganisation, DisplayName: fmt.Sprint("Customer ", g.n)}, At: at}}
		if g.rng.IntN(2) == 0 {
			evs = append(evs, customer.ConsentGiven{CustomerID: id, Purpose: "newsletter", Channel: customer.ChannelEmail, Source: "web", At: g.later(48)})
		}
		return customer.Category + "-" + id.String(), evs
	case k < 28:
		cust, amount := g.customer(), g.money()
		pl := opportunity.DefaultPipeline()
		evs := []domain.Event{opportunity.OpportunityOpened{OpportunityID: id, CustomerID: cust, Name: fmt.Sprint("Deal ", g.n), Pipeline: pl,
			Stage: pl.Stages[0].Name, Probability: pl.Stages[0].Probability, Amount: amount, OwnerID: fmt.Sprint("user:sales", g.rng.IntN(15)),
			ExpectedClose: at.Truncate(24*time.Hour).AddDate(0, 1+g.rng.IntN(6), 0), At: at}}
		stage := 0
		for s := g.rng.IntN(4); s > 0 && stage < len(pl.Stages)-1; s-- {
			evs = append(evs, opportunity.OpportunityStageChanged{OpportunityID: id, CustomerID: cust, From: pl.Stages[stage].Name,
				To: pl.Stages[stage+1].Name, Probability: pl.Stages[stage+1].Probability, Amount: amount, At: g.later(240)})
			stage++
		}
		switch r := g.rng.IntN(100); {
		case r < 40:
			evs = append(evs,
				opportunity.RequirementsCaptured{OpportunityID: id, CustomerID: cust, Revision: 1, At: g.later(48),
					Items: []requirement.Item{{Ref: "R1", Description: "as quoted", Kind: requirement.KindCustomer}}},
				opportunity.RequirementsReviewed{OpportunityID: id, CustomerID: cust, Revision: 1, Reviewer: "user:quality",
					Result: requirement.Approved, At: g.later(48)},
				opportunity.OpportunityWon{OpportunityID: id, CustomerID: cust, Amount: amount, Stage: pl.Stages[stage].Name,
					RequirementsRevision: 1, At: g.later(240)})
		case r < 65:
			evs = append(evs, opportunity.OpportunityLost{OpportunityID: id, CustomerID: cust, Amount: amount, Stage: pl.Stages[stage].Name,
				Reason: "price", At: g.later(240)})
		}
		return opportunity.Category + "-" + id.String(), evs
	case k < 58:
		cust := g.customer()
		pri := servicecase.Priorities[g.rng.IntN(4)]
		first := map[servicecase.Priority]int{servicecase.P1: 60, servicecase.P2: 120, servicecase.P3: 240, servicecase.P4: 480}[pri]
		evs := []domain.Event{servicecase.CaseOpened{CaseID: id, CustomerID: cust, Queue: benchQueues[g.rng.IntN(len(benchQueues))],
			Priority: pri, Channel: servicecase.ChannelEmail, Subject: fmt.Sprint("Case ", g.n), OpenedAt: at,
			SLA:              &servicecase.SLATerms{Policy: "standard", FirstResponseMinutes: first, ResolutionMinutes: first * 12},
			FirstResponseDue: at.Add(time.Duration(first) * time.Minute), ResolutionDue: at.Add(time.Duration(first*12) * time.Minute)}}
		agent := fmt.Sprint("user:agent", g.rng.IntN(40))
		if g.rng.IntN(10) < 9 {
			evs = append(evs, servicecase.CaseAssigned{CaseID: id, AgentID: agent, Queue: "", AssignedAt: g.later(2)})
			if g.rng.IntN(10) < 8 {
				resp := g.later(4)
				evs = append(evs, servicecase.CaseFirstResponseGiven{CaseID: id, AgentID: agent, RespondedAt: resp,
					Due: at.Add(time.Duration(first) * time.Minute), Met: !resp.After(at.Add(time.Duration(first) * time.Minute))})
				if g.rng.IntN(10) < 7 {
					res := g.later(72)
					due := at.Add(time.Duration(first*12) * time.Minute)
					evs = append(evs, servicecase.CaseResolved{CaseID: id, Resolution: "fixed", ResolvedAt: res, ResolutionDue: due,
						ResolutionMet: !res.After(due)})
					if g.rng.IntN(10) < 8 {
						evs = append(evs, servicecase.CaseClosed{CaseID: id, ClosedAt: g.later(96)})
					}
				}
			}
		}
		return servicecase.Category + "-" + id.String(), evs
	case k < 66:
		cust := g.customer()
		ref := fmt.Sprintf("CMP-%d-%06d", at.Year(), g.n%1000000)
		due := at.Add(8 * time.Hour)
		evs := []domain.Event{complaint.ComplaintReceived{ComplaintID: id, Reference: ref, CustomerID: cust, Channel: servicecase.ChannelPhone,
			Description: "late delivery", Severity: complaint.SeverityMedium, ReceivedAt: at, AcknowledgementTarget: sla.Target{Minutes: 480},
			AcknowledgementDue: due}}
		if g.rng.IntN(10) < 9 {
			ack := g.later(10)
			evs = append(evs, complaint.ComplaintAcknowledged{ComplaintID: id, AcknowledgedAt: ack, Due: due, OnTime: !ack.After(due)})
			if g.rng.IntN(10) < 7 {
				evs = append(evs, complaint.ComplaintResponded{ComplaintID: id, Outcome: complaint.OutcomeUpheld, Decision: "refund", RespondedAt: g.later(72)})
				if g.rng.IntN(10) < 8 {
					evs = append(evs, complaint.ComplaintClosed{ComplaintID: id, Reference: ref, CustomerSatisfied: g.rng.IntN(4) > 0,
						ReceivedAt: at, ClosedAt: g.later(48)})
				}
			}
		}
		return complaint.Category + "-" + id.String(), evs
	case k < 76:
		csat, nps := 1+g.rng.IntN(5), g.rng.IntN(11)
		return feedback.Category + "-" + id.String(), []domain.Event{feedback.FeedbackSubmitted{FeedbackID: id, CustomerID: g.customer(),
			Method: feedback.MethodSurvey, CSAT: &csat, NPS: &nps, SubmittedAt: at}}
	case k < 91:
		return interaction.Category + "-" + id.String(), []domain.Event{interaction.InteractionLogged{InteractionID: id, At: at,
			Content: interaction.Content{CustomerID: g.customer(), Channel: interaction.ChannelCall, Direction: interaction.Outbound,
				Subject: fmt.Sprint("Call ", g.n), OccurredAt: at, Actor: "user:bench"}}}
	case k < 99 && len(g.campaigns) > 0:
		camp := g.campaigns[g.rng.IntN(len(g.campaigns))]
		evs := []domain.Event{lead.LeadCaptured{LeadID: id, Source: "campaign", CampaignID: camp, At: at}}
		if g.rng.IntN(10) < 6 {
			evs = append(evs, lead.LeadQualified{LeadID: id, Score: g.rng.IntN(100), At: g.later(48)})
			if g.rng.IntN(2) == 0 {
				evs = append(evs, lead.LeadConverted{LeadID: id, CustomerID: g.customer(), ExistingCustomer: true, OpportunityID: g.id(),
					OpportunityName: "From lead", Amount: g.money(), Source: "campaign", CampaignID: camp, At: g.later(48)})
			}
		}
		return lead.Category + "-" + id.String(), evs
	default:
		g.campaigns = append(g.campaigns, id)
		return campaign.Category + "-" + id.String(), []domain.Event{
			campaign.CampaignPlanned{CampaignID: id, Name: fmt.Sprint("Campaign ", g.n), Channel: campaign.ChannelEmail, Budget: g.money(), At: at},
			campaign.CampaignLaunched{CampaignID: id, At: g.later(72)},
		}
	}
}

func init() { benchSubcommands = append(benchSubcommands, newBenchProjectionsCmd) }
