package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Check is a readiness check: nil when the dependency it watches is fit to
// serve (the database answers, projections are caught up...).
type Check func(ctx context.Context) error

// Readiness is the list of checks behind /readyz. Checks run concurrently,
// each bounded by Timeout; the server is ready when all pass. Safe for
// concurrent use: the projection runtime can add itself at any time.
type Readiness struct {
	Timeout time.Duration

	mu       sync.RWMutex
	checks   map[string]Check
	draining atomic.Bool
}

// NewReadiness returns an empty list with a 2-second timeout per check.
func NewReadiness() *Readiness {
	return &Readiness{Timeout: 2 * time.Second, checks: map[string]Check{}}
}

// Add registers (or replaces) the check called name.
func (r *Readiness) Add(name string, check Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks[name] = check
}

// Drain makes the server unready for good (it is shutting down), so load
// balancers stop sending requests while in-flight ones finish.
func (r *Readiness) Drain() { r.draining.Store(true) }

// ReadyReport is the /readyz response.
type ReadyReport struct {
	Status string            `json:"status"` // "ready" or "unready"
	Checks map[string]string `json:"checks"` // name → "ok" or "failing"
}

// Run runs every check and reports; failures are logged, not shown (they
// may contain host names or SQL).
func (r *Readiness) Run(ctx context.Context) (ReadyReport, bool) {
	r.mu.RLock()
	names := make([]string, 0, len(r.checks))
	for n := range r.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	checks := make([]Check, len(names))
	for i, n := range names {
		checks[i] = r.checks[n]
	}
	r.mu.RUnlock()

	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, r.Timeout)
			defer cancel()
			errs[i] = c(cctx)
		})
	}
	wg.Wait()

	rep := ReadyReport{Status: "ready", Checks: map[string]string{}}
	ok := true
	for i, n := range names {
		rep.Checks[n] = "ok"
		if errs[i] != nil {
			ok = false
			rep.Checks[n] = "failing"
			Logger(ctx).WarnContext(ctx, "readiness check failing", "check", n, errAttr(errs[i]))
		}
	}
	if r.draining.Load() {
		ok = false
		rep.Checks["shutdown"] = "draining"
	}
	if !ok {
		rep.Status = "unready"
	}
	return rep, ok
}

func (r *Readiness) serve(w http.ResponseWriter, req *http.Request) {
	rep, ok := r.Run(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"up"}` + "\n"))
}
