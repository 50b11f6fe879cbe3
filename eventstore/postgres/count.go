package postgres

import (
	"context"

	"github.com/evcrm/evcrm/eventstore"
)

// CountEvents counts the events after position after, up to and including
// upTo. The projections runtime uses it (through an optional interface) to
// report exact lag and rebuild progress.
func (s *Store) CountEvents(ctx context.Context, after, upTo eventstore.Position) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM evcrm_events WHERE (tx_id, seq) > ($1, $2) AND (tx_id, seq) <= ($3, $4)`,
		toInt64(after.Commit), toInt64(after.Prepare), toInt64(upTo.Commit), toInt64(upTo.Prepare)).Scan(&n)
	if err != nil {
		return 0, s.wrap(ctx, "counting events", err)
	}
	return n, nil
}
