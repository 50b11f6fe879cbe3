package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/domain"
)

var update = flag.Bool("update", false, "rewrite docs/events.md from the registry")

const eventsDoc = "../../docs/events.md"

func runEvents(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"events"}, args...))
	err := root.Execute()
	return out.String(), err
}

// TestEventsDocUpToDate keeps docs/events.md generated from code: it fails
// when the file differs from `evcrm events --format markdown`.
func TestEventsDocUpToDate(t *testing.T) {
	got, err := runEvents(t, "--format", "markdown")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(eventsDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(eventsDoc)
	if err != nil {
		t.Fatalf("%v: run make docs", err)
	}
	if string(want) != got {
		t.Fatalf("docs/events.md is out of date: run `make docs` (or go test ./cmd/evcrm -run TestEventsDocUpToDate -update)")
	}
}

func TestEventsMarkdown(t *testing.T) {
	out, err := runEvents(t) // markdown is the default
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### CaseOpened (v2)", "| `priority` | string |", "## complaint", "### ComplaintClosed (v1)",
		"| `customer_satisfied` | bool |", "### NonconformityClosed (v1)", "### FeedbackSubmitted (v1)", "| `csat` | int | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown catalogue lacks %q", want)
		}
	}
}

func TestEventsJSON(t *testing.T) {
	out, err := runEvents(t, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var docs []domain.TypeDoc
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(docs) != len(domain.Events.Types()) {
		t.Errorf("%d types in JSON, %d registered", len(docs), len(domain.Events.Types()))
	}
	for _, d := range docs {
		if d.Type == "CaseOpened" && (d.Version != 2 || d.Aggregate != "case" || len(d.Fields) == 0) {
			t.Errorf("CaseOpened: %+v", d)
		}
	}
}

func TestEventsBadFormat(t *testing.T) {
	if _, err := runEvents(t, "--format", "yaml"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("err = %v", err)
	}
	if _, err := runEvents(t, "extra"); err == nil {
		t.Errorf("extra argument accepted")
	}
}

func TestMarkdownCell(t *testing.T) {
	md := catalogueMarkdown([]domain.TypeDoc{{Type: "X", Version: 1, Aggregate: "a b", Fields: []domain.FieldDoc{{Name: "f", Type: "a|b"}}}})
	if !strings.Contains(md, `a\|b`) || !strings.Contains(md, "#aggregate-a-b") {
		t.Errorf("markdown: %s", md)
	}
}
