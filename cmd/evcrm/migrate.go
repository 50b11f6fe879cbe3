package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/eventstore/postgres"
)

func init() { subcommands = append(subcommands, newMigrateCmd) }

// migrationStep migrates one component's tables. `evcrm migrate` runs the
// steps in order: the event store first, then whatever the other command
// files of this package append in their init functions:
//
//	func init() {
//		migrationSteps = append(migrationSteps, migrationStep{Name: "projections", Run: projections.Migrate})
//	}
//
// A step must be idempotent and safe to run from several processes at once.
type migrationStep struct {
	Name string
	// Enabled reports whether the step applies to the configuration (nil: always).
	Enabled func() bool
	Run     func(ctx context.Context, pool *pgxpool.Pool) error
}

var migrationSteps = []migrationStep{{
	Name:    "eventstore",
	Enabled: func() bool { return cfg.EventStore == "postgres" }, // EventStoreDB needs no tables
	Run:     postgres.Migrate,
}}

func newMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the database tables (event store, then read models and the rest)",
		Long: "Create or update every component's tables in the database of --database-url (the\n" +
			"schema is the first of the URL's search_path, normally public). Safe to run again and\n" +
			"from several processes at once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("connecting to the database: %w", err)
			}
			defer pool.Close()
			out := cmd.OutOrStdout()
			for _, step := range migrationSteps {
				if step.Enabled != nil && !step.Enabled() {
					fmt.Fprintf(out, "%-12s skipped\n", step.Name)
					continue
				}
				start := time.Now()
				if err := step.Run(ctx, pool); err != nil {
					return fmt.Errorf("migrating %s: %w", step.Name, err)
				}
				fmt.Fprintf(out, "%-12s up to date (%v)\n", step.Name, time.Since(start).Round(time.Millisecond))
			}
			return nil
		},
	}
}
