package privacy

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable is the goose version table of the privacy tables.
const VersionTable = "privacy_goose_db_version"

// Migrate creates or upgrades the key tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	var lockID int64
	if err := pool.QueryRow(ctx, `SELECT hashtextextended(current_schema() || '/evcrm/privacy', 0)`).Scan(&lockID); err != nil {
		return fmt.Errorf("privacy: migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("privacy: migrate: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("privacy: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithTableName(VersionTable),
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true), goose.WithSlog(logger))
	if err != nil {
		return fmt.Errorf("privacy: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("privacy: migrate: %w", err)
	}
	return nil
}

// Keyring keeps the data keys in PostgreSQL, wrapped by the master key.
type Keyring struct {
	pool    *pgxpool.Pool
	current MasterKey
	byID    map[string]MasterKey
}

// NewKeyring returns a keyring; masters[0] wraps new keys, all of them unwrap.
func NewKeyring(pool *pgxpool.Pool, masters []MasterKey) (*Keyring, error) {
	if len(masters) == 0 {
		return nil, ErrNoMasterKey
	}
	k := &Keyring{pool: pool, current: masters[0], byID: map[string]MasterKey{}}
	for _, m := range masters {
		k.byID[m.ID] = m
	}
	return k, nil
}

// MasterKeyID is the ID of the master key that wraps new data keys.
func (k *Keyring) MasterKeyID() string { return k.current.ID }

// subjectKey returns the subject's data key, creating it on first use, or
// nil when the subject was erased.
func (k *Keyring) subjectKey(ctx context.Context, tenant, subject string) (*dataKey, error) {
	for attempt := 0; attempt < 2; attempt++ {
		var kid uuid.UUID
		var master *string
		var wrapped []byte
		err := k.pool.QueryRow(ctx, `SELECT kid, master_kid, wrapped FROM privacy_keys WHERE tenant = $1 AND subject = $2`,
			tenant, subject).Scan(&kid, &master, &wrapped)
		switch {
		case err == nil:
			if wrapped == nil {
				return nil, nil
			}
			return k.open(kid, subject, master, wrapped)
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, fmt.Errorf("privacy: reading the key of %s: %w", subject, err)
		}
		dek := make([]byte, 32)
		if _, err := rand.Read(dek); err != nil {
			return nil, err
		}
		kid = uuid.New()
		if _, err := k.pool.Exec(ctx, `INSERT INTO privacy_keys (kid, tenant, subject, master_kid, wrapped) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant, subject) DO NOTHING`, kid, tenant, subject, k.current.ID, k.current.wrap(dek, kid.String(), subject)); err != nil {
			return nil, fmt.Errorf("privacy: storing the key of %s: %w", subject, err)
		}
		// Read it back: a concurrent writer may have created the subject's key first.
	}
	return nil, fmt.Errorf("privacy: the key of %s could not be created", subject)
}

// key returns the data key with an ID, or nil when it was destroyed or
// never existed.
func (k *Keyring) key(ctx context.Context, kid uuid.UUID) (*dataKey, error) {
	var subject string
	var master *string
	var wrapped []byte
	err := k.pool.QueryRow(ctx, `SELECT subject, master_kid, wrapped FROM privacy_keys WHERE kid = $1`, kid).Scan(&subject, &master, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && wrapped == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("privacy: reading data key %s: %w", kid, err)
	}
	return k.open(kid, subject, master, wrapped)
}

func (k *Keyring) open(kid uuid.UUID, subject string, master *string, wrapped []byte) (*dataKey, error) {
	if master == nil {
		return nil, fmt.Errorf("privacy: data key %s names no master key", kid)
	}
	m, ok := k.byID[*master]
	if !ok {
		return nil, fmt.Errorf("privacy: data key %s is wrapped by master key %s, which is not configured", kid, *master)
	}
	dek, err := m.unwrap(wrapped, kid.String(), subject)
	if err != nil {
		return nil, err
	}
	return newDataKey(kid, dek)
}

// link makes subject part of owner: erasing owner erases subject too.
func (k *Keyring) link(ctx context.Context, tenant, subject, owner string) error {
	if _, err := k.pool.Exec(ctx, `INSERT INTO privacy_links (tenant, subject, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		tenant, subject, owner); err != nil {
		return fmt.Errorf("privacy: linking %s to %s: %w", subject, owner, err)
	}
	return nil
}

// streamSubject returns the subject recorded for a stream ("" if none).
func (k *Keyring) streamSubject(ctx context.Context, tenant, streamID string) (string, error) {
	var s string
	err := k.pool.QueryRow(ctx, `SELECT subject FROM privacy_streams WHERE tenant = $1 AND stream_id = $2`, tenant, streamID).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("privacy: reading the subject of %s: %w", streamID, err)
	}
	return s, nil
}

// setStreamSubject records the subject of a stream unless it has one, and
// returns the stream's subject (the first one recorded).
func (k *Keyring) setStreamSubject(ctx context.Context, tenant, streamID, subject string) (string, error) {
	var first string
	err := k.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO privacy_streams (tenant, stream_id, subject) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING subject)
		SELECT subject FROM ins UNION ALL SELECT subject FROM privacy_streams WHERE tenant = $1 AND stream_id = $2 LIMIT 1`,
		tenant, streamID, subject).Scan(&first)
	if err != nil {
		return "", fmt.Errorf("privacy: recording the subject of %s: %w", streamID, err)
	}
	return first, nil
}

// Destroy erases a subject and every subject linked to it: their data keys
// are destroyed (a subject without a key gets a destroyed one, so data
// recorded later is stored erased). It returns the key IDs destroyed now.
func (k *Keyring) Destroy(ctx context.Context, tenant, subject, by string) ([]uuid.UUID, error) {
	var kids []uuid.UUID
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH RECURSIVE s(subject) AS (
				SELECT $2::text
				UNION SELECT l.subject FROM privacy_links l JOIN s ON l.owner = s.subject AND l.tenant = $1
			)
			SELECT subject FROM s`, tenant, subject)
		if err != nil {
			return err
		}
		subjects, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, s := range subjects {
			if _, err := tx.Exec(ctx, `INSERT INTO privacy_keys (kid, tenant, subject, destroyed_at, destroyed_by) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (tenant, subject) DO NOTHING`, uuid.New(), tenant, s, now, by); err != nil {
				return err
			}
			var kid uuid.UUID
			err := tx.QueryRow(ctx, `UPDATE privacy_keys SET wrapped = NULL, master_kid = NULL, destroyed_at = $3, destroyed_by = $4
				WHERE tenant = $1 AND subject = $2 AND wrapped IS NOT NULL RETURNING kid`, tenant, s, now, by).Scan(&kid)
			switch {
			case err == nil:
				kids = append(kids, kid)
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("privacy: erasing %s: %w", subject, err)
	}
	return kids, nil
}

// Erased reports whether a subject was erased, and when.
func (k *Keyring) Erased(ctx context.Context, tenant, subject string) (time.Time, bool, error) {
	var at *time.Time
	err := k.pool.QueryRow(ctx, `SELECT destroyed_at FROM privacy_keys WHERE tenant = $1 AND subject = $2`, tenant, subject).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && at == nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("privacy: reading the key of %s: %w", subject, err)
	}
	return *at, true, nil
}

// RotateMasterKey rewraps every data key not wrapped by the current master
// key under it (the earlier master keys must still be configured). It
// returns how many keys it rewrapped; after it, the earlier keys can go.
func (k *Keyring) RotateMasterKey(ctx context.Context) (int, error) {
	n := 0
	for {
		type row struct {
			kid     uuid.UUID
			subject string
			master  *string
			wrapped []byte
		}
		var batch []row
		rows, err := k.pool.Query(ctx, `SELECT kid, subject, master_kid, wrapped FROM privacy_keys
			WHERE wrapped IS NOT NULL AND master_kid <> $1 ORDER BY kid LIMIT 500`, k.current.ID)
		if err != nil {
			return n, fmt.Errorf("privacy: rotate: %w", err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.kid, &r.subject, &r.master, &r.wrapped); err != nil {
				rows.Close()
				return n, fmt.Errorf("privacy: rotate: %w", err)
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("privacy: rotate: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for _, r := range batch {
			m, ok := k.byID[*r.master]
			if !ok {
				return n, fmt.Errorf("privacy: rotate: data key %s is wrapped by master key %s, which is not configured", r.kid, *r.master)
			}
			dek, err := m.unwrap(r.wrapped, r.kid.String(), r.subject)
			if err != nil {
				return n, err
			}
			tag, err := k.pool.Exec(ctx, `UPDATE privacy_keys SET master_kid = $2, wrapped = $3 WHERE kid = $1 AND master_kid = $4 AND wrapped IS NOT NULL`,
				r.kid, k.current.ID, k.current.wrap(dek, r.kid.String(), r.subject), *r.master)
			if err != nil {
				return n, fmt.Errorf("privacy: rotate: %w", err)
			}
			n += int(tag.RowsAffected())
		}
	}
}
