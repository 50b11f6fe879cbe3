package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

// StreamReaders may read raw streams: the audit trail of an aggregate.
var StreamReaders = []auth.Role{auth.Admin, auth.Auditor}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	ID            uuid.UUID           `json:"id"`
	Version       uint64              `json:"version" doc:"1-based position in the stream"`
	Position      string              `json:"position" doc:"Global position, commit/prepare"`
	Type          string              `json:"type" example:"CaseOpened"`
	SchemaVersion int                 `json:"schema_version"`
	Data          json.RawMessage     `json:"data" doc:"The event as recorded (at its schema version, not upcast)"`
	Metadata      eventstore.Metadata `json:"metadata"`
	RecordedAt    time.Time           `json:"recorded_at"`
}

// StreamPage is a page of one stream.
type StreamPage struct {
	Stream   string          `json:"stream"`
	Version  uint64          `json:"version" doc:"Current version of the stream"`
	Events   []RecordedEvent `json:"events"`
	NextFrom uint64          `json:"next_from,omitempty" doc:"Pass as from to read the next page; absent on the last page"`
}

type streamInput struct {
	Stream string `path:"stream" maxLength:"256" doc:"Stream ID, <category>-<uuid>" example:"case-0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b"`
	From   uint64 `query:"from" minimum:"1" default:"1" doc:"First version to return"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Events per page"`
}

type streamOutput struct {
	ETag string `header:"ETag" doc:"Current version of the stream"`
	Body StreamPage
}

func (s *Server) registerStreams() {
	Register(s.api, huma.Operation{
		OperationID: "readStream",
		Method:      http.MethodGet,
		Path:        "/v1/streams/{stream}",
		Summary:     "Read an aggregate's stream",
		Description: "The recorded events of one aggregate, oldest first, with their metadata (who, when, from where, why): the audit trail of the record. Only streams of the token's tenant exist (the tenant of a stream is that of its first event); any other answers 404. Every read is recorded in the read log (a RecordsRead event) before it is answered; when that fails, the answer is withheld (503 read_not_recorded).",
		Tags:        []string{"Audit"},
		Errors:      []int{http.StatusBadRequest, http.StatusNotFound},
	}, StreamReaders, recordedRead(s, "readStream", s.readStream, func(in *streamInput, _ *streamOutput) []string { return []string{in.Stream} }))
}

func (s *Server) readStream(ctx context.Context, in *streamInput) (*streamOutput, error) {
	if err := eventstore.ValidateStreamID(in.Stream); err != nil {
		return nil, err
	}
	// A stream of another tenant does not exist for this one.
	owner, exists, err := commands.StreamTenant(ctx, s.opts.Store, in.Stream)
	if err != nil {
		return nil, err
	}
	if p, ok := auth.FromContext(ctx); !exists || !ok || owner != p.Tenant {
		return nil, eventstore.ErrStreamNotFound
	}
	version, err := s.opts.Store.StreamVersion(ctx, in.Stream)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		return nil, eventstore.ErrStreamNotFound
	}
	page := StreamPage{Stream: in.Stream, Version: version, Events: []RecordedEvent{}}
	if in.From <= version {
		events, err := s.opts.Store.ReadStream(ctx, in.Stream, eventstore.ReadStreamOptions{From: in.From, Limit: in.Limit})
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil, err
		}
		for _, e := range events {
			page.Events = append(page.Events, RecordedEvent{
				ID: e.ID, Version: e.Version, Position: e.Position.String(), Type: e.Type, SchemaVersion: e.SchemaVersion,
				Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt,
			})
		}
		if n := len(page.Events); n > 0 {
			last := page.Events[n-1].Version
			page.Version = max(page.Version, last) // appended since StreamVersion
			if last < page.Version {
				page.NextFrom = last + 1
			}
		}
	}
	return &streamOutput{ETag: etag(page.Version), Body: page}, nil
}
