package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
)

// SnapshotSchema is the shape of campaign snapshots; bump it when State or
// snapshotDTO changes. A campaign stream grows by one event per response, so
// campaigns are the aggregate worth snapshotting (see the package doc).
const SnapshotSchema = 1

var _ domain.Snapshotter = (*State)(nil)

// snapshotDTO is State with exported fields, the JSON of a snapshot.
type snapshotDTO struct {
	ID         uuid.UUID            `json:"id"`
	Name       string               `json:"name,omitempty"`
	Channel    Channel              `json:"channel,omitempty"`
	Budget     domain.Money         `json:"budget"`
	Owner      string               `json:"owner,omitempty"`
	Status     Status               `json:"status,omitempty"`
	LaunchedAt time.Time            `json:"launched_at,omitzero"`
	ClosedAt   time.Time            `json:"closed_at,omitzero"`
	Responses  map[ResponseKind]int `json:"responses,omitempty"`
}

// SnapshotSchema implements domain.Snapshotter.
func (s *State) SnapshotSchema() int { return SnapshotSchema }

// MarshalSnapshot implements domain.Snapshotter.
func (s *State) MarshalSnapshot() ([]byte, error) {
	return json.Marshal(snapshotDTO{ID: s.id, Name: s.name, Channel: s.channel, Budget: s.budget, Owner: s.owner,
		Status: s.status, LaunchedAt: s.launchedAt, ClosedAt: s.closedAt, Responses: s.responses})
}

// UnmarshalSnapshot implements domain.Snapshotter. It refuses unknown
// fields and values no sequence of events can produce.
func (s *State) UnmarshalSnapshot(data []byte) error {
	var d snapshotDTO
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return fmt.Errorf("campaign snapshot: %w", err)
	}
	if dec.More() {
		return errors.New("campaign snapshot: trailing data")
	}
	switch d.Status {
	case "":
		if d.ID != uuid.Nil {
			return errors.New("campaign snapshot: campaign without status")
		}
	case StatusPlanned, StatusLaunched, StatusCompleted, StatusCancelled:
		if d.ID == uuid.Nil {
			return errors.New("campaign snapshot: status without campaign")
		}
	default:
		return fmt.Errorf("campaign snapshot: unknown status %q", d.Status)
	}
	for k, n := range d.Responses {
		if n <= 0 {
			return fmt.Errorf("campaign snapshot: %d %s responses", n, k)
		}
	}
	*s = State{id: d.ID, name: d.Name, channel: d.Channel, budget: d.Budget, owner: d.Owner, status: d.Status,
		launchedAt: d.LaunchedAt, closedAt: d.ClosedAt, responses: d.Responses}
	return nil
}
