package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/jackc/pgx/v5"
)

// visibleBelow is the first transaction id readers must not return: the
// xmin of the statement's snapshot. See the package doc.
const visibleBelow = `(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint`

const eventColumns = `tx_id, seq, event_id, stream_id, version, event_type, schema_version, data, metadata, recorded_at`

const (
	readForwardsSQL = `SELECT ` + eventColumns + ` FROM evcrm_events
		WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3`
	readBackwardsSQL = `SELECT ` + eventColumns + ` FROM evcrm_events
		WHERE stream_id = $1 AND version <= $2 ORDER BY version DESC LIMIT $3`
	streamVersionSQL = `SELECT coalesce(max(version), 0) FROM evcrm_events WHERE stream_id = $1`

	readAllSQL = `SELECT ` + eventColumns + ` FROM evcrm_events
		WHERE (tx_id, seq) > ($1, $2) AND tx_id < ` + visibleBelow + `
		  AND ($3::text[] IS NULL OR category = ANY($3))
		  AND ($4::text[] IS NULL OR event_type = ANY($4))
		ORDER BY tx_id, seq LIMIT $5`

	// headSQL finds the latest committed event, deliverable or not yet.
	headSQL = `SELECT tx_id, seq FROM evcrm_events ORDER BY tx_id DESC, seq DESC LIMIT 1`
)

// ReadStream implements eventstore.Store. It reads everything committed,
// without waiting for older transactions (read-your-writes).
func (s *Store) ReadStream(ctx context.Context, streamID string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return nil, err
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("event store: reading stream %q: negative limit", streamID)
	}
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var limit *int64 // NULL: no limit
	if opts.Limit > 0 {
		l := int64(opts.Limit)
		limit = &l
	}
	query, from := readForwardsSQL, toInt64(opts.From)
	if opts.Direction == eventstore.Backwards {
		query = readBackwardsSQL
		if opts.From == 0 {
			from = toInt64(^uint64(0))
		}
	}
	rows, err := s.pool.Query(ctx, query, streamID, from, limit)
	if err != nil {
		return nil, s.wrap(ctx, fmt.Sprintf("reading stream %q", streamID), err)
	}
	events, err := scanEvents(rows, 0)
	if err != nil {
		return nil, s.wrap(ctx, fmt.Sprintf("reading stream %q", streamID), err)
	}
	if len(events) == 0 {
		v, err := s.StreamVersion(ctx, streamID)
		if err != nil {
			return nil, err
		}
		if v == 0 {
			return nil, fmt.Errorf("stream %q: %w", streamID, eventstore.ErrStreamNotFound)
		}
	}
	return events, nil
}

// StreamVersion implements eventstore.Store.
func (s *Store) StreamVersion(ctx context.Context, streamID string) (uint64, error) {
	if err := eventstore.ValidateStreamID(streamID); err != nil {
		return 0, err
	}
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var v int64
	if err := s.pool.QueryRow(ctx, streamVersionSQL, streamID).Scan(&v); err != nil {
		return 0, s.wrap(ctx, fmt.Sprintf("reading the version of stream %q", streamID), err)
	}
	return uint64(v), nil
}

// ReadAll implements eventstore.Store. A Limit of 0 reads Config.PageSize
// events.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) ([]eventstore.RecordedEvent, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = s.cfg.PageSize
	}
	rows, err := s.pool.Query(ctx, readAllSQL, toInt64(opts.After.Commit), toInt64(opts.After.Prepare),
		nilIfEmpty(opts.Filter.Categories), nilIfEmpty(opts.Filter.EventTypes), limit)
	if err != nil {
		return nil, s.wrap(ctx, "reading the log", err)
	}
	events, err := scanEvents(rows, min(limit, 4096))
	if err != nil {
		return nil, s.wrap(ctx, "reading the log", err)
	}
	return events, nil
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.checkOpen(); err != nil {
		return eventstore.Position{}, err
	}
	var tx, seq int64
	err := s.pool.QueryRow(ctx, headSQL).Scan(&tx, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Position{}, s.wrap(ctx, "reading the head of the log", err)
	}
	return eventstore.Position{Commit: uint64(tx), Prepare: uint64(seq)}, nil
}

func nilIfEmpty(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}

// scanEvents reads rows of eventColumns.
func scanEvents(rows pgx.Rows, capacity int) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	dec := newRowDecoder(rows, 0)
	events := make([]eventstore.RecordedEvent, 0, capacity)
	for rows.Next() {
		var e eventstore.RecordedEvent
		if err := dec.decode(rows, &e); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// rowDecoder reads rows of eventColumns, possibly followed by extra
// columns. When the fixed-size columns arrive in binary format (pgx's
// default, with described statements) it decodes the bytes itself, which
// is several times cheaper per row than Scan; otherwise it uses Scan.
type rowDecoder struct {
	binary bool
	// jsonb columns come as text, or in binary as a version byte and text.
	dataOffset, metadataOffset int
}

func newRowDecoder(rows pgx.Rows, extra int) rowDecoder {
	fields := rows.FieldDescriptions()
	if len(fields) != eventColumnCount+extra {
		return rowDecoder{}
	}
	d := rowDecoder{binary: true}
	for i, f := range fields {
		switch i {
		case 3, 5: // text: the same bytes in both formats
		case 7:
			d.dataOffset = int(f.Format)
		case 8:
			d.metadataOffset = int(f.Format)
		default:
			d.binary = d.binary && f.Format == pgx.BinaryFormatCode
		}
	}
	return d
}

const eventColumnCount = 10

// pgEpoch is PostgreSQL's timestamp zero.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

var errBadRow = errors.New("unexpected column value")

// decode reads one row into e and the extra columns into extra (*bool or
// *int64 only, in binary mode).
func (d rowDecoder) decode(rows pgx.Rows, e *eventstore.RecordedEvent, extra ...any) error {
	var metadata []byte
	if d.binary {
		v := rows.RawValues()
		if len(v[0]) != 8 || len(v[1]) != 8 || len(v[2]) != 16 || len(v[4]) != 8 || len(v[6]) != 4 || len(v[7]) < 2 || len(v[8]) < 2 || len(v[9]) != 8 {
			return errBadRow
		}
		e.Position = eventstore.Position{Commit: binary.BigEndian.Uint64(v[0]), Prepare: binary.BigEndian.Uint64(v[1])}
		copy(e.ID[:], v[2])
		e.StreamID = string(v[3])
		e.Version = binary.BigEndian.Uint64(v[4])
		e.Type = string(v[5])
		e.SchemaVersion = int(int32(binary.BigEndian.Uint32(v[6])))
		e.Data = bytes.Clone(v[7][d.dataOffset:])
		metadata = v[8][d.metadataOffset:]
		e.RecordedAt = time.UnixMicro(pgEpoch + int64(binary.BigEndian.Uint64(v[9]))).UTC()
		for i, x := range extra {
			raw := v[eventColumnCount+i]
			switch x := x.(type) {
			case *bool:
				if len(raw) != 1 {
					return errBadRow
				}
				*x = raw[0] != 0
			case *int64:
				if len(raw) != 8 {
					return errBadRow
				}
				*x = int64(binary.BigEndian.Uint64(raw))
			default:
				return errBadRow
			}
		}
	} else {
		var (
			tx, seq, version int64
			schemaVersion    int32
		)
		dest := append([]any{&tx, &seq, (*[16]byte)(&e.ID), &e.StreamID, &version, &e.Type, &schemaVersion, (*[]byte)(&e.Data), &metadata, &e.RecordedAt}, extra...)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		e.Position = eventstore.Position{Commit: uint64(tx), Prepare: uint64(seq)}
		e.Version = uint64(version)
		e.SchemaVersion = int(schemaVersion)
		e.RecordedAt = e.RecordedAt.UTC()
	}
	if err := parseMetadata(metadata, &e.Metadata); err != nil {
		return fmt.Errorf("event %s: metadata: %w", e.ID, err)
	}
	return nil
}
