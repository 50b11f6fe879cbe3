package pack

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/go-pdf/fpdf"

	"github.com/evcrm/evcrm/queries"
)

// QualityReportPDF renders the quality report of tenant for period p as a
// PDF (what the audit pack holds as report/quality-report.pdf), for the
// console and the pack alike.
func QualityReportPDF(ctx context.Context, w io.Writer, src Source, tenantID string, p queries.Period) error {
	r, err := CollectReport(ctx, src, tenantID, p)
	if err != nil {
		return err
	}
	return r.PDF(w)
}

// PDF renders the report, readable on paper: the summary figures, then
// each register as a table.
func (r Report) PDF(w io.Writer) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetTitle("Quality report "+r.Tenant, true)
	pdf.SetCreator("evcrm", true)
	pdf.SetCreationDate(r.GeneratedAt)
	pdf.SetModificationDate(r.GeneratedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252 for the core fonts
	pdf.SetAutoPageBreak(true, 12)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.CellFormat(0, 5, tr(fmt.Sprintf("evcrm quality report, tenant %s, %s to %s; page %d", r.Tenant, ts(r.Period.From), ts(r.Period.To), pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 9, tr("Quality report"), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, tr(fmt.Sprintf("Tenant %s. Period %s to %s (end excluded). Figures of the read models as of %s. "+
		"ISO 9001 9.1.2, 9.1.3, 8.2.3, 10.2; ISO 10002.", r.Tenant, ts(r.Period.From), ts(r.Period.To), ts(r.GeneratedAt))), "", "L", false)
	pdf.Ln(2)

	files, err := r.CSV()
	if err != nil {
		return err
	}
	section := func(title string, widths []float64, rows [][]string) {
		pdf.Ln(3)
		pdf.SetFont("Helvetica", "B", 12)
		pdf.CellFormat(0, 7, tr(title), "", 1, "L", false, 0, "")
		if len(rows) <= 1 {
			pdf.SetFont("Helvetica", "I", 9)
			pdf.CellFormat(0, 5, tr("None in the period."), "", 1, "L", false, 0, "")
			return
		}
		for i, row := range rows {
			if i == 0 {
				pdf.SetFont("Helvetica", "B", 7)
			} else {
				pdf.SetFont("Helvetica", "", 7)
			}
			for j, cell := range row {
				if j >= len(widths) {
					break
				}
				pdf.CellFormat(widths[j], 4.5, tr(fit(pdf, cell, widths[j])), "1", 0, "L", i == 0, 0, "")
			}
			pdf.Ln(-1)
		}
	}
	pdf.SetFillColor(230, 230, 230)
	section("Summary", []float64{90, 90}, rowsOf(files["summary.csv"]))
	section("Complaint register (ISO 10002)", []float64{24, 32, 14, 14, 18, 26, 26, 26, 26, 14, 28, 12, 14},
		pick(rowsOf(files["complaints.csv"]), 0, 3, 4, 5, 7, 9, 10, 11, 15, 16, 14, 17, 12))
	section("Customer satisfaction: CSAT and NPS (ISO 9001 9.1.2)", []float64{20, 40, 22, 22, 22, 22, 22, 22, 22}, rowsOf(files["satisfaction.csv"]))
	section("Service levels (SLA results)", []float64{20, 22, 22, 22, 28, 34, 34, 34, 34}, rowsOf(files["sla.csv"]))
	section("Nonconformities (ISO 9001 10.2)", []float64{20, 18, 60, 20, 46, 28, 28, 18, 28, 14},
		pick(rowsOf(files["nonconformities.csv"]), 1, 3, 4, 5, 6, 7, 8, 9, 10, 13))
	section("Corrective actions and effectiveness", []float64{70, 30, 24, 20, 30, 16, 16},
		pick(rowsOf(files["corrective-actions.csv"]), 2, 3, 4, 5, 6, 7, 8))
	section("Requirement reviews (ISO 9001 8.2.3): commitments without an approved review", []float64{24, 62, 62, 18, 34, 40},
		rowsOf(files["requirement-review-exceptions.csv"]))
	section(fmt.Sprintf("Backdated facts (recorded more than %s h after they occurred)", strconv.FormatFloat(r.BackdatedAfter.Hours(), 'f', -1, 64)),
		[]float64{16, 66, 12, 40, 34, 32, 32, 18}, pick(rowsOf(files["backdated-facts.csv"]), 0, 1, 2, 4, 5, 6, 7, 8))
	return pdf.Output(w)
}

// rowsOf parses a CSV the report wrote.
func rowsOf(b []byte) [][]string {
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil
	}
	return rows
}

// pick keeps the given columns of each row.
func pick(rows [][]string, cols ...int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			if c < len(r) {
				out[i] = append(out[i], r[c])
			}
		}
	}
	return out
}

// fit cuts s to what fits a cell of width w.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s) <= w-1 {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && pdf.GetStringWidth(string(r)+"...") > w-1 {
		r = r[:len(r)-1]
	}
	return string(r) + "..."
}
