package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/apistore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

// CommandHeaders are the headers every command endpoint reads.
type CommandHeaders struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes the request safe to retry: the same key with the same request returns the original result without acting twice; the same key with another request is refused (422). Keys are kept 24 hours."`
	IfMatch        string `header:"If-Match" maxLength:"40" doc:"Optimistic concurrency: the stream version (as in the ETag, e.g. \"3\") the command is based on, or * for 'the aggregate exists' (404 if it does not). A version mismatch is refused with 412 and the current version."`
	OccurredAt     string `header:"Occurred-At" maxLength:"64" doc:"When the fact happened in the world (RFC 3339), if earlier than now, e.g. a call logged afterwards. Default: now."`
	SourceApp      string `header:"Source-App" maxLength:"100" doc:"The app sending the command, recorded on the events (default: api). Names of evcrm's own processes (evcrm, system:...) are refused (422)."`
}

// The body is read as raw JSON: huma validates it against the command's
// schema (the operation's request body), then handle decodes it into the
// command's Go type.
type commandInput struct {
	CommandHeaders
	ID   string `path:"id" format:"uuid" doc:"ID of the resource the command is about"`
	Body *json.RawMessage
}

type createInput struct {
	CommandHeaders
	Body *json.RawMessage
}

// CommandResult is the response to every command.
type CommandResult struct {
	Stream        string      `json:"stream" doc:"Stream the events were appended to" example:"case-0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b"`
	ID            uuid.UUID   `json:"id" doc:"ID of the aggregate"`
	Version       uint64      `json:"version" doc:"Stream version after the command (use it in If-Match)"`
	Position      string      `json:"position" doc:"Global position of the last event, commit/prepare" example:"10452/10452"`
	EventIDs      []uuid.UUID `json:"event_ids" doc:"IDs of the events recorded, in order (empty if the command changed nothing)"`
	CorrelationID string      `json:"correlation_id" doc:"Correlation ID stamped on the events"`
}

type commandOutput struct {
	Status   int
	ETag     string `header:"ETag" doc:"Stream version after the command"`
	Location string `header:"Location" doc:"The stream of the created aggregate"`
	Replayed string `header:"Idempotent-Replayed" doc:"true when this is the stored result of an earlier request with the same Idempotency-Key"`
	Body     CommandResult
}

// registerCommands adds an endpoint for every route of every command of
// the catalogues, in order.
func (s *Server) registerCommands() {
	for _, c := range s.opts.Commands {
		for _, spec := range c.Commands {
			for _, r := range spec.Routes {
				registerCommand(s, []string{c.Tag}, spec, r)
			}
		}
	}
}

// registerCommand adds the endpoint r of the command of spec. It panics on a
// route that does not fit its command (programmer error, found at start-up).
func registerCommand(s *Server, tags []string, spec commands.Spec, r commands.Route) {
	t := reflect.TypeOf(spec.Command)
	if r.OperationID == "" || r.Path == "" {
		panic(fmt.Sprintf("api: command %s: route needs an operation ID and a path", t))
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("api: command %s must be a struct type", t))
	}
	typ := spec.Command.CommandType()
	idField := aggregateIDField(t)
	hasPathID := strings.Contains(r.Path, "{id}")
	pathField := r.PathField
	if pathField == "" && hasPathID {
		pathField = idField.json
	}
	var pathIdx []int
	if hasPathID {
		f, ok := uuidFieldByJSON(t, pathField)
		if !ok {
			panic(fmt.Sprintf("api: %s: command %s has no UUID field %q for the path's {id}", r.OperationID, typ, pathField))
		}
		pathIdx = f.index
	} else if pathField != "" {
		panic(fmt.Sprintf("api: %s: PathField set but the path has no {id}", r.OperationID))
	}
	if r.Creates && idField.index == nil {
		panic(fmt.Sprintf("api: %s: cannot tell which field of %s holds the aggregate ID", r.OperationID, typ))
	}
	if !r.Creates && !hasPathID {
		panic(fmt.Sprintf("api: %s: a command on an existing aggregate needs {id} in its path", r.OperationID))
	}
	// The body schema: the command's, minus the field the path fills, with
	// the aggregate ID optional for creations.
	hapi := s.api
	registry := hapi.OpenAPI().Components.Schemas
	schema := huma.SchemaFromType(registry, t)
	if schema.Type != huma.TypeObject {
		panic(fmt.Sprintf("api: command %s does not map to a JSON object", typ))
	}
	props := make(map[string]*huma.Schema, len(schema.Properties))
	for k, v := range schema.Properties {
		if !slices.Contains(r.Hidden, k) {
			props[k] = v
		}
	}
	var hidden [][]int
	for _, k := range r.Hidden {
		f, ok := fieldByJSON(t, k)
		if !ok || k == pathField || k == idField.json {
			panic(fmt.Sprintf("api: %s: cannot hide field %q of %s", r.OperationID, k, typ))
		}
		hidden = append(hidden, f.index)
	}
	schema.Properties = props
	if pathField != "" {
		d := *props[pathField]
		d.Description = "Optional: the {id} of the path. If given, it must be the same."
		props[pathField] = &d
	}
	schema.Required = slices.DeleteFunc(slices.Clone(schema.Required), func(k string) bool {
		return k == pathField || (r.Creates && k == idField.json) || slices.Contains(r.Optional, k) || slices.Contains(r.Hidden, k)
	})
	for _, k := range r.Optional {
		if schema.Properties[k] == nil {
			panic(fmt.Sprintf("api: %s: optional field %q is not in %s", r.OperationID, k, typ))
		}
	}
	if r.Creates && schema.Properties[idField.json] != nil {
		d := *schema.Properties[idField.json]
		d.Description = "Client-chosen ID (idempotent creation). Omit it to let the server make one."
		schema.Properties[idField.json] = &d
	}
	schema.Description = fmt.Sprintf("The %s command.", typ)
	setEnums(schema, t)
	schema.PrecomputeMessages()
	name := strings.ToUpper(r.OperationID[:1]) + r.OperationID[1:] + "Request"
	if _, dup := registry.Map()[name]; dup {
		panic(fmt.Sprintf("api: %s: schema %s registered twice (duplicate operation ID?)", r.OperationID, name))
	}
	registry.Map()[name] = schema
	ref := &huma.Schema{Ref: schemaPrefix + name}

	status := http.StatusOK
	if r.Creates {
		status = http.StatusCreated
	}
	op := huma.Operation{
		OperationID:   r.OperationID,
		Method:        http.MethodPost,
		Path:          r.Path,
		Summary:       r.Summary,
		Description:   r.Description,
		Tags:          tags,
		DefaultStatus: status,
		MaxBodyBytes:  s.opts.MaxBodyBytes + 1, // the router's limit applies first
		RequestBody: &huma.RequestBody{
			Required: len(schema.Required) > 0,
			Content:  map[string]*huma.MediaType{"application/json": {Schema: ref}},
		},
		Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity},
		Extensions: map[string]any{"x-evcrm-command": typ},
	}

	h := &commandHandler{s: s, typ: t, route: r, idIdx: idField.index, pathIdx: pathIdx, pathJSON: pathField, hidden: hidden, status: status}
	if hasPathID {
		Register(hapi, op, spec.Roles, func(ctx context.Context, in *commandInput) (*commandOutput, error) {
			id, err := uuid.Parse(in.ID)
			if err != nil {
				return nil, domain.InvalidField("id", "must be a UUID")
			}
			return h.handle(ctx, in.CommandHeaders, id, in.Body)
		})
		return
	}
	Register(hapi, op, spec.Roles, func(ctx context.Context, in *createInput) (*commandOutput, error) {
		return h.handle(ctx, in.CommandHeaders, uuid.Nil, in.Body)
	})
}

type commandHandler struct {
	s        *Server
	typ      reflect.Type // the command's Go type
	route    commands.Route
	idIdx    []int // the aggregate ID field
	pathIdx  []int // the field the path's {id} fills
	pathJSON string
	hidden   [][]int // fields only the server sets
	status   int
}

func (h *commandHandler) handle(ctx context.Context, hdr CommandHeaders, pathID uuid.UUID, body *json.RawMessage) (*commandOutput, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, auth.ErrUnauthenticated
	}
	v := reflect.New(h.typ).Elem()
	if body != nil && len(*body) > 0 {
		if err := json.Unmarshal(*body, v.Addr().Interface()); err != nil {
			// The schema admitted it, so this is a value the Go type cannot hold.
			return nil, &domain.Error{Kind: domain.KindValidation, Code: "malformed_command", Message: "malformed request body: " + err.Error()}
		}
	}
	for _, idx := range h.hidden {
		f := v.FieldByIndex(idx)
		f.Set(reflect.Zero(f.Type()))
	}
	if h.pathIdx != nil {
		f := v.FieldByIndex(h.pathIdx)
		if id := f.Interface().(uuid.UUID); id != uuid.Nil && id != pathID {
			return nil, domain.InvalidField(h.pathJSON, "must be the ID of the path, or left out")
		}
		f.Set(reflect.ValueOf(pathID))
	}
	if err := checkSourceApp(hdr.SourceApp); err != nil {
		return nil, err
	}
	cmd := v.Interface().(domain.Command)
	expected, err := parseIfMatch(hdr.IfMatch)
	if err != nil {
		return nil, err
	}
	var occurredAt time.Time
	if hdr.OccurredAt != "" {
		if occurredAt, err = time.Parse(time.RFC3339Nano, hdr.OccurredAt); err != nil {
			return nil, domain.InvalidField("occurred_at", "must be an RFC 3339 time")
		}
	}

	scope := apistore.Scope{Tenant: p.Tenant, Principal: p.Name}
	key := hdr.IdempotencyKey
	var commandID uuid.UUID // none: the command side makes one
	if key != "" {
		commandID = commands.CommandIDFromScopedKey(p.Tenant, p.Name, key)
		hash, err := requestHash(h.route.OperationID, pathID, hdr, cmd)
		if err != nil {
			return nil, err
		}
		res, err := h.s.opts.Keys.Reserve(ctx, scope, key, h.route.OperationID, hash)
		if err != nil {
			return nil, err
		}
		if !res.Claimed {
			if res.Status == 0 && res.Operation == h.route.OperationID && bytes.Equal(res.RequestHash, hash) {
				// Still in flight, or its response was lost after its
				// events were appended: then the events tell the result.
				out, ok, err := h.recorded(ctx, hdr, cmd, commandID)
				if err != nil {
					return nil, err
				}
				if ok {
					h.complete(ctx, scope, key, out)
					return out, nil
				}
			}
			return h.replay(res, hash)
		}
		done := false
		defer func() {
			if !done {
				// Failed: forget the key so the client may retry it.
				if err := h.s.opts.Keys.Release(context.WithoutCancel(ctx), scope, key); err != nil {
					Logger(ctx).ErrorContext(ctx, "releasing idempotency key", errAttr(err))
				}
			}
		}()
		out, err := h.dispatch(ctx, p, hdr, cmd, commandID, expected, occurredAt)
		if err != nil {
			return nil, err
		}
		h.complete(ctx, scope, key, out)
		done = true
		return out, nil
	}
	return h.dispatch(ctx, p, hdr, cmd, commandID, expected, occurredAt)
}

// complete stores the response of an idempotent request. Failing is
// logged, not returned: the command is recorded, and a retry finds its
// events (recorded).
func (h *commandHandler) complete(ctx context.Context, scope apistore.Scope, key string, out *commandOutput) {
	stored, err := json.Marshal(out.Body)
	if err == nil {
		complete := h.s.opts.Keys.Complete
		if rk, ok := h.s.opts.Keys.(recordedKeys); ok && len(out.Body.EventIDs) > 0 {
			complete = rk.CompleteRecorded // the events are durable: the response need not wait for a sync
		}
		err = complete(context.WithoutCancel(ctx), scope, key, out.Status, stored)
	}
	if err != nil {
		Logger(ctx).ErrorContext(ctx, "storing idempotent response", errAttr(err))
	}
}

// recordedKeys is a key store that can store the response of a request
// whose events were appended without waiting for a sync
// (apistore.Keys.CompleteRecorded).
type recordedKeys interface {
	CompleteRecorded(ctx context.Context, scope apistore.Scope, key string, status int, response []byte) error
}

// prepare fills in the ID of an aggregate a command creates when the
// client gave none: derived from the command ID (a retry creates the same
// aggregate), or new without an idempotency key.
func (h *commandHandler) prepare(hdr CommandHeaders, cmd domain.Command, commandID uuid.UUID) domain.Command {
	if !h.route.Creates {
		return cmd
	}
	v := reflect.New(h.typ).Elem()
	v.Set(reflect.ValueOf(cmd))
	f := v.FieldByIndex(h.idIdx)
	if f.Interface().(uuid.UUID) == uuid.Nil {
		id := commands.AggregateIDFor(commandID)
		if hdr.IdempotencyKey == "" {
			id = uuid.Must(uuid.NewV7())
		}
		f.Set(reflect.ValueOf(id))
		cmd = v.Interface().(domain.Command)
	}
	return cmd
}

// recorded returns the result of the command commandID when its events
// are in the store (its response was lost before it could be kept).
func (h *commandHandler) recorded(ctx context.Context, hdr CommandHeaders, cmd domain.Command, commandID uuid.UUID) (*commandOutput, bool, error) {
	res, ok, err := h.s.opts.Dispatcher.Recorded(ctx, h.prepare(hdr, cmd, commandID), commandID)
	if err != nil || !ok {
		return nil, false, err
	}
	return h.result(ctx, res), true, nil
}

func (h *commandHandler) dispatch(ctx context.Context, p auth.Principal, hdr CommandHeaders, cmd domain.Command, commandID uuid.UUID,
	expected eventstore.ExpectedVersion, occurredAt time.Time) (*commandOutput, error) {
	cmd = h.prepare(hdr, cmd, commandID)
	source := strings.TrimSpace(hdr.SourceApp)
	if source == "" {
		source = h.s.opts.DefaultSource
	}
	meta := commands.Metadata{
		CommandID:     commandID,
		CorrelationID: correlationUUID(ctx),
		Actor:         p.Name,
		Role:          string(p.Role),
		Source:        source,
		Tenant:        p.Tenant,
		OccurredAt:    occurredAt,
		Expected:      expected,
	}
	res, err := h.s.opts.Dispatcher.Dispatch(ctx, cmd, meta)
	if err != nil {
		return nil, err
	}
	return h.result(ctx, res), nil
}

func (h *commandHandler) result(ctx context.Context, res commands.Result) *commandOutput {
	body := CommandResult{
		Stream:        res.StreamID,
		ID:            res.AggregateID,
		Version:       res.Version,
		Position:      res.Position.String(),
		EventIDs:      res.EventIDs,
		CorrelationID: CorrelationID(ctx),
	}
	if body.EventIDs == nil {
		body.EventIDs = []uuid.UUID{}
	}
	return h.output(h.status, body, res.Replayed)
}

func (h *commandHandler) output(status int, body CommandResult, replayed bool) *commandOutput {
	out := &commandOutput{Status: status, ETag: etag(body.Version), Body: body}
	if h.route.Creates {
		out.Location = "/v1/streams/" + body.Stream
	}
	if replayed {
		out.Replayed = "true"
	}
	return out
}

// replay answers a request whose Idempotency-Key is held already.
func (h *commandHandler) replay(res apistore.Reservation, hash []byte) (*commandOutput, error) {
	if res.Operation != h.route.OperationID || !bytes.Equal(res.RequestHash, hash) {
		return nil, errKeyReused
	}
	if res.Status == 0 {
		return nil, errKeyInFlight
	}
	var body CommandResult
	if err := json.Unmarshal(res.Response, &body); err != nil {
		return nil, fmt.Errorf("decoding stored response: %w", err)
	}
	return h.output(res.Status, body, true), nil
}

// requestHash identifies a request for idempotency: the operation, the path
// ID, the headers that change its meaning and the command as decoded (so
// white space and key order do not matter).
func requestHash(operation string, pathID uuid.UUID, hdr CommandHeaders, cmd any) ([]byte, error) {
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("hashing request: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00", operation, pathID, hdr.IfMatch, hdr.OccurredAt, hdr.SourceApp)
	h.Write(b)
	return h.Sum(nil), nil
}

// checkSourceApp refuses a Source-App that claims to be evcrm itself: the
// system actors ("system:sla-watcher"...) and their source "evcrm" are only
// ever set by evcrm's own process managers.
func checkSourceApp(v string) error {
	s := strings.ToLower(strings.TrimSpace(v))
	if strings.HasPrefix(s, "system:") || strings.HasPrefix(s, "system ") || s == "system" || s == "evcrm" || strings.HasPrefix(s, "evcrm:") {
		return domain.InvalidField("Source-App", "names one of evcrm's own processes (system:..., evcrm); only evcrm sets those")
	}
	return nil
}

// parseIfMatch reads If-Match: "3", 3, W/"3" or *.
func parseIfMatch(s string) (eventstore.ExpectedVersion, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return eventstore.Any, nil
	case "*":
		return eventstore.StreamExists, nil
	}
	s = strings.TrimPrefix(s, "W/")
	s = strings.Trim(s, `"`)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return eventstore.Any, errBadIfMatch
	}
	return eventstore.Exact(v), nil
}

func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

type field struct {
	index []int
	json  string
}

// aggregateIDField finds the UUID field of command type t whose value
// AggregateID returns, by putting a distinct marker in each (embedded
// structs included).
func aggregateIDField(t reflect.Type) field {
	v := reflect.New(t).Elem()
	marks := map[uuid.UUID]field{}
	for _, f := range uuidFields(t) {
		m := uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(f.index)))
		v.FieldByIndex(f.index).Set(reflect.ValueOf(m))
		marks[m] = f
	}
	return marks[v.Interface().(domain.Command).AggregateID()]
}

func fieldByJSON(t reflect.Type, name string) (field, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if f.IsExported() && !f.Anonymous && jsonName(f) == name {
			return field{index: f.Index, json: name}, true
		}
	}
	return field{}, false
}

func uuidFieldByJSON(t reflect.Type, name string) (field, bool) {
	for _, f := range uuidFields(t) {
		if f.json == name {
			return f, true
		}
	}
	return field{}, false
}

// uuidFields lists the JSON-visible uuid.UUID fields of a struct, promoted
// fields of embedded structs included.
func uuidFields(t reflect.Type) []field {
	var out []field
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Type != reflect.TypeFor[uuid.UUID]() || jsonName(f) == "-" {
			continue
		}
		out = append(out, field{index: f.Index, json: jsonName(f)})
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}
