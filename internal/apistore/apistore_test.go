package apistore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/pgtest"
)

func migrated(t *testing.T) *pgtest.DB {
	t.Helper()
	db := pgtest.New(t)
	if err := apistore.Migrate(context.Background(), db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := migrated(t)
	if err := apistore.Migrate(context.Background(), db.Pool, nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+apistore.VersionTable).Scan(&n); err != nil || n < 2 {
		t.Fatalf("version table rows = %d, %v", n, err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migrated(t)
	s := apistore.NewTokens(db.Pool)

	secret, tok, err := s.Create(ctx, "webshop", auth.Sales, "acme", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	if err := db.Pool.QueryRow(ctx, `SELECT token_hash FROM api_tokens WHERE id = $1`, tok.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !auth.HashEqual(stored, auth.HashToken(secret)) {
		t.Fatal("stored hash is not the token's SHA-256")
	}

	p, err := s.Authenticate(ctx, secret)
	if err != nil || p.Name != "webshop" || p.Role != auth.Sales || p.Tenant != "acme" || p.TokenID != tok.ID {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	other, _ := auth.NewToken()
	for _, bad := range []string{"", "nope", other, secret + "x"} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) err = %v", bad, err)
		}
	}

	expiredSecret, _, err := s.Create(ctx, "old", auth.Analyst, "acme", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, expiredSecret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("expired token: err = %v", err)
	}

	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d tokens, %v", len(list), err)
	}
	if list[1].LastUsedAt == nil && list[0].LastUsedAt == nil {
		t.Error("last_used_at not recorded")
	}

	if n, err := s.Revoke(ctx, "webshop"); err != nil || n != 1 {
		t.Fatalf("Revoke = %d, %v", n, err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked token: err = %v", err)
	}
	if _, err := s.Revoke(ctx, tok.ID.String()); !errors.Is(err, apistore.ErrTokenNotFound) {
		t.Errorf("revoking twice: err = %v", err)
	}
	if _, _, err := s.Create(ctx, "x", auth.Role("root"), "acme", time.Time{}); err == nil {
		t.Error("created a token with an unknown role")
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migrated(t)
	s := apistore.NewKeys(db.Pool)
	h1, h2 := []byte("hash-1"), []byte("hash-2")
	webshop, crm := apistore.Scope{Tenant: "acme", Principal: "webshop"}, apistore.Scope{Tenant: "acme", Principal: "crm"}

	r, err := s.Reserve(ctx, webshop, "k1", "openCase", h1)
	if err != nil || !r.Claimed {
		t.Fatalf("first Reserve = %+v, %v", r, err)
	}
	r, err = s.Reserve(ctx, webshop, "k1", "openCase", h1)
	if err != nil || r.Claimed || r.Status != 0 || string(r.RequestHash) != "hash-1" {
		t.Fatalf("Reserve while in flight = %+v, %v", r, err)
	}
	if err := s.Complete(ctx, webshop, "k1", 201, []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	r, err = s.Reserve(ctx, webshop, "k1", "openCase", h2)
	if err != nil || r.Claimed || r.Status != 201 || string(r.Response) != `{"ok":true}` || string(r.RequestHash) != "hash-1" {
		t.Fatalf("Reserve after completion = %+v, %v", r, err)
	}
	// Another scope has its own keys.
	if r, err := s.Reserve(ctx, crm, "k1", "openCase", h2); err != nil || !r.Claimed {
		t.Fatalf("other scope: %+v, %v", r, err)
	}
	if err := s.Release(ctx, crm, "k1"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Reserve(ctx, crm, "k1", "openCase", h1); err != nil || !r.Claimed {
		t.Fatalf("after release: %+v, %v", r, err)
	}

	// Tenant and principal are kept apart: tenant "t/x" with principal
	// "y" does not share keys with tenant "t" with principal "x/y".
	if r, err := s.Reserve(ctx, apistore.Scope{Tenant: "t/x", Principal: "y"}, "k", "op", h1); err != nil || !r.Claimed {
		t.Fatal(r, err)
	}
	if r, err := s.Reserve(ctx, apistore.Scope{Tenant: "t", Principal: "x/y"}, "k", "op", h1); err != nil || !r.Claimed {
		t.Fatalf("a slash in the tenant or principal name mixed up two scopes: %+v, %v", r, err)
	}

	// A crashed request's lease runs out; the same request may take over.
	s.Lease = time.Millisecond
	if r, err := s.Reserve(ctx, webshop, "k2", "op", h1); err != nil || !r.Claimed {
		t.Fatal(r, err)
	}
	time.Sleep(5 * time.Millisecond)
	if r, _ := s.Reserve(ctx, webshop, "k2", "op", h2); r.Claimed {
		t.Fatal("another request took over a crashed request's key")
	}
	if r, _ := s.Reserve(ctx, webshop, "k2", "op", h1); !r.Claimed {
		t.Fatal("the retried request could not take over its key")
	}

	// Expired keys are reusable and purged.
	s.TTL = time.Millisecond
	if r, _ := s.Reserve(ctx, webshop, "k3", "op", h1); !r.Claimed {
		t.Fatal("k3 not claimed")
	}
	time.Sleep(5 * time.Millisecond)
	if r, _ := s.Reserve(ctx, webshop, "k3", "op", h2); !r.Claimed {
		t.Fatal("expired key not reusable")
	}
	time.Sleep(5 * time.Millisecond)
	if n, err := s.Purge(ctx); err != nil || n < 1 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
}

func TestKeysConcurrentReserve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migrated(t)
	s := apistore.NewKeys(db.Pool)
	var wg sync.WaitGroup
	var mu sync.Mutex
	claimed := 0
	for range 8 {
		wg.Go(func() {
			r, err := s.Reserve(ctx, apistore.Scope{Tenant: "acme", Principal: "x"}, "same", "op", []byte("h"))
			if err != nil {
				t.Error(err)
				return
			}
			if r.Claimed {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if claimed != 1 {
		t.Fatalf("%d requests claimed the same key", claimed)
	}
}

func TestSequences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migrated(t)
	s := apistore.NewSequences(db.Pool)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for range 10 {
		wg.Go(func() {
			n, err := s.Next(ctx, "acme", "complaint/2026")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[n] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := int64(1); i <= 10; i++ {
		if !seen[i] {
			t.Fatalf("numbers handed out: %v, want 1..10 once each", seen)
		}
	}
	if n, err := s.Next(ctx, "acme", "complaint/2027"); err != nil || n != 1 {
		t.Fatalf("another sequence starts at %d, %v", n, err)
	}
	if n, err := s.Next(ctx, "globex", "complaint/2026"); err != nil || n != 1 {
		t.Fatalf("another tenant's sequence starts at %d, %v", n, err)
	}
}

// TestKeysReleaseAfterOutage: a request whose release failed (the database
// unreachable: a cancelled context here) leaves its key unfinished; the
// retry of the same request is not told "in flight" for the whole lease
// but claims the key afresh (the release is done first), and
// RetryReleases frees such keys for retries sent to other instances. A
// release never deletes a later claim of another request.
func TestKeysReleaseAfterOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := migrated(t)
	s := apistore.NewKeys(db.Pool)
	scope := apistore.Scope{Tenant: "acme", Principal: "x"}
	if r, err := s.Reserve(ctx, scope, "k1", "op", []byte("h")); err != nil || !r.Claimed {
		t.Fatalf("Reserve = %+v, %v", r, err)
	}
	down, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Release(down, scope, "k1"); err == nil {
		t.Fatal("Release with the database unreachable succeeded")
	}
	other := apistore.NewKeys(db.Pool) // another instance: still in flight there
	if r, err := other.Reserve(ctx, scope, "k1", "op", []byte("h")); err != nil || r.Claimed || r.Status != 0 {
		t.Fatalf("another instance's Reserve = %+v, %v; want in flight", r, err)
	}
	if r, err := s.Reserve(ctx, scope, "k1", "op", []byte("h")); err != nil || !r.Claimed {
		t.Fatalf("the retry's Reserve = %+v, %v; want claimed afresh", r, err)
	}

	// Through RetryReleases: the key is free for another instance.
	if r, err := s.Reserve(ctx, scope, "k2", "op", []byte("h")); err != nil || !r.Claimed {
		t.Fatalf("Reserve = %+v, %v", r, err)
	}
	if err := s.Release(down, scope, "k2"); err == nil {
		t.Fatal("Release with the database unreachable succeeded")
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.RetryReleases(rctx, 10*time.Millisecond) }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, err := other.Reserve(ctx, scope, "k2", "op", []byte("h"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Claimed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key was never released")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// other holds k2 now; s's late release must not delete that claim.
	if err := s.Release(ctx, scope, "k2"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Reserve(ctx, scope, "k2", "op", []byte("h")); err != nil || r.Claimed || r.Status != 0 {
		t.Fatalf("Reserve after a stale release = %+v, %v; want another instance's claim in flight", r, err)
	}
}
