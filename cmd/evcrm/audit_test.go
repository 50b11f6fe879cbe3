package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
)

// TestAuditCommands: verify exits non-zero until something is signed and
// covers every event; a pack exported from the CLI verifies offline with
// the public key and not with another.
func TestAuditCommands(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	dir := t.TempDir()
	url := "--database-url=" + db.URL
	if out, _, err := runCLI(t, "migrate", url); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	store, err := postgres.New(ctx, db.Pool, postgres.Config{DisableListenNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i := range 3 {
		if _, err := store.Append(ctx, eventstore.StreamID("customer", uuid.New()), eventstore.Any, eventstore.EventData{
			ID: uuid.New(), Type: "CustomerNoted", SchemaVersion: 1, Data: []byte(`{"i":` + string(rune('0'+i)) + `}`),
			Metadata: eventstore.Metadata{Tenant: "acme", Actor: "alice"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The read models the report reads (evcrm serve keeps them).
	rt, err := projections.New(ctx, projections.Config{Pool: db.Pool, Store: store}, readmodels.All()...)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	saved := cfg.Audit
	t.Cleanup(func() { cfg.Audit = saved })
	cfg.Audit.KeyFile, cfg.Audit.Key = "", ""

	// No key at all: nothing is verified.
	if _, _, err := runCLI(t, "audit", "verify", url); err == nil || !strings.Contains(err.Error(), "not verified: no key") {
		t.Fatalf("verify without a key: %v", err)
	}
	keyFile := filepath.Join(dir, "audit.key")
	vkey, _, err := runCLI(t, "audit", "keygen", "--name", "evcrm.test/audit", "--out", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	vkey = strings.TrimSpace(vkey)
	cfg.Audit.KeyFile = keyFile
	// A key, but nothing signed yet.
	if _, _, err := runCLI(t, "audit", "verify", url, "--key", vkey); err == nil || !strings.Contains(err.Error(), "no signed checkpoint covers any of the 3 events") {
		t.Fatalf("verify before a checkpoint: %v", err)
	}
	if _, _, err := runCLI(t, "audit", "checkpoint", url); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "audit", "verify", url, "--key", vkey); err != nil || !strings.Contains(out, "verified:    3 events") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	packFile := filepath.Join(dir, "pack.zip")
	today := time.Now().UTC().Format(time.DateOnly)
	out, _, err := runCLI(t, "audit", "export", url, "--tenant", "acme", "--from", today, "--to", today, "--out", packFile)
	if err != nil || !strings.Contains(out, "3 events of tenant acme") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if _, err := os.Stat(packFile); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "audit", "verify-pack", packFile, "--key", vkey); err != nil || !strings.Contains(out, "verified: 3 events of tenant acme") {
		t.Fatalf("verify-pack: %v\n%s", err, out)
	}
	other, _, err := runCLI(t, "audit", "keygen", "--name", "evcrm.test/audit", "--out", filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "audit", "verify-pack", packFile, "--key", strings.TrimSpace(other)); err == nil || !strings.Contains(err.Error(), "manifest.txt: signature does not verify") {
		t.Fatalf("verify-pack with another key: %v", err)
	}
	if _, _, err := runCLI(t, "audit", "export", url, "--from", today, "--to", "yesterday", "--out", filepath.Join(dir, "x.zip")); err == nil {
		t.Fatal("export with a bad --to")
	}
}
