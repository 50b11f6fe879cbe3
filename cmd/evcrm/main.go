// Command evcrm is the event-sourced CRM engine: server, migrations,
// projections, demo data, benchmarks and admin tools in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "evcrm:", oneLine(err))
		}
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "evcrm",
		Short:         "Event-sourced CRM engine for ISO 9001 customer records",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addGlobalFlags(root)
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands are registered by the files of this package in init, so each
// command lives in its own file.
var subcommands []func() *cobra.Command

func oneLine(err error) string {
	s := err.Error()
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
