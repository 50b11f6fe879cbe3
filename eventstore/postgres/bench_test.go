package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The benchmarks measure costs on the local PostgreSQL; `evcrm bench`
// compares them with raw inserts. Each op of the append benchmarks appends
// to a stream of its own, ten appends per stream.

var benchData = json.RawMessage(`{"case_id":"5f0b6a52-8f0e-4c55-9d7e-3a1f9b2c4d61","customer_id":"0c9e8a47-51d3-4b7a-a1e2-7d6c5b4a3f21",` +
	`"channel":"email","category":"service","priority":"high","subject":"Replacement part delivered damaged",` +
	`"description":"The customer reports that the replacement pump housing arrived cracked; photos attached to the ticket.",` +
	`"product":{"sku":"PMP-2210-H","serial":"SN-0048213"},"sla_hours":24}`)

var benchMeta = eventstore.Metadata{
	CorrelationID: uuid.New(), CausationID: uuid.New(), Actor: "user-3f2a9c", ActorRole: "service_agent",
	Source: "web", Tenant: "acme", OccurredAt: time.Date(2025, 3, 3, 9, 30, 0, 0, time.UTC),
}

func benchEvents(n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = eventstore.EventData{ID: uuid.New(), Type: "CaseOpened", SchemaVersion: 1, Data: benchData, Metadata: benchMeta}
	}
	return evs
}

var benchStreams atomic.Int64

// appendN appends one batch of n events to the i-th slot of a fresh set of
// streams (ten batches per stream).
func appendN(b *testing.B, s *postgres.Store, base int64, i, n int) {
	stream := fmt.Sprintf("bench-%d-%d", base, i/10)
	if _, err := s.Append(context.Background(), stream, eventstore.Exact(uint64(i%10*n)), benchEvents(n)...); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkAppend(b *testing.B) {
	s, _ := newStore(b, postgres.Config{})
	base := benchStreams.Add(1)
	i := 0
	for b.Loop() {
		appendN(b, s, base, i, 1)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAppendParallel8(b *testing.B) {
	s, _ := newStore(b, postgres.Config{})
	var total atomic.Int64
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 writers
	b.RunParallel(func(pb *testing.PB) {
		base := benchStreams.Add(1)
		i := 0
		for pb.Next() {
			appendN(b, s, base, i, 1)
			i++
		}
		total.Add(int64(i))
	})
	b.ReportMetric(float64(total.Load())/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAppendBatch100(b *testing.B) {
	s, _ := newStore(b, postgres.Config{})
	base := benchStreams.Add(1)
	i := 0
	for b.Loop() {
		appendN(b, s, base, i, 100)
		i++
	}
	b.ReportMetric(float64(i*100)/b.Elapsed().Seconds(), "events/s")
}

// load writes n events straight into the log.
func load(b *testing.B, pool *pgxpool.Pool, n int) {
	b.Helper()
	meta, _ := json.Marshal(benchMeta)
	if _, err := pool.Exec(context.Background(), `INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
		SELECT gen_random_uuid(), 'c' || (g % 10) || '-' || (g / 100), 'c' || (g % 10), (g / 10) % 10 + 1, 'CaseOpened', 1, $1, $2
		  FROM generate_series(0, $3::bigint - 1) g`, []byte(benchData), meta, n); err != nil {
		b.Fatal(err)
	}
	// Settle the bulk load (hint bits, visibility map, statistics) as
	// time would; the first reader of a bulk load pays for it otherwise.
	if _, err := pool.Exec(context.Background(), "VACUUM ANALYZE evcrm_events"); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkReadAll1000(b *testing.B) {
	s, db := newStore(b, postgres.Config{})
	const n = 20000
	load(b, db.Pool, n)
	ctx := context.Background()
	after := eventstore.Start
	read := 0
	for b.Loop() {
		evs, err := s.ReadAll(ctx, eventstore.ReadAllOptions{After: after, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(evs) < 1000 {
			after = eventstore.Start
			continue
		}
		after = evs[len(evs)-1].Position
		read += len(evs)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}

var errEnough = errors.New("enough")

// BenchmarkSubscribe: one op is one event delivered by a catching-up
// subscription.
func BenchmarkSubscribe(b *testing.B) {
	s, db := newStore(b, postgres.Config{})
	n := max(b.N, 1)
	load(b, db.Pool, n)
	got := 0
	b.ResetTimer()
	err := s.Subscribe(context.Background(), eventstore.SubscribeOptions{}, func(_ context.Context, evs []eventstore.RecordedEvent) error {
		got += len(evs)
		if got >= n {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		b.Fatal(err)
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "events/s")
}
