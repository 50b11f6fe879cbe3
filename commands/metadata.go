package commands

import (
	"fmt"
	"strconv"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// Namespace is the UUID namespace of every name-based (v5) UUID the command
// side derives: command IDs from idempotency keys, event IDs from command
// IDs, aggregate IDs of idempotent creations. It must never change: a changed
// namespace would make retried commands write twice.
var Namespace = uuid.MustParse("04d1653b-8664-4831-901f-da11f9a71be6")

// Metadata describes who sent a command, why and from where. It becomes the
// eventstore.Metadata of every event the command records.
type Metadata struct {
	// CommandID identifies the command. Event IDs are derived from it, so
	// sending the same command ID twice never writes twice. Zero: a random
	// ID is used (no deduplication). Derive it from an idempotency key with
	// CommandIDFromKey.
	CommandID uuid.UUID
	// CorrelationID groups everything caused by one user action. Zero: the
	// command ID (the command starts a new chain).
	CorrelationID uuid.UUID
	// CausationID is the message that caused this command (the triggering
	// event for a process manager). Zero: the command ID.
	CausationID uuid.UUID
	Actor       string // user or system principal
	Role        string // role the actor acted in
	Source      string // app or integration that sent the command
	Tenant      string
	// OccurredAt is when the fact happened in the world, if the client knows
	// (a phone call logged afterwards). Zero: the time of handling. It is
	// the "now" the aggregate decides with. It may not lie in the future
	// beyond Config.MaxClockSkew.
	OccurredAt time.Time
	// Expected is the caller's precondition on the stream version (the
	// HTTP If-Match). eventstore.Any (the zero value) means none.
	Expected eventstore.ExpectedVersion
	// Extra is copied into the events' metadata.
	Extra map[string]string
}

// Result tells where a command's events landed.
type Result struct {
	StreamID    string
	AggregateID uuid.UUID
	// Version is the stream's version after the command.
	Version uint64
	// Position is the global position of the command's last event (or of
	// the stream's last event when the command recorded nothing).
	Position eventstore.Position
	// EventIDs of the recorded events, in order; empty when the aggregate
	// decided that nothing needed recording.
	EventIDs []uuid.UUID
	// Replayed is true when the command had already been handled: the
	// result is the original one and nothing was written now.
	Replayed bool
	// Attempts is the number of decide-and-append attempts made (more than
	// one after concurrency conflicts). Set on errors too.
	Attempts int
}

// CommandIDFromKey derives a command ID from an idempotency key. The scope
// (for example tenant and principal) keeps two clients' keys apart.
func CommandIDFromKey(scope, key string) uuid.UUID {
	return uuid.NewSHA1(Namespace, []byte("key/"+scope+"/"+key))
}

// CommandIDFromScopedKey derives a command ID from the idempotency key of a
// tenant's principal. Each part is length-prefixed, so no two different
// (tenant, principal, key) triples give the same name, whatever characters
// they hold ("t/x", "y" and "t", "x/y" differ), and the "key2/" prefix keeps
// the IDs apart from CommandIDFromKey's.
func CommandIDFromScopedKey(tenant, principal, key string) uuid.UUID {
	name := fmt.Sprintf("key2/%d:%s/%d:%s/%s", len(tenant), tenant, len(principal), principal, key)
	return uuid.NewSHA1(Namespace, []byte(name))
}

// EventID is the ID of the index-th event (0-based) recorded by a command.
func EventID(commandID uuid.UUID, index int) uuid.UUID {
	return uuid.NewSHA1(Namespace, []byte(commandID.String()+"/"+strconv.Itoa(index)))
}

// AggregateIDFor derives the ID of the aggregate created by a command whose
// client supplied no ID, so a retried creation creates the same aggregate.
func AggregateIDFor(commandID uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(Namespace, []byte(commandID.String()+"/aggregate"))
}

func (m Metadata) eventMetadata(commandType string, commandID uuid.UUID, occurredAt time.Time) eventstore.Metadata {
	extra := make(map[string]string, len(m.Extra)+2)
	for k, v := range m.Extra {
		extra[k] = v
	}
	extra["command"] = commandType
	extra["command_id"] = commandID.String()
	em := eventstore.Metadata{
		CorrelationID: m.CorrelationID,
		CausationID:   m.CausationID,
		Actor:         m.Actor,
		ActorRole:     m.Role,
		Source:        m.Source,
		Tenant:        m.Tenant,
		OccurredAt:    occurredAt,
		Extra:         extra,
	}
	if em.CorrelationID == uuid.Nil {
		em.CorrelationID = commandID
	}
	if em.CausationID == uuid.Nil {
		em.CausationID = commandID
	}
	return em
}
