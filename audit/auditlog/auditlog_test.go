package auditlog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
)

// fixture is a migrated schema with events, a built log and signed
// checkpoints.
type fixture struct {
	t       *testing.T
	db      *pgtest.DB
	store   *postgres.Store
	log     *auditlog.Log
	key     note.Verifier
	signer  note.Signer
	streams []string
	// trusted is a checkpoint an auditor kept (the first one published).
	trusted []byte
}

func newKey(t *testing.T, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := audit.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := auditlog.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	signer, key := newKey(t, "evcrm.test/audit")
	l, err := auditlog.New(auditlog.Config{Pool: db.Pool, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, store: store, log: l, key: key, signer: signer}
	for i := range 3 {
		f.streams = append(f.streams, eventstore.StreamID("customer", uuid.New()))
		_ = i
	}
	f.appendRound(1)
	f.build()
	first := f.publish()
	f.trusted = first
	f.appendRound(2)
	f.build()
	f.publish()
	f.appendRound(3)
	f.build()
	f.publish()
	return f
}

// appendRound appends one event to each stream, then a two-event batch to the first.
func (f *fixture) appendRound(round int) {
	f.t.Helper()
	ctx := context.Background()
	for k, s := range f.streams {
		f.append(ctx, s, fmt.Sprintf(`{"name": "customer %d", "round": %d, "note": "<é & \u00e9>"}`, k, round))
	}
	f.append(ctx, f.streams[0], `{"a": 1.50}`, `{"b": [true, null, {"z": 1, "y": "2"}]}`)
}

func (f *fixture) append(ctx context.Context, stream string, data ...string) {
	f.t.Helper()
	var evs []eventstore.EventData
	for _, d := range data {
		evs = append(evs, eventstore.EventData{
			ID: uuid.New(), Type: "CustomerNoted", SchemaVersion: 1, Data: []byte(d),
			Metadata: eventstore.Metadata{
				CorrelationID: uuid.New(), Actor: "alice", ActorRole: "sales", Source: "test", Tenant: "acme",
				OccurredAt: time.Now().Add(-time.Hour), Extra: map[string]string{"k": "v"},
			},
		})
	}
	if _, err := f.store.Append(ctx, stream, eventstore.Any, evs...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) build() {
	f.t.Helper()
	b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: f.db.Pool, Store: f.store, BatchSize: 3})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := b.CatchUp(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) publish() []byte {
	f.t.Helper()
	c, err := f.log.Publish(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Note
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) verify() (auditlog.Report, error) {
	return auditlog.Verify(context.Background(), f.log, f.store, auditlog.VerifyOptions{Key: f.key, Trusted: f.trusted, PageSize: 4})
}

func TestUnmodifiedLogVerifies(t *testing.T) {
	f := newFixture(t)
	// Two more events, not yet logged.
	f.append(context.Background(), f.streams[1], `{"late": true}`)
	f.append(context.Background(), f.streams[2], `{"late": true}`)
	rep, err := f.verify()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Leaves != 15 || rep.Signed != 15 || rep.Checkpoints != 3 || rep.Unlogged != 2 || rep.Unsigned != 0 || rep.Trusted != 5 || rep.Events != 17 {
		t.Fatalf("report %+v", rep)
	}
	wantIncomplete(t, rep, audit.NotLogged, -1, "2 events, from this one on, are not in the log yet")
	// Logged but not yet signed.
	f.build()
	rep, err = f.verify()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Leaves != 17 || rep.Signed != 15 || rep.Unsigned != 2 || rep.Unlogged != 0 {
		t.Fatalf("report %+v", rep)
	}
	wantIncomplete(t, rep, audit.NotSigned, 15, "2 leaves, from this one on, are not covered by the latest signed checkpoint (size 15)")
	// Signed: complete.
	f.publish()
	if rep, err = f.verify(); err != nil || rep.Complete(false) != nil {
		t.Fatalf("after signing: %+v, %v, %v", rep, err, rep.Complete(false))
	}
	// No key: nothing is verified, whatever the log holds.
	rep, err = auditlog.Verify(context.Background(), f.log, f.store, auditlog.VerifyOptions{})
	if err == nil {
		t.Fatalf("verify without a key of a signed log: %+v", rep)
	}
}

func TestNothingSignedIsNotVerified(t *testing.T) {
	f := newFixture(t)
	f.exec(`DELETE FROM audit_checkpoints`)
	rep, err := auditlog.Verify(context.Background(), f.log, f.store, auditlog.VerifyOptions{PageSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	wantIncomplete(t, rep, audit.NoKey, -1, "no public key given")
	rep, err = auditlog.Verify(context.Background(), f.log, f.store, auditlog.VerifyOptions{Key: f.key, PageSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	wantIncomplete(t, rep, audit.NotSigned, 0, "no signed checkpoint covers any of the 15 events")
}

// wantIncomplete checks that rep is not complete, even with pending events
// allowed unless kind is about pending events, and names the first thing
// not verified.
func wantIncomplete(t *testing.T, rep auditlog.Report, kind audit.Kind, leaf int64, detail string) {
	t.Helper()
	var p *audit.Problem
	if err := rep.Complete(false); !errors.As(err, &p) || p.Kind != kind || p.Leaf != leaf || !strings.Contains(p.Detail, detail) {
		t.Fatalf("Complete: %v, want %s at leaf %d: %q", err, kind, leaf, detail)
	}
	if pending := kind == audit.NotSigned && rep.Signed > 0 || kind == audit.NotLogged; pending {
		if err := rep.Complete(true); err != nil {
			t.Fatalf("Complete(allowPending): %v", err)
		}
	} else if rep.Complete(true) == nil {
		t.Fatalf("Complete(allowPending) accepted %+v", rep)
	}
}

// leafEvent returns the event of a leaf: its stream, version, id, and
// its position's transaction id.
func (f *fixture) leafEvent(i int) (stream string, version int64, id uuid.UUID, tx int64) {
	f.t.Helper()
	err := f.db.Pool.QueryRow(context.Background(), `SELECT l.stream_id, l.version, l.event_id, e.tx_id FROM audit_leaves l JOIN evcrm_events e USING (event_id) WHERE l.leaf_index = $1`, i).
		Scan(&stream, &version, &id, &tx)
	if err != nil {
		f.t.Fatal(err)
	}
	return
}

func TestTamperingIsDetected(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(f *fixture) (leaf int)
		kind   audit.Kind
		detail string
	}{
		{"data changed", func(f *fixture) int {
			_, _, id, _ := f.leafEvent(6)
			f.exec(`UPDATE evcrm_events SET data = jsonb_set(data, '{name}', '"Mallory"') WHERE event_id = $1`, id)
			return 6
		}, audit.EventChanged, "data differs"},
		{"metadata changed", func(f *fixture) int {
			_, _, id, _ := f.leafEvent(7)
			f.exec(`UPDATE evcrm_events SET metadata = jsonb_set(metadata, '{actor}', '"mallory"') WHERE event_id = $1`, id)
			return 7
		}, audit.EventChanged, "metadata differs"},
		{"type changed", func(f *fixture) int {
			_, _, id, _ := f.leafEvent(2)
			f.exec(`UPDATE evcrm_events SET event_type = 'CustomerErased' WHERE event_id = $1`, id)
			return 2
		}, audit.EventChanged, "type differs"},
		{"recorded-at changed", func(f *fixture) int {
			_, _, id, _ := f.leafEvent(9)
			f.exec(`UPDATE evcrm_events SET recorded_at = recorded_at - interval '3 days' WHERE event_id = $1`, id)
			return 9
		}, audit.EventChanged, "recorded-at differs"},
		{"event deleted", func(f *fixture) int {
			_, _, id, _ := f.leafEvent(4)
			f.exec(`DELETE FROM evcrm_events WHERE event_id = $1`, id)
			return 4
		}, audit.EventDeleted, "missing from the store"},
		{"forged event inserted with a valid next version", func(f *fixture) int {
			// Slipped into history: the stream's next version, in the
			// transaction of an early event, so it sorts inside the logged part.
			stream, _, _, tx := f.leafEvent(1)
			f.exec(`INSERT INTO evcrm_events (tx_id, event_id, stream_id, category, version, event_type, schema_version, data, metadata, recorded_at)
				SELECT $1, gen_random_uuid(), stream_id, category, max(version) + 1, 'CustomerNoted', 1, '{"name": "forged"}', '{"actor": "alice"}', min(recorded_at)
				FROM evcrm_events WHERE stream_id = $2 GROUP BY stream_id, category`, tx, stream)
			return -1
		}, audit.EventInserted, "not in the log"},
		{"two events swapped", func(f *fixture) int {
			_, _, a, txa := f.leafEvent(5)
			_, _, b, txb := f.leafEvent(10)
			f.exec(`UPDATE evcrm_events SET tx_id = -1 WHERE event_id = $1`, a)
			f.exec(`UPDATE evcrm_events SET tx_id = $1 WHERE event_id = $2`, txa, b)
			f.exec(`UPDATE evcrm_events SET tx_id = $1 WHERE event_id = $2`, txb, a)
			return 5
		}, audit.EventsReordered, "where the log has this one"},
		{"stored tree hash rewritten", func(f *fixture) int {
			f.exec(`UPDATE audit_hashes SET hash = sha256('forged') WHERE id = 2`) // level 1, node 0: leaves 0 and 1
			return 1
		}, audit.TreeHashRewritten, "stored hash 2 (level 1, node 0)"},
		{"leaf hash rewritten", func(f *fixture) int {
			f.exec(`UPDATE audit_hashes SET hash = sha256('forged') WHERE id = 3`) // leaf 2
			return 2
		}, audit.TreeHashRewritten, "stored hash 3 (the leaf hash)"},
		{"leaf copy changed", func(f *fixture) int {
			f.exec(`UPDATE audit_leaves SET leaf = convert_to(replace(convert_from(leaf, 'UTF8'), 'alice', 'bob'), 'UTF8') WHERE leaf_index = 8`)
			return 8
		}, audit.LeafCopyChanged, "stored canonical encoding"},
		{"tree rebuilt from edited events and re-signed with another key", func(f *fixture) int {
			_, _, id, _ := f.leafEvent(3)
			f.exec(`UPDATE evcrm_events SET data = jsonb_set(data, '{name}', '"Mallory"') WHERE event_id = $1`, id)
			f.rebuild(t, "evcrm.test/audit")
			return -1
		}, audit.CheckpointSignature, "not signed by evcrm.test/audit"},
		{"events truncated", func(f *fixture) int {
			f.exec(`DELETE FROM evcrm_events WHERE (tx_id, seq) IN (SELECT tx_id, seq FROM evcrm_events ORDER BY tx_id DESC, seq DESC LIMIT 3)`)
			return 12
		}, audit.EventsTruncated, "the last 3 logged events"},
		{"log truncated", func(f *fixture) int {
			// The operator (who holds the key) drops the last events and
			// rebuilds and re-signs a shorter log: only the auditor's
			// kept checkpoint can tell.
			f.exec(`DELETE FROM evcrm_events WHERE (tx_id, seq) IN (SELECT tx_id, seq FROM evcrm_events ORDER BY tx_id DESC, seq DESC LIMIT 12)`)
			f.trusted = f.checkpointNote(10)
			f.rebuildWith(f.signer)
			return -1
		}, audit.LogTruncated, "the log has 3 leaves, fewer than the trusted checkpoint signed for 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			if c.name == "log truncated" {
				f.trustSecond()
			}
			leaf := c.tamper(f)
			_, err := f.verify()
			var p *audit.Problem
			if !errors.As(err, &p) {
				t.Fatalf("verify: %v, want a %q problem", err, c.kind)
			}
			if p.Kind != c.kind || !strings.Contains(p.Error(), c.detail) {
				t.Fatalf("verify: %v\nwant %q with %q", p, c.kind, c.detail)
			}
			if leaf >= 0 && p.Leaf != int64(leaf) {
				t.Fatalf("verify: %v\nwant leaf %d", p, leaf)
			}
			t.Log(p)
		})
	}
}

// trustSecond makes the auditor's kept checkpoint the second one (10 leaves).
func (f *fixture) trustSecond() { f.trusted = f.checkpointNote(10) }

func (f *fixture) checkpointNote(size int64) []byte {
	f.t.Helper()
	c, err := f.log.Checkpoint(context.Background(), size)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Note
}

// rebuild drops the log and rebuilds it from the events, signed by a new
// key of the same name.
func (f *fixture) rebuild(t *testing.T, name string) {
	s, _ := newKey(t, name)
	f.rebuildWith(s)
}

func (f *fixture) rebuildWith(s note.Signer) {
	f.exec(`TRUNCATE audit_hashes, audit_leaves, audit_checkpoints`)
	f.exec(`UPDATE audit_state SET tree_size = 0, commit_position = 0, prepare_position = 0, root_hash = sha256('')`)
	f.build()
	l, err := auditlog.New(auditlog.Config{Pool: f.db.Pool, Signer: s})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := l.Publish(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// Two builders (two evcrm processes) racing over a log that is being
// appended to leave one log with every event once, in order.
func TestConcurrentBuildersKeepOneLog(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		b, err := auditlog.NewBuilder(auditlog.BuilderConfig{Pool: f.db.Pool, Store: f.store, BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		go func() { errs <- b.Run(ctx) }()
	}
	for range 10 {
		f.appendRound(9)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := f.log.State(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Size == 65 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the builders logged %d of 65 events", st.Size)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	f.publish()
	rep, err := f.verify()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Leaves != 65 || rep.Unlogged != 0 || rep.Signed != 65 {
		t.Fatalf("report %+v", rep)
	}
}
