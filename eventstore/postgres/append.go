package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Appends are one INSERT statement, run as its own transaction. It reads
// the stream's last version, checks the expectation and inserts the events
// after it; it inserts nothing when the expectation fails. Two appends
// racing for the same version collide on the unique (stream_id, version)
// index: the loser waits for the winner to commit, fails, and is retried
// with a fresh snapshot. After lockAfter such collisions the append goes
// through evcrm_append, which queues on the stream's advisory lock instead.
//
// Why this keeps the global order right: a transaction id is assigned at
// the transaction's first write, after the statement took its snapshot.
// An append that follows another one in a stream saw the other's events in
// its snapshot, so the other had committed, so its transaction id is the
// smaller one. Positions (tx_id, seq) thus follow stream versions.
const (
	appendOneSQL = `INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
		SELECT $3, $1, $2, c.v + 1, $6, $7, $8, $9
		  FROM (SELECT coalesce(max(version), 0) AS v FROM evcrm_events WHERE stream_id = $1) c
		 WHERE CASE $4::integer WHEN 1 THEN c.v = 0 WHEN 2 THEN c.v > 0 WHEN 3 THEN c.v = $5::bigint ELSE true END
		RETURNING tx_id, seq, version`

	appendManySQL = `WITH inserted AS (
		INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
		SELECT u.id, $1, $2, c.v + u.ord, u.typ, u.sv, u.d, u.m
		  FROM (SELECT coalesce(max(version), 0) AS v FROM evcrm_events WHERE stream_id = $1) c,
		       unnest($5::uuid[], $6::text[], $7::integer[], $8::jsonb[], $9::jsonb[]) WITH ORDINALITY AS u(id, typ, sv, d, m, ord)
		 WHERE CASE $3::integer WHEN 1 THEN c.v = 0 WHEN 2 THEN c.v > 0 WHEN 3 THEN c.v = $4::bigint ELSE true END
		 ORDER BY u.ord
		RETURNING tx_id, seq, version)
		SELECT max(tx_id), max(seq), max(version) FROM inserted HAVING count(*) > 0`

	appendLockedSQL = `SELECT out_version, out_tx_id, out_seq FROM evcrm_append($1, $2, $3, $4, $5, $6, $7, $8, $9)`

	// stateSQL reads what an append that wrote nothing needs to explain
	// itself: the stream's version and where the first event ID is stored.
	stateSQL = `SELECT (SELECT coalesce(max(version), 0) FROM evcrm_events WHERE stream_id = $1),
		(SELECT stream_id FROM evcrm_events WHERE event_id = $2),
		(SELECT version FROM evcrm_events WHERE event_id = $2)`

	// replaySQL compares a batch with the events stored from version $2 on.
	replaySQL = `SELECT e.version, e.tx_id, e.seq,
		       coalesce(e.event_id = u.id AND e.event_type = u.typ AND e.schema_version = u.sv AND e.data = u.d, false)
		  FROM unnest($3::uuid[], $4::text[], $5::integer[], $6::jsonb[]) WITH ORDINALITY AS u(id, typ, sv, d, ord)
		  LEFT JOIN evcrm_events e ON e.stream_id = $1 AND e.version = $2 + u.ord - 1
		 ORDER BY u.ord`
)

// Expectation kinds understood by the append statements.
const (
	kindAny          = 0
	kindNoStream     = 1
	kindStreamExists = 2
	kindExact        = 3
)

const (
	codeWrongVersion  = "EV001" // raised by evcrm_append
	pgUniqueViolation = "23505"
	eventIDKey        = "evcrm_events_event_id_key"
	streamVersionKey  = "evcrm_events_stream_version_key"

	lockAfter   = 2   // collisions before an append queues on the stream lock
	maxAttempts = 100 // then give up (never seen: every collision means another append won)
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
	res, err := s.append(ctx, streamID, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	s.appended()
	return res, nil
}

// appendCall holds the parameters of one append.
type appendCall struct {
	streamID string
	category string
	expected eventstore.ExpectedVersion
	kind     int
	version  int64
	events   []eventstore.EventData
	metadata [][]byte

	// The batch as arrays, built on first use.
	ids   [][16]byte
	types []string
	svs   []int32
	data  [][]byte
}

func (c *appendCall) arrays() {
	if c.ids != nil {
		return
	}
	n := len(c.events)
	c.ids, c.types, c.svs, c.data = make([][16]byte, n), make([]string, n), make([]int32, n), make([][]byte, n)
	for i, e := range c.events {
		c.ids[i], c.types[i], c.svs[i], c.data[i] = e.ID, e.Type, int32(e.SchemaVersion), e.Data
	}
}

// append writes validated events.
func (s *Store) append(ctx context.Context, streamID string, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, error) {
	c := &appendCall{streamID: streamID, category: eventstore.Category(streamID), expected: expected, events: events}
	switch v, exact := expected.Exact(); {
	case exact:
		c.kind, c.version = kindExact, toInt64(v)
	case expected.IsNoStream():
		c.kind = kindNoStream
	case expected.IsStreamExists():
		c.kind = kindStreamExists
	}
	c.metadata = make([][]byte, len(events))
	for i := range events {
		if i > 0 && sameMetadata(&events[i].Metadata, &events[i-1].Metadata) {
			c.metadata[i] = c.metadata[i-1] // a batch usually shares its metadata
			continue
		}
		md, err := appendMetadata(make([]byte, 0, 256), events[i].Metadata)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %d: metadata: %v", eventstore.ErrInvalidEvent, i, err)
		}
		c.metadata[i] = md
	}

	if s.cfg.GroupCommit > 0 && len(events) == 1 && !s.alwaysLock {
		res, ok, err := s.groupAppend(ctx, c)
		if err != nil {
			return res, s.wrap(ctx, fmt.Sprintf("appending to stream %q", c.streamID), err)
		}
		if ok {
			return res, nil
		}
		// Not written by a group: alone, which also explains a failure.
	}

	collisions := 0
	for attempt := 1; ; attempt++ {
		res, written, err := s.try(ctx, c, s.alwaysLock || collisions >= lockAfter)
		if err == nil && written {
			return res, nil
		}
		if attempt >= maxAttempts {
			return eventstore.AppendResult{}, fmt.Errorf("event store: appending to stream %q: gave up after %d attempts racing other appends", c.streamID, attempt)
		}
		var pgErr *pgconn.PgError
		switch {
		case err == nil: // the expectation failed; nothing was written
			res, retry, err := s.explain(ctx, c, -1)
			if !retry {
				return res, err
			}
		case errors.As(err, &pgErr) && pgErr.Code == codeWrongVersion:
			actual, perr := strconv.ParseInt(pgErr.Detail, 10, 64)
			if perr != nil {
				actual = -1
			}
			res, retry, err := s.explain(ctx, c, actual)
			if !retry {
				return res, err
			}
		case errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation && pgErr.ConstraintName == streamVersionKey:
			collisions++ // another append took the version meanwhile: try again
		case errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation && pgErr.ConstraintName == eventIDKey:
			return s.duplicate(ctx, c)
		case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22"): // data exception: a value PostgreSQL refuses
			return eventstore.AppendResult{}, fmt.Errorf("%w: stream %q: %s", eventstore.ErrInvalidEvent, c.streamID, pgErr.Message)
		default:
			return eventstore.AppendResult{}, s.wrap(ctx, fmt.Sprintf("appending to stream %q", c.streamID), err)
		}
	}
}

// try runs one append statement. written is false when the expectation
// failed (lock-free statement only; evcrm_append raises EV001 instead).
func (s *Store) try(ctx context.Context, c *appendCall, locked bool) (res eventstore.AppendResult, written bool, err error) {
	var rows pgx.Rows
	switch {
	case locked:
		s.lockedAppends.Add(1)
		c.arrays()
		rows, err = s.pool.Query(ctx, appendLockedSQL, c.streamID, c.category, c.kind, c.version, c.ids, c.types, c.svs, c.data, c.metadata)
	case len(c.events) == 1:
		e := c.events[0]
		rows, err = s.pool.Query(ctx, appendOneSQL, c.streamID, c.category, [16]byte(e.ID), c.kind, c.version, e.Type, int32(e.SchemaVersion), []byte(e.Data), c.metadata[0])
	default:
		c.arrays()
		rows, err = s.pool.Query(ctx, appendManySQL, c.streamID, c.category, c.kind, c.version, c.ids, c.types, c.svs, c.data, c.metadata)
	}
	if err != nil {
		return res, false, err
	}
	defer rows.Close()
	var v, tx, seq int64
	for rows.Next() {
		if locked {
			err = rows.Scan(&v, &tx, &seq)
		} else {
			err = rows.Scan(&tx, &seq, &v)
		}
		if err != nil {
			return res, false, err
		}
		written = true
	}
	if err := rows.Err(); err != nil {
		return res, false, err
	}
	res = eventstore.AppendResult{StreamID: c.streamID, Version: uint64(v), Position: eventstore.Position{Commit: uint64(tx), Prepare: uint64(seq)}}
	return res, written, nil
}

// explain turns an append that wrote nothing because the expectation
// failed into its result: the original result of an identical earlier
// append (a retry), a *VersionError, or a request to try again when the
// stream has moved to where the caller expected it. actual is the version
// the append saw, or -1 when unknown.
func (s *Store) explain(ctx context.Context, c *appendCall, actual int64) (res eventstore.AppendResult, retry bool, err error) {
	version, firstStream, firstAt, err := s.state(ctx, c)
	if err != nil {
		return res, false, err
	}
	if firstStream != nil {
		res, err := s.replay(ctx, c, *firstStream, *firstAt)
		return res, false, err
	}
	if actual < 0 {
		if c.expected.Matches(uint64(version)) {
			return res, true, nil
		}
		actual = version
	}
	return res, false, &eventstore.VersionError{StreamID: c.streamID, Expected: c.expected, Actual: uint64(actual)}
}

// duplicate explains an append whose event IDs collided with stored events.
func (s *Store) duplicate(ctx context.Context, c *appendCall) (eventstore.AppendResult, error) {
	_, firstStream, firstAt, err := s.state(ctx, c)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if firstStream != nil {
		return s.replay(ctx, c, *firstStream, *firstAt)
	}
	return eventstore.AppendResult{}, fmt.Errorf("stream %q: an event id is already used by another event: %w", c.streamID, eventstore.ErrDuplicateEventID)
}

// state reads the stream's version and where the batch's first event is
// stored, if it is.
func (s *Store) state(ctx context.Context, c *appendCall) (version int64, firstStream *string, firstAt *int64, err error) {
	err = s.pool.QueryRow(ctx, stateSQL, c.streamID, [16]byte(c.events[0].ID)).Scan(&version, &firstStream, &firstAt)
	if err != nil {
		err = s.wrap(ctx, fmt.Sprintf("appending to stream %q", c.streamID), err)
	}
	return version, firstStream, firstAt, err
}

// replay decides about a batch whose first event is stored in firstStream
// at version firstAt: the same batch, at a place where the expectation
// held, gives the original result; anything else is ErrDuplicateEventID.
func (s *Store) replay(ctx context.Context, c *appendCall, firstStream string, firstAt int64) (res eventstore.AppendResult, err error) {
	if firstStream != c.streamID {
		return res, fmt.Errorf("stream %q: event %s is in another stream: %w", c.streamID, c.events[0].ID, eventstore.ErrDuplicateEventID)
	}
	c.arrays()
	rows, err := s.pool.Query(ctx, replaySQL, c.streamID, firstAt, c.ids, c.types, c.svs, c.data)
	if err != nil {
		return res, s.wrap(ctx, fmt.Sprintf("appending to stream %q", c.streamID), err)
	}
	defer rows.Close()
	same := true
	for rows.Next() {
		var v, tx, seq *int64
		var match bool
		if err := rows.Scan(&v, &tx, &seq, &match); err != nil {
			return res, s.wrap(ctx, fmt.Sprintf("appending to stream %q", c.streamID), err)
		}
		if !match {
			same = false
			continue
		}
		res = eventstore.AppendResult{StreamID: c.streamID, Version: uint64(*v), Position: eventstore.Position{Commit: uint64(*tx), Prepare: uint64(*seq)}}
	}
	if err := rows.Err(); err != nil {
		return res, s.wrap(ctx, fmt.Sprintf("appending to stream %q", c.streamID), err)
	}
	if !same {
		return eventstore.AppendResult{}, fmt.Errorf("stream %q: events were written before with other content: %w", c.streamID, eventstore.ErrDuplicateEventID)
	}
	if !c.expected.Matches(uint64(firstAt - 1)) {
		return eventstore.AppendResult{}, fmt.Errorf("stream %q: events were written before at version %d, not where expected version %s points: %w",
			c.streamID, firstAt, c.expected, eventstore.ErrDuplicateEventID)
	}
	return res, nil
}

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
