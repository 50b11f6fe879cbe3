package console_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/eventstore/postgres"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/app"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/config"
	"github.com/evcrm/evcrm/internal/demo"
	"github.com/evcrm/evcrm/internal/pgtest"
)

// env is a running evcrm (app.New, as evcrm serve) on loopback with demo
// data projected, and a token per role.
type env struct {
	url    string
	tokens map[auth.Role]string
	// verifierKey checks the audit packs the console hands out.
	verifierKey string
	tenant      string
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	if err := postgres.Migrate(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	cfg := config.FromEnv()
	cfg.DatabaseURL = db.URL
	cfg.EventStore = "postgres"
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Audit.CheckpointInterval = time.Second
	skey, vkey, err := audit.GenerateKey("evcrm.test/console")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Audit.KeyFile, cfg.Audit.Key = "", skey
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError})), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	steps, err := demo.Plan(demo.Config{Customers: 10, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, steps, demo.Direct{Dispatcher: a.Dispatcher, Tenant: cfg.Tenant}, nil); err != nil {
		t.Fatal(err)
	}
	e := &env{tokens: map[auth.Role]string{}, verifierKey: vkey, tenant: cfg.Tenant}
	for _, r := range auth.Roles {
		tok, _, err := a.Tokens.Create(ctx, "console-"+string(r), r, cfg.Tenant, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = tok
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	e.url = "http://" + ln.Addr().String()
	head, err := a.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := a.Projections.WaitFor(wctx, nil, head); err != nil {
		t.Fatalf("read models did not catch up: %v", err)
	}
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (e *env) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.url, http: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header, string(b)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

// signIn signs c in with token and returns the CSRF token of its session.
func (c *client) signIn(token string) string {
	c.t.Helper()
	p := c.do(http.MethodGet, "/console/signin", nil)
	p = c.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrfOf(c.t, p)}, "token": {token}, "next": {"/console/"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/console/" {
		c.t.Fatalf("sign-in: %d %s\n%s", p.status, p.header.Get("Location"), p.body)
	}
	home := c.do(http.MethodGet, "/console/", nil)
	if home.status != http.StatusOK {
		c.t.Fatalf("overview after sign-in: %d\n%s", home.status, home.body)
	}
	return csrfOf(c.t, home)
}
