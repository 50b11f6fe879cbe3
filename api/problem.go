package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/projections"
	"github.com/jackc/pgx/v5/pgconn"
)

// Problem is every error response: RFC 9457 problem details, with evcrm's
// extension members. It never carries stack traces, SQL or internal error
// text: a 5xx says only that something failed and which correlation ID to
// quote.
type Problem struct {
	Type     string `json:"type,omitempty" format:"uri-reference" doc:"A URI reference that identifies the problem type" default:"about:blank"`
	Title    string `json:"title,omitempty" doc:"Short summary of the problem type" example:"Conflict"`
	Status   int    `json:"status,omitempty" doc:"HTTP status code" example:"409"`
	Detail   string `json:"detail,omitempty" doc:"Explanation of this occurrence" example:"case is closed"`
	Instance string `json:"instance,omitempty" format:"uri-reference" doc:"The request, as urn:uuid:<correlation id>"`
	// Code is a stable machine-readable identifier ("case_closed",
	// "requirements_not_reviewed", "precondition_failed"...).
	Code string `json:"code,omitempty" doc:"Stable, machine-readable error code" example:"case_closed"`
	// CurrentVersion is the stream's version, on 409 and 412 responses to
	// commands, so the client can reload and retry.
	CurrentVersion *uint64 `json:"current_version,omitempty" doc:"Current version of the stream (concurrency and precondition failures)"`
	CorrelationID  string  `json:"correlation_id,omitempty" doc:"Correlation ID of the request (also in the X-Correlation-ID header)"`
	// Errors name the fields at fault, e.g. location "body.lines[2].quantity".
	Errors []*huma.ErrorDetail `json:"errors,omitempty" doc:"Individual problems, with the location of the field at fault"`

	headers http.Header
}

func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders implements huma.HeadersError.
func (p *Problem) GetHeaders() http.Header { return p.headers }

// ContentType implements huma.ContentTypeFilter: problems are
// application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// maxEchoedValue bounds the values a problem echoes back to the client.
const maxEchoedValue = 200

// newProblem builds a problem; it replaces huma.NewError so that huma's own
// errors (validation, malformed JSON, body too large) look like ours.
func newProblem(status int, detail string, errs ...error) *Problem {
	for _, err := range errs {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status, detail, errs = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit), nil
			break
		}
	}
	p := &Problem{Status: status, Title: http.StatusText(status), Detail: detail, Code: defaultCodes[status]}
	if status >= 500 {
		// Internal errors stay in the logs.
		if status == http.StatusInternalServerError {
			p.Detail = "internal error; quote the correlation ID when reporting it"
		}
		return p
	}
	if status == http.StatusBadRequest && detail == "validation failed" {
		p.Detail = "the request body is not valid JSON"
	}
	if status == http.StatusRequestEntityTooLarge && strings.HasPrefix(detail, "request body is too large") {
		p.Detail = "request body is too large"
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d *huma.ErrorDetail
		if dd, ok := err.(huma.ErrorDetailer); ok {
			c := *dd.ErrorDetail()
			d = &c
		} else {
			d = &huma.ErrorDetail{Message: err.Error()}
		}
		d.Value = echo(d.Location, d.Value)
		p.Errors = append(p.Errors, d)
	}
	return p
}

// defaultCodes name the problems huma reports by itself.
var defaultCodes = map[int]string{
	http.StatusBadRequest:            "malformed_request",
	http.StatusNotFound:              "not_found",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "validation_failed",
	http.StatusInternalServerError:   "internal",
}

// echo trims a value echoed in an error detail: only short scalars, never
// the body or an object.
func echo(location string, v any) any {
	switch v := v.(type) {
	case string:
		if location == "body" || len(v) > maxEchoedValue {
			return nil
		}
		return v
	case bool, float64, float32, int, int64, uint64, json.Number:
		return v
	}
	return nil
}

func init() {
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return newProblem(status, msg, errs...)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		p := newProblem(status, msg, errs...)
		if ctx != nil {
			p.setCorrelation(ctx.Context())
		}
		return p
	}
}

func (p *Problem) setCorrelation(ctx context.Context) {
	if id := CorrelationID(ctx); id != "" {
		p.CorrelationID = id
		p.Instance = "urn:uuid:" + id
	}
}

// Errors of the HTTP layer itself.
var (
	errKeyReused   = errors.New("idempotency key was used for a different request")
	errKeyInFlight = errors.New("a request with this idempotency key is still being handled")
	errBadIfMatch  = errors.New(`If-Match must be a stream version ("3", 3) or *`)
	// errUnavailable marks errors of a dependency that is down or
	// unreachable (the database); see unavailable.
	errUnavailable = errors.New("a service evcrm depends on is unavailable")
)

// retryAfterSeconds is the Retry-After of every 503.
const retryAfterSeconds = "2"

// unavailable reports whether err says that the database (or another
// dependency) cannot be reached now, as opposed to refusing the request:
// no connection, a dropped one, a server shutting down or starting up.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: shutdown, crash
		// recovery, not yet accepting connections; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// errorTable is THE mapping from errors to HTTP status: the first row whose
// target matches (errors.Is) wins. Domain errors match by kind; a bare or
// unknown error is a 500.
var errorTable = []struct {
	target error
	status int
	code   string // used when the error carries no code of its own
}{
	{auth.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{auth.ErrForbidden, http.StatusForbidden, "forbidden"},
	{domain.ErrValidation, http.StatusUnprocessableEntity, "validation_failed"},
	{domain.ErrNotFound, http.StatusNotFound, "not_found"},
	{domain.ErrConflict, http.StatusConflict, "conflict"},
	{domain.ErrAlreadyExists, http.StatusConflict, "already_exists"},
	{commands.ErrPreconditionFailed, http.StatusPreconditionFailed, "precondition_failed"},
	{eventstore.ErrWrongExpectedVersion, http.StatusConflict, "concurrency_conflict"},
	{eventstore.ErrDuplicateEventID, http.StatusConflict, "duplicate_command"},
	{eventstore.ErrStreamNotFound, http.StatusNotFound, "stream_not_found"},
	{eventstore.ErrInvalidStreamID, http.StatusBadRequest, "invalid_stream_id"},
	{errKeyReused, http.StatusUnprocessableEntity, "idempotency_key_reused"},
	{errKeyInFlight, http.StatusConflict, "idempotency_key_in_flight"},
	{errBadIfMatch, http.StatusBadRequest, "invalid_if_match"},
	{projections.ErrNotCaughtUp, http.StatusGatewayTimeout, "read_model_behind"},
	{projections.ErrNotReady, http.StatusServiceUnavailable, "read_model_not_ready"},
	{auditlog.ErrNotFound, http.StatusNotFound, "not_in_audit_log"},
	{auditlog.ErrBadRange, http.StatusBadRequest, "outside_audit_log"},
	{auditlog.ErrNoKey, http.StatusConflict, "audit_key_not_configured"},
	{ErrReadNotRecorded, http.StatusServiceUnavailable, "read_not_recorded"},
	{eventstore.ErrClosed, http.StatusServiceUnavailable, "unavailable"},
	{errUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "timeout"},
	{context.Canceled, http.StatusServiceUnavailable, "canceled"},
}

// ToProblem maps any error to the problem the client sees, by the one
// table. 5xx errors are logged with the request's correlation ID; their
// text never reaches the client.
func ToProblem(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var se huma.StatusError
	if errors.As(err, &se) {
		// A huma error built elsewhere (huma.Error404NotFound(...)).
		p = newProblem(se.GetStatus(), se.Error())
		p.setCorrelation(ctx)
		return p
	}
	status, code := statusOf(err)
	if status == http.StatusInternalServerError && unavailable(err) {
		err = fmt.Errorf("%w: %w", errUnavailable, err)
		status, code = statusOf(err)
	}
	p = newProblem(status, err.Error())
	p.Code = code
	p.setCorrelation(ctx)

	var de *domain.Error
	if errors.As(err, &de) && status < 500 {
		p.Detail = de.Message
		if de.Code != "" {
			p.Code = de.Code
		}
		for _, f := range de.Fields {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Message: f.Message, Location: fieldLocation(f.Field)})
		}
	}
	if v, ok := commands.CurrentVersion(err); ok {
		p.CurrentVersion = &v
		if status == http.StatusPreconditionFailed {
			p.Detail = fmt.Sprintf("the stream is at version %d", v)
		} else if status == http.StatusConflict && errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			p.Detail = fmt.Sprintf("the stream kept changing concurrently (now at version %d); retry", v)
		}
	}
	switch status {
	case http.StatusUnauthorized:
		p.headers = http.Header{"WWW-Authenticate": {`Bearer realm="evcrm"`}}
		if !errors.Is(err, errNoCredentials) {
			p.headers.Set("WWW-Authenticate", `Bearer realm="evcrm", error="invalid_token"`)
		}
		p.Detail = "a valid bearer token is required"
	case http.StatusForbidden:
		p.Detail = "your role may not use this operation"
	case http.StatusConflict:
		if errors.Is(err, eventstore.ErrDuplicateEventID) {
			p.Detail = "this command's ID (idempotency key) was already used for another command"
		}
	case http.StatusServiceUnavailable:
		p.Detail = "the service cannot handle the request now; retry later"
		p.headers = http.Header{"Retry-After": {retryAfterSeconds}}
	}
	if status < 500 && (errors.Is(err, errKeyReused) || errors.Is(err, errKeyInFlight) || errors.Is(err, errBadIfMatch)) {
		p.Detail = err.Error()
	}
	if status >= 500 {
		Logger(ctx).LogAttrs(ctx, levelFor(status), "request failed", errAttr(err))
	}
	return p
}

// statusOf looks err up in errorTable; no row: 500.
func statusOf(err error) (int, string) {
	for _, row := range errorTable {
		if errors.Is(err, row.target) {
			return row.status, row.code
		}
	}
	return http.StatusInternalServerError, "internal"
}

// fieldLocation turns a domain field path into huma's location form.
func fieldLocation(field string) string {
	switch field {
	case "occurred_at":
		return "header.Occurred-At"
	case "Source-App":
		return "header.Source-App"
	case "":
		return "body"
	}
	for _, in := range []string{"path.", "query.", "header."} {
		if strings.HasPrefix(field, in) {
			return field
		}
	}
	return "body." + field
}
