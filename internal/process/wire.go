package process

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/bus"
	"github.com/evcrm/evcrm/internal/config"
)

// ForwarderName names the forwarder of the global log to the bus (its
// checkpoint and lock). Permanent.
const ForwarderName = "evcrm.events"

// BusOptions are what NewBus wires together.
type BusOptions struct {
	Config config.Config // Bus, BusURL and BusNamespace select the transport
	Pool   *pgxpool.Pool // checkpoints and process manager state
	Store  eventstore.Store
	// Published, if set, is the store whose events the bus carries (the
	// stored form: personal fields encrypted), and OpenEvent decrypts them
	// for the process managers; default Store.
	Published  eventstore.Store
	OpenEvent  func(ctx context.Context, data []byte) ([]byte, error)
	Dispatcher bus.Dispatcher
	Logger     *slog.Logger
	// SLA overrides the SLA watcher's settings (zero: defaults).
	SLA SLAConfig
}

// NewBus builds the message bus of an evcrm process: it serves every
// command of the dispatcher from the bus, forwards the event store's global
// log to it, and runs the process managers (SLA watcher, lead conversion,
// complaint follow-up).
// It creates its tables if needed. Run the returned bus with Run(ctx).
func NewBus(ctx context.Context, o BusOptions) (*bus.Bus, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := bus.Migrate(ctx, o.Pool); err != nil {
		return nil, err
	}
	if err := Migrate(ctx, o.Pool); err != nil {
		return nil, err
	}
	b, err := bus.New(bus.Config{Transport: o.Config.Bus, URL: o.Config.BusURL, Namespace: o.Config.BusNamespace, Logger: o.Logger, OpenEvent: o.OpenEvent})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*bus.Bus, error) {
		b.Close()
		return nil, err
	}
	if err := b.ServeCommands(o.Dispatcher); err != nil {
		return fail(err)
	}
	published := o.Published
	if published == nil {
		published = o.Store
	}
	f, err := bus.NewForwarder(published, b.Publisher(), bus.NewCheckpoints(o.Pool), bus.ForwarderConfig{Name: ForwarderName, Logger: o.Logger})
	if err != nil {
		return fail(err)
	}
	b.AddForwarder(f)
	sla := o.SLA
	if sla.Logger == nil {
		sla.Logger = o.Logger
	}
	w, err := NewSLAWatcher(o.Pool, o.Store, b, sla)
	if err != nil {
		return fail(err)
	}
	if err := w.Register(b); err != nil {
		return fail(fmt.Errorf("SLA watcher: %w", err))
	}
	if err := NewLeadConversion(b, o.Logger).Register(b); err != nil {
		return fail(fmt.Errorf("lead conversion: %w", err))
	}
	if err := NewComplaintFollowUp(b, o.Store, o.Logger).Register(b); err != nil {
		return fail(fmt.Errorf("complaint follow-up: %w", err))
	}
	return b, nil
}
