package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
)

// Dispatcher is the command side as the bus uses it: the same
// *commands.Dispatcher the HTTP API serves, so every command handler is
// registered once.
type Dispatcher interface {
	Dispatch(ctx context.Context, cmd domain.Command, meta commands.Metadata) (commands.Result, error)
	// CommandTypes lists the registered command type names.
	CommandTypes() []string
	// DecodeCommand builds a command of a registered type from its JSON.
	DecodeCommand(commandType string, data []byte) (domain.Command, error)
}

// CommandTopicPrefix starts every command topic: "evcrm.commands.OpenCase".
const CommandTopicPrefix = "evcrm.commands."

// ReplyTopicPrefix starts every reply topic: "evcrm.replies.OpenCase".
const ReplyTopicPrefix = "evcrm.replies."

// CommandHandlerName is the permanent name of the bus handler of a command
// type (it names the consumer group / queue on a broker).
func CommandHandlerName(commandType string) string { return "evcrm.command." + commandType }

// Reply is what a command sent with SendWithReply gets back.
type Reply struct {
	OK          bool                `json:"ok"`
	StreamID    string              `json:"stream_id,omitempty"`
	AggregateID uuid.UUID           `json:"aggregate_id,omitzero"`
	Version     uint64              `json:"version,omitempty"`
	Position    eventstore.Position `json:"position,omitzero"`
	EventIDs    []uuid.UUID         `json:"event_ids,omitempty"`
	Replayed    bool                `json:"replayed,omitempty"`
	// Error describes a refused command (validation, not found, conflict...).
	Error *ReplyError `json:"error,omitempty"`
}

// ReplyError is a refused command's error, in the same terms as the HTTP API.
type ReplyError struct {
	Outcome string              `json:"outcome"` // commands.Outcome: invalid, not_found, rejected...
	Code    string              `json:"code,omitempty"`
	Message string              `json:"message"`
	Fields  []domain.FieldError `json:"fields,omitempty"`
}

func newReply(res commands.Result, err error) Reply {
	r := Reply{
		OK:          err == nil,
		StreamID:    res.StreamID,
		AggregateID: res.AggregateID,
		Version:     res.Version,
		Position:    res.Position,
		EventIDs:    res.EventIDs,
		Replayed:    res.Replayed,
	}
	if err != nil {
		re := &ReplyError{Outcome: commands.Outcome(res, err), Code: commands.ErrorCode(err), Message: err.Error()}
		var de *domain.Error
		if errors.As(err, &de) {
			re.Fields = de.Fields
		}
		r.Error = re
	}
	return r
}

// rawCommand carries a command by name until the dispatcher decodes it, so
// the bus serves exactly the types the dispatcher registered.
type rawCommand struct {
	name string
	data json.RawMessage
}

func (c *rawCommand) CommandType() string    { return c.name }
func (c *rawCommand) AggregateID() uuid.UUID { return uuid.Nil }
func (c *rawCommand) UnmarshalJSON(b []byte) error {
	c.data = append(c.data[:0], b...)
	return nil
}

// commandHandler serves one command type from the bus through the dispatcher.
type commandHandler struct {
	name     string
	dispatch Dispatcher
	replies  requestreply.Backend[Reply]
	log      *slog.Logger
}

var _ cqrs.CommandHandler = (*commandHandler)(nil)

func (h *commandHandler) HandlerName() string { return CommandHandlerName(h.name) }
func (h *commandHandler) NewCommand() any     { return &rawCommand{name: h.name} }

// Handle decodes and dispatches one command. A command the domain refuses
// (invalid, not found, conflict) is answered (when the sender asked for a
// reply) and acknowledged: sending it again would be refused again. A
// malformed one is a PermanentError (poison queue). Anything else — the
// database is down, conflicts outlasted the dispatcher's retries — is
// returned as is, so the retry middleware tries again.
func (h *commandHandler) Handle(ctx context.Context, v any) error {
	raw := v.(*rawCommand)
	msg := cqrs.OriginalMessageFromCtx(ctx)
	if msg == nil {
		return Permanent(errors.New("bus: command handled outside the command processor"))
	}
	meta, err := CommandMetadata(msg)
	if err != nil {
		return Permanent(err)
	}
	cmd, err := h.dispatch.DecodeCommand(h.name, raw.data)
	if err != nil {
		// Undecodable: answer the sender if it waits, and poison the message
		// for the integration's operators.
		if rerr := h.reply(ctx, msg, nil, commands.Result{}, err); rerr != nil {
			return rerr
		}
		return Permanent(err)
	}
	res, err := h.dispatch.Dispatch(ctx, cmd, meta)
	if errors.Is(err, commands.ErrCorruptStream) {
		return Permanent(err) // needs a person: poison queue
	}
	if err != nil && !refused(err) {
		return err // transient: retried
	}
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "command from the bus refused",
			slog.String("command", h.name), slog.String("message_uuid", msg.UUID),
			slog.String("outcome", commands.Outcome(res, err)), slog.String("code", commands.ErrorCode(err)),
			slog.String("error", err.Error()), slog.String("actor", meta.Actor), slog.String("source", meta.Source))
	}
	return h.reply(ctx, msg, cmd, res, err)
}

// reply answers a sender that asked for a reply (SendWithReply). The
// backend fails only if publishing the reply fails; the command is then
// retried, and as it is idempotent by its ID the retry replays the original
// result.
func (h *commandHandler) reply(ctx context.Context, msg *message.Message, cmd domain.Command, res commands.Result, err error) error {
	if msg.Metadata.Get(requestreply.OperationIDMetadataKey) == "" {
		return nil
	}
	if rerr := h.replies.OnCommandProcessed(ctx, requestreply.BackendOnCommandProcessedParams[Reply]{
		Command:        cmd,
		CommandMessage: msg,
		HandlerResult:  newReply(res, err),
	}); rerr != nil {
		return fmt.Errorf("replying to command %s: %w", msg.UUID, rerr)
	}
	return nil
}

// refused reports whether the command side refused a command for good: the
// same command would be refused again.
func refused(err error) bool {
	var de *domain.Error
	if errors.As(err, &de) {
		return true
	}
	switch commands.Outcome(commands.Result{}, err) {
	case commands.OutcomeInvalid, commands.OutcomeNotFound, commands.OutcomeRejected, commands.OutcomePreconditionFailed:
		return true
	}
	return errors.Is(err, commands.ErrNoHandler) || errors.Is(err, eventstore.ErrInvalidEvent) ||
		errors.Is(err, eventstore.ErrInvalidStreamID)
}
