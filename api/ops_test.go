package api_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("Healthz", func(t *testing.T) {
		res := b.do(req{method: http.MethodGet, path: "/healthz"})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), "up") {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})

	t.Run("Readyz", func(t *testing.T) {
		var failing atomic.Bool
		b.server.Readiness().Add("projections", func(context.Context) error {
			if failing.Load() {
				return errors.New("projection customer_360 is 5000 events behind (host db-1)")
			}
			return nil
		})
		res := b.do(req{method: http.MethodGet, path: "/readyz"})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"projections":"ok"`) {
			t.Fatalf("%d %s", res.status, res.body)
		}
		failing.Store(true)
		res = b.do(req{method: http.MethodGet, path: "/readyz"})
		if res.status != http.StatusServiceUnavailable || !strings.Contains(string(res.body), `"projections":"failing"`) {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if strings.Contains(string(res.body), "db-1") {
			t.Fatalf("readiness leaks check errors: %s", res.body)
		}
		failing.Store(false)
	})

	t.Run("Metrics", func(t *testing.T) {
		b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil))
		b.post(auth.Sales, "/v1/customers/"+uuid.NewString()+"/segment", map[string]any{"segment": "x"})
		res := b.do(req{method: http.MethodGet, path: "/metrics"})
		for _, want := range []string{
			`evcrm_http_requests_total{code="201",method="POST",route="/v1/customers"}`,
			`evcrm_http_request_duration_seconds_bucket{method="POST",route="/v1/customers",`,
			`evcrm_commands_total{command="RegisterCustomer",outcome="ok"}`,
			`evcrm_commands_errors_total{code="customer_not_found",command="ChangeCustomerSegment"}`,
			`evcrm_commands_duration_seconds_bucket{command="RegisterCustomer"`,
		} {
			if !strings.Contains(string(res.body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("OpenAPIAndDocs", func(t *testing.T) {
		res := b.do(req{method: http.MethodGet, path: "/openapi.json"})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"openapi":"3.1.0"`) {
			t.Fatalf("/openapi.json: %d", res.status)
		}
		res = b.do(req{method: http.MethodGet, path: "/docs"})
		if res.status != http.StatusOK || !strings.Contains(res.header.Get("Content-Type"), "text/html") {
			t.Fatalf("/docs: %d %s", res.status, res.header.Get("Content-Type"))
		}
		if strings.Contains(string(res.body), "https://") || !strings.Contains(res.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("/docs must load only this server's assets:\n%s\nCSP: %s", res.body, res.header.Get("Content-Security-Policy"))
		}
		for _, asset := range []string{"/docs/assets/web-components.min.js", "/docs/assets/styles.min.css"} {
			if res := b.do(req{method: http.MethodGet, path: asset}); res.status != http.StatusOK || len(res.body) < 100000 {
				t.Fatalf("%s: %d, %d bytes", asset, res.status, len(res.body))
			}
		}
		if res := b.do(req{method: http.MethodGet, path: "/docs/assets/"}); res.status != http.StatusNotFound {
			t.Fatalf("/docs/assets/ lists the directory: %d", res.status)
		}
	})
}

// slowDispatcher holds every command until released.
type slowDispatcher struct {
	next    api.Dispatcher
	started chan struct{}
	release chan struct{}
}

func (d *slowDispatcher) Dispatch(ctx context.Context, cmd domain.Command, meta commands.Metadata) (commands.Result, error) {
	close(d.started)
	<-d.release
	return d.next.Dispatch(ctx, cmd, meta)
}

func (d *slowDispatcher) Recorded(ctx context.Context, cmd domain.Command, commandID uuid.UUID) (commands.Result, bool, error) {
	return d.next.Recorded(ctx, cmd, commandID)
}

func TestGracefulShutdownFinishesInFlightCommands(t *testing.T) {
	t.Parallel()
	slow := &slowDispatcher{started: make(chan struct{}), release: make(chan struct{})}
	b := setup(t, withAPI(func(o *api.Options) {
		slow.next = o.Dispatcher
		o.Dispatcher = slow
		o.ShutdownTimeout = 10 * time.Second
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- b.server.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()

	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		hr, _ := http.NewRequest(http.MethodPost, url+"/v1/customers", strings.NewReader(`{"kind":"person","display_name":"Ann Example"}`))
		hr.Header.Set("Authorization", "Bearer "+b.tokens[auth.Sales])
		hr.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			done <- result{err: err}
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		done <- result{status: res.StatusCode}
	}()
	<-slow.started
	stop() // SIGTERM arrives while the command is in flight

	// The server stops accepting but the command completes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rep, ok := b.server.Readiness().Run(context.Background()); ok {
		t.Fatalf("ready while draining: %+v", rep)
	}
	close(slow.release)
	if r := <-done; r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight command: %d, %v", r.status, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
