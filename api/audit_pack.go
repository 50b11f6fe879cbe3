package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/audit/pack"
	"github.com/evcrm/evcrm/queries"
)

type auditPackInput struct {
	Body struct {
		From time.Time `json:"from" doc:"Start of the period (recorded-at, included), RFC 3339"`
		To   time.Time `json:"to" doc:"End of the period (excluded), RFC 3339"`
		// PreviousCheckpoint is the note the auditor kept from an earlier audit.
		PreviousCheckpoint string `json:"previous_checkpoint,omitempty" maxLength:"4096" doc:"The signed checkpoint you kept from your previous audit (its note): the pack then proves the log extends it"`
	}
}

type auditPackOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (r *auditRoutes) registerPack() {
	if r.opts.Queries == nil {
		return
	}
	Register(r.s.api, huma.Operation{
		OperationID: "exportAuditPack", Method: http.MethodPost, Path: "/v1/audit/packs", Tags: []string{"Audit"},
		Summary: "Export the audit pack of a period",
		Description: "A zip file (application/zip) for the auditor to check offline with `evcrm audit verify-pack pack.zip --key PUBKEY`: " +
			"the period's events of the caller's tenant as JSON Lines with leaf indexes and inclusion proofs, the signed checkpoint " +
			"(signed now) and public key, a consistency proof from previous_checkpoint, the quality report of the period as CSV and PDF, " +
			"and a signed manifest of SHA-256 sums (docs/audit.md). 409 audit_key_not_configured without a signing key. The export is recorded in the read log.",
		Errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity},
	}, AuditReaders, recordedRead(r.s, "exportAuditPack", r.exportPack, func(_ *auditPackInput, o *auditPackOutput) []string { return nil }))
}

func (r *auditRoutes) exportPack(ctx context.Context, in *auditPackInput) (*auditPackOutput, error) {
	p := queries.Period{From: in.Body.From, To: in.Body.To}
	if !p.From.Before(p.To) {
		return nil, fmt.Errorf("from must be before to: %w", auditlog.ErrBadRange)
	}
	var buf bytes.Buffer
	_, err := pack.Write(ctx, &buf, r.packSource(), pack.Options{Tenant: tenantOf(ctx), Period: p, Previous: []byte(in.Body.PreviousCheckpoint)})
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("evcrm-audit-pack-%s-%s.zip", p.From.UTC().Format("20060102"), p.To.UTC().Format("20060102"))
	return &auditPackOutput{ContentType: "application/zip", ContentDisposition: `attachment; filename="` + name + `"`, Body: buf.Bytes()}, nil
}

func (r *auditRoutes) packSource() pack.Source {
	return pack.Source{Log: r.opts.Log, Queries: r.opts.Queries, PublicKey: r.opts.PublicKey, BackdatedAfter: r.opts.BackdatedAfter}
}
