package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/jackc/pgx/v5"
)

const (
	// windowSQL reads a window of the log for a filtered subscription: the
	// events the filter accepts, plus the window's last row whatever it is,
	// so the subscription knows how far it has scanned.
	windowSQL = `SELECT ` + eventColumns + `, matched, rn FROM (
		SELECT w.*,
		       ($3::text[] IS NULL OR w.category = ANY($3)) AND ($4::text[] IS NULL OR w.event_type = ANY($4)) AS matched,
		       row_number() OVER win AS rn,
		       lead(w.seq) OVER win IS NULL AS last_row
		  FROM (SELECT * FROM evcrm_events
		         WHERE (tx_id, seq) > ($1, $2) AND tx_id < ` + visibleBelow + `
		         ORDER BY tx_id, seq LIMIT $5) w
		WINDOW win AS (ORDER BY w.tx_id, w.seq)
	) x
	WHERE matched OR last_row
	ORDER BY tx_id, seq`

	// pendingSQL tells whether committed events wait for an older
	// transaction to end before readers may return them.
	pendingSQL = `SELECT EXISTS (SELECT 1 FROM evcrm_events WHERE tx_id >= ` + visibleBelow + `)`

	// minRetry is the first delay before reading again while committed
	// events are not deliverable yet; it doubles up to PollInterval.
	minRetry = time.Millisecond
)

// ListenerApplicationName is the application_name of the connection a
// Store listens on (unless the pool's configuration sets one), to find it
// in pg_stat_activity.
const ListenerApplicationName = "evcrm-eventstore-listener"

// Subscribe implements eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.cfg.DisableListenNotify {
		s.listenOnce.Do(func() { s.background(s.listen) })
	}
	pageSize := s.cfg.PageSize
	batch := opts.BatchSize
	if batch <= 0 || batch > pageSize {
		batch = pageSize
	}
	filtered := len(opts.Filter.Categories) > 0 || len(opts.Filter.EventTypes) > 0

	pos := opts.After
	var retry time.Duration // > 0 while committed events are not deliverable yet
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		if s.closed.Load() {
			return eventstore.ErrClosed
		}
		wake := s.changed.wait()
		p, err := s.readPage(ctx, pos, opts.Filter, filtered, pageSize)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			if s.closed.Load() {
				return eventstore.ErrClosed
			}
			return fmt.Errorf("event store: subscription reading after %s: %w", pos, err)
		}
		for i := 0; i < len(p.events); i += batch {
			end := min(i+batch, len(p.events))
			if err := h(ctx, p.events[i:end:end]); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		pos = p.scanned
		if p.full {
			continue
		}
		delay := s.cfg.PollInterval
		if p.pending {
			retry = min(max(2*retry, minRetry), s.cfg.PollInterval)
			delay = retry
		} else {
			retry = 0
		}
		timer.Reset(delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return eventstore.ErrClosed
		case <-wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// page is one read of a subscription.
type page struct {
	events  []eventstore.RecordedEvent
	scanned eventstore.Position // the last position read, matched or not
	full    bool                // the read hit its limit: read again at once
	pending bool                // committed events wait for an older transaction
}

func (s *Store) readPage(ctx context.Context, after eventstore.Position, f eventstore.Filter, filtered bool, limit int) (page, error) {
	p := page{scanned: after}
	b := &pgx.Batch{}
	query := readAllSQL
	if filtered {
		query = windowSQL
	}
	b.Queue(query, toInt64(after.Commit), toInt64(after.Prepare), nilIfEmpty(f.Categories), nilIfEmpty(f.EventTypes), limit)
	b.Queue(pendingSQL)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()

	rows, err := br.Query()
	if err != nil {
		return p, err
	}
	p.events = make([]eventstore.RecordedEvent, 0, min(limit, 1024))
	if filtered {
		var (
			e       eventstore.RecordedEvent
			matched bool
			rn      int64
		)
		dec := newRowDecoder(rows, 2)
		for rows.Next() {
			e = eventstore.RecordedEvent{}
			if err := dec.decode(rows, &e, &matched, &rn); err != nil {
				rows.Close()
				return p, err
			}
			if matched {
				p.events = append(p.events, e)
			}
			p.scanned = e.Position
			p.full = rn >= int64(limit)
		}
	} else {
		dec := newRowDecoder(rows, 0)
		for rows.Next() {
			var e eventstore.RecordedEvent
			if err := dec.decode(rows, &e); err != nil {
				rows.Close()
				return p, err
			}
			p.events = append(p.events, e)
		}
		if n := len(p.events); n > 0 {
			p.scanned = p.events[n-1].Position
			p.full = n >= limit
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, err
	}
	if err := br.QueryRow().Scan(&p.pending); err != nil {
		return p, err
	}
	return p, br.Close()
}

// background runs f in a goroutine that Close waits for, unless the store
// is closed.
func (s *Store) background(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// notifier sends a notification when appends asked for one, at most one
// per NotifyInterval.
func (s *Store) notifier() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.notifyCh:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.cfg.Channel, s.instance)
		cancel()
		if err != nil && s.ctx.Err() == nil {
			s.cfg.Logger.Warn("event store: sending a notification failed; other processes will poll", "channel", s.cfg.Channel, "err", err)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(s.cfg.NotifyInterval):
		}
	}
}

// listen holds a connection that LISTENs on the channel and wakes the
// subscribers on every notification from another store. It reconnects
// after errors; subscribers poll meanwhile.
func (s *Store) listen() {
	backoff := 100 * time.Millisecond
	for {
		started := time.Now()
		err := s.listenSession()
		if s.ctx.Err() != nil {
			return
		}
		// Notifications may have been missed: read again.
		s.changed.signal()
		if time.Since(started) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		s.cfg.Logger.Warn("event store: notification connection lost; reconnecting", "channel", s.cfg.Channel, "err", err, "retry_in", backoff)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Store) listenSession() error {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = ListenerApplicationName
	}
	conn, err := pgx.ConnectConfig(s.ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(s.ctx, "LISTEN "+pgx.Identifier{s.cfg.Channel}.Sanitize()); err != nil {
		return err
	}
	s.changed.signal() // events appended before LISTEN took effect
	for {
		n, err := conn.WaitForNotification(s.ctx)
		if err != nil {
			return err
		}
		if n.Payload != s.instance {
			s.changed.signal()
		}
	}
}
