package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config tunes a Store. The zero value gives the defaults.
type Config struct {
	// PollInterval bounds how long an idle subscription waits before it
	// reads again when nothing wakes it. Default 1s.
	PollInterval time.Duration
	// NotifyInterval is the shortest time between two notifications this
	// store sends to other processes; appends in between share one.
	// Default 5ms.
	NotifyInterval time.Duration
	// DisableListenNotify turns LISTEN/NOTIFY off: subscribers in other
	// processes then see new events within PollInterval. Use it behind a
	// connection pooler in transaction mode, which does not support LISTEN.
	DisableListenNotify bool
	// Channel is the notification channel. Default "evcrm_events_<schema>"
	// (or a hash of the schema name when that is too long), so that stores
	// in different schemas do not wake each other.
	Channel string
	// PageSize is ReadAll's default limit and the number of events a
	// subscription reads per query, which also caps the batches it hands
	// its handler. Default 2000.
	PageSize int
	// Logger receives warnings about the notification connection. Default
	// slog.Default().
	Logger *slog.Logger
	// GroupCommit, when above 0, writes single-event appends to different
	// streams that arrive together as one statement (one transaction, one
	// WAL sync), up to GroupCommit appends per group; each keeps its own
	// expected-version check and idempotency (see group.go). 0: every
	// append is its own transaction.
	GroupCommit int
}

// Defaults.
const (
	DefaultPollInterval   = time.Second
	DefaultNotifyInterval = 5 * time.Millisecond
	DefaultPageSize       = 2000
	maxChannelLength      = 63 // PostgreSQL identifiers
)

// Validate reports every problem with the configuration. Zero values are
// valid: they select the defaults.
func (c Config) Validate() error {
	var errs []error
	if c.PollInterval < 0 {
		errs = append(errs, errors.New("poll interval must not be negative"))
	}
	if c.NotifyInterval < 0 {
		errs = append(errs, errors.New("notify interval must not be negative"))
	}
	if c.PageSize < 0 || c.PageSize > 100_000 {
		errs = append(errs, errors.New("page size must be 0 (default) to 100000"))
	}
	if c.GroupCommit < 0 || c.GroupCommit > 10_000 {
		errs = append(errs, errors.New("group commit must be 0 (off) to 10000 appends"))
	}
	if len(c.Channel) > maxChannelLength {
		errs = append(errs, fmt.Errorf("channel name longer than %d bytes", maxChannelLength))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("event store config: %w", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.NotifyInterval == 0 {
		c.NotifyInterval = DefaultNotifyInterval
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Store is the PostgreSQL event store. It is safe for concurrent use. It
// does not own the pool: Close leaves it open.
type Store struct {
	pool     *pgxpool.Pool
	cfg      Config
	schema   string
	instance string // payload of this store's notifications, to ignore our own

	changed  broadcast     // signalled when new events may be readable
	notifyCh chan struct{} // asks the notifier to send a notification

	ctx        context.Context // ends with Close; background goroutines use it
	cancel     context.CancelFunc
	mu         sync.Mutex // orders starting background goroutines with Close
	wg         sync.WaitGroup
	listenOnce sync.Once
	closeOnce  sync.Once
	closed     atomic.Bool

	group      groupState // Config.GroupCommit
	groupStats groupStats
	groupFault func(stage string, pid uint32) error // tests: faults around a group statement

	lockedAppends atomic.Int64 // appends that went through evcrm_append
	alwaysLock    bool         // tests: every append through evcrm_append
}

var _ eventstore.Store = (*Store)(nil)

// New returns a store on pool, whose search_path must lead to a schema that
// Migrate has brought up to date (else the error wraps ErrNotMigrated).
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if pool == nil {
		return nil, errors.New("event store: nil pool")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch pool.Config().ConnConfig.DefaultQueryExecMode {
	case pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec:
		// Parameter types would be guessed from Go types ([]byte as bytea).
		return nil, errors.New("event store: the pool must describe statements (pgx query exec mode cache_statement, cache_describe or describe_exec)")
	}
	cfg = cfg.withDefaults()

	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("event store: connecting: %w", err)
	}
	if schema == nil {
		return nil, fmt.Errorf("event store: no schema of the connection's search_path exists: %w", ErrNotMigrated)
	}
	current, latest, err := SchemaVersion(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("event store: %w", err)
	}
	switch {
	case current < latest:
		return nil, fmt.Errorf("event store: schema %q at version %d, this binary needs %d: %w", *schema, current, latest, ErrNotMigrated)
	case current > latest:
		cfg.Logger.Warn("event store schema is newer than this binary", "schema", *schema, "version", current, "known", latest)
	}
	if cfg.Channel == "" {
		cfg.Channel = channelFor(*schema)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])

	s := &Store{
		pool:     pool,
		cfg:      cfg,
		schema:   *schema,
		instance: hex.EncodeToString(id[:]),
		notifyCh: make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if !cfg.DisableListenNotify {
		s.background(s.notifier)
	}
	if cfg.GroupCommit > 0 {
		s.startGroupCommit()
	}
	return s, nil
}

// channelFor names the notification channel of a schema.
func channelFor(schema string) string {
	name := "evcrm_events_" + schema
	if len(name) <= maxChannelLength {
		return name
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return fmt.Sprintf("evcrm_events_%016x", h.Sum64())
}

// Schema is the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// Channel is the notification channel the store uses.
func (s *Store) Channel() string { return s.cfg.Channel }

// Close stops the store's background work and ends running subscriptions
// with eventstore.ErrClosed. Later calls fail with eventstore.ErrClosed.
// The pool stays open.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed.Store(true)
		s.mu.Unlock()
		s.closeGroupCommit()
		s.cancel()
		s.changed.signal()
		s.wg.Wait()
	})
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return nil
}

// wrap turns a database error into the error a caller sees.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("event store: %s: %w", op, ctxErr)
	}
	if s.closed.Load() {
		return fmt.Errorf("event store: %s: %w", op, eventstore.ErrClosed)
	}
	return fmt.Errorf("event store: %s: %w", op, err)
}

// toInt64 maps a uint64 from the API onto PostgreSQL's bigint.
func toInt64(u uint64) int64 {
	if u > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(u)
}

// broadcast wakes every goroutine waiting on it.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed by the next signal.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) signal() {
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	b.mu.Unlock()
}
