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

// SetGroupFault calls f around every group statement: at stage "before"
// (on the connection about to run it, whose backend f may terminate) and
// "after" it committed (an error then makes the group behave as if the
// answer was lost). Set it before the first append.
func (s *Store) SetGroupFault(f func(stage string, pid uint32) error) { s.groupFault = f }
