package main

import (
	"github.com/evcrm/evcrm/internal/config"
	"github.com/spf13/cobra"
)

// cfg is the process configuration: environment first, flags over it.
var cfg = config.FromEnv()

func addGlobalFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL for the event store and read models (EVCRM_DATABASE_URL)")
	f.StringVar(&cfg.EventStore, "eventstore", cfg.EventStore, "event store backend: postgres or esdb (EVCRM_EVENTSTORE)")
	f.StringVar(&cfg.ESDBURL, "esdb-url", cfg.ESDBURL, "EventStoreDB/KurrentDB connection string (EVCRM_ESDB_URL)")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "log level: debug, info, warn, error (EVCRM_LOG_LEVEL)")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "log format: text or json (EVCRM_LOG_FORMAT)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return cfg.Validate() }
}
