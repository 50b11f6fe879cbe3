package postgres_test

import (
	"context"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"github.com/evcrm/evcrm/internal/pgtest"
)

// newStore returns a store on a fresh, migrated schema.
func newStore(tb testing.TB, cfg postgres.Config) (*postgres.Store, *pgtest.DB) {
	tb.Helper()
	db := pgtest.New(tb)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		tb.Fatal(err)
	}
	s, err := postgres.New(ctx, db.Pool, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s, db
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, _ := newStore(t, postgres.Config{})
		return s
	})
}
