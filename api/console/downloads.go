package console

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/evcrm/evcrm/audit/pack"
)

// Downloads of a period's audit pack and quality report PDF. Both are POST
// forms (with the session's CSRF token) that call POST /v1/audit/packs in
// process as the session: the API checks the role (auditor, admin), scopes
// the pack to the token's tenant and records the export in the read log.
// The PDF is the pack's report/quality-report.pdf, so the PDF on screen is
// the one the auditor verifies in the pack. The quality role does not get
// it: the report also lists backdated facts from the transparency log,
// which only auditors and admins may read.

// auditPack answers the period's audit pack (zip) as an attachment.
func (c *Console) auditPack(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, zipped, err := c.exportPack(r, s)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("evcrm-audit-pack_%s_%s.zip", day(from), day(to.AddDate(0, 0, -1)))
	download(w, "application/zip", name, zipped)
	return nil
}

// qualityPDF answers the period's quality report as a PDF attachment.
func (c *Console) qualityPDF(w http.ResponseWriter, r *http.Request, s *session) error {
	from, to, zipped, err := c.exportPack(r, s)
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return fmt.Errorf("console: reading the audit pack: %w", err)
	}
	f, err := zr.Open(pack.ReportPDFFile)
	if err != nil {
		return fmt.Errorf("console: the audit pack has no %s: %w", pack.ReportPDFFile, err)
	}
	defer f.Close()
	pdf, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("console: reading %s: %w", pack.ReportPDFFile, err)
	}
	name := fmt.Sprintf("quality-report_%s_%s.pdf", day(from), day(to.AddDate(0, 0, -1)))
	download(w, "application/pdf", name, pdf)
	return nil
}

// exportPack calls POST /v1/audit/packs for the form's period (from= and
// to=, dates, to inclusive).
func (c *Console) exportPack(r *http.Request, s *session) (from, to time.Time, zipped []byte, err error) {
	if from, to, err = c.reportPeriod(r); err != nil {
		return from, to, nil, err
	}
	body := map[string]any{"from": from.UTC().Format(time.RFC3339), "to": to.UTC().Format(time.RFC3339)}
	rec, err := c.call(r, s, http.MethodPost, "/v1/audit/packs", nil, body)
	if err != nil {
		return from, to, nil, err
	}
	if ct := rec.header.Get("Content-Type"); ct != "application/zip" {
		return from, to, nil, fmt.Errorf("console: the audit pack came as %q, not application/zip", ct)
	}
	return from, to, rec.body.Bytes(), nil
}

func download(w http.ResponseWriter, contentType, name string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
