package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// CorrelationHeader carries the correlation ID in and out.
const CorrelationHeader = "X-Correlation-ID"

type ctxKey int

const (
	keyCorrelation ctxKey = iota
	keyLogger
	keyRequestInfo
)

// requestInfo is filled in as the request goes through the layers, for the
// access log.
type requestInfo struct {
	principal string
	role      string
	path      string // as requested, for the read log (RecordRead)
	query     string
}

// CorrelationID returns the correlation ID of the request ("" outside one).
func CorrelationID(ctx context.Context) string {
	s, _ := ctx.Value(keyCorrelation).(string)
	return s
}

func correlationUUID(ctx context.Context) uuid.UUID {
	id, _ := uuid.Parse(CorrelationID(ctx))
	return id
}

// Logger returns the request's logger (with its correlation ID), or the
// default logger outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }

// correlate takes the X-Correlation-ID of the request when it is a UUID,
// or makes one, and echoes it in the response.
func correlate(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := uuid.Parse(r.Header.Get(CorrelationHeader))
			if err != nil || id == uuid.Nil {
				id = uuid.Must(uuid.NewV7())
			}
			s := id.String()
			w.Header().Set(CorrelationHeader, s)
			ctx := context.WithValue(r.Context(), keyCorrelation, s)
			ctx = context.WithValue(ctx, keyLogger, logger.With(slog.String("correlation_id", s)))
			ctx = context.WithValue(ctx, keyRequestInfo, &requestInfo{path: r.URL.Path, query: r.URL.RawQuery})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// httpMetrics are the HTTP layer's collectors.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "evcrm", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "evcrm", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency, by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "evcrm", Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inflight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: registering metrics: %w", err)
		}
	}
	return m, nil
}

// observe logs every request and records its metrics.
func observe(m *httpMetrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			m.inflight.Inc()
			defer m.inflight.Dec()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			elapsed := time.Since(start)
			m.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
			ctx := r.Context()
			info, _ := ctx.Value(keyRequestInfo).(*requestInfo)
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Duration("duration", elapsed),
			}
			if info != nil && info.principal != "" {
				attrs = append(attrs, slog.String("principal", info.principal), slog.String("role", info.role))
			}
			level := levelFor(status)
			if status < 400 && (route == "/healthz" || route == "/readyz" || route == "/metrics") {
				level = slog.LevelDebug // probes and scrapes would drown the log
			}
			Logger(ctx).LogAttrs(ctx, level, "http request", attrs...)
		})
	}
}

// recoverer turns a panic into a 500 problem (the stack goes to the log,
// never to the client).
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww, ok := w.(middleware.WrapResponseWriter)
		if !ok {
			ww = middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			ctx := r.Context()
			Logger(ctx).ErrorContext(ctx, "panic serving request", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if ww.Status() == 0 {
				writeProblem(ww, r, newProblem(http.StatusInternalServerError, ""))
			}
		}()
		next.ServeHTTP(ww, r)
	})
}

// limitBody refuses bodies over limit bytes (importLimit for the CSV
// import batches): at once when Content-Length says so, else when reading
// passes the limit.
func limitBody(limit, importLimit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := limit
			if isImport(r) {
				limit = importLimit
				extendDeadlines(w)
			}
			if r.ContentLength > limit {
				writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit)))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeProblem writes a problem outside huma (unknown routes, panics,
// limits enforced before routing).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	p.setCorrelation(r.Context())
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	if err := json.NewEncoder(w).Encode(p); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		Logger(r.Context()).DebugContext(r.Context(), "writing problem", errAttr(err))
	}
}

func notFound(w http.ResponseWriter, r *http.Request) {
	p := newProblem(http.StatusNotFound, "no such resource: "+r.URL.Path)
	p.Code = "no_route"
	p.Detail = "no such resource"
	writeProblem(w, r, p)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	p := newProblem(http.StatusMethodNotAllowed, "")
	p.Code = "method_not_allowed"
	p.Detail = fmt.Sprintf("method %s is not allowed here", r.Method)
	writeProblem(w, r, p)
}
