package auditlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/eventstore"
)

// Errors of the log's reads; the HTTP layer maps them (404, 400, 503).
var (
	// ErrNotFound: no such leaf, event or checkpoint in the log.
	ErrNotFound = errors.New("not in the audit log")
	// ErrBadRange: a tree size or leaf range outside the log.
	ErrBadRange = errors.New("outside the audit log")
	// ErrNoKey: no signing key is configured, so no checkpoint is signed.
	ErrNoKey = errors.New("no audit signing key is configured (EVCRM_AUDIT_KEY_FILE or EVCRM_AUDIT_KEY)")
)

// Log reads the transparency log and publishes its checkpoints.
type Log struct {
	pool   *pgxpool.Pool
	signer note.Signer // nil: checkpoints are not signed
	logger *slog.Logger
	now    func() time.Time
	// known is a tree size the log has reached: it only grows, so a size
	// up to it needs no look at the state (one round trip less per proof).
	known atomic.Int64
}

// Config configures a Log. Pool is required; without Signer the log still
// builds and serves proofs, but publishes no checkpoint.
type Config struct {
	Pool   *pgxpool.Pool
	Signer note.Signer
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// New returns a Log.
func New(cfg Config) (*Log, error) {
	if cfg.Pool == nil {
		return nil, errors.New("auditlog: a pool is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Log{pool: cfg.Pool, signer: cfg.Signer, logger: cfg.Logger, now: cfg.Now}, nil
}

// Signer returns the signing key, or nil.
func (l *Log) Signer() note.Signer { return l.signer }

// State returns the tree's current size, root and position.
func (l *Log) State(ctx context.Context) (State, error) { return loadState(ctx, l.pool, false) }

// SignedCheckpoint is a checkpoint and its signed note.
type SignedCheckpoint struct {
	audit.Checkpoint
	Note []byte
}

// Publish signs a checkpoint of the tree as it is now, unless one of that
// size exists (then it returns that one). Before signing it checks that
// the root recomputed from the stored hashes is the state's, and that the
// tree extends the latest checkpoint (a consistency proof from the stored
// hashes), so a rewritten tree is never signed.
func (l *Log) Publish(ctx context.Context) (SignedCheckpoint, error) {
	if l.signer == nil {
		return SignedCheckpoint{}, ErrNoKey
	}
	var out SignedCheckpoint
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		st, err := loadState(ctx, tx, true) // one publisher at a time
		if err != nil {
			return err
		}
		prev, err := latest(ctx, tx)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err == nil && prev.Size == st.Size {
			out = prev
			return nil
		}
		hashes := dbHashes{ctx: ctx, q: tx}
		root, err := tlog.TreeHash(st.Size, hashes)
		if err != nil {
			return err
		}
		if root != st.Root {
			return fmt.Errorf("auditlog: refusing to sign: the stored hashes give root %s for %d leaves, the state says %s", root, st.Size, st.Root)
		}
		if prev.Size > 0 {
			if prev.Size > st.Size {
				return fmt.Errorf("auditlog: refusing to sign: the tree (%d leaves) is smaller than the last checkpoint (%d)", st.Size, prev.Size)
			}
			proof, err := tlog.ProveTree(st.Size, prev.Size, hashes)
			if err != nil {
				return err
			}
			if err := tlog.CheckTree(proof, st.Size, root, prev.Size, prev.Root); err != nil {
				return fmt.Errorf("auditlog: refusing to sign: the tree does not extend the checkpoint of %d leaves: %w", prev.Size, err)
			}
		}
		c := audit.Checkpoint{Origin: l.signer.Name(), Size: st.Size, Root: root, Time: l.now().UTC().Truncate(time.Second)}
		signed, err := c.Sign(l.signer)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (tree_size, root_hash, signed_at, key_name, note) VALUES ($1, $2, $3, $4, $5)`,
			c.Size, c.Root[:], c.Time, l.signer.Name(), signed); err != nil {
			return fmt.Errorf("auditlog: saving the checkpoint: %w", err)
		}
		out = SignedCheckpoint{Checkpoint: c, Note: signed}
		return nil
	})
	return out, err
}

// RunCheckpoints publishes a checkpoint every interval until ctx ends.
func (l *Log) RunCheckpoints(ctx context.Context, interval time.Duration) error {
	if l.signer == nil {
		l.logger.Warn("audit: no signing key configured; the log builds but no checkpoint is signed")
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := l.Publish(ctx); err != nil && ctx.Err() == nil {
				l.logger.Error("audit: publishing a checkpoint", "error", err)
			}
		}
	}
}

// Latest returns the latest signed checkpoint (ErrNotFound if none).
func (l *Log) Latest(ctx context.Context) (SignedCheckpoint, error) { return latest(ctx, l.pool) }

func latest(ctx context.Context, q querier) (SignedCheckpoint, error) {
	return scanCheckpoint(q.QueryRow(ctx, `SELECT note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`))
}

// Checkpoint returns the signed checkpoint of a tree size (ErrNotFound if none).
func (l *Log) Checkpoint(ctx context.Context, size int64) (SignedCheckpoint, error) {
	return scanCheckpoint(l.pool.QueryRow(ctx, `SELECT note FROM audit_checkpoints WHERE tree_size = $1`, size))
}

// Checkpoints returns every stored checkpoint note, smallest tree first.
func (l *Log) Checkpoints(ctx context.Context) ([][]byte, error) {
	rows, err := l.pool.Query(ctx, `SELECT note FROM audit_checkpoints ORDER BY tree_size`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[[]byte])
}

func scanCheckpoint(row pgx.Row) (SignedCheckpoint, error) {
	var signed []byte
	if err := row.Scan(&signed); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return SignedCheckpoint{}, fmt.Errorf("checkpoint: %w", ErrNotFound)
		}
		return SignedCheckpoint{}, err
	}
	// The note's text is the checkpoint; its signature is checked by
	// whoever reads it, with the public key they trust.
	text, _, ok := cutNote(signed)
	if !ok {
		return SignedCheckpoint{}, errors.New("auditlog: a stored checkpoint is not a signed note")
	}
	c, err := audit.ParseCheckpoint(text)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Checkpoint: c, Note: signed}, nil
}

// cutNote splits a signed note into its text and signature block.
func cutNote(signed []byte) (text string, sigs string, ok bool) {
	s := string(signed)
	for i := len(s) - 2; i >= 0; i-- {
		if s[i] == '\n' && s[i+1] == '\n' {
			return s[:i+1], s[i+2:], true
		}
	}
	return "", "", false
}

// LeafRecord is a leaf of the log with the event it is.
type LeafRecord struct {
	Index      int64
	EventID    uuid.UUID
	Stream     string
	Version    uint64
	Position   eventstore.Position
	Tenant     string
	RecordedAt time.Time
	OccurredAt *time.Time
	Leaf       []byte // canonical encoding
}

const leafColumns = `leaf_index, event_id, stream_id, version, commit_position, prepare_position, tenant, recorded_at, occurred_at, leaf`

func scanLeaf(row pgx.CollectableRow) (LeafRecord, error) {
	var r LeafRecord
	var version, commit, prepare int64
	err := row.Scan(&r.Index, &r.EventID, &r.Stream, &version, &commit, &prepare, &r.Tenant, &r.RecordedAt, &r.OccurredAt, &r.Leaf)
	r.Version = uint64(version)
	r.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
	return r, err
}

// LeafByEvent returns the leaf of an event (ErrNotFound if not logged yet).
func (l *Log) LeafByEvent(ctx context.Context, id uuid.UUID) (LeafRecord, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+leafColumns+` FROM audit_leaves WHERE event_id = $1`, id)
	if err != nil {
		return LeafRecord{}, err
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanLeaf)
	if errors.Is(err, pgx.ErrNoRows) {
		return LeafRecord{}, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	return r, err
}

// LeafQuery selects leaves. Tenant, when set, keeps only that tenant's.
type LeafQuery struct {
	From, To      int64 // leaf indexes, [From, To)
	Tenant        *string
	Stream        string    // optional: one stream
	CorrelationID uuid.UUID // optional: one business transaction
	RecordedFrom  time.Time // optional: recorded at or after
	RecordedTo    time.Time // optional: recorded before
	Limit         int
}

// Leaves returns leaves in index order.
func (l *Log) Leaves(ctx context.Context, q LeafQuery) ([]LeafRecord, error) {
	sql := `SELECT ` + leafColumns + ` FROM audit_leaves WHERE leaf_index >= $1 AND leaf_index < $2`
	args := []any{q.From, q.To}
	if q.Tenant != nil {
		args = append(args, *q.Tenant)
		sql += fmt.Sprintf(` AND tenant = $%d`, len(args))
	}
	if q.Stream != "" {
		args = append(args, q.Stream)
		sql += fmt.Sprintf(` AND stream_id = $%d`, len(args))
	}
	if q.CorrelationID != uuid.Nil {
		args = append(args, q.CorrelationID)
		sql += fmt.Sprintf(` AND correlation_id = $%d`, len(args))
	}
	if !q.RecordedFrom.IsZero() {
		args = append(args, q.RecordedFrom)
		sql += fmt.Sprintf(` AND recorded_at >= $%d`, len(args))
	}
	if !q.RecordedTo.IsZero() {
		args = append(args, q.RecordedTo)
		sql += fmt.Sprintf(` AND recorded_at < $%d`, len(args))
	}
	sql += ` ORDER BY leaf_index`
	if q.Limit > 0 {
		sql += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	rows, err := l.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanLeaf)
}

// InclusionProof proves that leaf index is in the tree of size leaves.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	if err := l.checkSize(ctx, size); err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, fmt.Errorf("leaf %d in a tree of %d leaves: %w", index, size, ErrBadRange)
	}
	return tlog.ProveRecord(size, index, dbHashes{ctx: ctx, q: l.pool})
}

// ConsistencyProof proves that the tree of size newer extends that of older.
func (l *Log) ConsistencyProof(ctx context.Context, older, newer int64) (tlog.TreeProof, error) {
	if err := l.checkSize(ctx, newer); err != nil {
		return nil, err
	}
	if older < 1 || older > newer {
		return nil, fmt.Errorf("tree sizes %d and %d: want 1 <= old <= new: %w", older, newer, ErrBadRange)
	}
	return tlog.ProveTree(newer, older, dbHashes{ctx: ctx, q: l.pool})
}

// TreeHash returns the root of the tree of size leaves.
func (l *Log) TreeHash(ctx context.Context, size int64) (tlog.Hash, error) {
	if err := l.checkSize(ctx, size); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, dbHashes{ctx: ctx, q: l.pool})
}

func (l *Log) checkSize(ctx context.Context, size int64) error {
	if size >= 1 && size <= l.known.Load() {
		return nil
	}
	st, err := l.State(ctx)
	if err != nil {
		return err
	}
	l.known.Store(st.Size)
	if size < 1 || size > st.Size {
		return fmt.Errorf("tree size %d (the log has %d leaves): %w", size, st.Size, ErrBadRange)
	}
	return nil
}

// Pool returns the database the log is kept in.
func (l *Log) Pool() *pgxpool.Pool { return l.pool }

// InclusionProofs proves that each leaf of indexes is in the tree of size
// leaves, reading each stored hash once (proofs of nearby leaves share
// most of their nodes): for exporting many proofs at once.
func (l *Log) InclusionProofs(ctx context.Context, indexes []int64, size int64) ([]tlog.RecordProof, error) {
	if err := l.checkSize(ctx, size); err != nil {
		return nil, err
	}
	cache := cachedHashes{cache: map[int64]tlog.Hash{}, db: dbHashes{ctx: ctx, q: l.pool}}
	out := make([]tlog.RecordProof, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= size {
			return nil, fmt.Errorf("leaf %d in a tree of %d leaves: %w", x, size, ErrBadRange)
		}
		p, err := tlog.ProveRecord(size, x, cache)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
