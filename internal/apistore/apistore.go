// Package apistore keeps the command API's own state in PostgreSQL: bearer
// API tokens (hashed), idempotency keys, the named sequences the command
// side allocates references from, and the command side's snapshots of long
// streams (Snapshots). Its tables are created by embedded goose
// migrations with their own version table (Migrate).
package apistore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable records which of this package's migrations have run.
const VersionTable = "api_goose_db_version"

// Migrate brings the API tables in pool's schema (its search_path) up to date.
// Concurrent callers on the same schema are serialised by an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	var lockID int64
	if err := pool.QueryRow(ctx, `SELECT hashtextextended(current_schema() || '/evcrm/api', 0)`).Scan(&lockID); err != nil {
		return fmt.Errorf("apistore: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("apistore: migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	opts := []goose.ProviderOption{
		goose.WithTableName(VersionTable),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = append(opts, goose.WithSlog(logger))
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("apistore: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("apistore: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apistore: migrate: %w", err)
	}
	return nil
}
