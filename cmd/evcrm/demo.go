package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/demo"
)

func init() { subcommands = append(subcommands, newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var (
		customers int
		seed      int64
		url       string
		token     = os.Getenv("EVCRM_TOKEN")
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "demo --customers N [--seed S] [--url http://localhost:8080 --token T | --url direct]",
		Short: "Fill evcrm with realistic demo data through the command handlers",
		Long: "Generate a seeded, realistic history — campaigns, leads, opportunities through the pipeline with\n" +
			"reviewed requirements, orders through their statuses, service cases under an SLA (some breached),\n" +
			"complaints, nonconformities with corrective actions, feedback — and send it through the command\n" +
			"handlers, backdated over the last four months.\n\n" +
			"By default the commands go to the HTTP API of a running server (--url, with an admin token from\n" +
			"`evcrm token create --role admin --name demo`, in --token or EVCRM_TOKEN). With --url direct they go\n" +
			"to the dispatcher in this process, on the database of --database-url; the running server's process\n" +
			"managers (SLA watcher, lead conversion) then react when it next forwards the events.\n\n" +
			"The same seed gives the same data with the same idempotency keys: running it twice adds nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			steps, err := demo.Plan(demo.Config{Customers: customers, Seed: seed})
			if err != nil {
				return err
			}
			var sink demo.Sink
			if url == "direct" {
				a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), version)
				if err != nil {
					return fmt.Errorf("opening evcrm: %w", err)
				}
				defer a.Close()
				sink = demo.Direct{Dispatcher: a.Dispatcher, Tenant: cfg.Tenant}
			} else {
				if token == "" {
					return errors.New("an admin token is needed: --token or EVCRM_TOKEN (evcrm token create --role admin --name demo), or use --url direct")
				}
				sink, err = demo.NewHTTP(ctx, url, token, nil)
				if err != nil {
					return err
				}
			}

			out := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			if !quiet {
				bar = progressbar.NewOptions(len(steps),
					progressbar.OptionSetWriter(out),
					progressbar.OptionSetDescription(fmt.Sprintf("demo: %d customers", customers)),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("commands"),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionFullWidth(),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
				)
			}
			start := time.Now()
			rep, err := demo.Load(ctx, steps, sink, func(done int) {
				if bar != nil {
					_ = bar.Set(done)
				}
			})
			if bar != nil {
				_ = bar.Finish()
			}
			printDemoReport(cmd.OutOrStdout(), steps, rep, time.Since(start))
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&customers, "customers", 100, "number of customer stories to generate")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed gives the same data")
	f.StringVar(&url, "url", "http://localhost:8080", `base URL of a running evcrm server, or "direct" to use the database in-process`)
	f.StringVar(&token, "token", token, "API token with the admin role (EVCRM_TOKEN)")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

func printDemoReport(w io.Writer, steps []demo.Step, rep demo.Report, took time.Duration) {
	fmt.Fprintf(w, "demo: %d of %d commands accepted in %v\n", rep.Sent, len(steps), took.Round(time.Millisecond))
	sum := demo.Summary(steps)
	types := make([]string, 0, len(sum))
	for t := range sum {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		fmt.Fprintf(w, "  %-34s %6d\n", t, sum[t])
	}
	if len(rep.Refused) > 0 {
		fmt.Fprintln(w, "refused:")
		keys := make([]string, 0, len(rep.Refused))
		for k := range rep.Refused {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-50s %6d  e.g. %s\n", k, rep.Refused[k], rep.Examples[k])
		}
	}
}
