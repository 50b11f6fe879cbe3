package commands

import (
	"errors"
	"fmt"

	"github.com/evcrm/evcrm/domain"
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
	// ErrIDUnavailable refuses a creation whose client-chosen ID is taken by
	// a record of another tenant. It says nothing about that record; a
	// command on an existing record of another tenant gets the aggregate's
	// own not-found error instead, as if the record did not exist.
	ErrIDUnavailable = &domain.Error{Kind: domain.KindConflict, Code: "id_unavailable",
		Message: "this ID cannot be used: choose another, or leave it out to let the server make one"}
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
