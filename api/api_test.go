package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/pgtest"
	"github.com/prometheus/client_golang/prometheus"
)

// bundle is a running server on a real PostgreSQL schema, with a token per role.
type bundle struct {
	t          *testing.T
	db         *pgtest.DB
	store      eventstore.Store
	dispatcher *commands.Dispatcher
	server     *api.Server
	http       *httptest.Server
	tokens     map[auth.Role]string
}

// setupOptions tune setup.
type setupOptions struct {
	api       func(*api.Options)
	wrapStore func(eventstore.Store) eventstore.Store // what the dispatcher writes through
}

func withAPI(f func(*api.Options)) func(*setupOptions) {
	return func(o *setupOptions) { o.api = f }
}

func withStore(f func(eventstore.Store) eventstore.Store) func(*setupOptions) {
	return func(o *setupOptions) { o.wrapStore = f }
}

func setup(t *testing.T, opts ...func(*setupOptions)) *bundle {
	t.Helper()
	var so setupOptions
	for _, f := range opts {
		f(&so)
	}
	ctx := context.Background()
	db := pgtest.New(t)
	if err := apistore.Migrate(ctx, db.Pool, nil); err != nil {
		t.Fatal(err)
	}
	store := newStore(t, db)
	var writeStore eventstore.Store = store
	if so.wrapStore != nil {
		writeStore = so.wrapStore(store)
	}
	d, err := commands.NewDispatcher(writeStore, commands.Config{RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := commands.RegisterDomain(d, commands.Deps{Sequences: apistore.NewSequences(db.Pool)}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	d.Use(commands.Metrics(reg))
	o := api.Options{
		Dispatcher:   d,
		Commands:     d.Catalogues(),
		Store:        store,
		Auth:         apistore.NewTokens(db.Pool),
		Keys:         apistore.NewKeys(db.Pool),
		Metrics:      reg,
		MaxBodyBytes: 64 << 10,
		Logger:       testLogger(t),
	}
	if so.api != nil {
		so.api(&o)
	}
	srv, err := api.New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	b := &bundle{t: t, db: db, store: store, dispatcher: d, server: srv, http: hs, tokens: map[auth.Role]string{}}
	tokens := apistore.NewTokens(db.Pool)
	for _, r := range auth.Roles {
		tok, _, err := tokens.Create(ctx, "test-"+string(r), r, "acme", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		b.tokens[r] = tok
	}
	return b
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r response) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	var p api.Problem
	r.json(t, &p)
	if p.Status != r.status {
		t.Fatalf("problem status %d on a %d response", p.Status, r.status)
	}
	return p
}

type req struct {
	method  string
	path    string
	role    auth.Role // "" : no token
	token   string    // overrides role
	body    any       // marshalled to JSON unless []byte or string
	headers map[string]string
}

func (b *bundle) do(r req) response {
	b.t.Helper()
	var body io.Reader
	switch v := r.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(v)
	case string:
		body = strings.NewReader(v)
	default:
		data, err := json.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(r.method, b.http.URL+r.path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	tok := r.token
	if tok == "" && r.role != "" {
		tok = b.tokens[r.role]
	}
	if tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range r.headers {
		if v == "" {
			hr.Header.Del(k)
			continue
		}
		hr.Header.Set(k, v)
	}
	res, err := b.http.Client().Do(hr)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func (b *bundle) post(role auth.Role, path string, body any, headers ...string) response {
	b.t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return b.do(req{method: http.MethodPost, path: path, role: role, body: body, headers: h})
}

// mustPost posts a command and fails unless it succeeds.
func (b *bundle) mustPost(role auth.Role, path string, body any, headers ...string) api.CommandResult {
	b.t.Helper()
	res := b.post(role, path, body, headers...)
	if res.status != http.StatusOK && res.status != http.StatusCreated {
		b.t.Fatalf("POST %s: %d %s", path, res.status, res.body)
	}
	var out api.CommandResult
	res.json(b.t, &out)
	return out
}
