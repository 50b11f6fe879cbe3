package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a command, as reported by Outcome and the metrics.
const (
	OutcomeOK                 = "ok"
	OutcomeReplayed           = "replayed"            // already handled; original result returned
	OutcomeInvalid            = "invalid"             // validation failed
	OutcomeNotFound           = "not_found"           // the aggregate does not exist
	OutcomeRejected           = "rejected"            // the aggregate's state forbids the command
	OutcomePreconditionFailed = "precondition_failed" // the caller's expected version is stale
	OutcomeConcurrency        = "concurrency"         // conflicts outlasted the retries
	OutcomeCanceled           = "canceled"            // the caller went away
	OutcomeError              = "error"               // anything else: a fault, not the caller's
)

// Outcome classifies the result of handling a command.
func Outcome(res Result, err error) string {
	if err == nil {
		if res.Replayed {
			return OutcomeReplayed
		}
		return OutcomeOK
	}
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		switch de.Kind {
		case domain.KindValidation:
			return OutcomeInvalid
		case domain.KindNotFound:
			return OutcomeNotFound
		case domain.KindConflict, domain.KindAlreadyExists:
			return OutcomeRejected
		}
		return OutcomeError
	case errors.Is(err, ErrPreconditionFailed):
		return OutcomePreconditionFailed
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return OutcomeConcurrency
	case errors.Is(err, eventstore.ErrDuplicateEventID):
		return OutcomeRejected
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	return OutcomeError
}

// ErrorCode returns the stable code of a domain error ("requirements_not_reviewed"),
// or the outcome for other errors; "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var de *domain.Error
	if errors.As(err, &de) && de.Code != "" {
		return de.Code
	}
	return Outcome(Result{}, err)
}

// Logging logs every command with its outcome, duration and correlation ID:
// faults at Error, refusals at Info, successes at Info.
func Logging(logger *slog.Logger) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, cmd domain.Command, meta Metadata) (Result, error) {
			start := time.Now()
			res, err := next(ctx, cmd, meta)
			outcome := Outcome(res, err)
			attrs := []slog.Attr{
				slog.String("command", cmd.CommandType()),
				slog.String("stream", res.StreamID),
				slog.Uint64("version", res.Version),
				slog.String("outcome", outcome),
				slog.Int("attempts", res.Attempts),
				slog.Duration("duration", time.Since(start)),
				slog.String("actor", meta.Actor),
			}
			if meta.CorrelationID != uuid.Nil {
				attrs = append(attrs, slog.String("correlation_id", meta.CorrelationID.String()))
			}
			level := slog.LevelInfo
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
				if outcome == OutcomeError {
					level = slog.LevelError
				}
			}
			logger.LogAttrs(ctx, level, "command", attrs...)
			return res, err
		}
	}
}

// Metrics counts commands by type and outcome, observes their latency,
// counts concurrency conflicts (retried or not) and errors by code.
// It registers its collectors with reg and panics if they exist already
// (call it once per registry).
func Metrics(reg prometheus.Registerer) Middleware {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "commands", Name: "total",
		Help: "Commands handled, by command type and outcome.",
	}, []string{"command", "outcome"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "evcrm", Subsystem: "commands", Name: "duration_seconds",
		Help:    "Time to handle a command (load, decide, append), by command type.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"command"})
	conflicts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "commands", Name: "conflicts_total",
		Help: "Concurrency conflicts met while appending, by command type (each retry counts).",
	}, []string{"command"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "commands", Name: "errors_total",
		Help: "Commands refused or failed, by command type and error code.",
	}, []string{"command", "code"})
	reg.MustRegister(total, duration, conflicts, errs)
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, cmd domain.Command, meta Metadata) (Result, error) {
			start := time.Now()
			res, err := next(ctx, cmd, meta)
			typ := cmd.CommandType()
			outcome := Outcome(res, err)
			total.WithLabelValues(typ, outcome).Inc()
			duration.WithLabelValues(typ).Observe(time.Since(start).Seconds())
			n := res.Attempts - 1
			if outcome == OutcomeConcurrency {
				n++
			}
			if n > 0 {
				conflicts.WithLabelValues(typ).Add(float64(n))
			}
			if err != nil {
				errs.WithLabelValues(typ, ErrorCode(err)).Inc()
			}
			return res, err
		}
	}
}
