package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
)

// EventHandlerFunc handles one event: the decoded (upcast) domain event and
// its envelope (ID, stream, version, position, metadata; Data is the raw
// JSON as published).
type EventHandlerFunc[E domain.Event] func(ctx context.Context, e E, env eventstore.RecordedEvent) error

// NewEventHandler adapts fn to a handler of the event type E in a group
// added with AddEventHandlers. The context carries the event's correlation ID
// and ID as cause, so commands sent with Bus.Send inherit them.
func NewEventHandler[E domain.Event](fn EventHandlerFunc[E]) cqrs.GroupEventHandler {
	return cqrs.NewGroupEventHandler(func(ctx context.Context, e *E) error {
		msg := cqrs.OriginalMessageFromCtx(ctx)
		if msg == nil {
			return Permanent(errors.New("bus: event handled outside an event processor"))
		}
		env, err := EventFromMessage(msg)
		if err != nil {
			return Permanent(err)
		}
		return fn(ctx, *e, env)
	})
}

// EventConsumerFunc handles every event of a category: e is the decoded
// (upcast) event, or nil when this binary's registry does not know the type
// (an event written by a newer version); env is its envelope.
type EventConsumerFunc func(ctx context.Context, e domain.Event, env eventstore.RecordedEvent) error

// AddEventConsumer subscribes fn, under the permanent handler name name, to
// every event of one stream category, in stream order, through the same
// middleware as every handler. Use it when a consumer must see all of a
// stream's events (a process manager that tracks stream versions); use
// AddEventHandlers for typed handlers of a few event types.
func (b *Bus) AddEventConsumer(name, category string, fn EventConsumerFunc) error {
	if name == "" || category == "" || fn == nil {
		return errors.New("bus: an event consumer needs a name, a category and a function")
	}
	sub, err := b.transport.Subscriber(name)
	if err != nil {
		return err
	}
	registry, m := b.marshaler.registry(), b.marshaler
	b.router.AddConsumerHandler(name, EventTopicPrefix+category, sub, func(msg *message.Message) error {
		env, err := EventFromMessage(msg)
		if err != nil {
			return Permanent(err)
		}
		data, err := m.payload(msg)
		if err != nil {
			return fmt.Errorf("event %s: %w", env.ID, err)
		}
		e, err := registry.Decode(env.Type, env.SchemaVersion, data)
		switch {
		case errors.Is(err, domain.ErrUnknownEventType):
			e = nil
		case err != nil:
			return Permanent(fmt.Errorf("decoding event %s (%s v%d): %w", env.ID, env.Type, env.SchemaVersion, err))
		}
		return fn(msg.Context(), e, env)
	})
	return nil
}
