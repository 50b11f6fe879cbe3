// Package projectiontest helps test projections: a deterministic dump of
// read-model tables (for golden files and rebuild comparisons), an event
// store wrapper that hands events over in random batch sizes, and helpers
// to append domain events.
package projectiontest

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5"
)

// Update rewrites golden files instead of comparing with them: go test -update.
var Update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// Dump renders the served tables of the named projections (their views in
// the serving schema), every row as one JSON object, rows sorted by their
// JSON text: the same rows give the same dump whatever order they were
// written in.
//
// Timestamps render in UTC whatever the server's TimeZone.
func Dump(ctx context.Context, db interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}, rt *projections.Runtime, names ...string) (string, error) {
	q, err := db.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer q.Rollback(ctx) //nolint:errcheck // read only
	// Every tenant's rows (the tables' row-level security hides them otherwise).
	if _, err := q.Exec(ctx, "SELECT set_config($1, 'on', true)", projections.AllTenantsSetting); err != nil {
		return "", err
	}
	if _, err := q.Exec(ctx, "SET LOCAL TIME ZONE 'UTC'"); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	for _, name := range names {
		tables, err := rt.Tables(ctx, name)
		if err != nil {
			return "", err
		}
		for _, t := range tables {
			fmt.Fprintf(&buf, "== %s\n", t)
			rows, err := q.Query(ctx, "SELECT to_jsonb(t)::text AS j FROM "+pgx.Identifier{t}.Sanitize()+" t ORDER BY 1")
			if err != nil {
				return "", fmt.Errorf("dumping %s: %w", t, err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return "", fmt.Errorf("dumping %s: %w", t, err)
			}
			for _, l := range lines {
				buf.WriteString(l)
				buf.WriteByte('\n')
			}
		}
	}
	return buf.String(), nil
}

// Golden compares got with testdata/<name>.golden, or rewrites the file
// when the test runs with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *Update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n%s", path, diff(string(want), string(got)))
	}
}

// diff shows the first differing lines, enough to see what changed.
func diff(want, got string) string {
	wl, gl := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	var buf bytes.Buffer
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 20; i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			fmt.Fprintf(&buf, "line %d:\n  want: %s\n  got:  %s\n", i+1, w, g)
			shown++
		}
	}
	return buf.String()
}

// Chunky wraps a store so that subscriptions and log reads hand events
// over in random batch sizes (1..Max), as a busy server would. It is safe
// for concurrent use.
type Chunky struct {
	eventstore.Store
	Rand *rand.Rand
	Max  int
	mu   sync.Mutex
}

func (c *Chunky) size() int {
	if c.Max <= 1 {
		return 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return 1 + c.Rand.IntN(c.Max)
}

// ReadAll implements eventstore.Store with a random page size.
func (c *Chunky) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	n := c.size()
	if opts.Limit == 0 || opts.Limit > n {
		opts.Limit = n
	}
	return c.Store.ReadAll(ctx, opts)
}

// Subscribe implements eventstore.Store, splitting batches at random.
func (c *Chunky) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	return c.Store.Subscribe(ctx, opts, func(ctx context.Context, events []eventstore.RecordedEvent) error {
		for len(events) > 0 {
			n := min(c.size(), len(events))
			if err := h(ctx, events[:n]); err != nil {
				return err
			}
			events = events[n:]
		}
		return nil
	})
}
