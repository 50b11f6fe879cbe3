package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/importer"
)

// DefaultMaxImportBytes is the default of Options.MaxImportBytes.
const DefaultMaxImportBytes = 8 << 20

// importPath is the prefix of the CSV import batch endpoint.
const importPath = "/v1/import/"

// importDeadline is how long an import batch may take to read and answer
// (the server's usual read and write timeouts are 30 s and 60 s).
const importDeadline = 15 * time.Minute

type importInput struct {
	SourceApp string `header:"Source-App" maxLength:"100" doc:"The app sending the file, recorded on the events (default: import)."`
	RawBody   []byte `contentType:"text/csv" required:"true"`
}

type importOutput struct {
	Body importer.Report
}

// isImport reports whether r is a CSV import batch.
func isImport(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, importPath)
}

// extendDeadlines gives an import batch longer than the server's timeouts.
func extendDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	at := time.Now().Add(importDeadline)
	_ = rc.SetReadDeadline(at)
	_ = rc.SetWriteDeadline(at)
}

// registerImport adds POST /v1/import/{customers,leads,opportunities,cases}:
// a CSV file of another system's records, imported row by row through the
// command handlers as the caller (evcrm import FILE over HTTP). Each admits
// the roles that may create its kind of record.
func (s *Server) registerImport() {
	for _, k := range importer.Kinds {
		roles := importer.Roles(s.opts.Commands, k)
		if len(roles) == 0 {
			continue // no catalogue of that aggregate: nothing to import through
		}
		Register(s.api, huma.Operation{
			OperationID: "import" + strings.ToUpper(string(k[:1])) + string(k[1:]), Method: http.MethodPost, Path: importPath + string(k),
			Tags:    []string{"Import"},
			Summary: "Import " + string(k) + " from a CSV file",
			Description: "Imports the rows of a CSV file (UTF-8, a header row naming the columns; BOM and CRLF are fine) as the commands a user " +
				"would send, as the caller, with each command's validation and roles. " +
				"created_at (and a case's resolved_at and closed_at) become the events' occurred-at, within the backdating window. " +
				"Idempotent: each record's ID derives from the tenant, the kind and external_id, so sending the same file again records nothing " +
				"(its rows count as unchanged); opportunities and cases find their customer by customer_external_id. " +
				"Rows that are refused are listed in the response with the reason while the others go in; the answer is 200 unless the file " +
				"as a whole is unusable (wrong columns: 422). The body is bounded (EVCRM_MAX_IMPORT_BYTES, default 8 MiB); `evcrm import` " +
				"takes larger files. Columns (* required): " + strings.Join(importer.Columns(k), ", ") + ".",
			MaxBodyBytes: s.opts.MaxImportBytes + 1, // the router's limit applies first
			Errors:       []int{http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity},
		}, roles, func(ctx context.Context, in *importInput) (*importOutput, error) {
			return s.importCSV(ctx, k, in)
		})
	}
}

func (s *Server) importCSV(ctx context.Context, kind importer.Kind, in *importInput) (*importOutput, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, auth.ErrUnauthenticated
	}
	if err := checkSourceApp(in.SourceApp); err != nil {
		return nil, err
	}
	source := strings.TrimSpace(in.SourceApp)
	if source == "" {
		source = "import"
	}
	rep, err := importer.Run(ctx, importer.Config{
		Dispatcher: s.opts.Dispatcher,
		Catalogues: s.opts.Commands,
		Tenant:     p.Tenant,
		Actor:      p.Name,
		Role:       p.Role,
		Source:     source,
	}, kind, bytes.NewReader(in.RawBody))
	if err != nil {
		return nil, err
	}
	return &importOutput{Body: rep}, nil
}
