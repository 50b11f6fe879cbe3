package apistore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Keys stores idempotency keys in the api_idempotency_keys table.
type Keys struct {
	pool *pgxpool.Pool
	// TTL: how long a key and its response are kept (default 24h).
	TTL time.Duration
	// Lease: how long an unfinished request holds its key before a retry
	// may take it over, after a crash (default 1 minute).
	Lease time.Duration

	// claims are the keys this process holds (claimed by Reserve, not yet
	// completed or released), each with the created_at its claim wrote:
	// Release deletes that claim only, never a later one of another
	// request. unreleased are those whose Release failed (the database
	// was down): they are released again before their key is reserved
	// and by RetryReleases, so a retry after an outage gets a fresh
	// attempt (or the recorded result) rather than 409 for the whole lease.
	mu         sync.Mutex
	claims     map[claimKey]time.Time
	unreleased map[claimKey]time.Time
}

type claimKey struct {
	scope Scope
	key   string
}

// NewKeys returns the key store over pool (migrated with Migrate).
func NewKeys(pool *pgxpool.Pool) *Keys {
	return &Keys{pool: pool, TTL: 24 * time.Hour, Lease: time.Minute,
		claims: map[claimKey]time.Time{}, unreleased: map[claimKey]time.Time{}}
}

// Scope is whose idempotency keys a key is among: the tenant and the
// principal (token name) that sent the request, kept apart (never joined
// into one string, which two different pairs could share).
type Scope struct {
	Tenant    string
	Principal string
}

// Reservation is the state of a key after Reserve.
type Reservation struct {
	// Claimed: the caller now holds the key. It must handle the request and
	// then call Complete (to keep the response) or Release.
	Claimed bool
	// Otherwise the key is held by an earlier request:
	Operation   string
	RequestHash []byte
	// Status is 0 while the earlier request is still being handled.
	Status   int
	Response []byte
}

// Reserve claims (scope, key) for a request, or reports the request that
// holds it. An expired key, or one whose request crashed (lease over) and
// that is retried with the same request, is claimed afresh.
func (s *Keys) Reserve(ctx context.Context, scope Scope, key, operation string, requestHash []byte) (Reservation, error) {
	ck := claimKey{scope, key}
	s.mu.Lock()
	at, failed := s.unreleased[ck]
	s.mu.Unlock()
	if failed {
		// An earlier request of this process failed and could not release
		// the key: release it now, or the retry would find it in flight.
		if err := s.release(ctx, ck, at); err != nil {
			return Reservation{}, err
		}
	}
	for range 3 {
		var claimed time.Time
		// The claim commits without waiting for its WAL flush (see
		// asyncCommitSQL): what the request does next that must last (its
		// append, or Complete or Release when it appended nothing) is a
		// durable commit after it, which makes the claim durable too.
		// Lost in a crash of PostgreSQL, it was only ever an unfinished
		// claim, which a retry makes again.
		b := &pgx.Batch{}
		b.Queue(asyncCommitSQL)
		b.Queue(`
			INSERT INTO api_idempotency_keys AS k (tenant, principal, key, operation, request_hash, locked_until, expires_at)
			VALUES ($1, $2, $3, $4, $5, now() + $6::interval, now() + $7::interval)
			ON CONFLICT (tenant, principal, key) DO UPDATE
			SET operation = EXCLUDED.operation, request_hash = EXCLUDED.request_hash, status = NULL,
			    response = NULL, created_at = now(), locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at
			WHERE k.expires_at <= now()
			   OR (k.status IS NULL AND k.locked_until <= now() AND k.request_hash = EXCLUDED.request_hash)
			RETURNING k.created_at`,
			scope.Tenant, scope.Principal, key, operation, requestHash, s.Lease, s.TTL).QueryRow(func(row pgx.Row) error { return row.Scan(&claimed) })
		err := s.pool.SendBatch(ctx, b).Close()
		if err == nil {
			s.mu.Lock()
			s.claims[ck] = claimed
			s.mu.Unlock()
			return Reservation{Claimed: true}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Reservation{}, fmt.Errorf("reserving idempotency key: %w", err)
		}
		var r Reservation
		var status *int32
		err = s.pool.QueryRow(ctx, `
			SELECT operation, request_hash, status, response FROM api_idempotency_keys
			WHERE tenant = $1 AND principal = $2 AND key = $3`, scope.Tenant, scope.Principal, key).Scan(&r.Operation, &r.RequestHash, &status, &r.Response)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // purged in between: try again
		}
		if err != nil {
			return Reservation{}, fmt.Errorf("reading idempotency key: %w", err)
		}
		if status != nil {
			r.Status = int(*status)
		}
		return r, nil
	}
	return Reservation{}, errors.New("reserving idempotency key: key keeps changing")
}

// Complete stores the response to the request holding (scope, key). It
// also serves a retry that found the request's result after its response
// was lost: the key may then be held by nobody.
func (s *Keys) Complete(ctx context.Context, scope Scope, key string, status int, response []byte) error {
	_, err := s.pool.Exec(ctx, completeSQL, scope.Tenant, scope.Principal, key, status, response)
	s.mu.Lock()
	delete(s.claims, claimKey{scope, key}) // done: never released by this process
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("storing idempotent response: %w", err)
	}
	return nil
}

// CompleteRecorded is Complete for a request whose events were appended:
// its commit does not wait for the WAL flush. That is safe because the
// events are durable already: if a crash of PostgreSQL loses the stored
// response, the key stays claimed by the same request, and a retry finds
// the result from the events (as after any lost response). A request that
// recorded nothing must use Complete, whose commit is durable.
func (s *Keys) CompleteRecorded(ctx context.Context, scope Scope, key string, status int, response []byte) error {
	b := &pgx.Batch{}
	b.Queue(asyncCommitSQL)
	b.Queue(completeSQL, scope.Tenant, scope.Principal, key, status, response)
	err := s.pool.SendBatch(ctx, b).Close()
	s.mu.Lock()
	delete(s.claims, claimKey{scope, key}) // done: never released by this process
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("storing idempotent response: %w", err)
	}
	return nil
}

// asyncCommitSQL, first in a batch (one implicit transaction), makes that
// transaction commit without waiting for its WAL to reach the disk
// (synchronous_commit = off for it alone). Its effect is visible at once;
// a crash of PostgreSQL may lose it, together with every later commit and
// none earlier: any durable commit after it makes it durable.
const asyncCommitSQL = "SELECT set_config('synchronous_commit', 'off', true)"

const completeSQL = `
		UPDATE api_idempotency_keys SET status = $4, response = $5
		WHERE tenant = $1 AND principal = $2 AND key = $3 AND status IS NULL`

// Release frees (scope, key) after a request that should not be remembered
// (it failed in a way a retry may not repeat).
// If the database cannot be reached, the key is remembered and released
// again before it is next reserved here and by RetryReleases.
func (s *Keys) Release(ctx context.Context, scope Scope, key string) error {
	ck := claimKey{scope, key}
	s.mu.Lock()
	at, ok := s.claims[ck]
	delete(s.claims, ck)
	s.mu.Unlock()
	if !ok {
		// Not claimed by this process's Reserve (nothing to release).
		return nil
	}
	if err := s.release(ctx, ck, at); err != nil {
		s.mu.Lock()
		s.unreleased[ck] = at
		s.mu.Unlock()
		return err
	}
	return nil
}

// release deletes the claim of ck made at claimedAt, if it is still
// unfinished, and forgets it as unreleased.
func (s *Keys) release(ctx context.Context, ck claimKey, claimedAt time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM api_idempotency_keys
		WHERE tenant = $1 AND principal = $2 AND key = $3 AND status IS NULL AND created_at = $4`,
		ck.scope.Tenant, ck.scope.Principal, ck.key, claimedAt)
	if err != nil {
		return fmt.Errorf("releasing idempotency key: %w", err)
	}
	s.mu.Lock()
	if s.unreleased[ck] == claimedAt {
		delete(s.unreleased, ck)
	}
	s.mu.Unlock()
	return nil
}

// RetryReleases releases, every interval until ctx ends, the keys whose
// Release failed (so that a retry sent to another instance after an outage
// does not wait for the lease either). It returns nil when ctx ends.
func (s *Keys) RetryReleases(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.mu.Lock()
		pending := make(map[claimKey]time.Time, len(s.unreleased))
		for k, at := range s.unreleased {
			pending[k] = at
		}
		s.mu.Unlock()
		for k, at := range pending {
			if err := s.release(ctx, k, at); err != nil {
				break // still unreachable: next tick
			}
		}
	}
}

// Purge deletes expired keys and returns how many.
func (s *Keys) Purge(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_idempotency_keys WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("purging idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
