package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/internal/app"
)

func init() { subcommands = append(subcommands, newServeCmd) }

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API (commands under /v1, OpenAPI at /openapi.json, docs at /docs) and the web console (/console)",
		Long: "Serve the command API and the operational endpoints (/healthz, /readyz, /metrics) until\n" +
			"SIGINT or SIGTERM, then finish in-flight requests (up to --shutdown-timeout) and exit.\n" +
			"The database must be migrated first (evcrm migrate); API tokens come from evcrm token create.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			logger := cfg.Logger()
			a, err := app.New(ctx, cfg, logger, version)
			if err != nil {
				return fmt.Errorf("starting: %w", err)
			}
			defer a.Close()
			return a.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "HTTP listen address (EVCRM_ADDR)")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest request body accepted (EVCRM_MAX_BODY_BYTES)")
	f.DurationVar(&cfg.MaxBackdate, "max-backdate", cfg.MaxBackdate, "how far in the past a client's Occurred-At may lie (EVCRM_MAX_BACKDATE)")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "grace period for in-flight requests on shutdown (EVCRM_SHUTDOWN_TIMEOUT)")
	return cmd
}
