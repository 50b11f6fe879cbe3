package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/access"
	"github.com/evcrm/evcrm/domain/all"
	"github.com/evcrm/evcrm/domain/feedback"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

// TestCatalogueCoversTheDomain: RegisterDomain registers one catalogue per
// aggregate of the domain, and every command of every aggregate is
// registered with the dispatcher, decodable by name, and routed or not.
func TestCatalogueCoversTheDomain(t *testing.T) {
	d, _ := domainSetup(t)
	cats := map[string]commands.Catalogue{}
	for _, c := range d.Catalogues() {
		cats[c.Category] = c
	}
	registered := d.CommandTypes()
	for _, a := range all.Aggregates() {
		c, ok := cats[a.Category]
		if !ok {
			t.Errorf("no catalogue for aggregate %s", a.Category)
			continue
		}
		if len(c.Commands) != len(a.Commands) || c.Tag == "" {
			t.Errorf("%s: catalogue of %d commands (tag %q), aggregate has %d", a.Category, len(c.Commands), c.Tag, len(a.Commands))
		}
		for _, cmd := range a.Commands {
			typ := cmd.CommandType()
			if cat, ok := d.Category(typ); !ok || cat != a.Category {
				t.Errorf("%s: %s registered in %q (%v)", a.Category, typ, cat, ok)
			}
			if _, err := d.DecodeCommand(typ, []byte(`{}`)); err != nil {
				t.Errorf("%s: decoding %s: %v", a.Category, typ, err)
			}
		}
		for _, s := range c.Commands {
			if _, byServer := s.Command.(access.RecordRead); byServer {
				continue // the read log is written by the server itself (api.RecordRead), never sent by a client
			}
			if len(s.Routes) == 0 || len(s.Roles) == 0 {
				t.Errorf("%s: %s has %d routes, %d roles", a.Category, s.Command.CommandType(), len(s.Routes), len(s.Roles))
			}
		}
	}
	if n := len(registered); n == 0 {
		t.Fatal("no command registered")
	}
}

func TestNewCatalogueRefusesMistakes(t *testing.T) {
	roles := []auth.Role{auth.Admin}
	both := []commands.Spec{{Command: feedback.SubmitFeedback{}}, {Command: feedback.WithdrawFeedback{}}}
	for name, tc := range map[string]struct {
		specs []commands.Spec
		want  string
	}{
		"Missing":   {both[:1], "WithdrawFeedback is not declared"},
		"Twice":     {append(both, both[0]), "declared twice"},
		"Foreign":   {append(both, commands.Spec{Command: strayCommand{}}), "not a command of the aggregate"},
		"NoRoles":   {[]commands.Spec{both[0], {Command: feedback.WithdrawFeedback{}, Routes: []commands.Route{{OperationID: "x", Path: "/x"}}}}, "no roles"},
		"OtherType": {[]commands.Spec{both[0], {Command: feedback.WithdrawFeedback{}, Roles: roles, Options: []commands.Option{commands.NoRetry("SubmitFeedback")}}}, "is for SubmitFeedback"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), tc.want) {
					t.Fatalf("panic %v, want %q", r, tc.want)
				}
			}()
			commands.NewCatalogue[feedback.State](feedback.Category, "Feedback", feedback.Commands(), tc.specs)
		})
	}
	// A correct one registers its handler and is listed.
	store := memory.New()
	t.Cleanup(store.Close)
	d, err := commands.NewDispatcher(store, commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	commands.RegisterCatalogue(d, commands.NewCatalogue[feedback.State](feedback.Category, "Feedback", feedback.Commands(), both))
	if got := d.CommandTypes(); len(got) != 2 || len(d.Catalogues()) != 1 {
		t.Fatalf("registered %v, %d catalogues", got, len(d.Catalogues()))
	}
	_, err = d.Dispatch(context.Background(), strayCommand{}, commands.Metadata{})
	if err == nil || !strings.Contains(err.Error(), "StrayCommand") {
		t.Fatalf("stray command: %v", err)
	}
}

// strayCommand belongs to no aggregate.
type strayCommand struct{}

func (strayCommand) CommandType() string    { return "StrayCommand" }
func (strayCommand) AggregateID() uuid.UUID { return uuid.Nil }

var _ domain.Command = strayCommand{}
