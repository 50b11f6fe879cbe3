package api_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("SameKeySameBodyReplays", func(t *testing.T) {
		first := b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-1")
		again := b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-1")
		if first.status != http.StatusCreated || again.status != http.StatusCreated {
			t.Fatalf("statuses %d, %d", first.status, again.status)
		}
		if string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("replay differs:\n%s\n%s (replayed %q)", first.body, again.body, again.header.Get("Idempotent-Replayed"))
		}
		var out api.CommandResult
		first.json(t, &out)
		if v, _ := b.store.StreamVersion(ctx, out.Stream); v != 1 {
			t.Fatalf("stream at version %d, want 1", v)
		}
	})

	t.Run("SameKeyOtherBodyRefused", func(t *testing.T) {
		b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-2")
		other := registerCustomerBody(uuid.Nil)
		other["display_name"] = "Someone Else"
		res := b.post(auth.Sales, "/v1/customers", other, "Idempotency-Key", "reg-2")
		if p := expect(t, res, http.StatusUnprocessableEntity); p.Code != "idempotency_key_reused" {
			t.Fatalf("code %q", p.Code)
		}
		// Another operation under the same key is refused too.
		res = b.post(auth.Sales, "/v1/leads", map[string]any{"source": "web", "contact_name": "Ann"}, "Idempotency-Key", "reg-2")
		if p := expect(t, res, http.StatusUnprocessableEntity); p.Code != "idempotency_key_reused" {
			t.Fatalf("other operation: code %q", p.Code)
		}
		// So is another If-Match.
		res = b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-2", "If-Match", "*")
		if p := expect(t, res, http.StatusUnprocessableEntity); p.Code != "idempotency_key_reused" {
			t.Fatalf("other If-Match: code %q", p.Code)
		}
	})

	t.Run("KeysArePerPrincipal", func(t *testing.T) {
		a := b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "shared")
		m := b.mustPost(auth.Marketing, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "shared")
		if a.ID == m.ID {
			t.Fatal("two principals' keys collided")
		}
	})

	t.Run("FailuresAreNotRemembered", func(t *testing.T) {
		bad := registerCustomerBody(uuid.Nil)
		bad["display_name"] = " "
		expect(t, b.post(auth.Sales, "/v1/customers", bad, "Idempotency-Key", "reg-3"), http.StatusUnprocessableEntity)
		b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-3")
	})

	t.Run("LostResponseFoundInTheStream", func(t *testing.T) {
		// The command was recorded but its response never stored (a crash
		// between the two): the retry finds the events by their IDs.
		first := b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-4")
		if _, err := b.db.Pool.Exec(ctx, `DELETE FROM api_idempotency_keys WHERE key = 'reg-4'`); err != nil {
			t.Fatal(err)
		}
		res := b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "reg-4")
		var again api.CommandResult
		res.json(t, &again)
		if res.status != http.StatusCreated || again.ID != first.ID || again.Version != 1 || again.EventIDs[0] != first.EventIDs[0] ||
			res.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %+v, want the original %+v", res.status, again, first)
		}
	})

	t.Run("ConcurrentRetries", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		results := make([]response, n)
		for i := range n {
			wg.Go(func() {
				results[i] = b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "burst")
			})
		}
		wg.Wait()
		var id uuid.UUID
		for _, r := range results {
			switch r.status {
			case http.StatusCreated:
				var out api.CommandResult
				r.json(t, &out)
				if id != uuid.Nil && out.ID != id {
					t.Fatalf("two customers from one key: %s and %s", id, out.ID)
				}
				id = out.ID
			case http.StatusConflict:
				if p := r.problem(t); p.Code != "idempotency_key_in_flight" {
					t.Fatalf("409 with code %q", p.Code)
				}
			default:
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		}
		if id == uuid.Nil {
			t.Fatal("no request succeeded")
		}
		if v, _ := b.store.StreamVersion(ctx, eventstore.StreamID("customer", id)); v != 1 {
			t.Fatalf("stream at version %d, want 1", v)
		}
	})

	t.Run("KeyTooLong", func(t *testing.T) {
		long := make([]byte, 300)
		for i := range long {
			long[i] = 'k'
		}
		expect(t, b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", string(long)), http.StatusUnprocessableEntity)
	})

	t.Run("ExpiredKeysArePurged", func(t *testing.T) {
		keys := apistore.NewKeys(b.db.Pool)
		keys.TTL = time.Millisecond
		if _, err := keys.Reserve(ctx, apistore.Scope{Tenant: "acme", Principal: "x"}, "old", "op", []byte("h")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if n, err := keys.Purge(ctx); err != nil || n < 1 {
			t.Fatalf("Purge = %d, %v", n, err)
		}
	})
}

// lossyKeys loses the stored response of the next completion, as a crash
// or a database hiccup between the append and storing the response would.
type lossyKeys struct {
	api.IdempotencyKeys
	mu   sync.Mutex
	lose bool
}

func (k *lossyKeys) Complete(ctx context.Context, scope apistore.Scope, key string, status int, response []byte) error {
	k.mu.Lock()
	lose := k.lose
	k.lose = false
	k.mu.Unlock()
	if lose {
		return errors.New("simulated: connection lost while storing the response")
	}
	return k.IdempotencyKeys.Complete(ctx, scope, key, status, response)
}

// TestIdempotencyLostResponse: a retry after the response was lost (the
// events are appended, the response not kept) returns the recorded result
// at once, instead of 409 for the whole lease, and acts once.
func TestIdempotencyLostResponse(t *testing.T) {
	t.Parallel()
	keys := &lossyKeys{}
	b := setup(t, withAPI(func(o *api.Options) {
		keys.IdempotencyKeys = o.Keys
		o.Keys = keys
	}))
	ctx := context.Background()
	for _, path := range []string{"/v1/customers", ""} {
		keys.mu.Lock()
		keys.lose = true
		keys.mu.Unlock()
		var first, again response
		if path != "" { // a creation: the aggregate ID derives from the key
			first = b.post(auth.Sales, path, registerCustomerBody(uuid.Nil), "Idempotency-Key", "lost-1")
			again = b.post(auth.Sales, path, registerCustomerBody(uuid.Nil), "Idempotency-Key", "lost-1")
		} else { // a command on an existing aggregate
			c := b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil))
			p := "/v1/customers/" + c.ID.String() + "/segment"
			body := map[string]any{"segment": "enterprise"}
			first = b.post(auth.Sales, p, body, "Idempotency-Key", "lost-2")
			again = b.post(auth.Sales, p, body, "Idempotency-Key", "lost-2")
		}
		if first.status >= 300 || again.status != first.status || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: first %d %s, retry %d %s (replayed %q)", path, first.status, first.body, again.status, again.body, again.header.Get("Idempotent-Replayed"))
		}
		var a, c api.CommandResult
		first.json(t, &a)
		again.json(t, &c)
		if a.Stream != c.Stream || a.Version != c.Version || a.Position != c.Position || len(c.EventIDs) != len(a.EventIDs) || c.EventIDs[0] != a.EventIDs[0] {
			t.Fatalf("retry result %+v, first %+v", c, a)
		}
		if v, _ := b.store.StreamVersion(ctx, a.Stream); v != a.Version {
			t.Fatalf("stream at %d after the retry, want %d (acted twice?)", v, a.Version)
		}
		// The recovered result is kept: a third try replays it too.
		third := b.post(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil), "Idempotency-Key", "lost-1")
		if third.status != http.StatusCreated || third.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("third: %d %s", third.status, third.body)
		}
	}
}
