// Package auditlog keeps evcrm's transparency log (package audit) in
// PostgreSQL: a Builder that turns the global event log into leaves and
// tree hashes, a Checkpointer that signs the tree head, the reads the
// audit API serves (checkpoints, proofs, leaves), and Verify, which checks
// the whole log against the event store. Its tables are created by
// embedded goose migrations with their own version table (Migrate).
package auditlog

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/eventstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable records which of this package's migrations have run.
const VersionTable = "audit_goose_db_version"

// Migrate brings the transparency log's tables in pool's schema up to
// date. Concurrent callers on one schema are serialised by an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	var lockID int64
	if err := pool.QueryRow(ctx, `SELECT hashtextextended(current_schema() || '/evcrm/audit', 0)`).Scan(&lockID); err != nil {
		return fmt.Errorf("auditlog: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("auditlog: migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("auditlog: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(VersionTable), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("auditlog: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("auditlog: migrate: %w", err)
	}
	return nil
}

// State is the builder's checkpoint: the tree over the first Size events
// of the global log, the last of which is at Position.
type State struct {
	Size     int64
	Position eventstore.Position
	Root     tlog.Hash
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func loadState(ctx context.Context, q querier, forUpdate bool) (State, error) {
	sql := `SELECT tree_size, commit_position, prepare_position, root_hash FROM audit_state`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	var s State
	var commit, prepare int64
	var root []byte
	if err := q.QueryRow(ctx, sql).Scan(&s.Size, &commit, &prepare, &root); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return State{}, errors.New("auditlog: the log's state row is missing (run `evcrm migrate`)")
		}
		return State{}, fmt.Errorf("auditlog: loading the state: %w", err)
	}
	if len(root) != tlog.HashSize {
		return State{}, errors.New("auditlog: the state's root hash is malformed")
	}
	s.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
	s.Root = tlog.Hash(root)
	return s, nil
}

// dbHashes reads stored hashes from the database, in one query per call.
type dbHashes struct {
	ctx context.Context
	q   querier
}

func (r dbHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	rows, err := r.q.Query(r.ctx, `SELECT id, hash FROM audit_hashes WHERE id = ANY($1)`, indexes)
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading tree hashes: %w", err)
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	var id int64
	var h []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &h}, func() error {
		if len(h) != tlog.HashSize {
			return fmt.Errorf("auditlog: stored hash %d is malformed", id)
		}
		found[id] = tlog.Hash(h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("auditlog: reading tree hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("auditlog: stored hash %d is missing", x)
		}
		out[i] = h
	}
	return out, nil
}
