package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/evcrm/evcrm/api/docsui"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/queries"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Dispatcher handles commands (commands.Dispatcher).
type Dispatcher interface {
	Dispatch(ctx context.Context, cmd domain.Command, meta commands.Metadata) (commands.Result, error)
	// Recorded finds the result of a command from its events (a retry
	// after a lost response).
	Recorded(ctx context.Context, cmd domain.Command, commandID uuid.UUID) (commands.Result, bool, error)
}

// IdempotencyKeys remembers the responses to requests sent with an
// Idempotency-Key (apistore.Keys).
type IdempotencyKeys interface {
	Reserve(ctx context.Context, scope apistore.Scope, key, operation string, requestHash []byte) (apistore.Reservation, error)
	Complete(ctx context.Context, scope apistore.Scope, key string, status int, response []byte) error
	Release(ctx context.Context, scope apistore.Scope, key string) error
}

// Options configure a Server. Dispatcher, Store, Auth and Keys are required.
type Options struct {
	Dispatcher Dispatcher
	// Commands are the catalogues the command endpoints are derived from
	// (one POST per route of each command). Default: the Dispatcher's
	// registered catalogues, when it is a *commands.Dispatcher.
	Commands []commands.Catalogue
	Store    eventstore.Store // for stream reads
	Auth     Authenticator
	// CustomerTokens keeps customer access tokens (POST
	// /v1/customers/{id}/access-tokens); default: Auth, when it keeps them.
	CustomerTokens CustomerTokenStore
	Keys           IdempotencyKeys
	Logger         *slog.Logger // default slog.Default()
	// Metrics: where the server registers its collectors and what /metrics
	// serves. Default: a fresh registry with the Go and process collectors.
	Metrics interface {
		prometheus.Registerer
		prometheus.Gatherer
	}
	MaxBodyBytes int64 // default 1 MiB
	// MaxImportBytes bounds the CSV body of POST /v1/import/{kind}
	// (default 8 MiB).
	MaxImportBytes int64
	Version        string // API version shown in the OpenAPI document
	// DefaultSource is the source stamped on events when the client sends
	// no Source-App header (default "api").
	DefaultSource string
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// when its context ends (default 15s).
	ShutdownTimeout time.Duration
}

// Validate reports every problem at once.
func (o Options) Validate() error {
	var errs []error
	if o.Dispatcher == nil {
		errs = append(errs, errors.New("api: a command dispatcher is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("api: an event store is required"))
	}
	if o.Auth == nil {
		errs = append(errs, errors.New("api: an authenticator is required"))
	}
	if o.Keys == nil {
		errs = append(errs, errors.New("api: an idempotency key store is required"))
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("api: MaxBodyBytes must not be negative"))
	}
	return errors.Join(errs...)
}

// Server is evcrm's HTTP API: /v1 operations (huma, OpenAPI 3.1 at
// /openapi.json, docs at /docs), /healthz, /readyz and /metrics.
type Server struct {
	opts      Options
	api       huma.API
	readiness *Readiness
	handler   http.Handler
}

// New builds the server and registers the command and stream operations.
// More operations can be added with Register on API() before serving.
func New(opts Options) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if d, ok := opts.Dispatcher.(interface{ Catalogues() []commands.Catalogue }); ok && opts.Commands == nil {
		opts.Commands = d.Catalogues()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts.Metrics = reg
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = DefaultMaxImportBytes
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.DefaultSource == "" {
		opts.DefaultSource = "api"
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	m, err := newHTTPMetrics(opts.Metrics)
	if err != nil {
		return nil, err
	}

	s := &Server{opts: opts, readiness: NewReadiness()}
	root := chi.NewRouter()
	root.Use(correlate(opts.Logger), observe(m), recoverer)
	root.NotFound(notFound)
	root.MethodNotAllowed(methodNotAllowed)
	root.Get("/healthz", healthz)
	root.Get("/readyz", s.readiness.serve)
	root.Handle("/metrics", promhttp.HandlerFor(opts.Metrics, promhttp.HandlerOpts{Registry: opts.Metrics}))
	docs := docsui.Handler("/docs", "evcrm API Reference", "/openapi.json")
	root.Get("/docs", docs.ServeHTTP)
	root.Get("/docs/assets/*", docs.ServeHTTP)

	// The API proper: body limit, then huma.
	s.api = humachi.New(root.With(limitBody(opts.MaxBodyBytes, opts.MaxImportBytes), checkBodyText), humaConfig(opts.Version))
	s.api.UseMiddleware(authenticate(s.api, opts.Auth), checkParams(s.api))
	s.handler = root

	s.registerStreams()
	s.registerCommands()
	s.registerImport()
	setRegistryEnums(s.api.OpenAPI().Components.Schemas, schemaPrefix)
	return s, nil
}

// humaConfig is huma's default configuration without the $schema link
// transformer, with a bearer security scheme, UUIDs as format "uuid" and
// package-qualified schema names.
func humaConfig(version string) huma.Config {
	registry := huma.NewMapRegistry(schemaPrefix, schemaNamer)
	registry.RegisterTypeAlias(reflect.TypeFor[uuid.UUID](), reflect.TypeFor[uuidSchema]())
	registry.RegisterTypeAlias(reflect.TypeFor[queries.Minor](), reflect.TypeFor[bigIntegerSchema]())
	cfg := huma.DefaultConfig("evcrm API", version)
	cfg.CreateHooks = nil
	cfg.DocsPath = "" // served from the binary's own assets (package docsui), not a CDN
	cfg.Components.Schemas = registry
	cfg.Info.Description = "Command and query API of evcrm, the event-sourced CRM for ISO 9001 customer records. " +
		"Authenticate with `Authorization: Bearer <token>` (tokens come from `evcrm token create`). " +
		"Commands accept `Idempotency-Key` (a retried request returns the original result) and " +
		"`If-Match: \"<version>\"` (optimistic concurrency). Errors are RFC 9457 problem details."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		SecurityScheme: {Type: "http", Scheme: "bearer", BearerFormat: "evcrm API token", Description: "A token from `evcrm token create`."},
	}
	return cfg
}

type uuidSchema string

// bigIntegerSchema describes queries.Minor: an integer of any size.
type bigIntegerSchema string

func (bigIntegerSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeInteger, Description: "Integer of any size (a sum of minor units can pass 64 bits)"}
}

func (uuidSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "uuid"}
}

// schemaNamer qualifies evcrm's own types by package ("servicecase.OpenCase",
// "domain.Money"), so equal type names in different packages never clash.
func schemaNamer(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	if t.Name() != "" && strings.HasPrefix(pkg, "github.com/evcrm/evcrm/") && pkg != "github.com/evcrm/evcrm/api" {
		return path.Base(pkg) + "." + name
	}
	return name
}

// API returns the huma API, to register more operations (with Register).
func (s *Server) API() huma.API { return s.api }

// Mount serves h at prefix and everything under it (the web console),
// outside the API's authentication: h does its own.
func (s *Server) Mount(prefix string, h http.Handler) {
	root := s.handler.(chi.Router)
	root.Handle(prefix, h)
	root.Handle(prefix+"/*", h)
}

// Readiness returns the checks behind /readyz; add yours with Add.
func (s *Server) Readiness() *Readiness { return s.readiness }

// Handler returns the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx ends, then shuts down gracefully: /readyz
// turns unready, the listener closes, and in-flight requests (commands
// included) get up to ShutdownTimeout to finish. Request contexts are not
// cancelled by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.opts.Logger.Info("serving HTTP", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("api: serving: %w", err)
	case <-ctx.Done():
	}
	s.readiness.Drain()
	s.opts.Logger.Info("shutting down HTTP server", "grace", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("api: shutting down: %w", err)
	}
	<-errc // http.ErrServerClosed
	return nil
}
