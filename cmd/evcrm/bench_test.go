package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// TestBenchCommands runs `evcrm bench commands` briefly at two
// concurrencies: both phases of each run, commands are accepted, the JSON
// file holds the phases, and the scratch schemas are gone afterwards.
func TestBenchCommands(t *testing.T) {
	db := pgtest.New(t)
	jsonOut := filepath.Join(t.TempDir(), "commands.json")
	out, errOut, err := runCLI(t, "bench", "commands", "--database-url="+db.URL,
		"--clients", "1,2", "--duration", "300ms", "--json", jsonOut)
	if err != nil {
		t.Fatalf("bench commands: %v\n%s\n%s", err, out, errOut)
	}
	data, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Phases []struct {
			Kind    string  `json:"kind"`
			Clients int     `json:"clients"`
			Ops     int64   `json:"ops"`
			VsRaw   float64 `json:"vs_raw"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var kinds []string
	for _, p := range rep.Phases {
		kinds = append(kinds, fmt.Sprintf("%s/%d", p.Kind, p.Clients))
		if p.Ops == 0 || (p.Kind == "commands" && p.VsRaw <= 0) {
			t.Errorf("phase %s/%d: %d ops, ratio %v", p.Kind, p.Clients, p.Ops, p.VsRaw)
		}
	}
	if got := strings.Join(kinds, " "); got != "raw/1 commands/1 raw/2 commands/2" {
		t.Errorf("phases %s", got)
	}
	for _, want := range []string{"vs raw", "syncs/op", "goal: 1 client"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	schema := regexp.MustCompile(`schema (evcrm_benchcmd_[0-9a-f]+)`).FindStringSubmatch(out)
	if schema == nil {
		t.Fatalf("report names no schema:\n%s", out)
	}
	var left int
	if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)", schema[1]).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d scratch schemas %s* left behind (%v)", left, schema[1], err)
	}
	if _, _, err := runCLI(t, "bench", "commands", "--database-url="+db.URL, "--clients", "0"); err == nil {
		t.Fatal("--clients 0 accepted")
	}
}
