package projections

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/evcrm/evcrm/internal/lease"
	"github.com/jackc/pgx/v5"
)

// newLeases returns the leases (package lease: watched session advisory
// locks) that elect one worker per generation across processes. A lease
// whose session fails ends its worker's context; the worker stops and
// waits to win the lease again. Correctness does not depend on them: every
// batch also checks the checkpoint it starts from under a row lock.
func newLeases(cfg *pgx.ConnConfig, base string, poll time.Duration, log *slog.Logger) (*lease.Locker, error) {
	database := cfg.Database
	return lease.New(lease.Config{
		ConnConfig: cfg,
		// Checks as often as the catalog is polled, within bounds: a
		// check that takes longer than the interval counts as a lost
		// session, which a loaded machine must not fake.
		CheckInterval: min(max(poll, 250*time.Millisecond), time.Second),
		Logger:        log,
		// The key text the runtime's locks always had, so old and new
		// instances exclude each other.
		Key: func(name string) string { return lockKey(database, base, name) },
	})
}

// leaseName names a generation's lease.
func leaseName(gen int64) string { return strconv.FormatInt(gen, 10) }

// lockKey is the text hashed into the advisory lock key of a generation's
// lease (named by leaseName): generation ids are unique per serving schema,
// and the database and schema names keep several evcrm instances (or test
// schemas) on one server apart.
func lockKey(database, schema, name string) string {
	return fmt.Sprintf("evcrm_projections:%s.%s:%s", database, schema, name)
}
