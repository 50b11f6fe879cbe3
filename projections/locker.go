package projections

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// locker holds session-level advisory locks, one per generation being
// worked on, on a connection of its own (outside the pool, so held locks
// never starve it). The locks elect one worker per generation across
// processes; correctness does not depend on them: every batch also checks
// the checkpoint it starts from under a row lock.
type locker struct {
	cfg  *pgx.ConnConfig
	base string
	mu   sync.Mutex
	conn *pgx.Conn
	held map[int64]bool
}

func newLocker(cfg *pgx.ConnConfig, base string) *locker {
	return &locker{cfg: cfg.Copy(), base: base, held: map[int64]bool{}}
}

func (l *locker) connect(ctx context.Context) error {
	if l.conn != nil && !l.conn.IsClosed() {
		return nil
	}
	c, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return fmt.Errorf("projections: connecting for advisory locks: %w", err)
	}
	l.conn = c
	l.held = map[int64]bool{}
	return nil
}

// lockKey is the text hashed into a generation's advisory lock key:
// generation ids are unique per serving schema, and the database and schema
// names keep several evcrm instances (or test schemas) on one server apart.
func lockKey(database, schema string, gen int64) string {
	return fmt.Sprintf("evcrm_projections:%s.%s:%d", database, schema, gen)
}

func (l *locker) key(gen int64) string { return lockKey(l.cfg.Database, l.base, gen) }

func (l *locker) tryLock(ctx context.Context, gen int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[gen] {
		return true, nil
	}
	if err := l.connect(ctx); err != nil {
		return false, err
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", l.key(gen)).Scan(&ok); err != nil {
		return false, fmt.Errorf("projections: taking advisory lock: %w", err)
	}
	if ok {
		l.held[gen] = true
	}
	return ok, nil
}

func (l *locker) unlock(ctx context.Context, gen int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[gen] || l.conn == nil || l.conn.IsClosed() {
		delete(l.held, gen)
		return
	}
	delete(l.held, gen)
	_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", l.key(gen))
}

// check pings the lock connection; if it is gone, so are its locks, and
// check returns the generations whose workers must stop.
func (l *locker) check(ctx context.Context) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || len(l.held) == 0 {
		return nil
	}
	if err := l.conn.Ping(ctx); err == nil {
		return nil
	}
	lost := make([]int64, 0, len(l.held))
	for g := range l.held {
		lost = append(lost, g)
	}
	_ = l.conn.Close(context.WithoutCancel(ctx))
	l.conn = nil
	l.held = map[int64]bool{}
	return lost
}

func (l *locker) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_ = l.conn.Close(context.Background())
		l.conn = nil
	}
}
