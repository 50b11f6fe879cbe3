package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/esdb"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/eventstore/storecopy"
)

func init() { subcommands = append(subcommands, newStoreCmd) }

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Event store administration: move the log between backends",
	}
	cmd.AddCommand(newStoreCopyCmd())
	return cmd
}

func newStoreCopyCmd() *cobra.Command {
	var from, to, fromURL, toURL string
	var page int
	cmd := &cobra.Command{
		Use:   "copy --from postgres|esdb --to postgres|esdb",
		Short: "Copy the whole event log from one backend to another",
		Long: "Copies every event, in the global order, keeping IDs, streams, versions, types, schema versions,\n" +
			"data and metadata. Safe to interrupt and run again: events already copied are recognised by\n" +
			"their IDs and never written twice, and a run also picks up events written since the last.\n" +
			"A destination that holds other events in a copied stream stops the copy before anything is\n" +
			"overwritten. The PostgreSQL side uses --database-url and the EventStoreDB side --esdb-url,\n" +
			"unless --from-url / --to-url name another. Afterwards, rebuild the read models on the new\n" +
			"backend (evcrm projections rebuild --all with EVCRM_EVENTSTORE set to it).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == to && (fromURL == toURL) {
				return fmt.Errorf("--from and --to name the same store (%s); give --from-url or --to-url for another", from)
			}
			ctx := cmd.Context()
			src, closeSrc, err := openStore(ctx, from, fromURL, false)
			if err != nil {
				return fmt.Errorf("opening the source: %w", err)
			}
			defer closeSrc()
			dst, closeDst, err := openStore(ctx, to, toURL, true)
			if err != nil {
				return fmt.Errorf("opening the destination: %w", err)
			}
			defer closeDst()
			return runCopy(ctx, src, dst, page, cmd.OutOrStdout(), to)
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "source backend: postgres or esdb")
	f.StringVar(&to, "to", "", "destination backend: postgres or esdb")
	f.StringVar(&fromURL, "from-url", "", "source connection (default: --database-url or --esdb-url)")
	f.StringVar(&toURL, "to-url", "", "destination connection (default: --database-url or --esdb-url)")
	f.IntVar(&page, "page-size", 500, "events read from the source at a time")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// openStore opens a backend by name; a PostgreSQL destination is migrated first.
func openStore(ctx context.Context, kind, url string, migrate bool) (eventstore.Store, func(), error) {
	switch kind {
	case "postgres":
		if url == "" {
			url = cfg.DatabaseURL
		}
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
		}
		if migrate {
			if err := postgres.Migrate(ctx, pool); err != nil {
				pool.Close()
				return nil, nil, err
			}
		}
		s, err := postgres.New(ctx, pool, postgres.Config{Logger: cfg.Logger(), DisableListenNotify: true})
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return s, func() { s.Close(); pool.Close() }, nil
	case "esdb":
		if url == "" {
			url = cfg.ESDBURL
		}
		s, err := esdb.New(esdb.Config{ConnectionString: url, Logger: cfg.Logger()})
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown event store %q (want postgres or esdb)", kind)
}

func runCopy(ctx context.Context, src, dst eventstore.Store, page int, stdout io.Writer, to string) error {
	total, err := storecopy.Total(ctx, src)
	if err != nil {
		return fmt.Errorf("counting the source's events: %w", err)
	}
	bar := newEventBar("copying", total)
	start := time.Now()
	st, err := storecopy.Copy(ctx, src, dst, storecopy.Options{PageSize: page, Progress: func(s storecopy.Stats) { bar.Set(s.Events) }})
	if err != nil {
		bar.Exit()
		return fmt.Errorf("copy stopped after %d events (%d copied, %d already there): %w", st.Events, st.Copied, st.Present, err)
	}
	bar.Finish()
	fmt.Fprintf(stdout, "%d events: %d copied, %d already there, in %s (up to source position %s).\n",
		st.Events, st.Copied, st.Present, time.Since(start).Round(time.Millisecond), st.Last)
	fmt.Fprintf(stdout, "Next: point evcrm at the new store (EVCRM_EVENTSTORE=%s) and rebuild the read models:\n  evcrm projections rebuild --all\n", to)
	return nil
}
