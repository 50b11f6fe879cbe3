// Package operations holds the events of operators' acts on the system
// itself (not on customer records), so that they are recorded like every
// other fact: who did what, when and why. Their streams are
// "operations-<id>"; no aggregate decides them (the operator's tool
// appends them), and no read model folds them.
package operations

import (
	"github.com/evcrm/evcrm/domain"
	"github.com/google/uuid"
)

// Category of the operations streams.
const Category = "operations"

// ProjectionEventSkipped: an operator made a read model skip one event it
// could not apply (evcrm projections skip), so that the read model could go
// on; the read model lacks that event's effect from then on, rebuilds
// included.
type ProjectionEventSkipped struct {
	Projection    string    `json:"projection"`
	EventID       uuid.UUID `json:"event_id"`
	Position      string    `json:"position"` // commit/prepare
	Type          string    `json:"event_type"`
	StreamID      string    `json:"stream_id"`
	StreamVersion uint64    `json:"stream_version"`
	Reason        string    `json:"reason"`
	Error         string    `json:"error,omitempty"` // the projection's last error when it was skipped
}

func (ProjectionEventSkipped) EventType() string { return "ProjectionEventSkipped" }

// StreamID is the operations stream of a projection: one per read model.
func StreamID(projection string) string {
	return Category + "-" + uuid.NewSHA1(uuid.NameSpaceOID, []byte("evcrm/operations/projection/"+projection)).String()
}

func init() {
	domain.Events.Register(domain.Registration{Event: ProjectionEventSkipped{}, Aggregate: Category,
		Doc: "An operator made a read model skip an event it could not apply, with the reason (evcrm projections skip)."})
}
