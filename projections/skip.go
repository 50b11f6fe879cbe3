package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/domain/operations"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrNoSuchEvent: Skip found no event at the position, or with the ID
// among the events the projection has not applied yet.
var ErrNoSuchEvent = errors.New("no such event")

// SkipRequest names the event an operator makes a projection skip: by
// Position (as the projection's last error names it) or by EventID (looked
// for among the next SkipSearch events after the projection's checkpoint).
type SkipRequest struct {
	Projection string
	Position   *eventstore.Position
	EventID    uuid.UUID
	Reason     string // required: why the event may be left out
	By         string // the operator, e.g. "operator:alice"
}

// SkipSearch bounds how many events after a projection's checkpoint Skip
// reads to find an event by ID.
const SkipSearch = 10_000

// Skipped is a recorded skip.
type Skipped struct {
	Projection string              `json:"projection"`
	EventID    uuid.UUID           `json:"event_id"`
	Position   eventstore.Position `json:"position"`
	Type       string              `json:"event_type"`
	StreamID   string              `json:"stream_id"`
	Version    uint64              `json:"stream_version"`
	Reason     string              `json:"reason"`
	By         string              `json:"skipped_by"`
	At         time.Time           `json:"skipped_at"`
	// Recorded is the position of the ProjectionEventSkipped event in the
	// operations stream.
	Recorded eventstore.Position `json:"recorded_position"`
}

// Skip makes every generation of a projection (the served one, building
// ones and future rebuilds) pass over one event it cannot apply, so that an
// operator can unblock a read model without a code change. The act is
// recorded twice: as a ProjectionEventSkipped event in the projection's
// operations stream (who, when, why, which event, the last error), and in
// evcrm_projections_skipped, which the workers read on their next retry.
// Skipping the same event again changes nothing.
func (r *Runtime) Skip(ctx context.Context, req SkipRequest) (Skipped, error) {
	if _, err := r.Projection(req.Projection); err != nil {
		return Skipped{}, err
	}
	req.Reason, req.By = strings.TrimSpace(req.Reason), strings.TrimSpace(req.By)
	switch {
	case req.Reason == "" || !utf8.ValidString(req.Reason) || strings.IndexByte(req.Reason, 0) >= 0 || len(req.Reason) > 2000:
		return Skipped{}, errors.New("projections: skip needs a reason (text, at most 2000 bytes)")
	case req.By == "" || !utf8.ValidString(req.By) || strings.IndexByte(req.By, 0) >= 0:
		return Skipped{}, errors.New("projections: skip needs the operator's name")
	case (req.Position == nil) == (req.EventID == uuid.Nil):
		return Skipped{}, errors.New("projections: name the event to skip by its position or by its ID (one of them)")
	}
	ev, lastErr, err := r.findSkipped(ctx, req)
	if err != nil {
		return Skipped{}, err
	}
	out := Skipped{Projection: req.Projection, EventID: ev.ID, Position: ev.Position, Type: ev.Type, StreamID: ev.StreamID,
		Version: ev.Version, Reason: req.Reason, By: req.By}
	typ, ver, data, err := r.cfg.Registry.Encode(operations.ProjectionEventSkipped{Projection: req.Projection, EventID: ev.ID,
		Position: ev.Position.String(), Type: ev.Type, StreamID: ev.StreamID, StreamVersion: ev.Version, Reason: req.Reason, Error: lastErr})
	if err != nil {
		return out, fmt.Errorf("projections: recording the skip: %w", err)
	}
	now := time.Now().UTC()
	res, err := r.cfg.Store.Append(ctx, operations.StreamID(req.Projection), eventstore.Any, eventstore.EventData{
		ID:   uuid.NewSHA1(uuid.NameSpaceOID, []byte("evcrm/operations/skip/"+req.Projection+"/"+ev.ID.String())),
		Type: typ, SchemaVersion: ver, Data: data,
		Metadata: eventstore.Metadata{Actor: req.By, ActorRole: "operator", Source: "evcrm projections skip", OccurredAt: now},
	})
	switch {
	case errors.Is(err, eventstore.ErrDuplicateEventID):
		// Skipped before (perhaps with another reason): the first record stands.
	case err != nil:
		return out, fmt.Errorf("projections: recording the skip: %w", err)
	default:
		out.Recorded = res.Position
	}
	err = r.cfg.Pool.QueryRow(ctx, `INSERT INTO `+r.skippedTable()+` AS s (projection, event_id, position_commit, position_prepare,
			event_type, stream_id, stream_version, reason, skipped_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (projection, event_id) DO UPDATE SET projection = s.projection
		RETURNING reason, skipped_by, skipped_at`,
		req.Projection, ev.ID, ev.Position.Commit, ev.Position.Prepare, ev.Type, ev.StreamID, ev.Version, req.Reason, req.By).
		Scan(&out.Reason, &out.By, &out.At)
	if err != nil {
		return out, fmt.Errorf("projections: storing the skip: %w", err)
	}
	r.log.Warn("projections: event skipped by an operator", "projection", req.Projection, "event_id", ev.ID,
		"position", ev.Position.String(), "type", ev.Type, "stream", ev.StreamID, "by", out.By, "reason", out.Reason)
	return out, nil
}

func (r *Runtime) skippedTable() string {
	return pgx.Identifier{r.base, "evcrm_projections_skipped"}.Sanitize()
}

// findSkipped reads the event a skip request names, and the projection's
// last error.
func (r *Runtime) findSkipped(ctx context.Context, req SkipRequest) (eventstore.RecordedEvent, string, error) {
	gens, err := r.liveGens(ctx, r.cfg.Pool)
	if err != nil {
		return eventstore.RecordedEvent{}, "", err
	}
	from := eventstore.Position{}
	lastErr := ""
	for _, g := range gens {
		if g.Name != req.Projection {
			continue
		}
		if from.IsZero() || g.Position.Less(from) {
			from = g.Position
		}
		if g.LastError != nil {
			lastErr = *g.LastError
		}
	}
	if req.Position != nil {
		p := *req.Position
		after := eventstore.Position{Commit: p.Commit, Prepare: p.Prepare - 1}
		if p.Prepare == 0 {
			if p.Commit == 0 {
				return eventstore.RecordedEvent{}, "", fmt.Errorf("projections: %w at position %s", ErrNoSuchEvent, p)
			}
			after = eventstore.Position{Commit: p.Commit - 1, Prepare: ^uint64(0)}
		}
		evs, err := r.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{After: after, Limit: 1})
		if err != nil {
			return eventstore.RecordedEvent{}, "", fmt.Errorf("projections: reading the event at %s: %w", p, err)
		}
		if len(evs) == 0 || evs[0].Position != p {
			return eventstore.RecordedEvent{}, "", fmt.Errorf("projections: %w at position %s", ErrNoSuchEvent, p)
		}
		return evs[0], lastErr, nil
	}
	seen := 0
	for seen < SkipSearch {
		evs, err := r.cfg.Store.ReadAll(ctx, eventstore.ReadAllOptions{After: from, Limit: 500})
		if err != nil {
			return eventstore.RecordedEvent{}, "", fmt.Errorf("projections: looking for event %s: %w", req.EventID, err)
		}
		for _, e := range evs {
			if e.ID == req.EventID {
				return e, lastErr, nil
			}
		}
		if len(evs) == 0 {
			break
		}
		seen += len(evs)
		from = evs[len(evs)-1].Position
	}
	return eventstore.RecordedEvent{}, "", fmt.Errorf("projections: %w: %s is not among the next %d events %s has to apply (name it by --position)",
		ErrNoSuchEvent, req.EventID, SkipSearch, req.Projection)
}

// ListSkipped returns the events operators made projections skip, oldest first.
func (r *Runtime) ListSkipped(ctx context.Context) ([]Skipped, error) {
	rows, err := r.cfg.Pool.Query(ctx, `SELECT projection, event_id, position_commit, position_prepare, event_type, stream_id,
		stream_version, reason, skipped_by, skipped_at FROM `+r.skippedTable()+` ORDER BY skipped_at, projection, event_id`)
	if err != nil {
		return nil, fmt.Errorf("projections: reading skipped events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Skipped, error) {
		var s Skipped
		err := row.Scan(&s.Projection, &s.EventID, &s.Position.Commit, &s.Position.Prepare, &s.Type, &s.StreamID, &s.Version,
			&s.Reason, &s.By, &s.At)
		return s, err
	})
}

// skipSet reads the IDs of the events a projection skips.
func (r *Runtime) skipSet(ctx context.Context, name string) (map[uuid.UUID]bool, error) {
	rows, err := r.cfg.Pool.Query(ctx, `SELECT event_id FROM `+r.skippedTable()+` WHERE projection = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("projections: reading skipped events: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("projections: reading skipped events: %w", err)
	}
	set := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}
