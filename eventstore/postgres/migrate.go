package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// MigrationsTable is the table in which goose records the event store's
// schema version, next to the event store's tables.
const MigrationsTable = "evcrm_eventstore_migrations"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNotMigrated is returned by New when the schema lacks the event store's
// tables or is behind this binary: run `evcrm migrate`.
var ErrNotMigrated = errors.New("event store schema is not migrated (run `evcrm migrate`)")

func newProvider(ctx context.Context, pool *pgxpool.Pool) (*goose.Provider, error) {
	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("event store migrations: finding the schema: %w", err)
	}
	if schema == nil {
		return nil, errors.New("event store migrations: no schema of the connection's search_path exists")
	}
	// One lock per schema, so that migrations of different schemas (tests)
	// do not wait for each other, and two processes migrating one schema do.
	h := fnv.New64a()
	h.Write([]byte(MigrationsTable + "\x00" + *schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(pool) // connections keep the pool's search_path
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(MigrationsTable),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("event store migrations: %w", err)
	}
	return p, nil
}

// Migrate brings the event store's tables in the first schema of the pool's
// search_path up to date. It is safe to run concurrently from several
// processes (they take turns on an advisory lock) and when nothing is
// pending.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	p, err := newProvider(ctx, pool)
	if err != nil {
		return err
	}
	defer p.Close()
	if _, err := p.Up(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("migrating the event store: %w", ctxErr)
		}
		return fmt.Errorf("migrating the event store: %w", err)
	}
	return nil
}

// SchemaVersion reports the event store schema's version in the database
// (0 when it was never migrated) and the latest version this binary knows.
// It changes nothing.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (current, latest int64, err error) {
	latest, err = latestMigration()
	if err != nil {
		return 0, 0, err
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", MigrationsTable).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("reading the event store schema version: %w", err)
	}
	if !exists {
		return 0, latest, nil
	}
	q := "SELECT coalesce(max(version_id), 0) FROM " + MigrationsTable + " WHERE is_applied"
	if err := pool.QueryRow(ctx, q).Scan(&current); err != nil {
		return 0, 0, fmt.Errorf("reading the event store schema version: %w", err)
	}
	return current, latest, nil
}

// latestMigration is the highest version among the embedded migrations.
func latestMigration() (int64, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, name := range names {
		prefix, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("event store migration %s: no version number", name)
		}
		latest = max(latest, v)
	}
	return latest, nil
}
