package app

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
)

// attachReadSide builds the projection runtime over every read model, adds
// the query operations to the API (with read-your-writes through the
// runtime), the "projections" readiness check, and a task running the
// projectors alongside the server.
func (a *App) attachReadSide(ctx context.Context) error {
	rt, err := projections.New(ctx, projections.Config{
		Pool:    a.Pool,
		Store:   a.Store,
		Logger:  a.Logger,
		Metrics: a.Metrics,
	}, readmodels.All()...)
	if err != nil {
		return fmt.Errorf("starting the projections: %w", err)
	}
	a.Projections = rt
	if err := rt.Prepare(ctx); err != nil {
		return fmt.Errorf("creating the read models: %w", err)
	}
	if err := api.RegisterQueries(a.Server, api.QueryOptions{Queries: queries.New(a.Pool), Waiter: rt}); err != nil {
		return err
	}
	a.Server.Readiness().Add("projections", rt.Ready)
	a.Add("projections", rt)
	return nil
}
