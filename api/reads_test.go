package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/audit/pack"
	"github.com/evcrm/evcrm/domain/access"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
)

// brokenReadLog fails appends to the read log while broken is set.
type brokenReadLog struct {
	eventstore.Store
	broken atomic.Bool
}

func (s *brokenReadLog) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.broken.Load() && strings.HasPrefix(stream, access.Category+"-") {
		return eventstore.AppendResult{}, errors.New("disk full")
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// reads returns the RecordsRead events recorded so far (straight from the
// table: the global log hands events out only once older transactions of
// other tests are done).
func reads(t *testing.T, b *bundle) []access.RecordsRead {
	t.Helper()
	rows, err := b.db.Pool.Query(context.Background(), `SELECT data, metadata FROM evcrm_events WHERE event_type = 'RecordsRead' ORDER BY tx_id, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []access.RecordsRead
	for rows.Next() {
		var data, meta []byte
		if err := rows.Scan(&data, &meta); err != nil {
			t.Fatal(err)
		}
		var r access.RecordsRead
		var m eventstore.Metadata
		if err := errors.Join(json.Unmarshal(data, &r), json.Unmarshal(meta, &m)); err != nil {
			t.Fatal(err)
		}
		if m.Actor != r.Actor || m.Tenant != "acme" || m.CorrelationID == uuid.Nil {
			t.Errorf("read event metadata %+v", m)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadsAreRecorded: every read through the stream and audit APIs is
// recorded (who, role, route, query, records) as an event; when recording
// fails, the answer is withheld with 503.
func TestReadsAreRecorded(t *testing.T) {
	ctx := context.Background()
	broken := &brokenReadLog{}
	b := setup(t, withStore(func(s eventstore.Store) eventstore.Store { broken.Store = s; return broken }))
	withAudit(t, b, nil, "")
	stream := eventstore.StreamID("case", uuid.New())
	if _, err := b.store.Append(ctx, stream, eventstore.Any, eventstore.EventData{
		ID: uuid.New(), Type: "CaseNoted", SchemaVersion: 1, Data: []byte(`{}`), Metadata: eventstore.Metadata{Tenant: "acme"},
	}); err != nil {
		t.Fatal(err)
	}

	if r := b.get(auth.Auditor, "/v1/streams/"+stream+"?limit=10"); r.status != http.StatusOK {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	if r := b.get(auth.Admin, "/v1/audit/checkpoint"); r.status != http.StatusOK {
		t.Fatalf("checkpoint: %d %s", r.status, r.body)
	}
	// A failed read (404) is not a read of anything.
	if r := b.get(auth.Auditor, "/v1/streams/"+eventstore.StreamID("case", uuid.New())); r.status != http.StatusNotFound {
		t.Fatalf("missing stream: %d", r.status)
	}
	got := reads(t, b)
	if len(got) != 2 {
		t.Fatalf("reads recorded: %+v", got)
	}
	r := got[0]
	if r.Role != string(auth.Auditor) || r.Actor == "" || r.Operation != "readStream" || r.Route != "/v1/streams/"+stream ||
		r.Query != "limit=10" || len(r.Records) != 1 || r.Records[0] != stream || r.ReadAt.IsZero() {
		t.Errorf("stream read recorded as %+v", r)
	}
	if got[1].Operation != "getAuditCheckpoint" || got[1].Role != string(auth.Admin) || got[1].Route != "/v1/audit/checkpoint" {
		t.Errorf("checkpoint read recorded as %+v", got[1])
	}

	// The read log fails: the answer is withheld.
	broken.broken.Store(true)
	res := b.get(auth.Auditor, "/v1/streams/"+stream)
	if res.status != http.StatusServiceUnavailable {
		t.Fatalf("read with the read log down: %d %s", res.status, res.body)
	}
	if p := res.problem(t); p.Code != "read_not_recorded" || strings.Contains(string(res.body), `"events"`) {
		t.Fatalf("problem %+v, body %s", p, res.body)
	}
	broken.broken.Store(false)
	if n := len(reads(t, b)); n != 2 {
		t.Fatalf("%d reads recorded", n)
	}
}

// TestAuditPackOverHTTP: an auditor exports the pack of a period; it
// verifies offline with the public key; the export is a recorded read.
func TestAuditPackOverHTTP(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	withQueries(t, b, 10*time.Second)
	skey, vkey, err := audit.GenerateKey("evcrm.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := audit.LoadKey("", skey)
	if err != nil {
		t.Fatal(err)
	}
	if err := auditlog.Migrate(ctx, b.db.Pool); err != nil {
		t.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Config{Pool: b.db.Pool, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.RegisterAudit(b.server, api.AuditOptions{Log: l, PublicKey: vkey, Queries: queries.New(b.db.Pool)}); err != nil {
		t.Fatal(err)
	}
	b.mustPost(auth.Admin, "/v1/customers", map[string]any{"kind": "person", "display_name": "Ada Lovelace"})
	builder, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: b.db.Pool, Store: b.store})
	if err != nil {
		t.Fatal(err)
	}
	if err := builder.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	res := b.post(auth.Auditor, "/v1/audit/packs", map[string]any{"from": now.Add(-time.Hour), "to": now.Add(time.Hour)})
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s %.300s", res.status, res.header.Get("Content-Type"), res.body)
	}
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pack.Verify(bytes.NewReader(res.body), int64(len(res.body)), v)
	if err != nil || sum.Events < 1 || sum.Tenant != "acme" {
		t.Fatalf("verify-pack: %+v %v", sum, err)
	}
	var exported bool
	for _, r := range reads(t, b) {
		exported = exported || r.Operation == "exportAuditPack" && r.Role == string(auth.Auditor)
	}
	if !exported {
		t.Error("the export is not in the read log")
	}
	if r := b.post(auth.Sales, "/v1/audit/packs", map[string]any{"from": now.Add(-time.Hour), "to": now}); r.status != http.StatusForbidden {
		t.Errorf("sales exporting a pack: %d", r.status)
	}
	if r := b.post(auth.Auditor, "/v1/audit/packs", map[string]any{"from": now, "to": now.Add(-time.Hour)}); r.status != http.StatusBadRequest {
		t.Errorf("empty period: %d %s", r.status, r.body)
	}
}
