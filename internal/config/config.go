// Package config holds evcrm's runtime configuration, read from environment
// variables (EVCRM_*) and overridden by command-line flags.
package config

import (
	"errors"
	"fmt"
	"github.com/evcrm/evcrm/commands"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole runtime configuration. Zero values are filled by Defaults.
type Config struct {
	DatabaseURL     string        // EVCRM_DATABASE_URL: PostgreSQL for the event store and read models
	EventStore      string        // EVCRM_EVENTSTORE: "postgres" (default) or "esdb"
	ESDBURL         string        // EVCRM_ESDB_URL: esdb://host:2113?tls=false
	Bus             string        // EVCRM_BUS: "inprocess" (default), "nats", "amqp" ("kafka" is not built in)
	BusURL          string        // EVCRM_BUS_URL: broker address for nats/amqp
	BusNamespace    string        // EVCRM_BUS_NAMESPACE: optional prefix of every name on the broker
	Addr            string        // EVCRM_ADDR: HTTP listen address (default :8080)
	LogLevel        string        // EVCRM_LOG_LEVEL: debug, info, warn, error
	LogFormat       string        // EVCRM_LOG_FORMAT: text or json
	MaxBodyBytes    int64         // EVCRM_MAX_BODY_BYTES: request body limit (default 1 MiB)
	MaxImportBytes  int64         // EVCRM_MAX_IMPORT_BYTES: CSV body limit of POST /v1/import/{kind} (default 8 MiB)
	ShutdownTimeout time.Duration // EVCRM_SHUTDOWN_TIMEOUT: grace period for in-flight requests
	Tenant          string        // EVCRM_TENANT: default tenant stamped on events
	MaxBackdate     time.Duration // EVCRM_MAX_BACKDATE: how far back a client's Occurred-At may lie (default 8784h, 366 days)
	GroupCommit     int           // EVCRM_GROUP_COMMIT: most appends per group commit in the PostgreSQL event store (0: off)
	Audit           Audit         // EVCRM_AUDIT_*: the transparency log
	Privacy         Privacy       // EVCRM_PRIVACY_*: encryption of personal data
}

// Privacy configures the encryption of personal data (package
// internal/privacy). The master key lives outside the database: in the
// file EVCRM_PRIVACY_KEY_FILE names (one base64 key a line: the current
// one first, then earlier ones until rotate-master-key has rewrapped their
// data keys), or in EVCRM_PRIVACY_KEY. With neither, personal data is
// stored in plaintext and erasure cannot shred it.
type Privacy struct {
	KeyFile string // EVCRM_PRIVACY_KEY_FILE
	Key     string // EVCRM_PRIVACY_KEY
}

// Audit configures the transparency log (package audit). The signing key
// lives outside the database: in the file AUDIT_KEY_FILE names, or in
// EVCRM_AUDIT_KEY itself; with neither, the log builds but no checkpoint
// is signed.
type Audit struct {
	KeyFile            string        // EVCRM_AUDIT_KEY_FILE: file holding the note signer key (PRIVATE+KEY+...)
	Key                string        // EVCRM_AUDIT_KEY: the signer key itself, when no file is used
	CheckpointInterval time.Duration // EVCRM_AUDIT_CHECKPOINT_INTERVAL: how often a checkpoint is signed (default 1m)
	BackdatedAfter     time.Duration // EVCRM_AUDIT_BACKDATED_AFTER: an event recorded this long after it occurred is a backdated fact (default 24h)
}

// Defaults for a single machine.
const (
	DefaultDatabaseURL = "postgres://evcrm:evcrm@localhost:5432/evcrm?sslmode=disable"
	DefaultAddr        = ":8080"
)

// FromEnv reads the EVCRM_* variables over the defaults.
func FromEnv() Config {
	c := Config{
		DatabaseURL:     env("EVCRM_DATABASE_URL", DefaultDatabaseURL),
		EventStore:      env("EVCRM_EVENTSTORE", "postgres"),
		ESDBURL:         env("EVCRM_ESDB_URL", "esdb://localhost:2113?tls=false"),
		Bus:             env("EVCRM_BUS", "inprocess"),
		BusURL:          env("EVCRM_BUS_URL", ""),
		BusNamespace:    env("EVCRM_BUS_NAMESPACE", ""),
		Addr:            env("EVCRM_ADDR", DefaultAddr),
		LogLevel:        env("EVCRM_LOG_LEVEL", "info"),
		LogFormat:       env("EVCRM_LOG_FORMAT", "text"),
		MaxBodyBytes:    1 << 20,
		MaxImportBytes:  8 << 20,
		ShutdownTimeout: 15 * time.Second,
		Tenant:          env("EVCRM_TENANT", "default"),
		MaxBackdate:     commands.DefaultMaxBackdate,
		Privacy:         Privacy{KeyFile: env("EVCRM_PRIVACY_KEY_FILE", ""), Key: env("EVCRM_PRIVACY_KEY", "")},
		Audit: Audit{
			KeyFile:            env("EVCRM_AUDIT_KEY_FILE", ""),
			Key:                env("EVCRM_AUDIT_KEY", ""),
			CheckpointInterval: time.Minute,
			BackdatedAfter:     24 * time.Hour,
		},
	}
	if v, err := time.ParseDuration(os.Getenv("EVCRM_AUDIT_CHECKPOINT_INTERVAL")); err == nil {
		c.Audit.CheckpointInterval = v
	}
	if v := os.Getenv("EVCRM_AUDIT_BACKDATED_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			d = -1 // reported by Validate
		}
		c.Audit.BackdatedAfter = d
	}
	if v, err := strconv.ParseInt(os.Getenv("EVCRM_MAX_BODY_BYTES"), 10, 64); err == nil {
		c.MaxBodyBytes = v
	}
	if v, err := strconv.ParseInt(os.Getenv("EVCRM_MAX_IMPORT_BYTES"), 10, 64); err == nil {
		c.MaxImportBytes = v
	}
	if v, err := time.ParseDuration(os.Getenv("EVCRM_SHUTDOWN_TIMEOUT")); err == nil {
		c.ShutdownTimeout = v
	}
	if v := os.Getenv("EVCRM_GROUP_COMMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // reported by Validate
		}
		c.GroupCommit = n
	}
	if v := os.Getenv("EVCRM_MAX_BACKDATE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			d = -1 // reported by Validate
		}
		c.MaxBackdate = d
	}
	return c
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("database URL is required (EVCRM_DATABASE_URL)"))
	}
	switch c.EventStore {
	case "postgres", "esdb":
	default:
		errs = append(errs, fmt.Errorf("unknown event store %q (want postgres or esdb)", c.EventStore))
	}
	switch c.Bus {
	case "inprocess", "nats", "kafka", "amqp":
	default:
		errs = append(errs, fmt.Errorf("unknown bus %q (want inprocess, nats, kafka or amqp)", c.Bus))
	}
	if c.Bus != "inprocess" && c.BusURL == "" {
		errs = append(errs, fmt.Errorf("bus %q needs EVCRM_BUS_URL", c.Bus))
	}
	if _, err := c.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("max body bytes must be positive"))
	}
	if c.MaxImportBytes < 0 {
		errs = append(errs, errors.New("EVCRM_MAX_IMPORT_BYTES must not be negative"))
	}
	if c.MaxBackdate <= 0 {
		errs = append(errs, errors.New("EVCRM_MAX_BACKDATE must be a positive duration, e.g. 8784h"))
	}
	if c.GroupCommit < 0 || c.GroupCommit > 10000 {
		errs = append(errs, errors.New("EVCRM_GROUP_COMMIT must be 0 (off) to 10000 appends"))
	}
	if c.Audit.CheckpointInterval < time.Second {
		errs = append(errs, errors.New("audit checkpoint interval must be at least 1s (EVCRM_AUDIT_CHECKPOINT_INTERVAL)"))
	}
	if c.Audit.BackdatedAfter < 0 {
		errs = append(errs, errors.New("EVCRM_AUDIT_BACKDATED_AFTER must be a positive duration, e.g. 24h"))
	}
	return errors.Join(errs...)
}

// SlogLevel parses LogLevel.
func (c Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToLower(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("invalid log level %q", c.LogLevel)
	}
	return l, nil
}

// Logger builds the process logger.
func (c Config) Logger() *slog.Logger {
	lvl, _ := c.SlogLevel()
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
