package postgres

// Internals for the external tests.
const (
	AppendManySQL   = appendManySQL
	AppendLockedSQL = appendLockedSQL
)

// LockedAppends counts the appends that queued on a stream lock.
func (s *Store) LockedAppends() int64 { return s.lockedAppends.Load() }

// AlwaysLock makes every append queue on the stream lock (evcrm_append),
// to test that path with the whole contract suite.
func (s *Store) AlwaysLock() { s.alwaysLock = true }
