// Package projections runs evcrm's projectors: it folds the global event
// log into plain PostgreSQL read models, exactly once, and rebuilds them
// without downtime.
//
// # Projections
//
// A Projection has a Name, a Version, the EventTypes it handles, the DDL of
// its tables (Schema) and Apply, which folds a batch of decoded events into
// those tables. Events are decoded through the domain registry, so old
// schema versions are upcast first. A handled event that cannot be decoded,
// or that Apply fails on, stops the projection at that event: the error
// (an *EventError naming the event's position and type) is logged, stored
// in the catalog and retried with exponential backoff from the checkpoint.
// Nothing is ever skipped. Events of types a projection does not handle
// only advance its checkpoint, so a checkpoint always covers the whole log
// up to it, which is what read-your-writes needs.
//
// # Generations, schemas and views
//
// Every build of a projection is a generation, recorded in the catalog
// table evcrm_projections in the serving schema (the first schema of the
// pool's search_path; "public" in production). A generation owns its own
// PostgreSQL schema, named <serving>__<name>_v<version>_g<generation>
// (e.g. public__pipeline_v2_g7), which holds the projection's tables; Apply
// runs with search_path set to that schema alone, so projections write
// unqualified names and cannot read anything else.
//
// Readers never see those schemas: for every table of the served (active)
// generation, the serving schema has a view of the same name (for example
// rm_pipeline_opportunities) selecting all its columns. Queries and BI tools
// read the views. Swapping generations replaces the views, retires the old
// generation and activates the new one in ONE transaction, so readers see
// either the old read model or the new one, never a mix or a gap. Views are
// replaced in place when their columns stay compatible (views built on
// them by analysts survive); otherwise they are dropped and recreated, and
// the swap fails loudly if something depends on them. The replaced
// generation's schema is dropped afterwards.
//
// # Exactly once
//
// A worker applies a batch in one transaction that (1) locks the
// generation's catalog row and checks that its checkpoint is the one the
// worker started from, (2) runs Apply, (3) moves the checkpoint past the
// batch. A crash at any point leaves the rows and the checkpoint
// consistent, and the next worker resumes from the checkpoint. A lease
// per generation (package internal/lease: a watched session advisory lock
// on a connection of its own) elects one worker per generation across
// processes; a worker whose lease's session fails stops and waits to win it
// again. The checkpoint check makes a second worker harmless even if a
// stalled holder has not noticed yet.
//
// # Rebuilds
//
// A new generation is built, in its own schema, while the served one keeps
// serving; it is swapped in by the transaction of the batch that finds the
// end of the log. This happens:
//
//   - at start, when a projection's Version is higher than the served
//     generation's (the old tables keep serving, frozen, meanwhile: the
//     old code is gone);
//   - on `evcrm projections rebuild NAME` (Runtime.Rebuild), for example
//     after a bug fix that needs no new version: the server keeps the
//     served generation up to date until the swap.
//
// A build interrupted by a crash is resumed by the next Run (or Rebuild);
// one interrupted by Rebuild's own failure or cancellation is dropped. A
// binary whose projection version is lower than the served one leaves it
// alone (a rolled-back deploy must not rebuild old code over new tables).
//
// The first generation of a projection is served at once, while it catches
// up: there is nothing older to serve.
//
// # Read your writes
//
// Command responses carry the global position of their last event.
// WaitFor(ctx, names, pos) returns once the served generations of the named
// projections have checkpoints at or after pos, and fails with
// ErrNotCaughtUp when ctx ends first. Workers of this process wake waiters
// at once; checkpoints moved by other processes are polled (Config.WaitPoll).
//
// # Time
//
// Apply must be deterministic (same events, same rows): time-dependent
// figures such as days in stage, backlog age or overdue flags are computed
// by queries from the timestamps the read models store. This is what lets
// the property tests compare an incrementally built read model with a
// rebuild, row for row.
//
// # Observability
//
// Status reports every generation's position, lag (events and seconds),
// state, whether some process is working on it, and its last error; the
// same figures are Prometheus metrics (Config.Metrics). Ready fails until
// every projection has a served generation.
package projections
