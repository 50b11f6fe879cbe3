package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/evcrm/evcrm/eventstore"
)

// EventSource is the part of the event store the forwarder reads.
type EventSource interface {
	Subscribe(ctx context.Context, opts eventstore.SubscribeOptions, h eventstore.Handler) error
}

// CheckpointStore keeps a forwarder's position durably.
type CheckpointStore interface {
	Load(ctx context.Context, name string) (eventstore.Position, error)
	Save(ctx context.Context, name string, p eventstore.Position) error
	// Lock makes the forwarder a singleton across processes. held ends
	// when ctx does or when the lock is lost; unlock releases it.
	Lock(ctx context.Context, name string) (held context.Context, unlock func(), err error)
}

var _ CheckpointStore = (*Checkpoints)(nil)

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	// Name identifies the forwarder's checkpoint and lock. It is permanent:
	// a new name starts again from the beginning of the log.
	Name string
	// Topic names the topic of an event; default EventTopic (one topic per
	// stream category, which keeps each stream in order).
	Topic func(e eventstore.RecordedEvent) string
	// Filter restricts what is forwarded (default: everything).
	Filter eventstore.Filter
	// BatchSize is the subscription batch size; the checkpoint is saved
	// after each batch (default 256).
	BatchSize int
	// RetryMin and RetryMax bound the pause before the subscription is
	// restarted after a failure (defaults 100ms and 30s).
	RetryMin, RetryMax time.Duration
	Logger             *slog.Logger
}

func (c *ForwarderConfig) setDefaults() {
	if c.Topic == nil {
		c.Topic = EventTopic
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 256
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 100 * time.Millisecond
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(30*time.Second, c.RetryMin)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every problem at once.
func (c ForwarderConfig) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("forwarder name is required"))
	}
	return errors.Join(errs...)
}

// EventTopic is the default topic of an event: "evcrm.events.<category>".
func EventTopic(e eventstore.RecordedEvent) string {
	return EventTopicPrefix + eventstore.Category(e.StreamID)
}

// EventTopicPrefix starts every event topic.
const EventTopicPrefix = "evcrm.events."

// Forwarder publishes the global log of the event store to a message bus,
// in order, from a durable checkpoint: it subscribes after its checkpoint,
// publishes each batch and then saves the position of the batch's last
// event. A crash between publishing and saving republishes that batch on
// restart (at least once; consumers deduplicate by message UUID, which is the
// event ID); nothing is ever skipped.
//
// Only one forwarder of a given name runs at a time across processes (a
// lease, package internal/lease: a watched PostgreSQL advisory lock); the
// others wait and take over if it stops or loses its database session, and
// a forwarder that lost its lease stops publishing at once.
type Forwarder struct {
	cfg         ForwarderConfig
	source      EventSource
	publisher   message.Publisher
	checkpoints CheckpointStore
	progressed  atomic.Bool // a batch was forwarded since the last failure
}

// NewForwarder returns a forwarder of source's events to publisher.
func NewForwarder(source EventSource, publisher message.Publisher, checkpoints CheckpointStore, cfg ForwarderConfig) (*Forwarder, error) {
	cfg.setDefaults()
	errs := []error{cfg.Validate()}
	if source == nil {
		errs = append(errs, errors.New("forwarder needs an event source"))
	}
	if publisher == nil {
		errs = append(errs, errors.New("forwarder needs a publisher"))
	}
	if checkpoints == nil {
		errs = append(errs, errors.New("forwarder needs a checkpoint store"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid forwarder config: %w", err)
	}
	return &Forwarder{cfg: cfg, source: source, publisher: publisher, checkpoints: checkpoints}, nil
}

// Run forwards events until ctx ends; it then returns ctx's error. Failures
// (the database, the broker) are logged and retried with backoff from the
// last saved checkpoint.
func (f *Forwarder) Run(ctx context.Context) error {
	log := f.cfg.Logger.With("forwarder", f.cfg.Name)
	for {
		held, unlock, err := f.checkpoints.Lock(ctx, f.cfg.Name)
		for err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Error("cannot take the forwarder lock; retrying", "error", err)
			if err := sleep(ctx, f.cfg.RetryMax); err != nil {
				return err
			}
			held, unlock, err = f.checkpoints.Lock(ctx, f.cfg.Name)
		}
		f.runLocked(held, log)
		unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Another process may hold the lock now: wait for it again.
		log.Warn("forwarder lock lost; stopped forwarding until it is taken again", "cause", context.Cause(held))
	}
}

// runLocked forwards while ctx (the lock's) lasts, retrying failures with
// backoff from the last saved checkpoint.
func (f *Forwarder) runLocked(ctx context.Context, log *slog.Logger) {
	delay := f.cfg.RetryMin
	for {
		err := f.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if f.progressed.Swap(false) {
			delay = f.cfg.RetryMin
		}
		log.Error("event forwarding failed; restarting from the checkpoint", "error", err, "retry_in", delay)
		if sleep(ctx, delay) != nil {
			return
		}
		delay = min(delay*2, f.cfg.RetryMax)
	}
}

func (f *Forwarder) runOnce(ctx context.Context) error {
	after, err := f.checkpoints.Load(ctx, f.cfg.Name)
	if err != nil {
		return err
	}
	f.cfg.Logger.Info("forwarding events to the bus", "forwarder", f.cfg.Name, "after", after.String())
	opts := eventstore.SubscribeOptions{After: after, Filter: f.cfg.Filter, BatchSize: f.cfg.BatchSize}
	return f.source.Subscribe(ctx, opts, f.forward)
}

// forward publishes one batch, grouping consecutive events of the same topic
// into one Publish call, then saves the checkpoint.
func (f *Forwarder) forward(ctx context.Context, events []eventstore.RecordedEvent) error {
	if len(events) == 0 {
		return nil
	}
	var (
		topic string
		msgs  []*message.Message
	)
	flush := func() error {
		if len(msgs) == 0 {
			return nil
		}
		if err := f.publisher.Publish(topic, msgs...); err != nil {
			return fmt.Errorf("publishing %d events to %s: %w", len(msgs), topic, err)
		}
		msgs = msgs[:0]
		return nil
	}
	for _, e := range events {
		t := f.cfg.Topic(e)
		if t != topic {
			if err := flush(); err != nil {
				return err
			}
			topic = t
		}
		msgs = append(msgs, EventMessage(e))
	}
	if err := flush(); err != nil {
		return err
	}
	// Once published, the batch is checkpointed even if ctx ended meanwhile
	// (a clean shutdown then republishes nothing). The bus closes the
	// in-process transport only after the forwarder has returned, so a
	// publish that returned was delivered.
	last := events[len(events)-1].Position
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
	defer cancel()
	if err := f.checkpoints.Save(saveCtx, f.cfg.Name, last); err != nil {
		return err
	}
	f.progressed.Store(true)
	return nil
}

// checkpointTimeout bounds saving a checkpoint after ctx ended.
const checkpointTimeout = 10 * time.Second

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
