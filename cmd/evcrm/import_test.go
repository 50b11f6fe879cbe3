package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/internal/importer"
	"github.com/evcrm/evcrm/internal/pgtest"
)

// TestImportCommand: refused rows go to the report and exit 1; the state
// file makes a second run skip what the first did; --restart sends every
// row again and adds nothing.
func TestImportCommand(t *testing.T) {
	db := pgtest.New(t)
	url := "--database-url=" + db.URL
	if _, _, err := runCLI(t, "migrate", url); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "customers.csv")
	var b strings.Builder
	b.WriteString("\ufeffexternal_id,display_name,country\r\n")
	for i := range 50 {
		fmt.Fprintf(&b, "C%d,Customer %d,DE\r\n", i, i)
	}
	b.WriteString("BAD,,DE\r\n")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "refused.json")
	out, _, err := runCLI(t, "import", "customers", file, url, "--report", report, "--quiet")
	if err == nil || !strings.Contains(out, "50 imported") || !strings.Contains(out, "1 refused") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	var refused []importer.Refusal
	raw, _ := os.ReadFile(report)
	if json.Unmarshal(raw, &refused) != nil || len(refused) != 1 || refused[0].ExternalID != "BAD" || refused[0].Field != "display_name" {
		t.Fatalf("report: %s", raw)
	}
	out, errOut, _ := runCLI(t, "import", "customers", file, url, "--quiet")
	if !strings.Contains(out, "51 skipped") || !strings.Contains(errOut, "resuming after row 51") {
		t.Fatalf("second run: %s %s", out, errOut)
	}
	out, _, _ = runCLI(t, "import", "customers", file, url, "--quiet", "--restart")
	if !strings.Contains(out, "0 imported, 50 imported before") || !strings.Contains(out, "0 events") {
		t.Fatalf("restart: %s", out)
	}
	if _, _, err := runCLI(t, "import", "widgets", file, url); err == nil || !strings.Contains(err.Error(), "customers, leads") {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, _, err := runCLI(t, "import", "cases", file, url, "--role", "marketing", "--quiet"); err == nil || !strings.Contains(err.Error(), "may not import") {
		t.Fatalf("marketing importing cases: %v", err)
	}
}
