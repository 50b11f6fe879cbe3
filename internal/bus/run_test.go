package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore/memory"
	"github.com/evcrm/evcrm/internal/bus"
)

// Stopping a bus while its router is still starting returns promptly, not
// after the router's CloseTimeout.
func TestStopWhileStarting(t *testing.T) {
	t.Parallel()
	for range 20 {
		d, err := commands.NewDispatcher(memory.New(), commands.Config{})
		if err != nil {
			t.Fatal(err)
		}
		commands.Register[thing](d, thingCategory, []domain.Command{CreateThing{}, RenameThing{}})
		b, err := bus.New(bus.Config{CloseTimeout: 5 * time.Second, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.ServeCommands(d); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("Run did not return within 2s of cancel")
		}
	}
}
