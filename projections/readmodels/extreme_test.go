package readmodels_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/operations"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/projectiontest"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

// extremes mutates commands: each field, with probability 1/3, takes one
// of the extreme values the domain still accepts (or may refuse: refused
// commands are dropped, as a user's would be).
type extremes struct{ rng *rand.Rand }

var (
	extremeStrings = []string{
		strings.Repeat("é", 200), strings.Repeat("𝄞", 200), strings.Repeat("x", 2000), strings.Repeat("ß\n", 10000),
		"\u2028\u2029", "\uFFFD\uFEFF", "\U0010FFFF", "'; DROP TABLE x; --", `\"\\`, "a\tb", "  padded  ", "ﷺ", "\u202Eevil",
	}
	extremeInts  = []int64{0, 1, -1, 100, 101, 527040, domain.MaxCount, -domain.MaxCount, 1_000_000_000}
	extremeMoney = []int64{0, 1, domain.MaxAmountMinor, domain.MaxAmountMinor - 1, -domain.MaxAmountMinor}
	extremeTimes = []time.Time{domain.EarliestTime, domain.LatestTime, domain.LatestTime.Truncate(24 * time.Hour),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC)}
)

func (x extremes) mutate(cmd domain.Command) domain.Command {
	v := reflect.New(reflect.TypeOf(cmd)).Elem()
	v.Set(reflect.ValueOf(cmd))
	x.walk(v, 0)
	return v.Interface().(domain.Command)
}

func (x extremes) walk(v reflect.Value, depth int) {
	if depth > 8 || !v.CanSet() && v.Kind() != reflect.Struct {
		return
	}
	hit := func() bool { return x.rng.IntN(3) == 0 }
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		if hit() {
			v.Set(reflect.ValueOf(extremeTimes[x.rng.IntN(len(extremeTimes))]))
		}
		return
	case reflect.TypeFor[domain.Money]():
		if hit() {
			v.Field(0).SetInt(extremeMoney[x.rng.IntN(len(extremeMoney))])
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		if hit() && v.Len() > 0 { // leave empty (absent) fields alone
			v.SetString(extremeStrings[x.rng.IntN(len(extremeStrings))])
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		if hit() {
			v.SetInt(extremeInts[x.rng.IntN(len(extremeInts))])
		}
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			x.walk(c.Elem(), depth+1)
			v.Set(c)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			x.walk(c.Index(i), depth+1)
		}
		v.Set(c)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				x.walk(v.Field(i), depth+1)
			}
		}
	}
}

// TestExtremeValuesProject is the bounds' property test: random histories
// whose commands carry extreme values (longest texts, astral and odd
// characters, the largest amounts and counts, the earliest and latest
// times and occurred-ats) go through the real command path into the
// PostgreSQL event store, and every read model must apply every event the
// domain accepted: a read model that fails on an event never catches up.
func TestExtremeValuesProject(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)

	start := time.Now().UTC().AddDate(0, -6, 0)
	s := projectiontest.NewScenario(t, store, start)
	d, err := commands.NewDispatcher(store, commands.Config{Clock: func() time.Time { return s.Now }, MaxBackdate: 200 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
		t.Fatal(err)
	}
	x := extremes{rng: rand.New(rand.NewPCG(seed, 12))}
	accepted := map[string]int{}
	s.Mutate = x.mutate
	s.Via = func(ctx context.Context, cmd domain.Command, now time.Time) (int, eventstore.Position, error) {
		at := now
		if rng.IntN(8) == 0 {
			at = domain.EarliestTime
		}
		res, err := d.Dispatch(ctx, cmd, commands.Metadata{Actor: s.Actor, Role: s.Role, Source: "test", Tenant: "t", OccurredAt: at})
		if err != nil {
			if domain.KindOf(err) == domain.KindInternal {
				t.Fatalf("%s: internal error (want a domain refusal or success): %v", cmd.CommandType(), err)
			}
			return 0, res.Position, err
		}
		if len(res.EventIDs) > 0 {
			accepted[cmd.CommandType()]++
		}
		return len(res.EventIDs), res.Position, nil
	}
	gen := projectiontest.NewRandomHistory(s, rng)
	gen.Run(600)
	if gen.Accepted < 100 {
		t.Fatalf("only %d commands accepted", gen.Accepted)
	}
	t.Logf("%d commands accepted: %v", gen.Accepted, accepted)

	rt := newRuntime(t, db, store, projections.Config{})
	catchUp(t, rt, s.Last())
	st, err := rt.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st {
		if p.LastError != "" {
			t.Errorf("%s: %s", p.Name, p.LastError)
		}
	}
	if len(st) != len(readmodels.All()) {
		t.Fatalf("%d read models, want %d", len(st), len(readmodels.All()))
	}
}

// TestSumsPassInt64 pins numeric sums: amounts recorded before amounts
// were bounded (two of 5e18, as an older release accepted) still project,
// and the pipeline summary reports their exact sum, past int64.
func TestSumsPassInt64(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := memory.New()
	t.Cleanup(store.Close)
	s := projectiontest.NewScenario(t, store, projectiontest.FixtureStart)
	for i := range 2 {
		id := projectiontest.ID("huge-" + strconv.Itoa(i))
		e := opportunity.OpportunityOpened{OpportunityID: id, CustomerID: projectiontest.ID("c"), Name: "huge",
			Pipeline: opportunity.DefaultPipeline(), Stage: opportunity.DefaultPipeline().Stages[0].Name, Probability: 10,
			Amount: domain.Money{Amount: 5e18, Currency: "EUR"}, At: s.Now}
		typ, ver, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		s.Raw("opportunity-"+id.String(), typ, ver, string(data))
	}
	rt := newRuntime(t, db, store, projections.Config{})
	catchUp(t, rt, s.Last())
	sum, err := queries.New(db.Pool).PipelineSummary(tenant.WithContext(context.Background(), projectiontest.Tenant), queries.PipelineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Pipelines) != 1 || len(sum.Pipelines[0].Totals) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	tot := sum.Pipelines[0].Totals[0]
	if tot.TotalMinor != "10000000000000000000" || tot.WeightedMinor != "1000000000000000000" || tot.Count != 2 {
		t.Fatalf("totals %+v", tot)
	}
	if b, _ := json.Marshal(tot); !strings.Contains(string(b), `"total_minor":10000000000000000000`) {
		t.Fatalf("JSON %s", b)
	}
}

// TestOperatorSkipsPoisonEvent: an event a read model cannot apply (here
// one whose data does not decode) stops it; an operator skips it by its
// position, without a code change; the read model goes on, a rebuild
// skips it too, and the act is recorded as an event.
func TestOperatorSkipsPoisonEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	store := memory.New()
	t.Cleanup(store.Close)
	s := projectiontest.NewScenario(t, store, projectiontest.FixtureStart)
	poison := s.Raw("opportunity-"+uuid.NewString(), opportunity.OpportunityOpened{}.EventType(), 1, `{"opportunity_id":"not a uuid"}`)
	cust := projectiontest.ID("after-poison")
	projectiontest.Do[customer.State](s, customer.Category, customer.RegisterCustomer{CustomerID: cust,
		Details: customer.Details{Kind: customer.KindPerson, DisplayName: "Ann"}})

	rt := newRuntime(t, db, store, projections.Config{})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	stop := sync.OnceFunc(func() { cancel(); <-done })
	defer stop()
	deadline := time.Now().Add(30 * time.Second)
	failing := map[string]bool{}
	want := 0 // the read models that handle the poisoned type
	for _, p := range readmodels.All() {
		if slices.Contains(p.EventTypes(), opportunity.OpportunityOpened{}.EventType()) {
			want++
		}
	}
	for len(failing) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		st, err := rt.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range st {
			if p.LastError != "" && strings.Contains(p.LastError, poison.String()) {
				failing[p.Name] = true
			}
		}
	}
	if !failing[readmodels.Pipeline] {
		t.Fatalf("pipeline does not fail on the poison event (failing: %v)", failing)
	}
	if _, err := rt.Skip(ctx, projections.SkipRequest{Projection: readmodels.Pipeline, Position: &poison, By: "operator:test"}); err == nil {
		t.Fatal("a skip without a reason was accepted")
	}
	var recorded []projections.Skipped
	for name := range failing {
		sk, err := rt.Skip(ctx, projections.SkipRequest{Projection: name, Position: &poison, Reason: "malformed by a bug in release 0.9", By: "operator:test"})
		if err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, sk)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, nil, s.Last()); err != nil {
		t.Fatalf("read models did not go on after the skip: %v", err)
	}
	// The act is an event in the projection's operations stream.
	evs, err := store.ReadStream(ctx, operations.StreamID(readmodels.Pipeline), eventstore.ReadStreamOptions{})
	if err != nil || len(evs) != 1 || evs[0].Type != "ProjectionEventSkipped" || evs[0].Metadata.Actor != "operator:test" ||
		!strings.Contains(string(evs[0].Data), "release 0.9") || !strings.Contains(string(evs[0].Data), poison.String()) {
		t.Fatalf("operations stream: %+v, %v", evs, err)
	}
	if list, err := rt.ListSkipped(ctx); err != nil || len(list) != len(recorded) {
		t.Fatalf("ListSkipped = %+v, %v", list, err)
	}
	// A second skip of the same event changes nothing.
	if _, err := rt.Skip(ctx, projections.SkipRequest{Projection: readmodels.Pipeline, Position: &poison, Reason: "again", By: "operator:x"}); err != nil {
		t.Fatal(err)
	}
	if evs, _ := store.ReadStream(ctx, operations.StreamID(readmodels.Pipeline), eventstore.ReadStreamOptions{}); len(evs) != 1 {
		t.Fatalf("%d skip events after skipping twice", len(evs))
	}
	// A rebuild skips it too.
	stop()
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	if err := rt.Rebuild(rctx, readmodels.Pipeline, projections.RebuildOptions{}); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
}
