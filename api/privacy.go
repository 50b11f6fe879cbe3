package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/privacy"
)

// PrivacyOptions configure the right-of-access operation.
type PrivacyOptions struct {
	Exporter privacy.Exporter
}

// ExportReaders may export what is held about a person: the data
// protection officer acts as admin.
var ExportReaders = []auth.Role{auth.Admin}

type exportInput struct {
	ID     uuid.UUID `path:"id"`
	Format string    `query:"format" enum:"json,html" default:"json" doc:"json: machine-readable; html: a readable document."`
}

type exportOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// RegisterPrivacy adds GET /v1/customers/{id}/export (GDPR art. 15).
func RegisterPrivacy(s *Server, opts PrivacyOptions) error {
	if opts.Exporter.Pool == nil || opts.Exporter.Store == nil {
		return errors.New("api: the exporter needs a pool and a store")
	}
	Register(s.api, huma.Operation{
		OperationID: "exportCustomerData", Method: http.MethodGet, Path: "/v1/customers/{id}/export", Tags: []string{"Customers"},
		Summary: "Everything held about a customer (right of access)",
		Description: "The customer's events and those of every record about it (leads, interactions, cases, complaints, feedback, orders), " +
			"with personal fields decrypted (or null where erased), the read-model rows about it and its consent history: " +
			"as JSON, or as a readable HTML document (format=html). See docs/privacy.md.",
		Errors: []int{http.StatusNotFound},
	}, ExportReaders, func(ctx context.Context, in *exportInput) (*exportOutput, error) {
		p, _ := auth.FromContext(ctx)
		e, err := opts.Exporter.Export(ctx, p.Tenant, in.ID)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		name := "customer-" + in.ID.String() + "-export"
		if in.Format == "html" {
			if err := e.HTML(&b); err != nil {
				return nil, err
			}
			return &exportOutput{ContentType: "text/html; charset=utf-8", ContentDisposition: `inline; filename="` + name + `.html"`, Body: b.Bytes()}, nil
		}
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(e); err != nil {
			return nil, err
		}
		return &exportOutput{ContentType: "application/json", ContentDisposition: `attachment; filename="` + name + `.json"`, Body: b.Bytes()}, nil
	})
	return nil
}
