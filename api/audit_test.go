package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
)

func decodeHashes(t *testing.T, ss []string) []tlog.Hash {
	t.Helper()
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			t.Fatalf("hash %q", s)
		}
		out[i] = tlog.Hash(b)
	}
	return out
}

// An auditor recomputes each leaf from the stream API's JSON, and checks
// it is in the signed tree; other tenants' events stay invisible.
func TestAuditProofsFromTheStreamAPI(t *testing.T) {
	ctx := context.Background()
	var l *auditlog.Log
	skey, vkey, err := audit.GenerateKey("evcrm.test/audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, pub, err := audit.LoadKey("", skey)
	if err != nil || pub != vkey {
		t.Fatalf("LoadKey: %v, public key %q want %q", err, pub, vkey)
	}
	b := setup(t)
	l = withAudit(t, b, signer, vkey)
	builder, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: b.db.Pool, Store: b.store})
	if err != nil {
		t.Fatal(err)
	}
	catchUp := func() {
		t.Helper()
		if err := builder.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var streams []string
	for i, name := range []string{`Ann <Example> & "Co" é`, "Bob\u2028 \\ Tab\t", "Zoë"} {
		res := b.mustPost(auth.Service, "/v1/customers", map[string]any{"kind": "person", "display_name": name})
		streams = append(streams, eventstore.StreamID("customer", res.ID))
		if i == 0 {
			catchUp()
			if r := b.post(auth.Admin, "/v1/audit/checkpoints", nil); r.status != http.StatusCreated {
				t.Fatalf("publish: %d %s", r.status, r.body)
			}
		}
	}
	// An event of another tenant.
	other := eventstore.StreamID("customer", uuid.New())
	if _, err := b.store.Append(ctx, other, eventstore.NoStream, eventstore.EventData{
		ID: uuid.New(), Type: "CustomerNoted", SchemaVersion: 1, Data: []byte(`{"secret": true}`),
		Metadata: eventstore.Metadata{Tenant: "globex", Actor: "eve"},
	}); err != nil {
		t.Fatal(err)
	}
	catchUp()
	if r := b.post(auth.Auditor, "/v1/audit/checkpoints", nil); r.status != http.StatusForbidden {
		t.Fatalf("auditor publishing: %d", r.status)
	}
	if r := b.post(auth.Admin, "/v1/audit/checkpoints", nil); r.status != http.StatusCreated {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}

	var cp api.AuditCheckpoint
	b.get(auth.Auditor, "/v1/audit/checkpoint").json(t, &cp)
	v, err := audit.NewVerifier(cp.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	checkpoint, err := audit.OpenCheckpoint([]byte(cp.Note), v)
	if err != nil || !cp.Signed || checkpoint.Size != 4 {
		t.Fatalf("checkpoint %+v: %v", cp, err)
	}

	for _, s := range streams {
		var page struct {
			Stream string           `json:"stream"`
			Events []audit.APIEvent `json:"events"`
		}
		b.get(auth.Auditor, "/v1/streams/"+s).json(t, &page)
		for _, e := range page.Events {
			want, err := audit.LeafFromAPI(page.Stream, e).Encode()
			if err != nil {
				t.Fatal(err)
			}
			var p api.InclusionProof
			r := b.get(auth.Auditor, "/v1/audit/proofs/inclusion?event_id="+e.ID.String())
			r.json(t, &p)
			if p.Leaf != string(want) {
				t.Fatalf("leaf of %s:\n API JSON gives %s\n the log has    %s", e.ID, want, p.Leaf)
			}
			if err := audit.CheckInclusion(checkpoint, p.LeafIndex, want, decodeHashes(t, p.Proof)); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Consistency from the first checkpoint (1 leaf) to the latest.
	var cons api.ConsistencyProof
	b.get(auth.Auditor, "/v1/audit/proofs/consistency?from=1").json(t, &cons)
	first, err := l.Checkpoint(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(first.Checkpoint, checkpoint, decodeHashes(t, cons.Proof)); err != nil {
		t.Fatal(err)
	}

	// Leaves: only the caller's tenant's.
	var leaves api.AuditLeaves
	b.get(auth.Auditor, "/v1/audit/leaves?from=0").json(t, &leaves)
	if leaves.TreeSize != 4 || len(leaves.Leaves) != 3 {
		t.Fatalf("leaves: %+v", leaves)
	}
	for _, lf := range leaves.Leaves {
		if lf.Stream == other {
			t.Fatal("another tenant's leaf served")
		}
	}
	rec, err := l.LeafByEvent(ctx, mustLeafEvent(t, l, other))
	if err != nil {
		t.Fatal(err)
	}
	if r := b.get(auth.Auditor, fmt.Sprintf("/v1/audit/proofs/inclusion?leaf=%d", rec.Index)); r.status != http.StatusNotFound {
		t.Fatalf("another tenant's proof: %d %s", r.status, r.body)
	}
	for path, want := range map[string]int{
		"/v1/audit/proofs/inclusion?leaf=1&tree_size=99":          http.StatusBadRequest,
		"/v1/audit/proofs/inclusion?event_id=nope":                http.StatusBadRequest,
		"/v1/audit/proofs/consistency?from=5&to=4":                http.StatusBadRequest,
		"/v1/audit/proofs/inclusion?event_id=" + uuid.NewString(): http.StatusNotFound,
	} {
		if r := b.get(auth.Auditor, path); r.status != want {
			t.Errorf("GET %s: %d %s, want %d", path, r.status, r.body, want)
		} else {
			r.problem(t)
		}
	}
	if r := b.get(auth.Sales, "/v1/audit/checkpoint"); r.status != http.StatusForbidden {
		t.Fatalf("sales reading the audit log: %d", r.status)
	}
}

func mustLeafEvent(t *testing.T, l *auditlog.Log, stream string) uuid.UUID {
	t.Helper()
	recs, err := l.Leaves(context.Background(), auditlog.LeafQuery{From: 0, To: 1 << 40, Stream: stream})
	if err != nil || len(recs) != 1 {
		t.Fatalf("leaves of %s: %v %v", stream, recs, err)
	}
	return recs[0].EventID
}

// withAudit adds the audit routes to b, over a migrated log signed by
// signer (nil: unsigned).
func withAudit(t *testing.T, b *bundle, signer note.Signer, publicKey string) *auditlog.Log {
	t.Helper()
	if err := auditlog.Migrate(context.Background(), b.db.Pool); err != nil {
		t.Fatal(err)
	}
	l, err := auditlog.New(auditlog.Config{Pool: b.db.Pool, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.RegisterAudit(b.server, api.AuditOptions{Log: l, PublicKey: publicKey, Queries: queries.New(b.db.Pool)}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAuditTraceAndTimeTravel(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	l := withAudit(t, b, nil, "")
	builder, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: b.db.Pool, Store: b.store})
	if err != nil {
		t.Fatal(err)
	}
	stream := eventstore.StreamID("customer", uuid.New())
	corr := uuid.New()
	now := time.Now().UTC()
	appendAt := func(stream string, occurred time.Time, tenant string) {
		t.Helper()
		if _, err := b.store.Append(ctx, stream, eventstore.Any, eventstore.EventData{
			ID: uuid.New(), Type: "CustomerNoted", SchemaVersion: 1, Data: []byte(`{"n": 1}`),
			Metadata: eventstore.Metadata{Tenant: tenant, CorrelationID: corr, Actor: "alice", OccurredAt: occurred},
		}); err != nil {
			t.Fatal(err)
		}
	}
	appendAt(stream, now, "acme")
	appendAt(stream, now.Add(-72*time.Hour), "acme") // a backdated fact
	other := eventstore.StreamID("case", uuid.New())
	appendAt(other, now, "acme")
	appendAt(eventstore.StreamID("case", uuid.New()), now, "globex")
	if err := builder.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	_ = l

	var tr api.Trace
	b.get(auth.Auditor, "/v1/audit/trace/"+corr.String()).json(t, &tr)
	if len(tr.Events) != 3 || len(tr.Streams) != 2 || tr.Streams[0] != stream || !tr.Events[1].Backdated || tr.Events[0].Backdated ||
		tr.Events[2].LeafIndex == nil || *tr.Events[2].LeafIndex != 2 || tr.Events[0].Position == "0/0" {
		t.Fatalf("trace: %+v", tr)
	}
	if r := b.get(auth.Auditor, "/v1/audit/trace/"+uuid.NewString()); r.status != http.StatusNotFound {
		t.Fatalf("unknown trace: %d", r.status)
	}

	// Before anything was recorded, but after the backdated fact occurred:
	// nothing known, the backdated fact in effect in business time.
	var rec api.RecordAsOf
	b.get(auth.Auditor, "/v1/audit/records/"+stream+"?as_of="+now.Add(-time.Hour).Format(time.RFC3339Nano)).json(t, &rec)
	if len(rec.Known) != 0 || len(rec.Business) != 1 || !rec.Business[0].Backdated || rec.Backdated != 1 || rec.Later != 2 {
		t.Fatalf("as of an hour ago: %+v", rec)
	}
	b.get(auth.Auditor, "/v1/audit/records/"+stream+"?as_of="+time.Now().Add(time.Minute).Format(time.RFC3339Nano)).json(t, &rec)
	if len(rec.Known) != 2 || len(rec.Business) != 2 || rec.Later != 0 {
		t.Fatalf("as of now: %+v", rec)
	}
	if r := b.get(auth.Auditor, "/v1/audit/records/"+stream); r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
		t.Fatalf("no as_of: %d %s", r.status, r.body)
	}
}

// TestAuditRecordStateAsOf: the record's state folded by its aggregate,
// as known at T and as of business time T, with a backdated fact.
func TestAuditRecordStateAsOf(t *testing.T) {
	ctx := context.Background()
	b := setup(t)
	withAudit(t, b, nil, "")
	id, customer := uuid.New(), uuid.New()
	stream := feedback.StreamID(id)
	now := time.Now().UTC()
	record := func(e domain.Event, occurred time.Time) {
		t.Helper()
		typ, v, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.Append(ctx, stream, eventstore.Any, eventstore.EventData{
			ID: uuid.New(), Type: typ, SchemaVersion: v, Data: data,
			Metadata: eventstore.Metadata{Tenant: "acme", Actor: "alice", OccurredAt: occurred},
		}); err != nil {
			t.Fatal(err)
		}
	}
	csat := 2
	// Given by phone three days ago, typed in now: a backdated fact.
	record(feedback.FeedbackSubmitted{FeedbackID: id, CustomerID: customer, Method: feedback.MethodPhone, CSAT: &csat, SubmittedAt: now.Add(-72 * time.Hour)}, now.Add(-72*time.Hour))
	record(feedback.FeedbackWithdrawn{FeedbackID: id, CustomerID: customer, Reason: "entered twice", WithdrawnAt: now}, now)

	var rec api.RecordAsOf
	b.get(auth.Auditor, "/v1/audit/records/"+stream+"?as_of="+now.Add(-time.Hour).Format(time.RFC3339Nano)).json(t, &rec)
	if rec.Aggregate != feedback.Category || rec.StateKnown["exists"] != false || rec.StateBusiness["exists"] != true ||
		rec.StateBusiness["withdrawn"] != false || rec.StateBusiness["csat"] != float64(2) || rec.StateBusiness["customer_id"] != customer.String() ||
		len(rec.Business) != 1 || !rec.Business[0].Backdated || rec.Backdated != 1 {
		t.Fatalf("an hour ago: %+v", rec)
	}
	b.get(auth.Auditor, "/v1/audit/records/"+stream+"?as_of="+time.Now().Add(time.Minute).Format(time.RFC3339Nano)).json(t, &rec)
	if rec.StateKnown["exists"] != true || rec.StateKnown["withdrawn"] != true || rec.StateBusiness["withdrawn"] != true || len(rec.Known) != 2 {
		t.Fatalf("now: %+v", rec)
	}
	// Another tenant's auditor: no such record.
	tok, _, err := apistore.NewTokens(b.db.Pool).Create(ctx, "globex-auditor", auth.Auditor, "globex", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r := b.do(req{method: http.MethodGet, path: "/v1/audit/records/" + stream + "?as_of=" + now.Format(time.RFC3339Nano), token: tok}); r.status != http.StatusNotFound {
		t.Fatalf("other tenant: %d", r.status)
	}
}
