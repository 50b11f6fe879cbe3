package projections

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics exports the runtime's figures to Prometheus. The per-generation
// gauges are the ones `evcrm projections status` prints, read from the
// catalog at scrape time, so every process exports the same values; the
// counters and the histogram count this process's own work.
type metrics struct {
	r *Runtime

	events   *prometheus.CounterVec
	batches  *prometheus.HistogramVec
	failures *prometheus.CounterVec

	position   *prometheus.Desc
	lagEvents  *prometheus.Desc
	lagSeconds *prometheus.Desc
	state      *prometheus.Desc
	running    *prometheus.Desc
	failing    *prometheus.Desc
	errorTime  *prometheus.Desc
	applied    *prometheus.Desc
}

func newMetrics(r *Runtime) *metrics {
	labels := []string{"projection", "version", "generation", "state"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("evcrm_projection_"+name, help, labels, nil)
	}
	return &metrics{
		r: r,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evcrm_projection_events_total",
			Help: "Events read by this process's projection workers; handled=false for types the projection ignores.",
		}, []string{"projection", "handled"}),
		batches: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "evcrm_projection_batch_duration_seconds",
			Help:    "Time to apply one batch of events and its checkpoint in one transaction.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"projection"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evcrm_projection_failures_total",
			Help: "Failed batches (each retried from the checkpoint with backoff).",
		}, []string{"projection"}),
		position:   d("position_prepare", "Checkpoint: prepare part of the global position of the last event applied."),
		lagEvents:  d("lag_events", "Events in the log after the checkpoint (capped when the store cannot count)."),
		lagSeconds: d("lag_seconds", "Age of the oldest event not yet applied; 0 when caught up."),
		state:      d("info", "1 for every building or active generation (state label)."),
		running:    d("running", "1 if some process holds the generation's lock and works on it."),
		failing:    d("consecutive_failures", "Consecutive failed batches; 0 when the last batch succeeded."),
		errorTime:  d("last_error_timestamp_seconds", "Time of the last failure (0 if none since the last success)."),
		applied:    d("events_applied", "Events applied to the generation since it was created."),
	}
}

func (m *metrics) batch(projection string, read, handled int, d time.Duration) {
	m.events.WithLabelValues(projection, "true").Add(float64(handled))
	m.events.WithLabelValues(projection, "false").Add(float64(read - handled))
	m.batches.WithLabelValues(projection).Observe(d.Seconds())
}

func (m *metrics) failure(projection string) { m.failures.WithLabelValues(projection).Inc() }

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.events.Describe(ch)
	m.batches.Describe(ch)
	m.failures.Describe(ch)
	for _, d := range []*prometheus.Desc{m.position, m.lagEvents, m.lagSeconds, m.state, m.running, m.failing, m.errorTime, m.applied} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.events.Collect(ch)
	m.batches.Collect(ch)
	m.failures.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := m.r.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.state, err)
		return
	}
	for _, s := range list {
		if s.Generation == 0 {
			continue
		}
		lv := []string{s.Name, strconv.Itoa(s.Version), strconv.FormatInt(s.Generation, 10), s.State}
		g := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
		}
		g(m.state, 1)
		g(m.position, float64(s.Position.Prepare))
		g(m.lagEvents, float64(s.LagEvents))
		g(m.lagSeconds, s.LagSeconds)
		g(m.running, b2f(s.Running))
		g(m.failing, float64(s.Failures))
		var at float64
		if s.LastErrorAt != nil {
			at = float64(s.LastErrorAt.UnixNano()) / 1e9
		}
		g(m.errorTime, at)
		g(m.applied, float64(s.EventsApplied))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
