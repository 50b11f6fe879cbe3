package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/evcrm/evcrm/api"
)

// The console reads everything through the JSON API, in process: the same
// operations, role checks, tenant scoping, validation and query functions
// as any API client, with the session's token. A refusal of the API is a
// refusal of the page.

// apiError is a problem answered by the API.
type apiError struct {
	Status int
	api.Problem
}

func (e *apiError) Error() string {
	return fmt.Sprintf("API %d: %s", e.Status, e.Detail)
}

// recorder is a minimal in-memory http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// get calls GET path?query on the API as the session and decodes the JSON
// answer into out.
func (c *Console) get(r *http.Request, s *session, path string, query url.Values, out any) error {
	rec, err := c.call(r, s, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("console: decoding %s: %w", path, err)
	}
	return nil
}

// call calls method path?query on the API as the session, with body (when
// not nil) as JSON, and returns the answer; a status of 300 or more is an
// *apiError.
func (c *Console) call(r *http.Request, s *session, method, path string, query url.Values, body any) (*recorder, error) {
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("console: encoding %s: %w", u, err)
		}
		rd = bytes.NewReader(b)
	}
	// A fresh routing context: the API routes the call from its root.
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, nil)
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("console: building %s: %w", u, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(api.CorrelationHeader, api.CorrelationID(r.Context()))
	req.Header.Set("Source-App", "console")
	rec := &recorder{header: http.Header{}}
	c.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 300 {
		e := &apiError{Status: rec.status}
		if err := json.Unmarshal(rec.body.Bytes(), &e.Problem); err != nil || e.Detail == "" {
			e.Detail = http.StatusText(rec.status)
		}
		return nil, e
	}
	return rec, nil
}

// statusOf is the HTTP status a page answers for err.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusBadRequest,
			http.StatusUnprocessableEntity, http.StatusConflict, http.StatusGatewayTimeout, http.StatusServiceUnavailable:
			return ae.Status
		}
	}
	return http.StatusInternalServerError
}
