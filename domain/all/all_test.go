package all_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/domain"
	_ "github.com/evcrm/evcrm/domain/all"
)

// TestEveryAggregateLinked fails when a package under domain/ declares an
// aggregate (a top-level const Category) that all.go does not import.
func TestEveryAggregateLinked(t *testing.T) {
	fset := token.NewFileSet()
	self, err := parser.ParseFile(fset, "all.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var imported []string
	for _, imp := range self.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		imported = append(imported, p)
	}
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, d := range dirs {
		if !d.IsDir() || !declaresCategory(t, fset, filepath.Join("..", d.Name())) {
			continue
		}
		found++
		if path := "github.com/evcrm/evcrm/domain/" + d.Name(); !slices.Contains(imported, path) {
			t.Errorf("domain/%s declares an aggregate but domain/all does not import it", d.Name())
		}
	}
	if found < 4 {
		t.Errorf("found only %d aggregate packages; is the test reading the right directory?", found)
	}
}

func declaresCategory(t *testing.T, fset *token.FileSet, dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", f, err)
		}
		for _, decl := range file.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if name.Name == "Category" {
						return true
					}
				}
			}
		}
	}
	return false
}

// TestCatalogueComplete checks that each linked aggregate registered events.
func TestCatalogueComplete(t *testing.T) {
	aggregates := map[string]int{}
	for _, d := range domain.Events.Catalogue() {
		aggregates[d.Aggregate]++
		if d.Doc == "" {
			t.Errorf("event %s has no Doc", d.Type)
		}
		if d.Aggregate == "" {
			t.Errorf("event %s has no Aggregate", d.Type)
		}
	}
	for _, a := range []string{"case", "complaint", "feedback", "nonconformity"} {
		if aggregates[a] == 0 {
			t.Errorf("no events registered for aggregate %q", a)
		}
	}
}
