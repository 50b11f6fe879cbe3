package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/eventstore/storetest"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newStore returns a store on a fresh, migrated schema.
func newStore(tb testing.TB, cfg postgres.Config) (*postgres.Store, *pgtest.DB) {
	tb.Helper()
	db := pgtest.New(tb)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		tb.Fatal(err)
	}
	s, err := postgres.New(ctx, db.Pool, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s, db
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, _ := newStore(t, postgres.Config{})
		return s
	})
}

// TestContractLocked runs the suite with every append queueing on the
// stream's advisory lock, the path busy streams take.
func TestContractLocked(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, _ := newStore(t, postgres.Config{})
		s.AlwaysLock()
		return s
	})
}

// TestBusyStream: writers appending to one stream with any expected
// version collide; every append lands, some through the stream lock.
func TestBusyStream(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, postgres.Config{})
	ctx := context.Background()
	stream := eventstore.StreamID(storetest.NewCategory(), uuid.New())
	const writers, appends = 16, 15
	var wg sync.WaitGroup
	mine := make([][]uuid.UUID, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				e := storetest.Event("Busy", w*100+i)
				if _, err := s.Append(ctx, stream, eventstore.Any, e); err != nil {
					t.Error(err)
					return
				}
				mine[w] = append(mine[w], e.ID)
			}
		})
	}
	wg.Wait()
	got, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != writers*appends {
		t.Fatalf("stream has %d events, want %d", len(got), writers*appends)
	}
	checkOrder(t, got)
	// Each writer's events are in the order it appended them.
	pos := map[uuid.UUID]int{}
	for i, e := range got {
		pos[e.ID] = i
	}
	for w := range writers {
		for i := 1; i < len(mine[w]); i++ {
			if pos[mine[w][i]] < pos[mine[w][i-1]] {
				t.Fatalf("writer %d: event %d stored before event %d", w, i, i-1)
			}
		}
	}
	t.Logf("%d of %d appends queued on the stream lock", s.LockedAppends(), writers*appends)
}

// received collects what a subscription delivers.
type received struct {
	mu      sync.Mutex
	events  []eventstore.RecordedEvent
	changed chan struct{}
	done    chan error
	cancel  context.CancelFunc
}

func subscribe(t *testing.T, s eventstore.Store, opts eventstore.SubscribeOptions) *received {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &received{changed: make(chan struct{}), done: make(chan error, 1), cancel: cancel}
	go func() {
		r.done <- s.Subscribe(ctx, opts, func(_ context.Context, evs []eventstore.RecordedEvent) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, evs...)
			close(r.changed)
			r.changed = make(chan struct{})
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func (r *received) snapshot() ([]eventstore.RecordedEvent, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events), r.changed
}

// waitFor waits until n events arrived.
func (r *received) waitFor(t *testing.T, n int) []eventstore.RecordedEvent {
	t.Helper()
	deadline := time.After(storetest.Wait)
	for {
		evs, changed := r.snapshot()
		if len(evs) >= n {
			return evs
		}
		select {
		case <-changed:
		case err := <-r.done:
			t.Fatalf("subscription ended after %d of %d events: %v", len(evs), n, err)
		case <-deadline:
			t.Fatalf("%d of %d events delivered in %v", len(evs), n, storetest.Wait)
		}
	}
}

// stop cancels the subscription and returns the events it delivered.
func (r *received) stop(t *testing.T) []eventstore.RecordedEvent {
	t.Helper()
	r.cancel()
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("subscription ended with %v", err)
	}
	r.done <- context.Canceled
	evs, _ := r.snapshot()
	return evs
}

// quiet checks that nothing more arrives for a while.
func (r *received) quiet(t *testing.T, have int, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if evs, _ := r.snapshot(); len(evs) != have {
		t.Fatalf("%d events delivered, want %d: %v", len(evs), have, ids(evs[have:]))
	}
}

func ids(evs []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// openAppend runs evcrm_append inside a transaction it leaves open, as an
// append whose commit is slow would.
func openAppend(t *testing.T, pool *pgxpool.Pool, stream string, events ...eventstore.EventData) pgx.Tx {
	t.Helper()
	tx, err := beginAppend(context.Background(), pool, stream, events...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

func beginAppend(ctx context.Context, pool *pgxpool.Pool, stream string, events ...eventstore.EventData) (pgx.Tx, error) {
	return beginAppendWith(ctx, pool, postgres.AppendManySQL, stream, events...)
}

// beginAppendWith runs an append statement of the store (the lock-free
// INSERT or the locking function) in a transaction it leaves open.
func beginAppendWith(ctx context.Context, pool *pgxpool.Pool, query, stream string, events ...eventstore.EventData) (pgx.Tx, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var (
		evIDs [][16]byte
		types []string
		svs   []int32
		data  [][]byte
		metas [][]byte
	)
	for _, e := range events {
		evIDs = append(evIDs, e.ID)
		types = append(types, e.Type)
		svs = append(svs, int32(e.SchemaVersion))
		data = append(data, e.Data)
		metas = append(metas, []byte(`{}`))
	}
	rows, err := tx.Query(ctx, query, stream, eventstore.Category(stream), 0, 0, evIDs, types, svs, data, metas)
	if err == nil {
		for rows.Next() {
		}
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return tx, nil
}

// checkOrder checks positions strictly increase and streams have no gaps.
func checkOrder(t *testing.T, evs []eventstore.RecordedEvent) {
	t.Helper()
	last := map[string]uint64{}
	for i, e := range evs {
		if i > 0 && !evs[i-1].Position.Less(e.Position) {
			t.Fatalf("event %d at %s after %s", i, e.Position, evs[i-1].Position)
		}
		if e.Version != last[e.StreamID]+1 {
			t.Fatalf("stream %s: version %d after %d", e.StreamID, e.Version, last[e.StreamID])
		}
		last[e.StreamID] = e.Version
	}
}

// TestLateCommit holds one append's transaction open while later appends
// commit: nothing after it is delivered until it ends, then everything is,
// once and in order.
func TestLateCommit(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, postgres.Config{})
	ctx := context.Background()
	cat := storetest.NewCategory()
	filter := eventstore.Filter{Categories: []string{cat}}
	sub := subscribe(t, s, eventstore.SubscribeOptions{Filter: filter})

	first := storetest.Event("First", 0)
	if _, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, first); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 1)

	slow := storetest.Event("Slow", 1)
	slowStream := eventstore.StreamID(cat, uuid.New())
	tx := openAppend(t, db.Pool, slowStream, slow)

	var later []eventstore.EventData
	var laterResults []eventstore.AppendResult
	for i := range 5 {
		e := storetest.Event("Later", i)
		res, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, e)
		if err != nil {
			t.Fatal(err)
		}
		later = append(later, e)
		laterResults = append(laterResults, res)
	}
	// The later events are committed and readable in their streams...
	if v, err := s.StreamVersion(ctx, laterResults[0].StreamID); err != nil || v != 1 {
		t.Fatalf("StreamVersion = %d, %v", v, err)
	}
	// ...and Head covers them, but nothing may pass the open transaction.
	head, err := s.Head(ctx)
	if err != nil || head.Less(laterResults[4].Position) {
		t.Fatalf("Head = %s, %v; want at least %s", head, err, laterResults[4].Position)
	}
	if evs, err := s.ReadAll(ctx, eventstore.ReadAllOptions{Filter: filter}); err != nil || len(evs) != 1 {
		t.Fatalf("ReadAll returned %d events while an older transaction is open, %v", len(evs), err)
	}
	sub.quiet(t, 1, 300*time.Millisecond)

	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(t, 7)
	want := []uuid.UUID{first.ID, slow.ID}
	for _, e := range later {
		want = append(want, e.ID)
	}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("delivered %v, want %v", ids(got), want)
	}
	checkOrder(t, got)
	sub.quiet(t, 7, 100*time.Millisecond)
	if all, err := s.ReadAll(ctx, eventstore.ReadAllOptions{Filter: filter}); err != nil || !slices.Equal(ids(all), want) {
		t.Fatalf("ReadAll = %v, %v; want %v", ids(all), err, want)
	}
}

// TestRolledBackAppend: events of a rolled-back transaction never appear,
// and the ones after it are delivered once it is gone.
func TestRolledBackAppend(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, postgres.Config{})
	ctx := context.Background()
	cat := storetest.NewCategory()
	sub := subscribe(t, s, eventstore.SubscribeOptions{Filter: eventstore.Filter{Categories: []string{cat}}})

	tx := openAppend(t, db.Pool, eventstore.StreamID(cat, uuid.New()), storetest.Events("Doomed", 3)...)
	after := storetest.Event("After", 1)
	if _, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, after); err != nil {
		t.Fatal(err)
	}
	sub.quiet(t, 0, 200*time.Millisecond)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	got := sub.waitFor(t, 1)
	if len(got) != 1 || got[0].ID != after.ID {
		t.Fatalf("delivered %v, want only %s", ids(got), after.ID)
	}
}

// TestSlowForeignTransaction: a transaction that writes elsewhere (not an
// append, so it sends no notification) holds delivery back; when it ends
// the subscriber notices on its own, well before its poll interval.
func TestSlowForeignTransaction(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, postgres.Config{PollInterval: time.Hour})
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `CREATE TABLE read_model (id int)`); err != nil {
		t.Fatal(err)
	}
	cat := storetest.NewCategory()
	sub := subscribe(t, s, eventstore.SubscribeOptions{Filter: eventstore.Filter{Categories: []string{cat}}})
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO read_model VALUES (1)`); err != nil { // takes a transaction id
		t.Fatal(err)
	}
	e := storetest.Event("Held", 1)
	if _, err := s.Append(ctx, eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
	sub.quiet(t, 0, 200*time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sub.waitFor(t, 1); got[0].ID != e.ID {
		t.Fatalf("delivered %s, want %s", got[0].ID, e.ID)
	}
}

// TestOutOfOrderCommits runs writers whose transactions commit or roll back
// in random order and a subscriber that stops and resumes from its
// checkpoint: it sees exactly the committed events, once each, in
// position order, each stream in version order.
func TestOutOfOrderCommits(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, postgres.Config{PageSize: 7})
	ctx := context.Background()
	cat := storetest.NewCategory()
	filter := eventstore.Filter{Categories: []string{cat}}

	const writers, appends = 6, 25
	streams := make([]string, 3)
	for i := range streams {
		streams[i] = eventstore.StreamID(cat, uuid.New())
	}
	var (
		mu        sync.Mutex
		committed = map[uuid.UUID]bool{}
	)
	stopWriters := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for range appends {
				evs := storetest.Events("Chaos", 1+rng.IntN(3))
				stream := streams[rng.IntN(len(streams))]
				if rng.IntN(3) == 0 {
					// A plain append through the store.
					if _, err := s.Append(ctx, stream, eventstore.Any, evs...); err != nil {
						t.Error(err)
						return
					}
				} else {
					// An append in a transaction that lingers, then ends,
					// through either append statement.
					query := postgres.AppendManySQL
					if rng.IntN(2) == 0 {
						query = postgres.AppendLockedSQL
					}
					tx, err := beginAppendWith(ctx, db.Pool, query, stream, evs...)
					var pgErr *pgconn.PgError
					if errors.As(err, &pgErr) && pgErr.Code == "23505" {
						continue // lost a race for the version: the store would retry
					}
					if err != nil {
						t.Error(err)
						return
					}
					time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
					if rng.IntN(8) == 0 {
						_ = tx.Rollback(ctx)
						continue
					}
					if err := tx.Commit(ctx); err != nil {
						t.Error(err)
						return
					}
				}
				mu.Lock()
				for _, e := range evs {
					committed[e.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(stopWriters) }()

	// Subscribe, stop, resume from the checkpoint, a few times over.
	var got []eventstore.RecordedEvent
	after := eventstore.Start
	for round := 0; ; round++ {
		sub := subscribe(t, s, eventstore.SubscribeOptions{After: after, Filter: filter, BatchSize: 5})
		var finished bool
		select {
		case <-stopWriters:
			finished = true
		case <-time.After(30 * time.Millisecond):
		}
		if finished {
			mu.Lock()
			n := len(committed)
			mu.Unlock()
			sub.waitFor(t, n-len(got))
			sub.quiet(t, n-len(got), 100*time.Millisecond)
		}
		evs := sub.stop(t)
		got = append(got, evs...)
		if len(evs) > 0 {
			after = evs[len(evs)-1].Position
		}
		if finished {
			break
		}
	}
	seen := map[uuid.UUID]bool{}
	for _, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		if !committed[e.ID] {
			t.Fatalf("event %s delivered but not committed", e.ID)
		}
		seen[e.ID] = true
	}
	if len(seen) != len(committed) {
		t.Fatalf("delivered %d events, committed %d", len(seen), len(committed))
	}
	checkOrder(t, got)
}

// TestNotifyAcrossStores: a store in another process (another Store on
// the same schema, polling once an hour) hears of appends through NOTIFY,
// also after its listening connection is killed.
func TestNotifyAcrossStores(t *testing.T) {
	t.Parallel()
	writer, db := newStore(t, postgres.Config{})
	ctx := context.Background()
	reader, err := postgres.New(ctx, db.Pool, postgres.Config{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if reader.Channel() != writer.Channel() || !strings.Contains(reader.Channel(), db.Schema) {
		t.Fatalf("channels %q and %q, schema %q", reader.Channel(), writer.Channel(), db.Schema)
	}
	cat := storetest.NewCategory()
	sub := subscribe(t, reader, eventstore.SubscribeOptions{Filter: eventstore.Filter{Categories: []string{cat}}})

	// Wait until the reader listens, then append from the writer.
	waitListener(t, db, 1)
	stream := eventstore.StreamID(cat, uuid.New())
	if _, err := writer.Append(ctx, stream, eventstore.NoStream, storetest.Event("A", 1)); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 1)

	// Kill the listening connection: the reader reconnects.
	var pid int
	if err := db.Pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE $2`,
		postgres.ListenerApplicationName, "%"+reader.Channel()+"%").Scan(&pid); err != nil {
		t.Fatalf("finding the listener: %v", err)
	}
	if _, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	waitListener(t, db, 1, pid)
	if _, err := writer.Append(ctx, stream, eventstore.Exact(1), storetest.Event("A", 2)); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 2)
}

// waitListener waits until n connections listen on the schema's channel
// (other than the given backend pids).
func waitListener(t *testing.T, db *pgtest.DB, n int, notPIDs ...int) {
	t.Helper()
	deadline := time.Now().Add(storetest.Wait)
	for {
		var count int
		err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE $2 AND NOT pid = ANY($3)`,
			postgres.ListenerApplicationName, "%"+db.Schema+"%", append(notPIDs, 0)).Scan(&count)
		if err != nil {
			t.Fatal(err)
		}
		if count >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listeners after %v, want %d", count, storetest.Wait, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPollingWithoutNotify: with LISTEN/NOTIFY off, another store still
// sees new events by polling.
func TestPollingWithoutNotify(t *testing.T) {
	t.Parallel()
	writer, db := newStore(t, postgres.Config{DisableListenNotify: true})
	reader, err := postgres.New(context.Background(), db.Pool, postgres.Config{DisableListenNotify: true, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	cat := storetest.NewCategory()
	sub := subscribe(t, reader, eventstore.SubscribeOptions{Filter: eventstore.Filter{Categories: []string{cat}}})
	for i := range 3 {
		if _, err := writer.Append(context.Background(), eventstore.StreamID(cat, uuid.New()), eventstore.NoStream, storetest.Event("A", i)); err != nil {
			t.Fatal(err)
		}
	}
	sub.waitFor(t, 3)
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()

	if _, err := postgres.New(ctx, db.Pool, postgres.Config{}); !errors.Is(err, postgres.ErrNotMigrated) {
		t.Fatalf("New on an empty schema: %v, want ErrNotMigrated", err)
	}
	if cur, latest, err := postgres.SchemaVersion(ctx, db.Pool); err != nil || cur != 0 || latest < 1 {
		t.Fatalf("SchemaVersion before = %d, %d, %v", cur, latest, err)
	}
	// Several processes migrating at once take turns.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- postgres.Migrate(ctx, db.Pool) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatalf("migrating again: %v", err)
	}
	cur, latest, err := postgres.SchemaVersion(ctx, db.Pool)
	if err != nil || cur != latest {
		t.Fatalf("SchemaVersion after = %d, %d, %v", cur, latest, err)
	}
	var tables []string
	rows, _ := db.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, db.Schema)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"evcrm_events", postgres.MigrationsTable, "evcrm_streams"}; !slices.Equal(tables, want) {
		t.Fatalf("tables %v, want %v", tables, want)
	}
	s, err := postgres.New(ctx, db.Pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestConfig(t *testing.T) {
	t.Parallel()
	bad := postgres.Config{PollInterval: -1, NotifyInterval: -1, PageSize: -5, Channel: strings.Repeat("c", 64)}
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"poll interval", "notify interval", "page size", "channel"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if err := (postgres.Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	if _, err := postgres.New(context.Background(), nil, postgres.Config{}); err == nil {
		t.Fatal("nil pool accepted")
	}
}

// TestLongSchemaName: a schema whose name would make the channel name too
// long still gets a working channel.
func TestLongSchemaName(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	long := db.Schema + strings.Repeat("x", 63-len(db.Schema))
	if _, err := db.Pool.Exec(ctx, "CREATE SCHEMA "+long); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Pool.Exec(context.Background(), "DROP SCHEMA "+long+" CASCADE") })
	cfg := db.Pool.Config()
	cfg.ConnConfig.RuntimeParams["search_path"] = long
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.New(ctx, pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Schema() != long || len(s.Channel()) > 63 {
		t.Fatalf("schema %q channel %q", s.Schema(), s.Channel())
	}
	sub := subscribe(t, s, eventstore.SubscribeOptions{})
	if _, err := s.Append(ctx, "a-1", eventstore.NoStream, storetest.Event("A", 1)); err != nil {
		t.Fatal(err)
	}
	sub.waitFor(t, 1)
	sub.stop(t)
}

// TestErrorsDoNotLeakSQL: a database failure reads as what the store was
// doing, without SQL text.
func TestErrorsDoNotLeakSQL(t *testing.T) {
	t.Parallel()
	s, db := newStore(t, postgres.Config{})
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `DROP TABLE evcrm_events CASCADE`); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReadAll(ctx, eventstore.ReadAllOptions{})
	if err == nil {
		t.Fatal("ReadAll on a broken schema succeeded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "event store: reading the log: ") || strings.Contains(msg, "SELECT") {
		t.Fatalf("error %q", msg)
	}
	_, err = s.Append(ctx, "a-1", eventstore.NoStream, storetest.Event("A", 1))
	if err == nil || strings.Contains(err.Error(), "SELECT") || !strings.Contains(err.Error(), `appending to stream "a-1"`) {
		t.Fatalf("append error %v", err)
	}
}

func TestCountEvents(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, postgres.Config{})
	ctx := context.Background()
	var results []eventstore.AppendResult
	for i := range 4 {
		res, err := s.Append(ctx, eventstore.StreamID("count", uuid.New()), eventstore.NoStream, storetest.Events("A", i+1)...)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	for _, c := range []struct {
		after, upTo eventstore.Position
		want        int64
	}{
		{eventstore.Start, results[3].Position, 10},
		{results[0].Position, results[3].Position, 9},
		{results[1].Position, results[2].Position, 3},
		{results[3].Position, results[3].Position, 0},
		{eventstore.Start, eventstore.Start, 0},
	} {
		if n, err := s.CountEvents(ctx, c.after, c.upTo); err != nil || n != c.want {
			t.Fatalf("CountEvents(%s, %s) = %d, %v; want %d", c.after, c.upTo, n, err, c.want)
		}
	}
}
