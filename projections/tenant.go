package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Tenants (see the package documentation, "Tenants").
const (
	// TenantColumn is the column every read-model table must have. Declare
	// it as TenantColumnDDL: the runtime fills it from the metadata of the
	// event being applied.
	TenantColumn = "tenant"
	// TenantColumnDDL declares the tenant column of a read-model table.
	// Its default is the tenant of the event being applied, so a row
	// written by Apply carries its event's tenant without naming it.
	TenantColumnDDL = TenantColumn + " text NOT NULL DEFAULT current_setting('" + TenantSetting + "')"
	// TenantSetting is the PostgreSQL setting (transaction-local) that
	// holds the tenant a transaction acts for: the tenant of the events a
	// projector applies, or of the request a query answers.
	TenantSetting = "evcrm.tenant"
	// AllTenantsSetting = 'on' lets a session see and write the rows of
	// every tenant: set for events that carry no tenant (written before
	// tenants were enforced), and for an operator's or a cross-tenant BI
	// role. Never set on the request path.
	AllTenantsSetting = "evcrm.all_tenants"
	// TenantPolicy is the row-level security policy on every read-model
	// table, for reading and writing. Tables are FORCE ROW LEVEL SECURITY,
	// so the policy binds their owner (evcrm itself) too.
	// A row of the empty tenant (written by an event with no tenant) is
	// visible to no tenant.
	TenantPolicy = "(" + TenantColumn + " <> '' AND " + TenantColumn + " = current_setting('" + TenantSetting + "', true)) OR current_setting('" + AllTenantsSetting + "', true) = 'on'"
)

// SetTenant scopes the rest of transaction tx to tenant t: the read-model
// tables then show (and accept) only t's rows. It sets the settings
// transaction-locally, so they end with tx. An empty t is no tenant: tx
// sees no row of any tenant.
func SetTenant(ctx context.Context, tx pgx.Tx, t string) error {
	var ignored string
	if err := tx.QueryRow(ctx, "SELECT set_config($1, $2, true) || set_config($3, '', true)", TenantSetting, t, AllTenantsSetting).Scan(&ignored); err != nil {
		return fmt.Errorf("scoping the transaction to tenant %q: %w", t, err)
	}
	return nil
}

// isolate puts the tenant policy on every table of schema (a generation's
// schema, right after its DDL), and refuses a table without a tenant column.
func isolate(ctx context.Context, tx pgx.Tx, name, schema string) error {
	rows, err := tx.Query(ctx, `
		SELECT c.relname, EXISTS (
			SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped AND a.atttypid = 'text'::regtype AND a.attnotnull)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`, schema, TenantColumn)
	if err != nil {
		return fmt.Errorf("projection %s: listing its tables: %w", name, err)
	}
	type table struct {
		name      string
		hasTenant bool
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.name, &t.hasTenant)
	})
	if err != nil {
		return fmt.Errorf("projection %s: listing its tables: %w", name, err)
	}
	for _, t := range tables {
		if !t.hasTenant {
			return fmt.Errorf("projection %s: table %s has no %q column (text NOT NULL): every read-model row carries its tenant", name, t.name, TenantColumn)
		}
		id := pgx.Identifier{schema, t.name}.Sanitize()
		_, err := tx.Exec(ctx, "ALTER TABLE "+id+" ENABLE ROW LEVEL SECURITY; ALTER TABLE "+id+" FORCE ROW LEVEL SECURITY; "+
			"CREATE POLICY evcrm_tenant ON "+id+" USING ("+TenantPolicy+") WITH CHECK ("+TenantPolicy+")")
		if err != nil {
			return fmt.Errorf("projection %s: isolating tenants in %s: %w", name, t.name, err)
		}
	}
	return nil
}

// applyByTenant runs Apply over runs of consecutive events of one tenant,
// each with the transaction scoped to that tenant: rows a run writes get
// its tenant (TenantColumnDDL), and the policy keeps it from touching the
// rows of another. Events with no tenant (recorded before tenants were
// enforced) see and write every tenant's rows; rows they create have the
// empty tenant.
func applyByTenant(ctx context.Context, tx pgx.Tx, p Projection, events []Event) error {
	for start := 0; start < len(events); {
		t := events[start].Metadata.Tenant
		end := start + 1
		for end < len(events) && events[end].Metadata.Tenant == t {
			end++
		}
		all := ""
		if t == "" {
			all = "on"
		}
		var ignored string
		if err := tx.QueryRow(ctx, "SELECT set_config($1, $2, true) || set_config($3, $4, true)", TenantSetting, t, AllTenantsSetting, all).Scan(&ignored); err != nil {
			return Fail(&events[start], fmt.Errorf("scoping to tenant %q: %w", t, err))
		}
		if err := p.Apply(ctx, tx, events[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}
