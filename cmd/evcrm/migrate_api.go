package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/internal/apistore"
)

// The API's tables (tokens, idempotency keys, command sequences) migrate
// after the event store's.
func init() {
	migrationSteps = append(migrationSteps, migrationStep{
		Name: "api",
		Run:  func(ctx context.Context, pool *pgxpool.Pool) error { return apistore.Migrate(ctx, pool, nil) },
	})
}
