// Package process holds evcrm's process managers: long-running reactions to
// events that act by sending commands.
//
//   - SLAWatcher escalates cases whose first-response or resolution deadline
//     passed and flags complaints not acknowledged in time.
//   - LeadConversion registers the customer and opens the opportunity of a
//     converted lead.
//   - ComplaintFollowUp opens the nonconformity a complaint raised.
//
// They run on the message bus (package bus) as watermill event handlers, and
// send commands through it as the system actors "system:sla-watcher",
// "system:lead-conversion" and "system:complaint-follow-up". Every command they send has a command ID derived
// from a deterministic idempotency key, so a redelivered event, a restart or
// a second instance never makes the aggregate record anything twice.
package process

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/bus"
)

// Sender sends a command and waits for its outcome; *bus.Bus implements it.
type Sender interface {
	SendWithReply(ctx context.Context, cmd domain.Command, md commands.Metadata) (bus.Reply, error)
}

var _ Sender = (*bus.Bus)(nil)

// StreamReader reads one stream; eventstore.Store implements it.
type StreamReader interface {
	ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error)
}

// Schema creates the tables of the process managers. It is idempotent.
const Schema = `
CREATE TABLE IF NOT EXISTS process_sla_streams (
	stream_id text PRIMARY KEY,
	version   bigint NOT NULL CHECK (version >= 0)
);
COMMENT ON TABLE process_sla_streams IS
	'evcrm SLA watcher: last event version applied per case or complaint stream';
CREATE TABLE IF NOT EXISTS process_sla_timers (
	stream_id    text NOT NULL,
	kind         text NOT NULL CHECK (kind IN ('first_response', 'resolution', 'acknowledgement')),
	aggregate_id uuid NOT NULL,
	due_at       timestamptz,          -- NULL: the clock is stopped or not running
	done         boolean NOT NULL DEFAULT false,
	fired_at     timestamptz,          -- last time the watcher sent the breach command
	PRIMARY KEY (stream_id, kind)
);
COMMENT ON TABLE process_sla_timers IS
	'evcrm SLA watcher: pending deadlines of cases and complaints';
CREATE INDEX IF NOT EXISTS process_sla_timers_due ON process_sla_timers (due_at) WHERE NOT done AND due_at IS NOT NULL;
`

// Migrate creates the process managers' tables; safe to run concurrently.
func Migrate(ctx context.Context, db *pgxpool.Pool) error {
	if err := bus.MigrateSchema(ctx, db, "process", Schema); err != nil {
		return fmt.Errorf("creating process manager tables: %w", err)
	}
	return nil
}

type domainEvent struct {
	event domain.Event
	env   eventstore.RecordedEvent
}

// readRange reads versions from..to (inclusive) of a stream, decoded.
func readRange(ctx context.Context, store StreamReader, reg *domain.Registry, streamID string, from, to uint64) ([]domainEvent, error) {
	recs, err := store.ReadStream(ctx, streamID, eventstore.ReadStreamOptions{From: from, Limit: int(to - from + 1)})
	if err != nil {
		return nil, err
	}
	out := make([]domainEvent, 0, len(recs))
	for _, r := range recs {
		if r.Version > to {
			break
		}
		e, err := reg.Decode(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			e = nil // unknown to this binary: it changes no timer
		}
		out = append(out, domainEvent{event: e, env: r})
	}
	if len(out) == 0 || out[len(out)-1].env.Version != to {
		return nil, fmt.Errorf("stream %s: read up to version %d, want %d", streamID, lastVersion(out), to)
	}
	return out, nil
}

func lastVersion(es []domainEvent) uint64 {
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].env.Version
}

// aggregateID parses the UUID of a "<category>-<uuid>" stream.
func aggregateID(streamID string) (uuid.UUID, error) {
	_, id, ok := strings.Cut(streamID, "-")
	if !ok {
		return uuid.Nil, fmt.Errorf("stream %q has no aggregate id", streamID)
	}
	return uuid.Parse(id)
}

// reaction is the metadata of a command a process manager sends in
// reaction to an event: its ID derives from key (so a redelivered event
// sends the same command), it is caused by the event and keeps its
// correlation and tenant.
func reaction(actor, key string, env eventstore.RecordedEvent, at time.Time) commands.Metadata {
	return commands.Metadata{
		CommandID:     commands.CommandIDFromKey(actor, key),
		CorrelationID: env.Metadata.CorrelationID,
		CausationID:   env.ID,
		Actor:         actor,
		Role:          "system",
		Source:        "evcrm",
		Tenant:        env.Metadata.Tenant,
		OccurredAt:    at,
	}
}

// sendCreation sends a command that creates an aggregate and classifies the
// outcome: a transport error is returned for the bus to retry; a refusal
// because the aggregate exists (exists) means the work is done; any other
// refusal cannot succeed by retrying and goes to the poison queue, described
// by what.
func sendCreation(ctx context.Context, sender Sender, log *slog.Logger, cmd domain.Command, md commands.Metadata, exists *domain.Error, what string) error {
	r, err := sender.SendWithReply(ctx, cmd, md)
	if err != nil {
		return err
	}
	if r.Error == nil {
		return nil
	}
	if r.Error.Outcome == commands.OutcomeRejected && r.Error.Code == exists.Code {
		log.Info(what+": aggregate exists already", "command", cmd.CommandType(), "command_id", md.CommandID)
		return nil
	}
	return bus.Permanent(fmt.Errorf("%s: %s refused: %s (%s)", what, cmd.CommandType(), r.Error.Message, r.Error.Code))
}
