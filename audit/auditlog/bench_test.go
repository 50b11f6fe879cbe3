package auditlog_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
)

// benchLog is a schema with n events loaded straight into the events table.
func benchLog(b *testing.B, n int) (*pgtest.DB, *postgres.Store) {
	b.Helper()
	ctx := context.Background()
	db := pgtest.New(b)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		b.Fatal(err)
	}
	if err := auditlog.Migrate(ctx, db.Pool); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
		SELECT gen_random_uuid(), 'case-' || (g / 10), 'case', g % 10 + 1, 'CaseOpened', 1,
		  '{"subject": "Replacement part delivered damaged", "priority": "high", "channel": "email", "product": {"sku": "PMP-2210-H", "serial": "SN-0048213"}, "sla_hours": 24}',
		  '{"actor": "user-3f2a9c", "actor_role": "service", "source": "web", "tenant": "acme", "occurred_at": "2025-03-03T09:30:00Z", "correlation_id": "0c9e8a47-51d3-4b7a-a1e2-7d6c5b4a3f21"}'
		FROM generate_series(0, $1::bigint - 1) g`, n); err != nil {
		b.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(store.Close)
	return db, store
}

// BenchmarkBuild measures the builder adding 20000 events (leaves/s).
func BenchmarkBuild(b *testing.B) {
	const n = 20000
	for b.Loop() {
		b.StopTimer()
		db, store := benchLog(b, n)
		builder, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: db.Pool, Store: store})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := builder.CatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "leaves/s")
}

// BenchmarkInclusionProof measures an inclusion proof in a tree of 20000 leaves.
func BenchmarkInclusionProof(b *testing.B) {
	const n = 20000
	db, store := benchLog(b, n)
	builder, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: db.Pool, Store: store})
	if err != nil {
		b.Fatal(err)
	}
	if err := builder.CatchUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Config{Pool: db.Pool})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.InclusionProof(context.Background(), rand.Int64N(n), n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeafEncode measures the canonical encoding of one event.
func BenchmarkLeafEncode(b *testing.B) {
	leaf := audit.Leaf{Stream: "case-1", Version: 1, Type: "CaseOpened", SchemaVersion: 1,
		Data: []byte(`{"subject": "Replacement part delivered damaged", "priority": "high", "channel": "email", "product": {"sku": "PMP-2210-H", "serial": "SN-0048213"}, "sla_hours": 24}`)}
	for b.Loop() {
		if _, err := leaf.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
