package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/domain/operations"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/privacy"
	"github.com/evcrm/evcrm/projections"
	"github.com/evcrm/evcrm/projections/readmodels"
)

func init() {
	subcommands = append(subcommands, newProjectionsCmd)
	migrationSteps = append(migrationSteps, migrationStep{Name: "projections", Run: projections.Migrate})
}

func newProjectionsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "List, inspect and rebuild the read models",
		Long: "The read models (sales pipeline, service queues, quality, customer 360, analytics) are\n" +
			"PostgreSQL tables built from the event log by the projectors that evcrm serve runs.",
	}
	cmd.AddCommand(newProjectionsListCmd(), newProjectionsStatusCmd(), newProjectionsRebuildCmd(), newProjectionsSkipCmd(),
		newProjectionsSkippedCmd())
	return cmd
}

// withRuntime opens the database, the event store and a projection
// runtime over every read model (not running), for f.
func withRuntime(ctx context.Context, batch int, f func(rt *projections.Runtime, store eventstore.Store) error) error {
	return withReadableStore(ctx, func(pool *pgxpool.Pool, store eventstore.Store) error {
		rt, err := projections.New(ctx, projections.Config{Pool: pool, Store: store, Logger: cfg.Logger(), BatchSize: batch},
			readmodels.All()...)
		if err != nil {
			return err
		}
		defer rt.Close()
		return f(rt, store)
	})
}

// withReadableStore opens the database and the configured event store as
// readers see it: personal data decrypted (or erased) when a privacy key is
// configured, for f.
func withReadableStore(ctx context.Context, f func(pool *pgxpool.Pool, store eventstore.Store) error) error {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer pool.Close()
	store, err := openEventStore(ctx, pool)
	if err != nil {
		return err
	}
	defer store.Close()
	if p, err := privacy.Setup(ctx, pool, store, cfg.Privacy.KeyFile, cfg.Privacy.Key, cfg.Logger()); err != nil {
		return err
	} else if p != nil {
		store = p
	}
	return f(pool, store)
}

// openEventStore opens the configured event store (for a command, not serving:
// no LISTEN connection).
func openEventStore(ctx context.Context, pool *pgxpool.Pool) (eventstore.Store, error) {
	var store eventstore.Store
	var err error
	switch cfg.EventStore {
	case "esdb":
		store, err = esdb.New(esdb.Config{ConnectionString: cfg.ESDBURL})
	default:
		store, err = postgres.New(ctx, pool, postgres.Config{Logger: cfg.Logger(), DisableListenNotify: true})
	}
	if err != nil {
		return nil, fmt.Errorf("opening the %s event store: %w", cfg.EventStore, err)
	}
	return store, nil
}

func newProjectionsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the read models, their versions and served tables",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRuntime(cmd.Context(), 0, func(rt *projections.Runtime, _ eventstore.Store) error {
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tVERSION\tEVENT TYPES\tTABLES")
				for _, p := range rt.Projections() {
					tables, err := rt.Tables(cmd.Context(), p.Name())
					if errors.Is(err, projections.ErrNotReady) {
						tables = []string{"(not built yet)"}
					} else if err != nil {
						return err
					}
					fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", p.Name(), p.Version(), len(p.EventTypes()), strings.Join(tables, ", "))
				}
				return w.Flush()
			})
		},
	}
}

func newProjectionsStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each read model's position, lag, state and last error",
		Long: "For every generation of every read model (the served one, and one being rebuilt if any):\n" +
			"its checkpoint, its lag behind the log (events, and seconds the oldest unapplied event has\n" +
			"waited), whether some process is working on it, and the error of its last failed batch.\n" +
			"The same figures are Prometheus metrics (evcrm_projection_*) on /metrics.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRuntime(cmd.Context(), 0, func(rt *projections.Runtime, _ eventstore.Store) error {
				list, err := rt.Status(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(list)
				}
				return printProjectionStatus(cmd.OutOrStdout(), list)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printProjectionStatus(out io.Writer, list []projections.Status) error {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tGEN\tSTATE\tRUNNING\tPOSITION\tLAG EVENTS\tLAG SECONDS\tAPPLIED\tFAILURES\tLAST ERROR")
	for _, s := range list {
		if s.Generation == 0 {
			fmt.Fprintf(w, "%s\t%d\t-\tmissing\t-\t-\t-\t-\t-\t-\t-\n", s.Name, s.CodeVersion)
			continue
		}
		version := fmt.Sprint(s.Version)
		if s.Version != s.CodeVersion {
			version = fmt.Sprintf("%d (code: %d)", s.Version, s.CodeVersion)
		}
		lag := fmt.Sprint(s.LagEvents)
		if s.LagCapped {
			lag += "+"
		}
		running := "no"
		if s.Running {
			running = "yes"
		}
		lastErr := "-"
		if s.LastError != "" {
			lastErr = oneLine(errors.New(s.LastError))
			if s.LastErrorAt != nil {
				lastErr = s.LastErrorAt.UTC().Format(time.RFC3339) + " " + lastErr
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%.1f\t%d\t%d\t%s\n", s.Name, version, s.Generation, s.State, running,
			s.Position, lag, s.LagSeconds, s.EventsApplied, s.Failures, lastErr)
	}
	return w.Flush()
}

func newProjectionsRebuildCmd() *cobra.Command {
	var all bool
	var batch int
	cmd := &cobra.Command{
		Use:   "rebuild NAME...",
		Short: "Rebuild read models from the event log without downtime",
		Long: "Build each named read model again from the start of the log into new tables while the\n" +
			"current ones keep serving (and keep being updated by evcrm serve), then swap them in\n" +
			"atomically and drop the old ones. A progress bar shows events done, rate and time left.\n" +
			"Interrupting (Ctrl-C) drops the partial build; the served read model is untouched.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("name the read models to rebuild, or pass --all")
			}
			return withRuntime(cmd.Context(), batch, func(rt *projections.Runtime, store eventstore.Store) error {
				names := args
				if all {
					names = nil
					for _, p := range rt.Projections() {
						names = append(names, p.Name())
					}
				}
				for _, n := range names {
					if _, err := rt.Projection(n); err != nil {
						return err
					}
				}
				for _, n := range names {
					if err := rebuildOne(cmd.Context(), cmd.OutOrStdout(), rt, store, n); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "rebuild every read model")
	cmd.Flags().IntVar(&batch, "batch-size", 1000, "events applied per transaction")
	return cmd
}

func newProjectionsSkipCmd() *cobra.Command {
	var position, eventID, reason, by string
	cmd := &cobra.Command{
		Use:   "skip NAME (--position COMMIT/PREPARE | --event-id ID) --reason TEXT",
		Short: "Make a read model pass over one event it cannot apply",
		Long: "A read model that fails on an event stops at it and retries (evcrm projections status shows\n" +
			"the event's position in its last error). skip makes every generation of the read model,\n" +
			"rebuilds included, pass over that one event, so it can go on without a code change; the\n" +
			"read model then lacks that event's effect. The act is recorded as a ProjectionEventSkipped\n" +
			"event (who, when, why, which event, the last error) in the read model's operations stream,\n" +
			"and listed by evcrm projections skipped. A running evcrm serve picks it up at its next retry.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := projections.SkipRequest{Projection: args[0], Reason: reason, By: by}
			if position != "" {
				p, err := eventstore.ParsePosition(position)
				if err != nil {
					return err
				}
				req.Position = &p
			}
			if eventID != "" {
				id, err := uuid.Parse(eventID)
				if err != nil {
					return fmt.Errorf("--event-id: %w", err)
				}
				req.EventID = id
			}
			return withRuntime(cmd.Context(), 0, func(rt *projections.Runtime, _ eventstore.Store) error {
				sk, err := rt.Skip(cmd.Context(), req)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: skips event %s (%s, %s v%d) at %s; recorded in %s by %s: %s\n", sk.Projection, sk.EventID,
					sk.Type, sk.StreamID, sk.Version, sk.Position, operations.StreamID(sk.Projection), sk.By, sk.Reason)
				return nil
			})
		},
	}
	user := os.Getenv("USER")
	if user == "" {
		user = "unknown"
	}
	cmd.Flags().StringVar(&position, "position", "", "position of the event, as in the read model's last error (commit/prepare)")
	cmd.Flags().StringVar(&eventID, "event-id", "", "ID of the event (looked for among the events the read model has still to apply)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the read model may leave this event out (required, recorded)")
	cmd.Flags().StringVar(&by, "by", "operator:"+user, "who skips it (recorded)")
	return cmd
}

func newProjectionsSkippedCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "skipped",
		Short: "List the events operators made read models skip",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRuntime(cmd.Context(), 0, func(rt *projections.Runtime, _ eventstore.Store) error {
				list, err := rt.ListSkipped(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(list)
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "PROJECTION\tPOSITION\tEVENT\tTYPE\tSTREAM\tBY\tAT\tREASON")
				for _, s := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Projection, s.Position, s.EventID, s.Type, s.StreamID, s.By,
						s.At.UTC().Format(time.RFC3339), s.Reason)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func rebuildOne(ctx context.Context, out io.Writer, rt *projections.Runtime, store eventstore.Store, name string) error {
	total := int64(-1) // unknown: a spinner with count and rate
	if c, ok := store.(projections.EventCounter); ok {
		head, err := store.Head(ctx)
		if err != nil {
			return err
		}
		if total, err = c.CountEvents(ctx, eventstore.Start, head); err != nil {
			return err
		}
	}
	bar := newEventBar(name, total)
	start := time.Now()
	var last projections.Progress
	err := rt.Rebuild(ctx, name, projections.RebuildOptions{Progress: func(p projections.Progress) {
		last = p
		bar.Set(p.Events)
	}})
	if err != nil {
		bar.Exit()
		return err
	}
	bar.Finish()
	elapsed := time.Since(start)
	fmt.Fprintf(out, "%s: generation %d swapped in at %s: %d events in %s (%.0f events/s)\n", name, last.Generation, last.Position,
		last.Events, elapsed.Round(time.Millisecond), float64(last.Events)/elapsed.Seconds())
	return nil
}
