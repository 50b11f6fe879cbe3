package commands

import (
	"errors"
	"fmt"

	"github.com/evcrm/evcrm/eventstore"
)

var (
	// ErrPreconditionFailed: the stream is not at the version the caller
	// said it based the command on (HTTP If-Match). Match with errors.Is;
	// the *PreconditionError carries the actual version.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrNoHandler: no handler is registered for the command type.
	ErrNoHandler = errors.New("no handler for command")
	// ErrCorruptStream: a recorded event cannot be decoded (unknown type,
	// unsupported schema version, bad JSON). The aggregate is not decided on
	// partial state.
	ErrCorruptStream = errors.New("stream cannot be replayed")
)

// PreconditionError reports a failed caller precondition.
type PreconditionError struct {
	StreamID string
	Expected eventstore.ExpectedVersion
	Actual   uint64
}

func (e *PreconditionError) Error() string {
	return fmt.Sprintf("stream %q is at version %d, not %s", e.StreamID, e.Actual, e.Expected)
}

func (e *PreconditionError) Unwrap() error { return ErrPreconditionFailed }

// CurrentVersion extracts the actual stream version from a precondition or
// concurrency error, for clients that want to reload and retry.
func CurrentVersion(err error) (uint64, bool) {
	var pe *PreconditionError
	if errors.As(err, &pe) {
		return pe.Actual, true
	}
	var ve *eventstore.VersionError
	if errors.As(err, &ve) {
		return ve.Actual, true
	}
	return 0, false
}
