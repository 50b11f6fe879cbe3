package commands

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/internal/auth"
)

// A Catalogue declares every command of one aggregate, once: its Go type
// (and so its stable type name and its JSON decoding), its HTTP routes, the
// roles that may send it, its retry policy and its enrichment. The
// dispatcher's registration (RegisterCatalogue), the HTTP API's command
// endpoints (api) and the endpoint list in docs/api-endpoints.md are all
// derived from it. Each aggregate's catalogue is in catalogue_<aggregate>.go.
type Catalogue struct {
	Category string // stream category of the aggregate, e.g. "case"
	Tag      string // OpenAPI tag grouping its endpoints, e.g. "Service cases"
	Commands []Spec // in the order of the API documentation
	register func(d *Dispatcher, cmds []domain.Command, opts []Option)
}

// Spec declares one command of a catalogue.
type Spec struct {
	// Command is a zero value of the command's Go type.
	Command domain.Command
	// Routes are its HTTP endpoints (usually one). None: it travels only
	// on the message bus.
	Routes []Route
	// Roles may send it over HTTP.
	Roles []auth.Role
	// NoRetry: after a concurrency conflict the command is not decided
	// again; the conflict goes back to the caller. For whole replacements
	// composed from the state the client saw, which deciding again would
	// silently undo a concurrent change with.
	NoRetry bool
	// Options are the Enrich and IdentifyBy options of this command (of
	// its type only).
	Options []Option
}

// Route is an HTTP endpoint of a command: a POST to Path whose body is the
// command itself (its JSON is the same as on the message bus); the {id} of
// the path, if any, fills one of its UUID fields (which the body may then
// leave out).
type Route struct {
	OperationID string // stable, e.g. "escalateCase"
	Path        string // e.g. "/v1/cases/{id}/escalate"
	Summary     string
	Description string
	// PathField is the JSON name of the command field that the path's {id}
	// fills. Default: the field holding the aggregate ID.
	PathField string
	// Creates marks a creation: the aggregate ID is optional in the body
	// (the server derives it from the Idempotency-Key, or makes one) and
	// success is 201 Created.
	Creates bool
	// Optional lists JSON fields that the command requires but the server
	// fills in when the client leaves them out (an Enrich option of the
	// command), e.g. a complaint's reference.
	Optional []string
	// Hidden lists JSON fields the client may not set: the server alone
	// fills them in (e.g. the review an order relies on). They are left out
	// of the body schema, and zeroed if they slip through.
	Hidden []string
}

// NewCatalogue returns the catalogue of aggregate S, whose command list is
// domainCommands (the aggregate package's Commands()). It panics unless
// specs declare exactly those commands, each once, with at least one role
// for each routed command and options for its own type only: a programmer
// error, found at start-up and by every test that registers the domain.
func NewCatalogue[S any, P interface {
	*S
	domain.Decider
}](category, tag string, domainCommands []domain.Command, specs []Spec) Catalogue {
	seen := map[reflect.Type]bool{}
	for _, s := range specs {
		t := reflect.TypeOf(s.Command)
		switch {
		case s.Command == nil:
			panic("commands: catalogue " + category + ": a Spec without Command")
		case seen[t]:
			panic(fmt.Sprintf("commands: catalogue %s: %s declared twice", category, t))
		case !domain.Handles(domainCommands, s.Command):
			panic(fmt.Sprintf("commands: catalogue %s: %s is not a command of the aggregate", category, t))
		case len(s.Routes) > 0 && len(s.Roles) == 0:
			panic(fmt.Sprintf("commands: catalogue %s: %s has routes but no roles", category, t))
		}
		seen[t] = true
		var o options
		for _, opt := range s.Options {
			opt(&o)
		}
		for _, typ := range o.commandTypes() {
			if typ != s.Command.CommandType() {
				panic(fmt.Sprintf("commands: catalogue %s: an option of %s is for %s", category, t, typ))
			}
		}
	}
	for _, c := range domainCommands {
		if !seen[reflect.TypeOf(c)] {
			panic(fmt.Sprintf("commands: catalogue %s: command %T is not declared", category, c))
		}
	}
	return Catalogue{
		Category: category,
		Tag:      tag,
		Commands: slices.Clone(specs),
		register: func(d *Dispatcher, cmds []domain.Command, opts []Option) {
			Register[S, P](d, category, cmds, opts...)
		},
	}
}

// RegisterCatalogue registers the handler of the catalogue's aggregate with
// d, for all its commands, and records the catalogue (see Catalogues).
func RegisterCatalogue(d *Dispatcher, c Catalogue) {
	if c.register == nil {
		panic("commands: catalogue " + c.Category + " not made by NewCatalogue")
	}
	cmds := make([]domain.Command, len(c.Commands))
	var opts []Option
	var noRetry []string
	for i, s := range c.Commands {
		cmds[i] = s.Command
		opts = append(opts, s.Options...)
		if s.NoRetry {
			noRetry = append(noRetry, s.Command.CommandType())
		}
	}
	if len(noRetry) > 0 {
		opts = append(opts, NoRetry(noRetry...))
	}
	c.register(d, cmds, opts)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.catalogues = append(d.catalogues, c)
}

// Catalogues returns the catalogues registered with d, in order.
func (d *Dispatcher) Catalogues() []Catalogue {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.catalogues)
}

// commandTypes lists the command types the options were given for.
func (o options) commandTypes() []string {
	var out []string
	for t := range o.enrich {
		out = append(out, t)
	}
	for t := range o.identity {
		out = append(out, t)
	}
	for t := range o.noRetry {
		out = append(out, t)
	}
	return out
}
