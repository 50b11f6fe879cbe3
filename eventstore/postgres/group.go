package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evcrm/evcrm/eventstore"
)

// Group commit (Config.GroupCommit > 0). Single-event appends that arrive
// while another group is being written wait in a queue; a flusher takes
// every waiting append (up to GroupCommit, one per stream) and writes them
// with ONE statement, so they share one transaction, one commit and one
// WAL sync:
//
//	INSERT INTO evcrm_events ... SELECT ... FROM unnest(<the appends>) r,
//	       LATERAL (<the stream's last version>) c
//	 WHERE <r's own expectation holds for c>
//	ON CONFLICT DO NOTHING RETURNING event_id, tx_id, seq, version
//
// Each append keeps its own expected-version check (the WHERE) and its own
// idempotency: an append whose expectation fails, whose version another
// writer took meanwhile, or whose event ID is stored already is simply not
// inserted (ON CONFLICT DO NOTHING skips that row only) and then runs
// alone, through the ordinary path, which explains it: the original result
// of a replay, a *VersionError, ErrDuplicateEventID, or a retry. So one
// append's failure never fails its neighbours. If the whole statement
// fails (a value PostgreSQL refuses, a lost connection, even during the
// commit), every append of the group runs alone: an append the group did
// commit is then recognised by its event ID and returns its original
// result, so nothing is written twice.
//
// The global order is kept by the argument of append.go, unchanged: the
// group is one transaction, its transaction id is assigned at its first
// write, after the statement took its snapshot, and each append's version
// follows the events that snapshot saw; events of one transaction get
// increasing seq in insertion order. Subscribers still only read below the
// oldest running transaction.
//
// Appends of several events go alone (DO NOTHING could keep some of their
// rows and drop others), as do appends to a stream that already has one in
// the group.
const groupSQL = `INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
	SELECT r.id, r.stream, r.cat, c.v + 1, r.typ, r.sv, r.d, r.m
	  FROM unnest($1::text[], $2::text[], $3::integer[], $4::bigint[], $5::uuid[], $6::text[], $7::integer[], $8::jsonb[], $9::jsonb[])
	       WITH ORDINALITY AS r(stream, cat, kind, ver, id, typ, sv, d, m, ord)
	 CROSS JOIN LATERAL (SELECT coalesce(max(version), 0) AS v FROM evcrm_events WHERE stream_id = r.stream) c
	 WHERE CASE r.kind WHEN 1 THEN c.v = 0 WHEN 2 THEN c.v > 0 WHEN 3 THEN c.v = r.ver ELSE true END
	 ORDER BY r.ord
	ON CONFLICT DO NOTHING
	RETURNING event_id, tx_id, seq, version`

// groupFlushers is how many groups may be written at once: while one waits
// for its commit, the next one gathers the appends arriving meanwhile.
const groupFlushers = 2

// groupTimeout bounds one group statement (it runs for several callers, so
// under none of their contexts).
const groupTimeout = 30 * time.Second

type groupReq struct {
	c    *appendCall
	done chan struct{}
	// Set before done is closed: ok when the group wrote the event.
	ok  bool
	res eventstore.AppendResult
}

// groupState is the queue of appends waiting for a group.
type groupState struct {
	mu     sync.RWMutex // orders enqueueing with closing
	closed bool
	queue  chan *groupReq
}

// groupStats counts what group commit did (GroupStats).
type groupStats struct {
	groups  atomic.Int64 // group statements that succeeded
	grouped atomic.Int64 // appends they wrote
}

// GroupStats reports how many group statements succeeded and how many
// appends they wrote (both 0 without Config.GroupCommit).
func (s *Store) GroupStats() (groups, appends int64) {
	return s.groupStats.groups.Load(), s.groupStats.grouped.Load()
}

// startGroupCommit starts the flushers (New, with Config.GroupCommit > 0).
func (s *Store) startGroupCommit() {
	s.group.queue = make(chan *groupReq, 4*s.cfg.GroupCommit)
	for range groupFlushers {
		s.background(s.flusher)
	}
}

// closeGroupCommit stops accepting appends for groups; the flushers write
// what is queued and end with the store's context.
func (s *Store) closeGroupCommit() {
	s.group.mu.Lock()
	s.group.closed = true
	s.group.mu.Unlock()
}

// groupAppend offers a validated single-event append to a group. ok is
// false when the append must run alone (it was not written by a group).
func (s *Store) groupAppend(ctx context.Context, c *appendCall) (eventstore.AppendResult, bool, error) {
	// Checked first: with the queue free, the select below may pick
	// either ready case, and an append whose context has already ended
	// must not be written.
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	req := &groupReq{c: c, done: make(chan struct{})}
	s.group.mu.RLock()
	if s.group.closed {
		s.group.mu.RUnlock()
		return eventstore.AppendResult{}, false, eventstore.ErrClosed
	}
	select {
	case s.group.queue <- req:
	case <-ctx.Done():
		s.group.mu.RUnlock()
		return eventstore.AppendResult{}, false, ctx.Err()
	}
	s.group.mu.RUnlock()
	select {
	case <-req.done:
		return req.res, req.ok, nil
	case <-ctx.Done():
		// As with a solo append whose context ends in flight, the outcome
		// is unknown to the caller; a retry is recognised by event ID.
		return eventstore.AppendResult{}, false, ctx.Err()
	}
}

// flusher writes groups until the store closes, then writes what is still
// queued (nothing more can be queued once closeGroupCommit returned).
func (s *Store) flusher() {
	ctx := s.ctx
	max := s.cfg.GroupCommit
	for {
		var first *groupReq
		select {
		case first = <-s.group.queue:
		case <-ctx.Done():
			for {
				select {
				case r := <-s.group.queue:
					close(r.done) // not ok: it runs alone
				default:
					return
				}
			}
		}
		batch := []*groupReq{first}
		streams := map[string]bool{first.c.streamID: true}
	gather:
		for len(batch) < max {
			select {
			case r := <-s.group.queue:
				if streams[r.c.streamID] {
					close(r.done) // a second append to a stream in this group: alone
					continue
				}
				streams[r.c.streamID] = true
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.flushGroup(batch)
	}
}

// flushGroup writes one group and tells each append whether it was written.
func (s *Store) flushGroup(batch []*groupReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	n := len(batch)
	streams, cats, ids, types, data, meta := make([]string, n), make([]string, n), make([][16]byte, n), make([]string, n), make([][]byte, n), make([][]byte, n)
	kinds, svs := make([]int32, n), make([]int32, n)
	vers := make([]int64, n)
	for i, r := range batch {
		c, e := r.c, r.c.events[0]
		streams[i], cats[i], kinds[i], vers[i] = c.streamID, c.category, int32(c.kind), c.version
		ids[i], types[i], svs[i], data[i], meta[i] = e.ID, e.Type, int32(e.SchemaVersion), e.Data, c.metadata[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return // every append runs alone
	}
	defer conn.Release()
	if s.groupFault != nil {
		_ = s.groupFault("before", conn.Conn().PgConn().PID())
	}
	rows, err := conn.Query(ctx, groupSQL, streams, cats, kinds, vers, ids, types, svs, data, meta)
	if err != nil {
		return
	}
	written := make(map[[16]byte]eventstore.AppendResult, n)
	for rows.Next() {
		var id [16]byte
		var tx, seq, v int64
		if err := rows.Scan(&id, &tx, &seq, &v); err != nil {
			break
		}
		written[id] = eventstore.AppendResult{Version: uint64(v), Position: eventstore.Position{Commit: uint64(tx), Prepare: uint64(seq)}}
	}
	rows.Close()
	if rows.Err() != nil {
		return // the commit may or may not have happened: alone, by event ID
	}
	if s.groupFault != nil && s.groupFault("after", conn.Conn().PgConn().PID()) != nil {
		return // tests: the answer is lost after the commit
	}
	s.groupStats.groups.Add(1)
	s.groupStats.grouped.Add(int64(len(written)))
	for _, r := range batch {
		if res, ok := written[r.c.events[0].ID]; ok {
			res.StreamID = r.c.streamID
			r.res, r.ok = res, true
		}
	}
}
