// Package pgtest gives tests an isolated schema on a real PostgreSQL.
//
// The server comes from TEST_DATABASE_URL (default: the evcrm_test database
// that scripts/pg-up.sh creates). Each call to New creates a fresh schema
// with a random name, returns a pool whose search_path is that schema alone,
// and drops the schema when the test ends. Tests fail — they never skip —
// when the server is unreachable: `make test` starts it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is used when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://evcrm:evcrm@localhost:5432/evcrm_test?sslmode=disable"

// URL returns the test server's base URL.
func URL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DB is an isolated schema.
type DB struct {
	Pool   *pgxpool.Pool
	Schema string
	// URL connects to the same database with search_path set to Schema,
	// for code that opens its own pool (a server under test, a CLI command).
	URL string
}

// Options tune New.
type Options struct {
	MaxConns int32 // default 8
	// Settings are run-time parameters of every connection of the pool,
	// e.g. {"evcrm.all_tenants": "on"} for a test that reads the read-model
	// tables of every tenant.
	Settings map[string]string
}

// New creates a schema for t and a pool bound to it.
func New(tb testing.TB, opts ...Options) *DB {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.MaxConns == 0 {
		o.MaxConns = 8
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	schema := "t_" + randomHex(6)
	admin, err := pgxpool.New(ctx, URL())
	if err != nil {
		tb.Fatalf("pgtest: connecting to %s: %v (run `make test`, which starts PostgreSQL)", redact(URL()), err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("pgtest: creating schema: %v (is PostgreSQL running? `make test` starts it)", err)
	}

	u, err := url.Parse(URL())
	if err != nil {
		tb.Fatalf("pgtest: parsing TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	cfg.MaxConns = o.MaxConns
	for k, v := range o.Settings {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgxpool.New(ctx, URL())
		if err != nil {
			tb.Errorf("pgtest: dropping schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		// Schemas named "<schema>__..." belong to the test too (the
		// projections runtime keeps each read-model generation in one).
		if _, err := admin.Exec(ctx, `DO $$DECLARE s text; BEGIN
			FOR s IN SELECT nspname FROM pg_namespace WHERE starts_with(nspname, '`+schema+`__') LOOP
				EXECUTE format('DROP SCHEMA %I CASCADE', s);
			END LOOP; END$$`); err != nil {
			tb.Errorf("pgtest: dropping schemas of %s: %v", schema, err)
		}
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
	})
	return &DB{Pool: pool, Schema: schema, URL: u.String()}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// String helps when printing a DB in test logs.
func (d *DB) String() string { return fmt.Sprintf("schema %s", d.Schema) }
