// Package lease elects one process per name among the evcrm instances that
// share a PostgreSQL database: "exactly one forwarder", "one runner of this
// process manager". A lease is a session advisory lock held on a connection
// of its own, outside any pool, and watched: the holder checks that
// connection every CheckInterval, and the work it runs under the lease gets
// a context that ends as soon as a check fails, because then the session
// and its lock may be gone and another process may already hold the lease.
//
// A process that wins a lease waits Grace (by default two check intervals)
// before it starts the work, so a previous holder that lost its connection
// has noticed and stopped by then. That bounds, but cannot exclude, a
// moment of overlap when a holder is stalled for longer than that (a
// paused VM): work run under a lease must still be safe to repeat, as
// evcrm's is (checkpoints in the same transaction, idempotent commands).
// When the holder dies (kill -9, a crash, a lost network), PostgreSQL ends
// its session and releases the lock; a waiting process polls every
// CheckInterval and takes over.
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config configures a Locker.
type Config struct {
	// ConnConfig connects the lease sessions (one per held or awaited lease).
	ConnConfig *pgx.ConnConfig
	// CheckInterval is how often a holder checks its session and a waiter
	// tries to take the lease. Default 1s.
	CheckInterval time.Duration
	// Grace is how long a new holder waits before it runs the work.
	// Default 2 x CheckInterval.
	Grace time.Duration
	// Logger reports leases won and lost. Default slog.Default().
	Logger *slog.Logger
	// Namespace prefixes every lease name in the lock space. Default
	// "evcrm.lease/". (The bus keeps "evcrm.bus/", the key its forwarder
	// lock always had, so old and new instances exclude each other.)
	Namespace string
	// Key, when set, gives the exact text hashed into a lease's advisory
	// lock key instead (Namespace and the schema are then not added), for
	// callers whose lock keys predate this package: the projection runtime
	// keeps its per-generation keys so old and new instances exclude each
	// other.
	Key func(name string) string
}

// Locker runs work under leases.
type Locker struct {
	cfg Config
}

// New returns a Locker.
func New(cfg Config) (*Locker, error) {
	if cfg.ConnConfig == nil {
		return nil, errors.New("lease: a connection config is required")
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * cfg.CheckInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "evcrm.lease/"
	}
	cfg.ConnConfig = cfg.ConnConfig.Copy()
	return &Locker{cfg: cfg}, nil
}

// ErrLost is the cause of a lease's context that ended because the lease
// was lost (context.Cause).
var ErrLost = errors.New("lease lost")

// Held is a lease this process holds.
type Held struct {
	unlock        string // SQL releasing the lock, with its args
	args          []any
	conn          *pgx.Conn
	ctx           context.Context
	cancel        context.CancelCauseFunc
	stop, watched chan struct{}
	once          sync.Once
}

// Context ends when the lease is lost (its cause is then ErrLost), when
// the context given to Acquire ends, or on Release.
func (h *Held) Context() context.Context { return h.ctx }

// Lost reports whether the lease was lost (rather than released or its
// parent context ended).
func (h *Held) Lost() bool { return errors.Is(context.Cause(h.ctx), ErrLost) }

// Release gives the lease up. It is safe to call more than once.
func (h *Held) Release() {
	h.once.Do(func() {
		close(h.stop)
		<-h.watched
		h.cancel(context.Canceled)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if !h.Lost() { // unlocking first makes the hand-over prompt; closing releases it anyway
			_, _ = h.conn.Exec(ctx, h.unlock, h.args...)
		}
		_ = h.conn.Close(ctx)
	})
}

// Acquire waits until this process holds the lease name (and Grace has
// passed), or ctx ends.
func (l *Locker) Acquire(ctx context.Context, name string) (*Held, error) {
	conn, err := l.acquire(ctx, name, false)
	if err != nil {
		return nil, err
	}
	return l.hold(ctx, name, conn), nil
}

// ErrHeld is returned by TryAcquire when another session holds the lease.
var ErrHeld = errors.New("lease held by another process")

// TryAcquire takes the lease name if no one holds it (and then waits
// Grace, as Acquire does), or returns ErrHeld at once.
func (l *Locker) TryAcquire(ctx context.Context, name string) (*Held, error) {
	conn, err := l.acquire(ctx, name, true)
	if err != nil {
		return nil, err
	}
	return l.hold(ctx, name, conn), nil
}

func (l *Locker) hold(ctx context.Context, name string, conn *pgx.Conn) *Held {
	key, args := l.key(name)
	work, cancel := context.WithCancelCause(ctx)
	h := &Held{unlock: `SELECT pg_advisory_unlock(` + key + `)`, args: args, conn: conn, ctx: work, cancel: cancel,
		stop: make(chan struct{}), watched: make(chan struct{})}
	go h.watch(l.cfg.CheckInterval)
	return h
}

// watch checks the lease's session every interval until a check fails.
func (h *Held) watch(interval time.Duration) {
	defer close(h.watched)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		c, cc := context.WithTimeout(context.Background(), interval)
		_, err := h.conn.Exec(c, "SELECT 1")
		cc()
		if err != nil {
			h.cancel(fmt.Errorf("%w: %v", ErrLost, err))
			return
		}
	}
}

// Run runs f whenever this process holds the lease name, until ctx ends
// (it returns ctx's error) or f returns (its result; nil too). f's context
// ends when ctx does or when the lease is lost (its cause is then ErrLost);
// after a loss Run waits to win the lease again and runs f again.
func (l *Locker) Run(ctx context.Context, name string, f func(ctx context.Context) error) error {
	log := l.cfg.Logger.With("lease", name)
	for {
		h, err := l.Acquire(ctx, name)
		if err != nil {
			return err
		}
		log.Info("lease won")
		err = f(h.Context())
		lost := h.Lost()
		cause := context.Cause(h.Context())
		h.Release()
		switch {
		case lost && ctx.Err() == nil:
			log.Warn("lease lost: its database session failed; its work stopped", "cause", cause)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		}
		return err
	}
}

// key maps a lease ($1 namespace, $2 name) into the advisory-lock space,
// per schema: advisory locks are database-wide, and deployments (or tests)
// in separate schemas of one database must not share leases.
// (Config.Key replaces that text.)
func (l *Locker) key(name string) (string, []any) {
	if l.cfg.Key != nil {
		return `hashtextextended($1, 0)`, []any{l.cfg.Key(name)}
	}
	return `hashtextextended($1 || current_schema() || '/' || $2, 0)`, []any{l.cfg.Namespace, name}
}

// acquire connects and polls until it holds the lease (with once, tries
// once: ErrHeld), then waits Grace.
func (l *Locker) acquire(ctx context.Context, name string, once bool) (_ *pgx.Conn, err error) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil && err != nil {
			_ = conn.Close(context.Background())
		}
	}()
	key, args := l.key(name)
	for {
		if conn == nil || conn.IsClosed() {
			cc := l.cfg.ConnConfig.Copy()
			if cc.RuntimeParams == nil {
				cc.RuntimeParams = map[string]string{}
			}
			cc.RuntimeParams["application_name"] = applicationName(cc.RuntimeParams["application_name"], name)
			c, err := pgx.ConnectConfig(ctx, cc)
			if err != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil && once {
				return nil, fmt.Errorf("lease %s: connecting: %w", name, err)
			}
			if err != nil {
				l.cfg.Logger.Warn("lease: cannot connect; retrying", "lease", name, "error", err)
			}
			conn = c
		}
		if conn != nil {
			var ok bool
			err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, args...).Scan(&ok)
			if err == nil && ok {
				if err := sleep(ctx, l.cfg.Grace); err != nil {
					return nil, err
				}
				return conn, nil
			}
			if once && err == nil {
				return nil, ErrHeld
			}
			if once {
				return nil, fmt.Errorf("lease %s: %w", name, err)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				_ = conn.Close(context.Background())
				conn = nil
			}
		}
		if err := sleep(ctx, l.cfg.CheckInterval); err != nil {
			return nil, err
		}
	}
}

// applicationName names a lease's session in pg_stat_activity:
// "evcrm-lease/<name>", after the application name the process's own
// connections carry, if any ("evcrm-a evcrm-lease/<name>"), so an operator
// sees which instance holds which lease. PostgreSQL keeps 63 bytes.
func applicationName(base, name string) string {
	n := "evcrm-lease/" + name
	if base != "" {
		n = base + " " + n
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
