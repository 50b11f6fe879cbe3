package auditlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/eventstore"
)

// Builder appends every event of the global log to the transparency log,
// in log order, from the log's own checkpoint: for each batch of events
// delivered by the event store's subscription, the leaves, the new tree
// hashes and the new state are written in one transaction. It works on
// every event store backend and catches up after downtime.
//
// Several builders (processes) may run at once: each batch starts by
// locking the state row and skips what another builder already added, so
// the log never holds an event twice or out of order.
type Builder struct {
	pool   *pgxpool.Pool
	store  eventstore.Store
	logger *slog.Logger
	batch  int

	state State
	// cache holds the stored hashes StoredHashes needs next (the complete
	// subtrees on the tree's right edge) and those of the current batch.
	cache map[int64]tlog.Hash
}

// BuilderConfig configures a Builder. Pool and Store are required.
type BuilderConfig struct {
	Pool   *pgxpool.Pool
	Store  eventstore.Store
	Logger *slog.Logger
	// BatchSize caps the events added in one transaction (default 1000).
	BatchSize int
}

// NewBuilder returns a Builder.
func NewBuilder(cfg BuilderConfig) (*Builder, error) {
	if cfg.Pool == nil || cfg.Store == nil {
		return nil, errors.New("auditlog: the builder needs a pool and an event store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	return &Builder{pool: cfg.Pool, store: cfg.Store, logger: cfg.Logger, batch: cfg.BatchSize}, nil
}

// Run adds events to the log until ctx ends (it then returns nil). A
// failure is retried after a pause, from the stored checkpoint.
func (b *Builder) Run(ctx context.Context) error {
	backoff := time.Second
	for {
		err := b.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		b.logger.Warn("audit log builder stopped; resuming from its checkpoint", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// follow subscribes from the stored checkpoint and adds every batch.
func (b *Builder) follow(ctx context.Context) error {
	st, err := loadState(ctx, b.pool, false)
	if err != nil {
		return err
	}
	b.state, b.cache = st, nil
	return b.store.Subscribe(ctx, eventstore.SubscribeOptions{After: st.Position, BatchSize: b.batch}, b.add)
}

// CatchUp adds every event appended so far (up to the store's head when
// called) and returns; for tests, tools and benchmarks.
func (b *Builder) CatchUp(ctx context.Context) error {
	st, err := loadState(ctx, b.pool, false)
	if err != nil {
		return err
	}
	b.state, b.cache = st, nil
	for {
		events, err := b.store.ReadAll(ctx, eventstore.ReadAllOptions{After: b.state.Position, Limit: b.batch})
		if err != nil {
			return err
		}
		if len(events) == 0 {
			head, err := b.store.Head(ctx)
			if err != nil {
				return err
			}
			if !b.state.Position.Less(head) {
				return nil
			}
			time.Sleep(time.Millisecond) // an older transaction is still open
			continue
		}
		if err := b.add(ctx, events); err != nil {
			return err
		}
	}
}

// errStale: another builder moved the log since this one last looked.
var errStale = errors.New("auditlog: the log moved under this builder")

// add appends a batch in one transaction.
func (b *Builder) add(ctx context.Context, events []eventstore.RecordedEvent) error {
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		// No wait for the WAL flush at commit: a crash may lose the last
		// batches, but whole (leaves, hashes and state are one
		// transaction), and the builder adds them again, identical (same
		// events, same order). Publishing a checkpoint commits with a
		// flush, which flushes every earlier commit: nothing a signed
		// checkpoint covers can be lost.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		st, err := loadState(ctx, tx, true)
		if err != nil {
			return err
		}
		if st != b.state {
			if b.state.Position.Less(st.Position) || b.state.Position == st.Position {
				b.state, b.cache = st, nil // another builder went ahead; skip what it added
			} else {
				return fmt.Errorf("%w: the stored log (%d leaves) is behind this builder's (%d)", errStale, st.Size, b.state.Size)
			}
		}
		i := 0
		for i < len(events) && !st.Position.Less(events[i].Position) {
			i++
		}
		events = events[i:]
		if len(events) == 0 {
			return nil
		}
		next, err := b.write(ctx, tx, st, events)
		if err != nil {
			return err
		}
		b.state = next
		return nil
	})
	if err != nil {
		b.cache = nil
		if st, lerr := loadState(ctx, b.pool, false); lerr == nil {
			b.state = st
		}
		return err
	}
	b.prune()
	return nil
}

func (b *Builder) write(ctx context.Context, tx pgx.Tx, st State, events []eventstore.RecordedEvent) (State, error) {
	if b.cache == nil {
		b.cache = map[int64]tlog.Hash{}
	}
	reader := cachedHashes{cache: b.cache, db: dbHashes{ctx: ctx, q: tx}}
	leafRows := make([][]any, 0, len(events))
	hashRows := make([][]any, 0, 2*len(events)+8)
	n := st.Size
	for _, e := range events {
		l := audit.LeafOf(e)
		enc, err := l.Encode()
		if err != nil {
			return State{}, fmt.Errorf("auditlog: event %s (stream %s version %d): %w", e.ID, e.StreamID, e.Version, err)
		}
		hashes, err := tlog.StoredHashes(n, enc, reader)
		if err != nil {
			return State{}, err
		}
		base := tlog.StoredHashCount(n)
		for k, h := range hashes {
			b.cache[base+int64(k)] = h
			hashRows = append(hashRows, []any{base + int64(k), h[:]})
		}
		var corr *uuid.UUID
		if e.Metadata.CorrelationID != uuid.Nil {
			c := e.Metadata.CorrelationID
			corr = &c
		}
		var occurred *time.Time
		if !e.Metadata.OccurredAt.IsZero() {
			o := e.Metadata.OccurredAt
			occurred = &o
		}
		leafRows = append(leafRows, []any{n, e.ID, e.StreamID, int64(e.Version), int64(e.Position.Commit), int64(e.Position.Prepare),
			e.Metadata.Tenant, corr, e.RecordedAt, occurred, enc})
		n++
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_hashes"}, []string{"id", "hash"}, pgx.CopyFromRows(hashRows)); err != nil {
		return State{}, fmt.Errorf("auditlog: writing tree hashes: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_leaves"},
		[]string{"leaf_index", "event_id", "stream_id", "version", "commit_position", "prepare_position", "tenant", "correlation_id", "recorded_at", "occurred_at", "leaf"},
		pgx.CopyFromRows(leafRows)); err != nil {
		return State{}, fmt.Errorf("auditlog: writing leaves: %w", err)
	}
	root, err := tlog.TreeHash(n, reader)
	if err != nil {
		return State{}, err
	}
	last := events[len(events)-1].Position
	if _, err := tx.Exec(ctx, `UPDATE audit_state SET tree_size = $1, commit_position = $2, prepare_position = $3, root_hash = $4, updated_at = now()`,
		n, int64(last.Commit), int64(last.Prepare), root[:]); err != nil {
		return State{}, fmt.Errorf("auditlog: saving the state: %w", err)
	}
	return State{Size: n, Position: last, Root: root}, nil
}

// prune keeps in the cache only the hashes of the complete subtrees on the
// tree's right edge: all StoredHashes reads for the next leaves.
func (b *Builder) prune() {
	if b.cache == nil {
		return
	}
	keep := make(map[int64]tlog.Hash, 64)
	for _, x := range frontier(b.state.Size) {
		if h, ok := b.cache[x]; ok {
			keep[x] = h
		}
	}
	b.cache = keep
}

// frontier returns the stored-hash indexes of the maximal complete
// subtrees of a tree of n leaves, left to right.
func frontier(n int64) []int64 {
	var out []int64
	var lo int64
	for level := 62; level >= 0; level-- {
		if n&(1<<level) != 0 {
			out = append(out, tlog.StoredHashIndex(level, lo>>level))
			lo += 1 << level
		}
	}
	return out
}

// cachedHashes reads from the cache, then the database for the rest.
type cachedHashes struct {
	cache map[int64]tlog.Hash
	db    dbHashes
}

func (r cachedHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		h, ok := r.cache[x]
		if !ok {
			missing = append(missing, x)
			continue
		}
		out[i] = h
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := r.db.ReadHashes(missing)
	if err != nil {
		return nil, err
	}
	k := 0
	for i, x := range indexes {
		if _, ok := r.cache[x]; !ok {
			out[i] = got[k]
			r.cache[x] = got[k]
			k++
		}
	}
	return out, nil
}
