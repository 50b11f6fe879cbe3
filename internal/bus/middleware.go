package bus

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
)

// PermanentError marks a handler error that no retry can fix (a malformed
// message, an event that cannot be decoded). The retry middleware gives up
// at once and the message goes to the poison queue.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err is, or wraps, a PermanentError or a
// malformed message.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe) || errors.Is(err, ErrMalformedMessage)
}

type ctxKey int

const (
	correlationKey ctxKey = iota
	causationKey
)

// WithCause records in ctx the message being handled: its correlation ID and
// its UUID (the cause). Send fills a command's missing correlation and
// causation IDs from it, so a chain of messages keeps one correlation ID.
func WithCause(ctx context.Context, correlationID, causationID uuid.UUID) context.Context {
	if correlationID != uuid.Nil {
		ctx = context.WithValue(ctx, correlationKey, correlationID)
	}
	if causationID != uuid.Nil {
		ctx = context.WithValue(ctx, causationKey, causationID)
	}
	return ctx
}

// CauseFrom returns the correlation and causation IDs WithCause recorded.
func CauseFrom(ctx context.Context) (correlationID, causationID uuid.UUID) {
	correlationID, _ = ctx.Value(correlationKey).(uuid.UUID)
	causationID, _ = ctx.Value(causationKey).(uuid.UUID)
	return correlationID, causationID
}

// correlation is the router middleware that puts the handled message's
// correlation ID and UUID into its context (see WithCause), and stamps the
// correlation ID on messages a handler produces.
func correlation(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		corr, _ := uuid.Parse(msg.Metadata.Get(KeyCorrelationID))
		cause, _ := uuid.Parse(msg.UUID)
		if corr == uuid.Nil {
			corr = cause
		}
		msg.SetContext(WithCause(msg.Context(), corr, cause))
		return middleware.CorrelationID(h)(msg)
	}
}

// logging logs what a handler finally did with a message: failures (before
// the poison queue takes them) at Error, the rest at Debug.
func logging(log *slog.Logger) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			start := time.Now()
			out, err := h(msg)
			attrs := []slog.Attr{
				slog.String("handler", message.HandlerNameFromCtx(msg.Context())),
				slog.String("topic", message.SubscribeTopicFromCtx(msg.Context())),
				slog.String("name", msg.Metadata.Get(KeyName)),
				slog.String("message_uuid", msg.UUID),
				slog.String("correlation_id", msg.Metadata.Get(KeyCorrelationID)),
				slog.Duration("duration", time.Since(start)),
			}
			switch {
			case err == nil:
				log.LogAttrs(msg.Context(), slog.LevelDebug, "message handled", attrs...)
			case errors.Is(err, context.Canceled):
				log.LogAttrs(msg.Context(), slog.LevelInfo, "message handling interrupted by shutdown; it will be redelivered", attrs...)
			default:
				log.LogAttrs(msg.Context(), slog.LevelError, "message handling failed; sending it to the poison queue",
					append(attrs, slog.Bool("permanent", IsPermanent(err)), slog.String("error", err.Error()))...)
			}
			return out, err
		}
	}
}

// RetryConfig is the backoff of the retry middleware.
type RetryConfig struct {
	MaxRetries      int           // default 5
	InitialInterval time.Duration // default 100ms
	MaxInterval     time.Duration // default 10s
	Multiplier      float64       // default 2
}

func (c *RetryConfig) setDefaults() {
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	}
	if c.InitialInterval <= 0 {
		c.InitialInterval = 100 * time.Millisecond
	}
	if c.MaxInterval <= 0 {
		c.MaxInterval = 10 * time.Second
	}
	if c.Multiplier < 1 {
		c.Multiplier = 2
	}
}

// middlewares returns the router's middleware stack, outermost first:
//
//	correlation → poison queue → logging → retry with backoff → recoverer → handler
//
// A panic becomes an error (recoverer) that is retried like any transient
// failure; a permanent error is not retried; what still fails is logged and
// published to the poison queue, then acknowledged, so one bad message
// never blocks its topic. Shutdown (context cancelled) is never poisoned:
// the message is nacked and redelivered.
func middlewares(pub message.Publisher, poisonTopic string, retry RetryConfig, log *slog.Logger) ([]message.HandlerMiddleware, error) {
	poison, err := middleware.PoisonQueueWithFilter(pub, poisonTopic, func(err error) bool {
		return !errors.Is(err, context.Canceled)
	})
	if err != nil {
		return nil, err
	}
	r := middleware.Retry{
		MaxRetries:          retry.MaxRetries,
		InitialInterval:     retry.InitialInterval,
		MaxInterval:         retry.MaxInterval,
		Multiplier:          retry.Multiplier,
		RandomizationFactor: 0.2,
		ShouldRetry: func(p middleware.RetryParams) bool {
			return !IsPermanent(p.Err) && !errors.Is(p.Err, context.Canceled)
		},
	}
	return []message.HandlerMiddleware{correlation, poison, logging(log), r.Middleware, middleware.Recoverer}, nil
}
