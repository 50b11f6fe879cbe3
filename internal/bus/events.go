package bus

import (
	"context"
	"errors"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"

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
