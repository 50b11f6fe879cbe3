package domain

import (
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Command is a request to change one aggregate. Commands are plain structs
// with JSON tags (they also travel over the message bus).
type Command interface {
	// CommandType is the stable name of the command, e.g. "OpenCase".
	CommandType() string
	// AggregateID names the aggregate instance the command is for.
	AggregateID() uuid.UUID
}

// Decider is implemented by the pointer to every aggregate's State. The zero
// State is an aggregate that does not exist yet.
//
//   - Apply is evolve: it folds one recorded event into the state. It never
//     fails and ignores event types it does not know.
//   - Decide is decide: it checks cmd against the state and returns the events
//     to record, or a *Error. It must not change the state, and it reads the
//     time only from now (the moment the decision is made, in UTC).
type Decider interface {
	Apply(e Event)
	Decide(cmd Command, now time.Time) ([]Event, error)
}

// ErrUnknownCommand is returned by Decide for a command that is not in its
// aggregate's command list (a command of another aggregate, or a new command
// nobody taught the aggregate): a programmer error, never a decision. Match
// it with errors.Is; its code "unknown_command" is stable.
var ErrUnknownCommand = &Error{Kind: KindInternal, Code: "unknown_command", Message: "command not handled by this aggregate"}

// UnknownCommand is ErrUnknownCommand naming the command: what every Decide
// returns from the default branch of its switch.
func UnknownCommand(cmd Command) error {
	name := "<nil>"
	if cmd != nil {
		name = reflect.TypeOf(cmd).String() + " (" + cmd.CommandType() + ")"
	}
	return &Error{Kind: ErrUnknownCommand.Kind, Code: ErrUnknownCommand.Code, Message: "command " + name + " not handled by this aggregate"}
}

// Handles reports whether cmds, an aggregate's command list, holds a
// command of cmd's Go type. Every Decide starts with it:
//
//	if !domain.Handles(commandList, cmd) {
//		return nil, domain.UnknownCommand(cmd)
//	}
func Handles(cmds []Command, cmd Command) bool {
	t := reflect.TypeOf(cmd)
	for _, c := range cmds {
		if reflect.TypeOf(c) == t {
			return true
		}
	}
	return false
}

// Fold applies events to a fresh state and returns it; handy in tests and replays.
func Fold[S any, P interface {
	*S
	Decider
}](events ...Event) *S {
	s := P(new(S))
	for _, e := range events {
		s.Apply(e)
	}
	return (*S)(s)
}

// Snapshotter is implemented, optionally, by the pointer to an aggregate's
// State whose streams can grow long. The command side may then save the
// state now and then and later restore it instead of replaying the whole
// stream. A snapshot is only a cache: the stream stays the truth, and a
// missing, outdated or unreadable snapshot just means a full replay.
//
//   - SnapshotSchema names the shape of the snapshot. Bump it whenever the
//     State or its snapshot encoding changes; snapshots of another schema are
//     ignored (and replaced by the next one taken).
//   - MarshalSnapshot encodes the state as JSON.
//   - UnmarshalSnapshot restores a zero State from MarshalSnapshot's output
//     of the same schema; it reports malformed input as an error.
//
// A restored state fed the events after the snapshot must equal the state
// folded from all events.
type Snapshotter interface {
	SnapshotSchema() int
	MarshalSnapshot() ([]byte, error)
	UnmarshalSnapshot(data []byte) error
}
