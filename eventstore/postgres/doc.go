// Package postgres is the PostgreSQL backend of the evcrm event store, on
// pgx v5. It is the default store and the one tests use.
//
//	if err := postgres.Migrate(ctx, pool); err != nil { ... } // or `evcrm migrate`
//	store, err := postgres.New(ctx, pool, postgres.Config{})
//	defer store.Close()
//
// # Tables
//
// Everything lives in the first schema of the pool's search_path:
// evcrm_events (the log), evcrm_streams (reserved for stream settings such
// as max age, max count or soft delete; nothing uses it yet), the function
// evcrm_append and goose's version table evcrm_eventstore_migrations.
// Migrations are embedded SQL files run by Migrate.
//
// # Appends
//
// An append is one INSERT statement, run as its own transaction: one round
// trip, whatever the number of events. The statement reads the stream's
// version (the last event's, through the unique index on (stream_id,
// version)), checks the expectation, and inserts the events after it, or
// nothing when the expectation fails. Appends to different streams do not
// interact. Two appends racing for the same version of one stream collide
// on that unique index: the loser waits for the winner's commit, fails,
// and is tried again with a fresh snapshot, where an exact expectation now
// fails properly and "any" goes after the winner. An append that collides
// twice queues on the stream's advisory lock instead (the function
// evcrm_append), so a busy stream serves its writers in turn.
//
// Idempotency costs nothing on the normal path: the unique index on
// event_id rejects a reused ID, and only then, or when the expectation
// failed, does the store look at what is stored to tell a retry (the
// original result) from a conflict (ErrDuplicateEventID or
// *eventstore.VersionError).
//
// # Global order: why subscribers never skip an event
//
// A sequence number alone cannot order a log that concurrent transactions
// write: transaction A takes number 10, transaction B takes 11 and commits
// first, a reader sees 11 and moves its checkpoint past 10, then A commits
// and event 10 is never delivered. Waiting for gaps to fill is fragile
// (rolled-back transactions leave gaps that never fill).
//
// This backend orders events by the transaction that wrote them instead. An
// event's Position is (Commit, Prepare) = (tx_id, seq): tx_id is the
// 64-bit id of the writing transaction (pg_current_xact_id), seq an identity
// that orders events within it. ReadAll and Subscribe only return events
// whose tx_id is below the xmin of their snapshot, the oldest transaction id
// still running. Every transaction with a smaller id has
// finished (committed or rolled back) by then, so no event can later appear
// before one already returned: a subscriber that resumes after the last
// position it handled skips nothing and sees nothing twice, even when
// transactions commit out of order. Within a transaction, seq follows the
// order of the events in the append.
//
// Stream order must agree with this global order: a stream's version 5 must
// come before its version 6. It does, because a transaction id is assigned
// at the transaction's first write, after its statement took its snapshot:
// the append that wrote version 6 saw version 5 in its snapshot (it
// computed 6 as the last version it saw plus one; the unique index rejects
// a version written twice), so the transaction that wrote version 5 had
// committed, and had its id, before the one writing version 6 got its own. The locking
// path keeps this too: evcrm_append takes the advisory lock, which assigns
// no transaction id, before it reads or writes.
//
// The cost of this choice: an event is only delivered once every
// transaction that started writing before it has ended, anywhere in the
// PostgreSQL cluster (xmin is cluster-wide). A long-running write
// transaction, or a forgotten prepared transaction, delays every subscriber
// (not appends, nor stream reads, which are read-your-writes) until it ends.
// Keep transactions that write short; a projector's transaction (read-model
// rows and checkpoint) is fine. ReadStream and StreamVersion are not
// affected: they return everything committed. Head returns the latest
// committed event, deliverable or not yet, so "read until Head" includes
// every append that finished before Head was called.
//
// # Live delivery
//
// After an append commits, subscribers of the same Store are woken at once,
// in memory. Subscribers in other processes are woken by NOTIFY on a
// channel named after the schema: a notifier goroutine sends at most one
// pg_notify per Config.NotifyInterval, and only after appends committed
// (NOTIFY inside the append transaction would take a database-wide lock at
// commit and serialise all appenders). Each Store listens on one dedicated
// connection (reconnecting after errors) and wakes its subscribers. If
// notifications are lost or disabled, subscribers still poll every
// Config.PollInterval. When a read finds committed events that cannot be
// delivered yet (an older transaction is still open), the subscriber reads
// again after a short, growing delay instead of waiting for a notification.
//
// A subscription reads pages of Config.PageSize events. With a filter, a
// page is a window of the log: the subscription remembers how far it has
// scanned even when nothing matched, so a sparse filter does not rescan
// the log from its last match on every wake-up.
//
// # The pool
//
// The store uses the pool it is given (appends and reads) and opens one
// more connection of its own, with the pool's settings, to LISTEN. The
// pool must describe statements (pgx's default query exec mode, or
// cache_describe or describe_exec): with the simple protocol or "exec",
// pgx would guess parameter types from Go types. Close the store before
// the pool.
//
// # Errors
//
// Errors wrap the eventstore sentinels (ErrWrongExpectedVersion through
// *eventstore.VersionError, ErrDuplicateEventID, ErrInvalidEvent,
// ErrInvalidStreamID, ErrStreamNotFound, ErrClosed) or the context's error.
// A database failure is wrapped with what the store was doing; no SQL text
// is included. A subscription ends with an error on a database failure: the
// caller resumes it from its checkpoint.
package postgres
