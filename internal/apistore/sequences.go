package apistore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Sequences hands out numbers 1, 2, 3... per tenant and name, from the
// command_sequences table. Each number is handed out once (a failed command
// leaves a gap).
type Sequences struct{ pool *pgxpool.Pool }

// NewSequences returns the sequences over pool (migrated with Migrate).
func NewSequences(pool *pgxpool.Pool) *Sequences { return &Sequences{pool: pool} }

// Next returns the next number of tenant's named sequence.
func (s *Sequences) Next(ctx context.Context, tenant, name string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO command_sequences AS s (tenant, name, last) VALUES ($1, $2, 1)
		ON CONFLICT (tenant, name) DO UPDATE SET last = s.last + 1
		RETURNING last`, tenant, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next number of sequence %q of tenant %q: %w", name, tenant, err)
	}
	return n, nil
}
