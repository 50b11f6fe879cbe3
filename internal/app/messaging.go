package app

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/internal/process"
)

// attachBus builds the message bus (EVCRM_BUS: in-process by default): the
// dispatcher's commands served from the bus, the event store's log
// forwarded to it from a durable checkpoint, and the process managers (SLA
// watcher, lead conversion) on it; a task runs it alongside the server.
func (a *App) attachBus(ctx context.Context) error {
	b, err := process.NewBus(ctx, process.BusOptions{
		Config:     a.Config,
		Pool:       a.Pool,
		Store:      a.Store,
		Published:  a.StoredEvents,
		OpenEvent:  a.openEvent(),
		Dispatcher: a.Dispatcher,
		Logger:     a.Logger,
	})
	if err != nil {
		return fmt.Errorf("starting the message bus: %w", err)
	}
	a.Bus = b
	a.Add("message-bus", b)
	return nil
}
