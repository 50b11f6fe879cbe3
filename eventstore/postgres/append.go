package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/jackc/pgx/v5/pgconn"
)

const appendSQL = `SELECT out_version, out_tx_id, out_seq FROM evcrm_append($1, $2, $3, $4, $5, $6, $7, $8)`

// Expectation kinds understood by evcrm_append.
const (
	kindAny          = 0
	kindNoStream     = 1
	kindStreamExists = 2
	kindExact        = 3
)

// SQLSTATEs raised by evcrm_append.
const (
	codeWrongVersion = "EV001"
	codeDuplicateID  = "EV002"
)

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateEvents(events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.checkOpen(); err != nil {
		return eventstore.AppendResult{}, err
	}
	return s.append(ctx, streamID, expected, events)
}

// append runs evcrm_append; the input has been validated.
func (s *Store) append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, error) {
	kind, version := kindAny, int64(0)
	switch v, exact := expected.Exact(); {
	case exact:
		kind, version = kindExact, toInt64(v)
	case expected.IsNoStream():
		kind = kindNoStream
	case expected.IsStreamExists():
		kind = kindStreamExists
	}
	n := len(events)
	ids := make([][16]byte, n)
	types := make([]string, n)
	schemaVersions := make([]int32, n)
	data := make([][]byte, n)
	metadata := make([][]byte, n)
	for i, e := range events {
		ids[i] = e.ID
		types[i] = e.Type
		schemaVersions[i] = int32(e.SchemaVersion)
		data[i] = e.Data
		md, err := marshalMetadata(e.Metadata)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %d: metadata: %v", eventstore.ErrInvalidEvent, i, err)
		}
		metadata[i] = md
	}
	var v, tx, seq int64
	err := s.pool.QueryRow(ctx, appendSQL, streamID, kind, version, ids, types, schemaVersions, data, metadata).Scan(&v, &tx, &seq)
	if err != nil {
		return eventstore.AppendResult{}, s.appendError(ctx, streamID, expected, err)
	}
	s.appended()
	return eventstore.AppendResult{
		StreamID: streamID,
		Version:  uint64(v),
		Position: eventstore.Position{Commit: uint64(tx), Prepare: uint64(seq)},
	}, nil
}

func marshalMetadata(m eventstore.Metadata) ([]byte, error) {
	m.OccurredAt = m.OccurredAt.UTC()
	return json.Marshal(m)
}

// appendError maps what evcrm_append raised onto the eventstore errors.
func (s *Store) appendError(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeWrongVersion:
			actual, perr := strconv.ParseUint(pgErr.Detail, 10, 64)
			if perr != nil {
				return fmt.Errorf("event store: appending to stream %q: %w", streamID, eventstore.ErrWrongExpectedVersion)
			}
			return &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: actual}
		case pgErr.Code == codeDuplicateID:
			return fmt.Errorf("stream %q: %s: %w", streamID, pgErr.Message, eventstore.ErrDuplicateEventID)
		case pgErr.Code == pgUniqueViolation && pgErr.ConstraintName == "evcrm_events_event_id_key":
			return fmt.Errorf("stream %q: an event id is already used: %w", streamID, eventstore.ErrDuplicateEventID)
		case pgErr.Code == pgUniqueViolation && pgErr.ConstraintName == "evcrm_events_stream_version_key":
			// Cannot happen while appends go through evcrm_append, which
			// serialises them; report the conflict it would be.
			actual, verr := s.StreamVersion(ctx, streamID)
			if verr != nil {
				return fmt.Errorf("event store: appending to stream %q: %w", streamID, eventstore.ErrWrongExpectedVersion)
			}
			return &eventstore.VersionError{StreamID: streamID, Expected: expected, Actual: actual}
		case strings.HasPrefix(pgErr.Code, "22"): // data exception: a value PostgreSQL refuses
			return fmt.Errorf("%w: stream %q: %s", eventstore.ErrInvalidEvent, streamID, pgErr.Message)
		}
	}
	return s.wrap(ctx, fmt.Sprintf("appending to stream %q", streamID), err)
}

const pgUniqueViolation = "23505"

// appended wakes this store's subscribers and asks the notifier to wake
// other processes'.
func (s *Store) appended() {
	s.changed.signal()
	if !s.cfg.DisableListenNotify {
		select {
		case s.notifyCh <- struct{}{}:
		default: // a notification is already due
		}
	}
}
