// Package lifecycle is the one start/stop contract of evcrm's background
// services: the projection runtime, the message bus (with the forwarder,
// the process managers and the SLA watcher's ticker), the audit log
// builder and checkpointer, the idempotency-key purger and releaser, and
// anything run under a lease (package internal/lease).
//
// A Service is started by calling Run in a goroutine of its own and
// stopped by ending Run's context. Run:
//
//   - blocks while the service works, and returns once its context has
//     ended (nil, or the context's error, which is no failure) and
//     everything it started (goroutines, connections, subscriptions) has
//     stopped: nothing of it outlives Run, which is what the
//     goroutine-leak checks (goleak) in the tests rely on;
//   - retries transient failures itself (a database or broker outage) and
//     returns an error only for a failure it cannot get over, which stops
//     the process (internal/app ends serving and stops every other service);
//   - may be called once.
//
// internal/app runs its services with Group and stops them in this order
// on SIGTERM: the HTTP server stops accepting requests and drains the
// in-flight ones first (so no command is cut off half way), then every
// service's context ends at once and the process waits for all of them to
// return; the bus stops its forwarders and runners before its router, and
// the pool and event store are closed last (App.Close).
package lifecycle

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"
)

// Service is a background service (see the package documentation).
type Service interface {
	Run(ctx context.Context) error
}

// Func adapts a function to Service.
type Func func(ctx context.Context) error

// Run calls f.
func (f Func) Run(ctx context.Context) error { return f(ctx) }

// Named is a service with the name it is logged and reported under.
type Named struct {
	Name    string
	Service Service
}

// Group runs services until ctx ends or one of them fails: the first
// failure (an error returned while ctx was still live) ends every other
// service's context and is returned, wrapped with its service's name, once
// all have returned. A service returning nil early is not a failure.
func Group(ctx context.Context, log *slog.Logger, services ...Named) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range services {
		g.Go(func() error {
			err := s.Service.Run(gctx)
			if err != nil && gctx.Err() == nil {
				err = fmt.Errorf("%s: %w", s.Name, err)
				log.Error("service failed; stopping", "service", s.Name, "error", err)
				return err
			}
			return nil
		})
	}
	return g.Wait()
}
