package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/internal/pgtest"
)

// TestBench runs `evcrm bench` at a tiny size: every phase runs, the report
// has its lines, and the scratch schema is gone afterwards.
func TestBench(t *testing.T) {
	db := pgtest.New(t)
	out, errOut, err := runCLI(t, "bench", "--database-url="+db.URL, "--progress=false",
		"--events", "40", "--batch-events", "400", "--batch", "20", "--writers", "2", "--rounds", "2", "--read-events", "3000")
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{
		"raw insert, 1 row per call, 1 writer", "append, 1 event per call, 2 writers", "append, 20 events per call, 2 writers",
		"subscribe, all events", "subscribe, 1 category of 10 (3000 scanned)", "vs raw",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	schema := regexp.MustCompile(`schema (evcrm_bench_[0-9a-f]+)`).FindStringSubmatch(out)
	if schema == nil {
		t.Fatalf("report names no schema:\n%s", out)
	}
	var exists bool
	if err := db.Pool.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema[1]).Scan(&exists); err != nil || exists {
		t.Fatalf("scratch schema %s left behind (%v)", schema[1], err)
	}
	if _, _, err := runCLI(t, "bench", "--database-url="+db.URL, "--batch", "1"); err == nil {
		t.Fatal("--batch 1 accepted")
	}
}
