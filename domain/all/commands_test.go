package all_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/all"
	"github.com/evcrm/evcrm/domain/operations"
)

// strayCommand belongs to no aggregate.
type strayCommand struct{ ID uuid.UUID }

func (strayCommand) CommandType() string      { return "StrayCommand" }
func (c strayCommand) AggregateID() uuid.UUID { return c.ID }

// decide calls Decide and turns a panic into a test failure.
func decide(t *testing.T, s domain.Decider, cmd domain.Command) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Decide(%T) panicked: %v", cmd, r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	_, err = s.Decide(cmd, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	return err
}

// TestEveryAggregateRefusesUnknownCommands sends every aggregate a command
// of no aggregate and every command of the other aggregates: each is refused
// with domain.ErrUnknownCommand (code "unknown_command"), and none panics.
// Its own commands are never refused as unknown.
func TestEveryAggregateRefusesUnknownCommands(t *testing.T) {
	aggs := all.Aggregates()
	categories := map[string]bool{}
	for _, d := range domain.Events.Catalogue() {
		categories[d.Aggregate] = true
	}
	for _, a := range aggs {
		delete(categories, a.Category)
	}
	delete(categories, operations.Category) // operators' events (projection skips): no aggregate decides them
	for c := range categories {
		t.Errorf("aggregate %q has events but is not in all.Aggregates", c)
	}
	for _, a := range aggs {
		t.Run(a.Category, func(t *testing.T) {
			if len(a.Commands) == 0 {
				t.Fatal("no commands")
			}
			foreign := []domain.Command{strayCommand{ID: uuid.New()}, nil}
			for _, b := range aggs {
				if b.Category != a.Category {
					foreign = append(foreign, b.Commands...)
				}
			}
			for _, cmd := range foreign {
				err := decide(t, a.New(), cmd)
				var de *domain.Error
				if !errors.Is(err, domain.ErrUnknownCommand) || !errors.As(err, &de) || de.Code != "unknown_command" {
					t.Errorf("Decide(%T): %v, want unknown_command", cmd, err)
				}
			}
			seen := map[string]bool{}
			for _, cmd := range a.Commands {
				if seen[cmd.CommandType()] {
					t.Errorf("%s listed twice", cmd.CommandType())
				}
				seen[cmd.CommandType()] = true
				if err := decide(t, a.New(), cmd); errors.Is(err, domain.ErrUnknownCommand) {
					t.Errorf("Decide(%T) on a new aggregate: %v", cmd, err)
				}
			}
		})
	}
}

// TestEveryDecideSwitchCoversItsCommands reads each aggregate's source: every
// command of its list has a case (or type assertion) of its own in Decide,
// so no listed command can fall through to the unknown-command error.
func TestEveryDecideSwitchCoversItsCommands(t *testing.T) {
	fset := token.NewFileSet()
	for _, a := range all.Aggregates() {
		dir := filepath.Join("..", pkgDir(a.Commands[0]))
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		var handled []string
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range file.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Name.Name != "Decide" || fn.Recv == nil {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.TypeSwitchStmt:
						for _, c := range n.Body.List {
							for _, e := range c.(*ast.CaseClause).List {
								if id, ok := e.(*ast.Ident); ok {
									handled = append(handled, id.Name)
								}
							}
						}
					case *ast.TypeAssertExpr:
						if id, ok := n.Type.(*ast.Ident); ok {
							handled = append(handled, id.Name)
						}
					}
					return true
				})
			}
		}
		for _, cmd := range a.Commands {
			name := reflect.TypeOf(cmd).Name()
			if !slices.Contains(handled, name) {
				t.Errorf("%s: Decide has no case for %s", a.Category, name)
			}
		}
	}
}

func pkgDir(v any) string {
	p := reflect.TypeOf(v).PkgPath()
	return p[strings.LastIndex(p, "/")+1:]
}
