package pgtest_test

import (
	"context"
	"testing"

	"github.com/evcrm/evcrm/internal/pgtest"
)

func TestNewIsolatesSchema(t *testing.T) {
	t.Parallel()
	a, b := pgtest.New(t), pgtest.New(t)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, "CREATE TABLE x (id int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Pool.Exec(ctx, "SELECT * FROM x"); err == nil {
		t.Fatal("schema b sees a's table")
	}
	var sp string
	if err := a.Pool.QueryRow(ctx, "SHOW search_path").Scan(&sp); err != nil || sp != a.Schema {
		t.Fatalf("search_path = %q, %v; want %q", sp, err, a.Schema)
	}
}
