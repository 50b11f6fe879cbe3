package auditlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/eventstore"
)

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Key checks the stored checkpoints' signatures (and Trusted's): the
	// public key the auditor trusts. Required when checkpoints exist.
	Key note.Verifier
	// Trusted is a signed checkpoint the auditor kept from an earlier
	// audit; today's tree must extend it. Optional.
	Trusted []byte
	// PageSize of the event store reads (default 5000).
	PageSize int
	// Progress, if set, is called with the number of events read so far.
	Progress func(events int64)
}

// Report is what a verification established.
type Report struct {
	Events int64 // events in the store
	Leaves int64 // leaves in the log (each matched its event)
	// Signed is the size of the latest signed checkpoint: leaves below it
	// are verified against a signature; 0 when none.
	Signed      int64
	Checkpoints int   // signed checkpoints checked
	Unsigned    int64 // leaves not yet covered by a signed checkpoint (not verified)
	Unlogged    int64 // events not yet in the log (not verified)
	Trusted     int64 // size of the auditor's checkpoint the tree extends, 0 if none given
	Root        tlog.Hash
	// KeyChecked: signatures were checked with a public key.
	KeyChecked bool
	// FirstUnsigned is the first leaf not covered by a signed checkpoint,
	// FirstUnlogged the first event not in the log (Leaf -1); nil if none.
	FirstUnsigned, FirstUnlogged *audit.Problem
}

// Complete reports whether everything in the store is verified: a public
// key checked the signatures, and every event is a leaf under a signed
// checkpoint. Otherwise it returns the first thing not verified as an
// *audit.Problem. With allowPending, events newer than the latest signed
// checkpoint (unsigned leaves, unlogged events) are tolerated, as long as
// some checkpoint covers the events before them.
func (r Report) Complete(allowPending bool) error {
	switch {
	case !r.KeyChecked:
		return &audit.Problem{Kind: audit.NoKey, Leaf: -1,
			Detail: "no public key given (--key) or configured (EVCRM_AUDIT_KEY_FILE, EVCRM_AUDIT_KEY): no signature checked, nothing verified"}
	case r.Events > 0 && r.Signed == 0:
		p := *r.firstPending()
		p.Detail = fmt.Sprintf("no signed checkpoint covers any of the %d events (sign one: evcrm audit checkpoint)", r.Events)
		return &p
	case allowPending:
		return nil
	case r.FirstUnsigned != nil:
		p := *r.FirstUnsigned
		p.Detail = fmt.Sprintf("%d leaves, from this one on, are not covered by the latest signed checkpoint (size %d); sign one (evcrm audit checkpoint) or pass --allow-pending", r.Unsigned, r.Signed)
		return &p
	case r.FirstUnlogged != nil:
		p := *r.FirstUnlogged
		p.Detail = fmt.Sprintf("%d events, from this one on, are not in the log yet; wait for the builder (evcrm audit checkpoint catches up) or pass --allow-pending", r.Unlogged)
		return &p
	}
	return nil
}

func (r Report) firstPending() *audit.Problem {
	switch {
	case r.FirstUnsigned != nil:
		return r.FirstUnsigned
	case r.FirstUnlogged != nil:
		return r.FirstUnlogged
	}
	return &audit.Problem{Kind: audit.NotSigned, Leaf: -1}
}

type loggedLeaf struct {
	id       uuid.UUID
	stream   string
	version  uint64
	copyHash tlog.Hash // RecordHash of the stored canonical encoding
}

type storedEvent struct {
	id      uuid.UUID
	stream  string
	version uint64
	pos     eventstore.Position
	hash    tlog.Hash
}

// Verify checks the transparency log against the event store, trusting
// neither: it recomputes every leaf from the events, the tree from the
// leaves, and checks every stored checkpoint's signature with opts.Key,
// its root against the recomputed tree and that it extends the one before
// it; then that the tree extends opts.Trusted. The first broken thing is
// returned as an *audit.Problem; other errors are failures to read.
func Verify(ctx context.Context, l *Log, store eventstore.Store, opts VerifyOptions) (Report, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 5000
	}
	var rep Report
	// One snapshot of the log's tables.
	tx, err := l.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return rep, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	st, err := loadState(ctx, tx, false)
	if err != nil {
		return rep, err
	}
	n := st.Size
	rep.Leaves = n
	// The events are read while the log's tables load: the snapshot above
	// is taken, so every logged event is in the store already.
	type eventsResult struct {
		events []storedEvent
		err    error
	}
	evc := make(chan eventsResult, 1)
	rctx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	go func() {
		evs, err := readEvents(rctx, store, opts)
		evc <- eventsResult{evs, err}
	}()
	leaves, err := loadLeaves(ctx, tx, n)
	if err != nil {
		return rep, err
	}
	stored, err := loadHashes(ctx, tx, tlog.StoredHashCount(n))
	if err != nil {
		return rep, err
	}
	notes, err := loadCheckpointNotes(ctx, tx)
	if err != nil {
		return rep, err
	}
	_ = tx.Rollback(ctx)

	// Every event in the store, in log order, with its leaf hash.
	res := <-evc
	events, err := res.events, res.err
	if err != nil {
		return rep, err
	}
	rep.Events = int64(len(events))

	leafOf := make(map[uuid.UUID]int64, len(leaves))
	for i, lf := range leaves {
		leafOf[lf.id] = int64(i)
	}
	inStore := make(map[uuid.UUID]int, len(events))
	for j, e := range events {
		inStore[e.id] = j
	}

	// Walk the log and the store side by side.
	rec := make([]tlog.Hash, 0, tlog.StoredHashCount(n))
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for k, x := range idx {
			if x < 0 || x >= int64(len(rec)) {
				return nil, fmt.Errorf("auditlog: verify: hash %d not computed", x)
			}
			out[k] = rec[x]
		}
		return out, nil
	})
	var i int64
	j := 0
	for i < n && j < len(events) {
		e, lf := events[j], leaves[i]
		if e.id != lf.id {
			if _, logged := leafOf[e.id]; !logged {
				if !st.Position.Less(e.pos) {
					return rep, &audit.Problem{Kind: audit.EventInserted, Leaf: -1, Stream: e.stream, Version: e.version, EventID: e.id,
						Detail: fmt.Sprintf("in the store before the log's last leaf (position %s), but not in the log", e.pos)}
				}
				break // not logged yet; the leaves left are missing from the store
			}
			if _, ok := inStore[lf.id]; !ok {
				return rep, deleted(lf, i, leaves, inStore)
			}
			return rep, &audit.Problem{Kind: audit.EventsReordered, Leaf: i, Stream: lf.stream, Version: lf.version, EventID: lf.id,
				Detail: fmt.Sprintf("the store has event %s (stream %s version %d) where the log has this one", e.id, e.stream, e.version)}
		}
		th := stored[tlog.StoredHashIndex(0, i)]
		if e.hash != th {
			if p := changed(ctx, l, store, e, lf, i, th); p != nil {
				return rep, p
			}
		} else if lf.copyHash != th {
			return rep, &audit.Problem{Kind: audit.LeafCopyChanged, Leaf: i, Stream: lf.stream, Version: lf.version, EventID: lf.id,
				Detail: "the stored canonical encoding of the leaf is not the event's (the tree hash is)"}
		}
		hs, err := tlog.StoredHashesForRecordHash(i, e.hash, reader)
		if err != nil {
			return rep, err
		}
		base := int64(len(rec))
		rec = append(rec, hs...)
		for k := range hs {
			x := base + int64(k)
			if rec[x] != stored[x] {
				level, node := tlog.SplitStoredHashIndex(x)
				return rep, &audit.Problem{Kind: audit.TreeHashRewritten, Leaf: i, CheckpointSize: 0,
					Detail: fmt.Sprintf("stored hash %d (level %d, node %d) is not the hash recomputed from the events", x, level, node)}
			}
		}
		i++
		j++
	}
	if i < n {
		return rep, deleted(leaves[i], i, leaves, inStore)
	}
	rep.Unlogged = int64(len(events) - j)
	if j < len(events) {
		e := events[j]
		rep.FirstUnlogged = &audit.Problem{Kind: audit.NotLogged, Leaf: -1, Stream: e.stream, Version: e.version, EventID: e.id}
	}
	root, err := tlog.TreeHash(n, reader)
	if err != nil {
		return rep, err
	}
	rep.Root = root
	if root != st.Root {
		return rep, &audit.Problem{Kind: audit.TreeHashRewritten, Leaf: -1,
			Detail: fmt.Sprintf("the log's stored root %s is not the root %s recomputed from the events", st.Root, root)}
	}

	// Checkpoints: signature, root, and each extends the one before.
	if len(notes) > 0 && opts.Key == nil {
		return rep, errors.New("auditlog: verify: the log has signed checkpoints; give the public key to check them with")
	}
	var prev audit.Checkpoint
	for _, sn := range notes {
		c, err := audit.OpenCheckpoint(sn.note, opts.Key)
		if err != nil {
			return rep, &audit.Problem{Kind: audit.CheckpointSignature, Leaf: -1, CheckpointSize: sn.size, Detail: err.Error()}
		}
		if c.Size != sn.size {
			return rep, &audit.Problem{Kind: audit.CheckpointMismatch, Leaf: -1, CheckpointSize: sn.size,
				Detail: fmt.Sprintf("the signed checkpoint is of size %d", c.Size)}
		}
		if p := checkAgainstTree(c, n, reader, audit.CheckpointMismatch, "stored checkpoint"); p != nil {
			return rep, p
		}
		if prev.Size > 0 {
			proof, err := tlog.ProveTree(c.Size, prev.Size, reader)
			if err == nil {
				err = audit.CheckConsistency(prev, c, proof)
			}
			if err != nil {
				return rep, &audit.Problem{Kind: audit.CheckpointFork, Leaf: -1, CheckpointSize: c.Size,
					Detail: fmt.Sprintf("does not extend the checkpoint of size %d: %v", prev.Size, err)}
			}
		}
		prev = c
		rep.Checkpoints++
	}
	rep.Signed = prev.Size
	rep.Unsigned = n - prev.Size
	rep.KeyChecked = opts.Key != nil
	if rep.Unsigned > 0 {
		lf := leaves[prev.Size]
		rep.FirstUnsigned = &audit.Problem{Kind: audit.NotSigned, Leaf: prev.Size, Stream: lf.stream, Version: lf.version, EventID: lf.id}
	}

	if len(opts.Trusted) > 0 {
		if opts.Key == nil {
			return rep, errors.New("auditlog: verify: give the public key to check the trusted checkpoint with")
		}
		c, err := audit.OpenCheckpoint(opts.Trusted, opts.Key)
		if err != nil {
			return rep, &audit.Problem{Kind: audit.TrustedMismatch, Leaf: -1, Detail: "the trusted checkpoint: " + err.Error()}
		}
		if p := checkAgainstTree(c, n, reader, audit.TrustedMismatch, "trusted checkpoint"); p != nil {
			return rep, p
		}
		rep.Trusted = c.Size
	}
	return rep, nil
}

// checkAgainstTree checks that checkpoint c is a head of the recomputed
// tree of n leaves.
func checkAgainstTree(c audit.Checkpoint, n int64, reader tlog.HashReader, kind audit.Kind, what string) *audit.Problem {
	if c.Size > n {
		return &audit.Problem{Kind: audit.LogTruncated, Leaf: -1, CheckpointSize: c.Size,
			Detail: fmt.Sprintf("the log has %d leaves, fewer than the %s signed for %d", n, what, c.Size)}
	}
	if c.Size == 0 {
		return nil
	}
	h, err := tlog.TreeHash(c.Size, reader)
	if err != nil {
		return &audit.Problem{Kind: kind, Leaf: -1, CheckpointSize: c.Size, Detail: err.Error()}
	}
	if h != c.Root {
		return &audit.Problem{Kind: kind, Leaf: -1, CheckpointSize: c.Size,
			Detail: fmt.Sprintf("the %s's root %s is not the root %s of the tree recomputed from the events", what, c.Root, h)}
	}
	return nil
}

// deleted reports leaf i's event missing from the store: one event, or
// all the last ones (truncation).
func deleted(lf loggedLeaf, i int64, leaves []loggedLeaf, inStore map[uuid.UUID]int) *audit.Problem {
	all := true
	for _, rest := range leaves[i:] {
		if _, ok := inStore[rest.id]; ok {
			all = false
			break
		}
	}
	if all && int64(len(leaves))-i > 1 {
		return &audit.Problem{Kind: audit.EventsTruncated, Leaf: i, Stream: lf.stream, Version: lf.version, EventID: lf.id,
			Detail: fmt.Sprintf("the last %d logged events, from this one on, are missing from the store", int64(len(leaves))-i)}
	}
	return &audit.Problem{Kind: audit.EventDeleted, Leaf: i, Stream: lf.stream, Version: lf.version, EventID: lf.id,
		Detail: "logged, but missing from the store"}
}

// changed diagnoses an event whose leaf hash is not the logged one.
func changed(ctx context.Context, l *Log, store eventstore.Store, e storedEvent, lf loggedLeaf, i int64, th tlog.Hash) *audit.Problem {
	p := &audit.Problem{Kind: audit.EventChanged, Leaf: i, Stream: lf.stream, Version: lf.version, EventID: lf.id}
	if lf.copyHash != th && e.hash == lf.copyHash {
		p.Kind = audit.TreeHashRewritten
		p.Detail = fmt.Sprintf("stored hash %d (the leaf hash) is not the hash of the event (or the event and its stored encoding were both changed)", tlog.StoredHashIndex(0, i))
		return p
	}
	p.Detail = "content differs from the logged leaf"
	if lf.copyHash != th {
		return p // the stored encoding is no help to tell what changed
	}
	logged, err := l.leafBytes(ctx, i)
	if err != nil {
		return p
	}
	evs, err := store.ReadStream(ctx, e.stream, eventstore.ReadStreamOptions{From: e.version, Limit: 1})
	if err != nil || len(evs) != 1 || evs[0].ID != e.id {
		return p
	}
	now, err := audit.LeafOf(evs[0]).Encode()
	if err != nil {
		return p
	}
	p.Detail = audit.DiffLeaves(logged, now)
	return p
}

func (l *Log) leafBytes(ctx context.Context, i int64) ([]byte, error) {
	var b []byte
	err := l.pool.QueryRow(ctx, `SELECT leaf FROM audit_leaves WHERE leaf_index = $1`, i).Scan(&b)
	return b, err
}

func loadLeaves(ctx context.Context, tx pgx.Tx, n int64) ([]loggedLeaf, error) {
	out := make([]loggedLeaf, 0, n)
	// The leaf hash (RFC 6962: SHA-256 of 0x00 and the leaf) is computed by
	// PostgreSQL: 32 bytes cross the wire per leaf instead of the leaf.
	rows, err := tx.Query(ctx, `SELECT leaf_index, event_id, stream_id, version, sha256('\x00'::bytea || leaf) FROM audit_leaves WHERE leaf_index < $1 ORDER BY leaf_index`, n)
	if err != nil {
		return nil, err
	}
	var idx, version int64
	var id uuid.UUID
	var stream string
	var leaf []byte
	var gap error
	_, err = pgx.ForEachRow(rows, []any{&idx, &id, &stream, &version, &leaf}, func() error {
		if idx != int64(len(out)) && gap == nil {
			gap = &audit.Problem{Kind: audit.LogDamaged, Leaf: int64(len(out)), Detail: "the leaf is missing from the log's leaf table"}
		}
		var h tlog.Hash
		copy(h[:], leaf) // sha256 gives 32 bytes
		out = append(out, loggedLeaf{id: id, stream: stream, version: uint64(version), copyHash: h})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if gap != nil {
		return nil, gap
	}
	if int64(len(out)) != n {
		return nil, &audit.Problem{Kind: audit.LogDamaged, Leaf: int64(len(out)),
			Detail: fmt.Sprintf("the log's state says %d leaves, its leaf table holds %d", n, len(out))}
	}
	return out, nil
}

func loadHashes(ctx context.Context, tx pgx.Tx, count int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, count)
	rows, err := tx.Query(ctx, `SELECT id, hash FROM audit_hashes WHERE id < $1 ORDER BY id`, count)
	if err != nil {
		return nil, err
	}
	var id int64
	var h []byte
	var bad error
	_, err = pgx.ForEachRow(rows, []any{&id, &h}, func() error {
		if bad == nil && (id != int64(len(out)) || len(h) != tlog.HashSize) {
			bad = &audit.Problem{Kind: audit.LogDamaged, Leaf: -1, Detail: fmt.Sprintf("stored tree hash %d is missing or malformed", len(out))}
		}
		out = append(out, tlog.Hash(h))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	if int64(len(out)) != count {
		return nil, &audit.Problem{Kind: audit.LogDamaged, Leaf: -1, Detail: fmt.Sprintf("the log holds %d tree hashes, %d expected", len(out), count)}
	}
	return out, nil
}

type storedNote struct {
	size int64
	note []byte
}

func loadCheckpointNotes(ctx context.Context, tx pgx.Tx) ([]storedNote, error) {
	rows, err := tx.Query(ctx, `SELECT tree_size, note FROM audit_checkpoints ORDER BY tree_size`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedNote, error) {
		var s storedNote
		return s, r.Scan(&s.size, &s.note)
	})
}

func readEvents(ctx context.Context, store eventstore.Store, opts VerifyOptions) ([]storedEvent, error) {
	// Pages are fetched by one goroutine and hashed by this one.
	pages := make(chan []eventstore.RecordedEvent, 2)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(pages)
		errc <- fetchEvents(ctx, store, opts.PageSize, pages)
	}()
	var out []storedEvent
	for page := range pages {
		for _, e := range page {
			h, err := audit.LeafOf(e).Hash()
			if err != nil {
				return nil, &audit.Problem{Kind: audit.EventChanged, Leaf: -1, Stream: e.StreamID, Version: e.Version, EventID: e.ID, Detail: err.Error()}
			}
			out = append(out, storedEvent{id: e.ID, stream: e.StreamID, version: e.Version, pos: e.Position, hash: h})
		}
		if opts.Progress != nil {
			opts.Progress(int64(len(out)))
		}
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	return out, nil
}

// fetchEvents sends every event appended before it was called, page by
// page, in log order (an event a still-open older transaction may precede
// comes a moment later).
func fetchEvents(ctx context.Context, store eventstore.Store, pageSize int, pages chan<- []eventstore.RecordedEvent) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("auditlog: verify: reading the events: %w", err)
	}
	after := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, eventstore.ReadAllOptions{After: after, Limit: pageSize})
		if err != nil {
			return fmt.Errorf("auditlog: verify: reading the events: %w", err)
		}
		if len(page) == 0 {
			if !after.Less(head) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
			continue
		}
		select {
		case pages <- page:
		case <-ctx.Done():
			return ctx.Err()
		}
		after = page[len(page)-1].Position
	}
}
