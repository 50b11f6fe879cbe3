// Package commands runs evcrm's command side: it loads an aggregate by
// replaying its stream, lets the aggregate decide, and appends the resulting
// events with an expected version.
//
// # Handling one command
//
// A Handler[S, P] serves every command of one aggregate type (S is the
// aggregate's State, P = *S implements domain.Decider):
//
//  1. read the stream "<category>-<id>" and fold every event into a fresh S;
//  2. if the stream already holds the events this command would write (same
//     command ID), return the original result: nothing is written twice;
//  3. check the caller's precondition (Metadata.Expected, the HTTP If-Match);
//  4. Decide(cmd, occurred-at) → events or a *domain.Error;
//  5. append with eventstore.Exact(version).
//
// On a concurrency conflict (someone appended between 1 and 5) the handler
// reloads and decides again, a bounded number of times, as long as the
// caller's precondition still holds; a caller that pinned an exact version
// gets a *PreconditionError instead, and a command registered with NoRetry
// gets the conflict.
//
// # Idempotency
//
// Event IDs are derived from the command ID (EventID), and the command ID from
// the caller's idempotency key (CommandIDFromKey). A retried command — an
// HTTP client resending after a timeout, a message redelivered by the bus —
// finds its own events in the stream and returns the original Result, on any
// event store backend.
//
// # Snapshots
//
// An aggregate whose stream can grow long (a campaign, one event per
// response) implements domain.Snapshotter. With Config.Snapshots set, its
// handler loads the stream's latest snapshot and reads only the events after
// it (step 1); after an append that takes the stream SnapshotEvery events
// past its snapshot, it saves a new one, best effort. Snapshots are a cache:
// a missing, unreadable or other-schema snapshot, or a failing snapshot
// store, means a full replay, logged, never a failed command. Because a
// repeated command's events may lie before the snapshot, any outcome of a
// command with a caller-given ID other than a successful append (a refusal,
// a failed precondition, no events, a duplicate event ID) is checked
// against a full replay, so idempotency is as without snapshots.
//
// # Dispatching
//
// A Dispatcher maps stable command type names ("OpenCase") to handlers, so the
// HTTP API and the message-bus command processor run the same code:
//
//	d := commands.NewDispatcher(store, commands.Config{})
//	commands.Register[servicecase.State](d, servicecase.Category, servicecase.OpenCase{}, servicecase.EscalateCase{})
//	d.Use(commands.Logging(logger), commands.Metrics(prometheus.DefaultRegisterer))
//	res, err := d.Dispatch(ctx, cmd, commands.Metadata{Actor: "ann", Role: "service"})
//
// # Catalogues
//
// Each evcrm aggregate declares its commands once, in a Catalogue
// (catalogue_<aggregate>.go): for every command of its domain package's
// Commands(), the HTTP routes, the roles, the retry policy (NoRetry) and the
// Enrich / IdentifyBy options. RegisterDomain registers them all
// (RegisterCatalogue); the HTTP API derives its command endpoints from
// Dispatcher.Catalogues.
//
// Cross-cutting concerns (logging, metrics) are Middleware around Dispatch.
// Cross-aggregate checks live in the handler of the command that needs them:
// an Enrich option loads the other aggregate read-only (Load) and passes the
// facts into the command before the aggregate decides.
package commands
