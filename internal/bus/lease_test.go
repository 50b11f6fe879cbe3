package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestForwarderNoticesLostLock: the forwarder's lock session dies (the
// server terminates it, as after a network cut); the forwarder notices,
// stops, takes the lock again and goes on from its checkpoint: every event
// is published, in order, none skipped (a batch in flight may come twice:
// consumers deduplicate by event ID).
func TestForwarderNoticesLostLock(t *testing.T) {
	t.Parallel()
	store, cp, db := pgStoreDB(t)
	ctx := context.Background()
	want := appendEvents(t, store, 20)
	pub := newCapture()
	startForwarder(t, store, pub, cp, 5)
	pub.waitFor(t, 20)

	// The lock session of this schema's forwarder: the lease key is
	// hashtextextended('evcrm.bus/' || schema || '/' || name), which
	// pg_locks shows split in two 32-bit halves.
	holder := func() int {
		var pid int
		err := db.Pool.QueryRow(ctx, `WITH k AS (SELECT hashtextextended('evcrm.bus/' || current_schema() || '/events', 0) AS key)
			SELECT coalesce(max(l.pid), 0) FROM pg_locks l, k
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			  AND l.classid::bigint = (k.key >> 32) & 4294967295 AND l.objid::bigint = k.key & 4294967295`).Scan(&pid)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	first := holder()
	if first == 0 {
		t.Fatal("nobody holds the forwarder lock")
	}
	if _, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, first); err != nil {
		t.Fatal(err)
	}
	// The forwarder notices and takes the lock again, on a new session.
	deadline := time.Now().Add(20 * time.Second)
	for p := holder(); p == 0 || p == first; p = holder() {
		if time.Now().After(deadline) {
			t.Fatal("the forwarder never took its lock again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	want = append(want, appendEvents(t, store, 20)...)
	pub.waitFor(t, 40)
	got := pub.ids()
	seen := map[uuid.UUID]bool{}
	var order []uuid.UUID
	for _, id := range got {
		if !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	assertExactly(t, order, want)
}
