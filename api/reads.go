package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain/access"
	"github.com/evcrm/evcrm/internal/auth"
)

// ErrReadNotRecorded: a read could not be recorded in the read log, so its
// answer is withheld (503 read_not_recorded): an unrecorded read of audit
// evidence or of a customer's records is not allowed. The client may retry.
var ErrReadNotRecorded = errors.New("the read could not be recorded in the read log; the answer is withheld, retry later")

// Read is one read to record in the read log (domain/access): what was
// read. Who read, in what role, by which route and query come from the
// request (its token and URL) unless given.
type Read struct {
	// Operation is the API operation, e.g. "readStream". Required.
	Operation string
	// Records are the streams (or record IDs) the answer holds. More than
	// access.MaxRecords are cut, and the read marked truncated (its query
	// still determines what it read).
	Records []string
	// Actor and Role override the token's principal (e.g. the customer a
	// customer token speaks for); Tenant the token's tenant.
	Actor, Role, Tenant string
}

// ReadRecorder records reads; Server.RecordRead is one. Handlers that serve
// records an organisation must account for (audit evidence, streams, a
// customer's own records) call it once per request, after the read and
// before answering, and return its error.
type ReadRecorder func(ctx context.Context, r Read) error

// RecordRead records r in the read log: one RecordsRead event in a stream
// of its own (one append, no contention between readers), a leaf of the
// transparency log like any event. It returns ErrReadNotRecorded (503) when
// that fails; the caller must then not answer with what it read.
func (s *Server) RecordRead(ctx context.Context, r Read) error {
	info, _ := ctx.Value(keyRequestInfo).(*requestInfo)
	cmd := access.RecordRead{ReadID: uuid.Must(uuid.NewV7()), Actor: r.Actor, Role: r.Role, Operation: r.Operation}
	if info != nil {
		cmd.Route, cmd.Query = info.path, info.query
	}
	tenant := r.Tenant
	if p, ok := auth.FromContext(ctx); ok {
		if cmd.Actor == "" {
			cmd.Actor = p.Name
		}
		if cmd.Role == "" {
			cmd.Role = string(p.Role)
		}
		if tenant == "" {
			tenant = p.Tenant
		}
	}
	cmd.Records = slices.Compact(slices.Clone(r.Records))
	if len(cmd.Records) > access.MaxRecords {
		cmd.Records, cmd.Truncated = cmd.Records[:access.MaxRecords], true
	}
	_, err := s.opts.Dispatcher.Dispatch(ctx, cmd, commands.Metadata{
		CorrelationID: correlationUUID(ctx),
		Actor:         cmd.Actor,
		Role:          cmd.Role,
		Source:        s.opts.DefaultSource,
		Tenant:        tenant,
	})
	if err != nil {
		Logger(ctx).LogAttrs(ctx, slog.LevelError, "read not recorded: answer withheld",
			slog.String("operation", r.Operation), slog.String("actor", cmd.Actor), errAttr(err))
		return fmt.Errorf("%w (%s)", ErrReadNotRecorded, r.Operation)
	}
	return nil
}

// recordedRead wraps a read handler so that every successful read is
// recorded (RecordRead) before it is answered; records names what the
// answer holds (nil: nothing but what the route and query say).
func recordedRead[I, O any](s *Server, operation string, h func(context.Context, *I) (*O, error), records func(*I, *O) []string) func(context.Context, *I) (*O, error) {
	return func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		var recs []string
		if records != nil {
			recs = records(in, out)
		}
		if err := s.RecordRead(ctx, Read{Operation: operation, Records: recs}); err != nil {
			return nil, err
		}
		return out, nil
	}
}
