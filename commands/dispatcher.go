package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// HandlerFunc handles one command.
type HandlerFunc func(ctx context.Context, cmd domain.Command, meta Metadata) (Result, error)

// Middleware decorates command handling (logging, metrics, tracing...).
type Middleware func(next HandlerFunc) HandlerFunc

// Dispatcher routes commands to their handlers by stable command type name.
// The HTTP API and the message-bus command processor share one Dispatcher.
// Register handlers and middleware at start-up; Dispatch is safe for
// concurrent use.
type Dispatcher struct {
	store eventstore.Store
	cfg   Config

	mu         sync.RWMutex
	handlers   map[string]HandlerFunc
	types      map[string]reflect.Type // command type name → Go type, for DecodeCommand
	categories map[string]string       // command type name → stream category
	middleware []Middleware
	catalogues []Catalogue // registered by RegisterCatalogue
}

// NewDispatcher returns an empty dispatcher over store.
func NewDispatcher(store eventstore.Store, cfg Config) (*Dispatcher, error) {
	if store == nil {
		return nil, fmt.Errorf("commands: nil event store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Dispatcher{
		store:      store,
		cfg:        cfg.withDefaults(),
		handlers:   map[string]HandlerFunc{},
		types:      map[string]reflect.Type{},
		categories: map[string]string{},
	}, nil
}

// Store returns the event store the dispatcher's handlers write to.
func (d *Dispatcher) Store() eventstore.Store { return d.store }

// Config returns the dispatcher's configuration, with defaults filled in.
func (d *Dispatcher) Config() Config { return d.cfg }

// Register creates the handler of aggregate S (streams "<category>-<id>")
// and routes the given commands to it. Pass a zero value of each command
// type; the handler receives commands of exactly these Go types.
//
//	commands.Register[servicecase.State](d, servicecase.Category,
//		[]domain.Command{servicecase.OpenCase{}, servicecase.EscalateCase{}})
func Register[S any, P interface {
	*S
	domain.Decider
}](d *Dispatcher, category string, cmds []domain.Command, opts ...Option) *Handler[S, P] {
	h := NewHandler[S, P](d.store, category, d.cfg, opts...)
	for _, c := range cmds {
		d.Handle(c, category, h.Handle)
	}
	return h
}

// Handle routes the commands of cmd's type to fn, for handlers that are not
// a single aggregate's. It panics if the type is registered already.
func (d *Dispatcher) Handle(cmd domain.Command, category string, fn HandlerFunc) {
	typ := cmd.CommandType()
	if typ == "" {
		panic(fmt.Sprintf("commands: %T has an empty command type", cmd))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.handlers[typ]; dup {
		panic("commands: command type registered twice: " + typ)
	}
	d.handlers[typ] = fn
	d.types[typ] = reflect.TypeOf(cmd)
	d.categories[typ] = category
}

// Use appends middleware; the first added is the outermost.
func (d *Dispatcher) Use(mw ...Middleware) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.middleware = append(d.middleware, mw...)
}

// Recorded looks for the events of the command commandID on the stream of
// cmd (its type's category and aggregate ID) and returns the command's
// result when they are there. Event IDs derive from the command ID, so a
// client whose response was lost can get its result without acting again.
func (d *Dispatcher) Recorded(ctx context.Context, cmd domain.Command, commandID uuid.UUID) (Result, bool, error) {
	d.mu.RLock()
	category, ok := d.categories[cmd.CommandType()]
	d.mu.RUnlock()
	if !ok || cmd.AggregateID() == uuid.Nil || commandID == uuid.Nil {
		return Result{}, false, nil
	}
	streamID := eventstore.StreamID(category, cmd.AggregateID())
	res := Result{StreamID: streamID, AggregateID: cmd.AggregateID(), Replayed: true}
	next := EventID(commandID, 0)
	from := uint64(1)
	for {
		page, err := d.store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{Direction: eventstore.Forwards, From: from, Limit: d.cfg.PageSize})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return res, false, nil
		}
		if err != nil {
			return res, false, fmt.Errorf("reading %s: %w", streamID, err)
		}
		for _, e := range page {
			if e.ID != next {
				if len(res.EventIDs) > 0 {
					return res, true, nil
				}
				continue
			}
			res.EventIDs = append(res.EventIDs, e.ID)
			res.Version, res.Position = e.Version, e.Position
			next = EventID(commandID, len(res.EventIDs))
		}
		if len(page) < d.cfg.PageSize {
			return res, len(res.EventIDs) > 0, nil
		}
		from = page[len(page)-1].Version + 1
	}
}

// Dispatch handles cmd with the handler registered for its type, through the
// middleware. An unregistered type gives ErrNoHandler.
func (d *Dispatcher) Dispatch(ctx context.Context, cmd domain.Command, meta Metadata) (Result, error) {
	if cmd == nil {
		return Result{}, fmt.Errorf("%w: nil command", ErrNoHandler)
	}
	d.mu.RLock()
	h, ok := d.handlers[cmd.CommandType()]
	want := d.types[cmd.CommandType()]
	mws := d.middleware
	d.mu.RUnlock()
	if !ok {
		h = func(context.Context, domain.Command, Metadata) (Result, error) {
			return Result{}, fmt.Errorf("%w: %q", ErrNoHandler, cmd.CommandType())
		}
	} else if got := reflect.TypeOf(cmd); got != want {
		h = func(context.Context, domain.Command, Metadata) (Result, error) {
			return Result{}, fmt.Errorf("%w: %q registered as %s, got %s", ErrNoHandler, cmd.CommandType(), want, got)
		}
	}
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h(ctx, cmd, meta)
}

// CommandTypes returns the registered command type names, sorted.
func (d *Dispatcher) CommandTypes() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]string, 0, len(d.handlers))
	for t := range d.handlers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Category returns the stream category a command type is handled in.
func (d *Dispatcher) Category(commandType string) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.categories[commandType]
	return c, ok
}

// DecodeCommand builds a command of a registered type from its JSON, for
// transports that carry commands by name (the message bus).
func (d *Dispatcher) DecodeCommand(commandType string, data []byte) (domain.Command, error) {
	d.mu.RLock()
	t, ok := d.types[commandType]
	d.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoHandler, commandType)
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if err := text.CheckJSON(data); err != nil {
		return nil, err
	}
	ptr := reflect.New(t)
	if err := json.Unmarshal(data, ptr.Interface()); err != nil {
		return nil, &domain.Error{Kind: domain.KindValidation, Code: "malformed_command", Message: fmt.Sprintf("decoding %s: %v", commandType, err)}
	}
	return ptr.Elem().Interface().(domain.Command), nil
}
