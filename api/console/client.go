package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	// A fresh routing context: the API routes the call from its root.
	ctx := context.WithValue(r.Context(), chi.RouteCtxKey, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("console: building %s: %w", u, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
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
		return e
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("console: decoding %s: %w", path, err)
	}
	return nil
}

// statusOf is the HTTP status a page answers for err.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusBadRequest,
			http.StatusUnprocessableEntity, http.StatusGatewayTimeout, http.StatusServiceUnavailable:
			return ae.Status
		}
	}
	return http.StatusInternalServerError
}
