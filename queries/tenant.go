package queries

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evcrm/evcrm/internal/tenant"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoTenant: a query was asked without a tenant in its context
// (tenant.WithContext). Queries never read across tenants.
var ErrNoTenant = errors.New("queries: no tenant in the context")

// scoped runs every statement in its own read-only transaction scoped to
// the tenant of the statement's context (projections.SetTenant): the
// read-model tables' row-level security then shows that tenant's rows
// only, whatever the statement's own filters say.
type scoped struct{ db DB }

func (s scoped) begin(ctx context.Context) (pgx.Tx, error) {
	t, ok := tenant.FromContext(ctx)
	if !ok || t == "" {
		return nil, ErrNoTenant
	}
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("queries: %w", err)
	}
	if err := projections.SetTenant(ctx, tx, t); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return tx, nil
}

// TenantParam stands for the tenant of the statement's context in a
// query's SQL: every statement filters every read-model table it reads by
// it explicitly ("WHERE o.tenant = $tenant", also in joins), so a query is
// isolated by its own text; row-level security is the second wall.
// scoped binds it as the statement's last parameter, and refuses a
// statement without it.
const TenantParam = "$tenant"

func (s scoped) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	t, _ := tenant.FromContext(ctx)
	if !strings.Contains(sql, TenantParam) {
		return nil, fmt.Errorf("queries: a statement without a tenant filter (%s)", TenantParam)
	}
	sql = strings.ReplaceAll(sql, TenantParam, "$"+strconv.Itoa(len(args)+1))
	args = append(args, t)
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return &txRows{Rows: rows, tx: tx, ctx: ctx}, nil
}

func (s scoped) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := s.Query(ctx, sql, args...)
	return txRow{rows: rows, err: err}
}

// txRows ends its transaction when closed.
type txRows struct {
	pgx.Rows
	tx     pgx.Tx
	ctx    context.Context
	closed bool
}

func (r *txRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		_ = r.tx.Rollback(context.WithoutCancel(r.ctx)) // read only
	}
}

func (r *txRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *txRows) CommandTag() pgconn.CommandTag { return r.Rows.CommandTag() }

// txRow is pgx.Row over txRows: Scan reads the first row, like
// pgx.Conn.QueryRow.
type txRow struct {
	rows pgx.Rows
	err  error
}

func (r txRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
