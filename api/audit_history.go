package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/eventstore"
)

// AuditEvent is an event in an audit view: as stored, with where it is in
// the log and whether it was backdated.
type AuditEvent struct {
	Stream string `json:"stream"`
	RecordedEvent
	LeafIndex *int64 `json:"leaf_index,omitempty" doc:"Its leaf in the transparency log (absent: not logged yet)"`
	Backdated bool   `json:"backdated" doc:"A backdated fact: recorded more than the configured threshold (default 24 h) after it occurred (metadata occurred_at)"`
}

func (r *auditRoutes) auditEvent(e eventstore.RecordedEvent, leaf *int64) AuditEvent {
	return AuditEvent{Stream: e.StreamID, RecordedEvent: RecordedEvent{
		ID: e.ID, Version: e.Version, Position: e.Position.String(), Type: e.Type, SchemaVersion: e.SchemaVersion,
		Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt,
	}, LeafIndex: leaf, Backdated: audit.BackdatedBy(e, r.opts.BackdatedAfter)}
}

func (r *auditRoutes) registerHistory() {
	tags := []string{"Audit"}
	Register(r.s.api, huma.Operation{
		OperationID: "getAuditRecordAsOf", Method: http.MethodGet, Path: "/v1/audit/records/{stream}", Tags: tags,
		Summary: "A record as it was known at a time",
		Description: "The record (stream) as the system knew it at as_of: its state folded by the aggregate from the events recorded " +
			"at or before as_of (`state_known`), and its state in business time (`state_business_time`), folded from the events that had " +
			"occurred by as_of whenever they were recorded, which includes backdated facts (recorded more than the configured threshold, " +
			"default 24 h, after they occurred; marked). Both event lists come with it, in stream order.",
		Errors: []int{http.StatusBadRequest, http.StatusNotFound},
	}, AuditReaders, recordedRead(r.s, "getAuditRecordAsOf", r.recordAsOf, func(in *recordAsOfInput, _ *recordAsOfOutput) []string { return []string{in.Stream} }))
	Register(r.s.api, huma.Operation{
		OperationID: "getAuditTrace", Method: http.MethodGet, Path: "/v1/audit/trace/{correlation_id}", Tags: tags,
		Summary:     "Everything one business transaction caused",
		Description: "Every logged event with this correlation ID, across streams, in log order, with its leaf index (prove each with the inclusion proof).",
		Errors:      []int{http.StatusBadRequest, http.StatusNotFound},
	}, AuditReaders, recordedRead(r.s, "getAuditTrace", r.trace, func(_ *traceInput, o *traceOutput) []string { return o.Body.Streams }))
}

type recordAsOfInput struct {
	Stream string    `path:"stream" maxLength:"256" doc:"Stream ID, <category>-<uuid>"`
	AsOf   time.Time `query:"as_of" required:"true" doc:"RFC 3339 time" example:"2026-03-31T23:59:59Z"`
}

// RecordAsOf is a record's history as known at a time.
type RecordAsOf struct {
	Stream    string    `json:"stream"`
	AsOf      time.Time `json:"as_of"`
	Aggregate string    `json:"aggregate,omitempty" doc:"The aggregate (stream category) whose evolve folded the states; absent for streams of no aggregate (no state then)"`
	// StateKnown is the state folded from Known; StateBusiness from Business.
	StateKnown    map[string]any `json:"state_known,omitempty" doc:"The record's state as known at as_of: Known folded by the aggregate (its getters, snake_case; null for unset)"`
	StateBusiness map[string]any `json:"state_business_time,omitempty" doc:"The record's state as of business time as_of: Business folded by the aggregate"`
	// Known: recorded at or before as_of, in stream order.
	Known []AuditEvent `json:"known" doc:"Events recorded at or before as_of: what the system knew then"`
	// Business: occurred at or before as_of (recorded-at when no occurred-at), whenever recorded.
	Business  []AuditEvent `json:"business_time" doc:"Events that had occurred by as_of in business time, whenever they were recorded (backdated facts included)"`
	Backdated int          `json:"backdated" doc:"How many events of the record are backdated"`
	Later     int          `json:"recorded_later" doc:"Events recorded after as_of"`
}

type recordAsOfOutput struct{ Body RecordAsOf }

func (r *auditRoutes) recordAsOf(ctx context.Context, in *recordAsOfInput) (*recordAsOfOutput, error) {
	if err := eventstore.ValidateStreamID(in.Stream); err != nil {
		return nil, err
	}
	events, err := r.s.opts.Store.ReadStream(ctx, in.Stream, eventstore.ReadStreamOptions{})
	if err != nil {
		return nil, err
	}
	tenant := tenantOf(ctx)
	out := RecordAsOf{Stream: in.Stream, AsOf: in.AsOf, Known: []AuditEvent{}, Business: []AuditEvent{}}
	var known, business []eventstore.RecordedEvent
	for _, e := range events {
		if e.Metadata.Tenant != tenant {
			continue
		}
		ae := r.auditEvent(e, nil)
		if ae.Backdated {
			out.Backdated++
		}
		if !e.RecordedAt.After(in.AsOf) {
			out.Known = append(out.Known, ae)
			known = append(known, e)
		} else {
			out.Later++
		}
		occurred := e.Metadata.OccurredAt
		if occurred.IsZero() {
			occurred = e.RecordedAt
		}
		if !occurred.After(in.AsOf) {
			out.Business = append(out.Business, ae)
			business = append(business, e)
		}
	}
	if len(out.Known)+out.Later == 0 {
		return nil, eventstore.ErrStreamNotFound // none of the caller's tenant
	}
	if out.StateKnown, out.Aggregate, err = foldedState(in.Stream, known); err != nil {
		return nil, err
	}
	if out.StateBusiness, _, err = foldedState(in.Stream, business); err != nil {
		return nil, err
	}
	return &recordAsOfOutput{Body: out}, nil
}

type traceInput struct {
	CorrelationID string `path:"correlation_id" doc:"Correlation ID of the business transaction (from a command's response or X-Correlation-ID)"`
}

// Trace is what one business transaction caused.
type Trace struct {
	CorrelationID string       `json:"correlation_id"`
	Events        []AuditEvent `json:"events"`
	Streams       []string     `json:"streams" doc:"The records it touched, in order of first touch"`
}

type traceOutput struct{ Body Trace }

// maxTrace bounds the events of one trace.
const maxTrace = 10000

func (r *auditRoutes) trace(ctx context.Context, in *traceInput) (*traceOutput, error) {
	id, err := uuid.Parse(in.CorrelationID)
	if err != nil {
		return nil, fmt.Errorf("correlation_id %q is not a UUID: %w", in.CorrelationID, auditlog.ErrBadRange)
	}
	tenant := tenantOf(ctx)
	recs, err := r.opts.Log.Leaves(ctx, auditlog.LeafQuery{From: 0, To: 1 << 62, Tenant: &tenant, CorrelationID: id, Limit: maxTrace})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("correlation %s: %w", id, auditlog.ErrNotFound)
	}
	out := Trace{CorrelationID: id.String(), Events: make([]AuditEvent, 0, len(recs)), Streams: []string{}}
	seen := map[string]bool{}
	for _, rec := range recs {
		e, err := audit.DecodeLeaf(rec.Leaf)
		if err != nil {
			return nil, errors.Join(errors.New("api: a stored leaf does not decode"), err)
		}
		idx := rec.Index
		e.Position = rec.Position
		out.Events = append(out.Events, r.auditEvent(e, &idx))
		if !seen[e.StreamID] {
			seen[e.StreamID] = true
			out.Streams = append(out.Streams, e.StreamID)
		}
	}
	return &traceOutput{Body: out}, nil
}
