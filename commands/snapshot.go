package commands

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/evcrm/evcrm/eventstore"
)

// Snapshot is the state of one stream's aggregate after its event Version,
// encoded by the aggregate (domain.Snapshotter) in schema Schema.
type Snapshot struct {
	// Tenant owns the snapshot: a snapshot is keyed by tenant and stream,
	// so a command of one tenant never loads another tenant's snapshot.
	Tenant   string
	StreamID string
	Version  uint64
	// Position is the global position of the event at Version.
	Position eventstore.Position
	Schema   int
	State    []byte
	TakenAt  time.Time
}

// SnapshotStore keeps the latest snapshot of streams. Snapshots are a cache:
// the handler falls back to a full replay when Load fails or finds nothing
// usable, and ignores Save errors (it logs them).
type SnapshotStore interface {
	// Load returns tenant's snapshot of the stream; false when there is none.
	Load(ctx context.Context, tenant, streamID string) (Snapshot, bool, error)
	// Save stores s unless s.Tenant has a snapshot of the stream of the same
	// schema at a later version.
	Save(ctx context.Context, s Snapshot) error
}

// DefaultSnapshotEvery is the default of Config.SnapshotEvery.
const DefaultSnapshotEvery = 100

// MemorySnapshots is a SnapshotStore in memory, for tests and single-process
// tools. The zero value is ready to use.
type MemorySnapshots struct {
	mu    sync.Mutex
	snaps map[snapKey]Snapshot
	saves int
}

type snapKey struct{ tenant, stream string }

// Load implements SnapshotStore.
func (m *MemorySnapshots) Load(_ context.Context, tenant, streamID string) (Snapshot, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.snaps[snapKey{tenant, streamID}]
	s.State = append([]byte(nil), s.State...)
	return s, ok, nil
}

// Save implements SnapshotStore.
func (m *MemorySnapshots) Save(_ context.Context, s Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := snapKey{s.Tenant, s.StreamID}
	if old, ok := m.snaps[k]; ok && old.Schema == s.Schema && old.Version >= s.Version {
		return nil
	}
	if m.snaps == nil {
		m.snaps = map[snapKey]Snapshot{}
	}
	s.State = append([]byte(nil), s.State...)
	m.snaps[k] = s
	m.saves++
	return nil
}

// Saves returns how many snapshots Save has stored.
func (m *MemorySnapshots) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// Put stores s as is, overwriting any snapshot of its stream (for tests of
// stale and corrupt snapshots).
func (m *MemorySnapshots) Put(s Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snaps == nil {
		m.snaps = map[snapKey]Snapshot{}
	}
	m.snaps[snapKey{s.Tenant, s.StreamID}] = s
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
