package console_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/pack"
	"github.com/evcrm/evcrm/internal/auth"
)

// testDownloads: the audit pack (zip) and the quality report PDF of a
// period, from the quality and audit pages, for every role: auditors and
// admins get a pack that verifies offline and a PDF; other roles a 403
// page; a form without the session's CSRF token is refused.
func testDownloads(t *testing.T, e *env) {
	v, err := audit.NewVerifier(e.verifierKey)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	from := today.AddDate(-1, 0, 0).Format(time.DateOnly)
	period := url.Values{"from": {from}, "to": {today.Format(time.DateOnly)}}
	form := func(csrf string) url.Values {
		f := url.Values{"csrf": {csrf}}
		for k, vs := range period {
			f[k] = vs
		}
		return f
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			c := e.client(t)
			csrf := c.signIn(e.tokens[role])
			allowed := slices.Contains(api.AuditReaders, role)
			if slices.Contains(api.QualityReaders, role) {
				q := c.do(http.MethodGet, "/console/quality?"+period.Encode(), nil)
				if has := strings.Contains(q.body, `action="/console/quality/report.pdf"`); has != allowed {
					t.Errorf("quality page of %s: download form shown = %v", role, has)
				}
			}
			if allowed {
				a := c.do(http.MethodGet, "/console/audit", nil)
				if !strings.Contains(a.body, `action="/console/audit/pack"`) {
					t.Errorf("audit page of %s lacks the pack form", role)
				}
			}
			zipped := c.do(http.MethodPost, "/console/audit/pack", form(csrf))
			pdf := c.do(http.MethodPost, "/console/quality/report.pdf", form(csrf))
			if !allowed {
				for _, p := range []page{zipped, pdf} {
					if p.status != http.StatusForbidden || !strings.Contains(p.body, "may not read this page") {
						t.Errorf("download as %s: %d %s, want a 403 page", role, p.status, p.header.Get("Content-Type"))
					}
				}
				return
			}
			if zipped.status != http.StatusOK || zipped.header.Get("Content-Type") != "application/zip" {
				t.Fatalf("audit pack as %s: %d %s\n%.2000s", role, zipped.status, zipped.header.Get("Content-Type"), zipped.body)
			}
			if cd := zipped.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="evcrm-audit-pack_`+from+"_") {
				t.Errorf("audit pack disposition %q", cd)
			}
			sum, err := pack.Verify(strings.NewReader(zipped.body), int64(len(zipped.body)), v)
			if err != nil {
				t.Fatalf("the console's audit pack does not verify: %v", err)
			}
			if sum.Tenant != e.tenant || sum.Events == 0 {
				t.Errorf("audit pack of tenant %q with %d events, want tenant %q and the demo's events", sum.Tenant, sum.Events, e.tenant)
			}
			if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.body, "%PDF-") {
				t.Fatalf("quality report PDF as %s: %d %s\n%.200s", role, pdf.status, pdf.header.Get("Content-Type"), pdf.body)
			}
			if cd := pdf.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="quality-report_`+from+"_") || !strings.HasSuffix(cd, `.pdf"`) {
				t.Errorf("PDF disposition %q", cd)
			}
			if !bytes.Contains([]byte(pdf.body), []byte("%%EOF")) {
				t.Error("the PDF is truncated")
			}
			// Without the session's CSRF token: refused, nothing exported.
			for _, path := range []string{"/console/audit/pack", "/console/quality/report.pdf"} {
				for _, f := range []url.Values{form("forged"), period} {
					if p := c.do(http.MethodPost, path, f); p.status != http.StatusForbidden || !strings.Contains(p.body, "CSRF check failed") {
						t.Errorf("%s without the CSRF token: %d %s", path, p.status, p.header.Get("Content-Type"))
					}
				}
			}
			// A bad period is an error page naming the fault, not an export.
			if p := c.do(http.MethodPost, "/console/audit/pack", url.Values{"csrf": {csrf}, "from": {"2026-02-01"}, "to": {"2026-01-01"}}); p.status != http.StatusBadRequest {
				t.Errorf("inverted period: %d, want 400", p.status)
			}
			if p := c.do(http.MethodPost, "/console/quality/report.pdf", url.Values{"csrf": {csrf}, "from": {"2000-01-01"}, "to": {"2026-01-01"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "five years") {
				t.Errorf("period of 26 years: %d, want 422 naming the limit", p.status)
			}
		})
	}
	// Signed out, a POST is refused outright (no redirect loop to a GET).
	if p := e.client(t).do(http.MethodPost, "/console/audit/pack", form("x")); p.status != http.StatusUnauthorized {
		t.Errorf("signed-out download: %d, want 401", p.status)
	}
}
