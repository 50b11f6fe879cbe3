package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
)

// TestConsole runs every console test on one server with demo data (its
// set-up is the slow part): every page for every role, the session and
// CSRF rules, and a walk in headless Chromium.
func TestConsole(t *testing.T) {
	e := setup(t)
	t.Run("PagesForEveryRole", func(t *testing.T) { testPagesForEveryRole(t, e) })
	t.Run("Session", func(t *testing.T) { testSession(t, e) })
	t.Run("Downloads", func(t *testing.T) { testDownloads(t, e) })
	t.Run("Browser", func(t *testing.T) { testBrowser(t, e) })
}

var (
	complaintLink = regexp.MustCompile(`href="(/console/quality/complaints/[0-9a-f-]{36}\?received=[^"]+)"`)
	customerLink  = regexp.MustCompile(`href="/console/customers/([0-9a-f-]{36})"`)
	traceLink     = regexp.MustCompile(`href="/console/audit/trace/([0-9a-f-]{36})"`)
)

func find(t *testing.T, re *regexp.Regexp, body, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s link in the page", what)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func testPagesForEveryRole(t *testing.T, e *env) {
	admin := e.client(t)
	admin.signIn(e.tokens[auth.Admin])
	complaint := find(t, complaintLink, admin.do(http.MethodGet, "/console/quality/complaints", nil).body, "complaint")
	customer := find(t, customerLink, admin.do(http.MethodGet, "/console/pipeline", nil).body, "customer")
	stream := "customer-" + customer
	var corr string
	deadline := time.Now().Add(30 * time.Second)
	for { // the trace reads the transparency log, which its builder fills in the background
		corr = find(t, traceLink, admin.do(http.MethodGet, "/console/audit/records/"+stream, nil).body, "trace")
		if admin.do(http.MethodGet, "/console/audit/trace/"+corr, nil).status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	pages := []struct {
		path  string
		roles []auth.Role
		want  []string
	}{
		{"/console/", auth.Roles, []string{"Overview"}},
		{"/console/pipeline", api.PipelineReaders, []string{"Weighted pipeline, Q", "<svg", "Win rate per month", "Closing next"}},
		{"/console/service", api.ServiceReaders, []string{"About to breach", "SLA breach rate of the cases opened each month", "Backlog age"}},
		{"/console/quality", api.QualityReaders, []string{"NPS per month by segment", "CSAT per month", "Nonconformities and corrective actions", "Requirements reviews", "Download CSV"}},
		{"/console/quality/report.csv", api.QualityReaders, []string{"section,figure,value", "satisfaction,month,segment"}},
		{"/console/quality/complaints", api.QualityReaders, []string{"Complaint register", "CMP-"}},
		{complaint, api.QualityReaders, []string{"From receipt to the effectiveness check", "Complaint received"}},
		{"/console/customers", api.CustomerReaders, []string{"Customer ID"}},
		{"/console/customers/" + customer, api.CustomerReaders, []string{"Timeline", "Open opportunities"}},
		{"/console/audit", api.AuditReaders, []string{"Verification status", "Events in the log"}},
		{"/console/audit/records/" + stream, api.AuditReaders, []string{"State as of", "As known then", "In business time", "display_name", "who, when, why, from which app", "CustomerRegistered"}},
		{"/console/audit/records/" + stream + "?as_of=2001-01-01T00:00", api.AuditReaders, []string{"0 events known"}},
		{"/console/audit/trace/" + corr, api.AuditReaders, []string{"events across"}},
	}
	for _, role := range auth.Roles {
		t.Run(string(role), func(t *testing.T) {
			c := e.client(t)
			c.signIn(e.tokens[role])
			for _, p := range pages {
				got := c.do(http.MethodGet, p.path, nil)
				if strings.Contains(got.body, "Something went wrong") || got.status >= 500 {
					t.Errorf("%s as %s: %d\n%s", p.path, role, got.status, got.body)
					continue
				}
				if !slices.Contains(p.roles, role) {
					if got.status != http.StatusForbidden || !strings.Contains(got.body, "may not read this page") {
						t.Errorf("%s as %s: %d, want a 403 page", p.path, role, got.status)
					}
					continue
				}
				if got.status != http.StatusOK {
					t.Errorf("%s as %s: %d\n%s", p.path, role, got.status, got.body)
					continue
				}
				for _, w := range p.want {
					if !strings.Contains(got.body, w) {
						t.Errorf("%s as %s lacks %q", p.path, role, w)
					}
				}
			}
			// The menu offers only what the role may read.
			home := c.do(http.MethodGet, "/console/", nil).body
			if has := strings.Contains(home, `href="/console/audit"`); has != slices.Contains(api.AuditReaders, role) {
				t.Errorf("menu of %s: audit link shown = %v", role, has)
			}
		})
	}
	t.Run("NotFound", func(t *testing.T) {
		for _, p := range []string{"/console/nope", "/console/customers/not-a-uuid", "/console/audit/trace/" + "0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b",
			"/console/audit/records/customer-0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b"} {
			if got := admin.do(http.MethodGet, p, nil); got.status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, got.status)
			}
		}
		if got := admin.do(http.MethodGet, "/console/quality?from=yesterday", nil); got.status != http.StatusBadRequest {
			t.Errorf("bad period: %d, want 400", got.status)
		}
	})
}

func testSession(t *testing.T, e *env) {
	t.Run("SignedOutGoesToSignIn", func(t *testing.T) {
		got := e.client(t).do(http.MethodGet, "/console/quality?from=2026-01-01", nil)
		if got.status != http.StatusSeeOther || got.header.Get("Location") != "/console/signin?next="+url.QueryEscape("/console/quality?from=2026-01-01") {
			t.Fatalf("%d %s", got.status, got.header.Get("Location"))
		}
	})
	t.Run("CookieAttributes", func(t *testing.T) {
		c := e.client(t)
		p := c.do(http.MethodGet, "/console/signin", nil)
		p = c.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrfOf(t, p)}, "token": {e.tokens[auth.Quality]}})
		var found bool
		for _, sc := range p.header.Values("Set-Cookie") {
			if strings.HasPrefix(sc, "evcrm_console=") {
				found = true
				for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/console"} {
					if !strings.Contains(sc, attr) {
						t.Errorf("session cookie %q lacks %s", sc, attr)
					}
				}
				if strings.Contains(sc, "evcrm_") && strings.Contains(sc, e.tokens[auth.Quality]) {
					t.Error("the session cookie holds the API token")
				}
			}
		}
		if !found {
			t.Fatalf("no session cookie: %v", p.header)
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		c := e.client(t)
		p := c.do(http.MethodGet, "/console/signin", nil)
		p = c.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrfOf(t, p)}, "token": {"evcrm_nope"}})
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "not valid") {
			t.Fatalf("%d", p.status)
		}
	})
	t.Run("SignInNeedsCSRF", func(t *testing.T) {
		c := e.client(t)
		c.do(http.MethodGet, "/console/signin", nil)
		if p := c.do(http.MethodPost, "/console/signin", url.Values{"csrf": {"forged"}, "token": {e.tokens[auth.Admin]}}); p.status != http.StatusForbidden {
			t.Fatalf("forged sign-in: %d", p.status)
		}
	})
	t.Run("ForeignOrigin", func(t *testing.T) {
		c := e.client(t)
		p := c.do(http.MethodGet, "/console/signin", nil)
		req, _ := http.NewRequest(http.MethodPost, e.url+"/console/signin", strings.NewReader(url.Values{"csrf": {csrfOf(t, p)}, "token": {e.tokens[auth.Admin]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("sign-in from another origin: %d", res.StatusCode)
		}
	})
	t.Run("OpenRedirect", func(t *testing.T) {
		c := e.client(t)
		p := c.do(http.MethodGet, "/console/signin", nil)
		p = c.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrfOf(t, p)}, "token": {e.tokens[auth.Admin]}, "next": {"//evil.example/x"}})
		if p.header.Get("Location") != "/console/" {
			t.Fatalf("redirected to %q", p.header.Get("Location"))
		}
	})
	t.Run("SignOut", func(t *testing.T) {
		c := e.client(t)
		csrf := c.signIn(e.tokens[auth.Auditor])
		if p := c.do(http.MethodPost, "/console/signout", url.Values{"csrf": {"forged"}}); p.status != http.StatusForbidden {
			t.Fatalf("sign-out without the CSRF token: %d", p.status)
		}
		if p := c.do(http.MethodGet, "/console/audit", nil); p.status != http.StatusOK {
			t.Fatalf("still signed in: %d", p.status)
		}
		if p := c.do(http.MethodPost, "/console/signout", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", p.status)
		}
		if p := c.do(http.MethodGet, "/console/audit", nil); p.status != http.StatusSeeOther {
			t.Fatalf("after sign-out: %d, want a redirect to sign in", p.status)
		}
	})
	t.Run("SecurityHeaders", func(t *testing.T) {
		p := e.client(t).do(http.MethodGet, "/console/signin", nil)
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") {
			t.Fatalf("CSP %q", csp)
		}
		if strings.Contains(p.body, "https://") {
			t.Fatal("the page links outside the server")
		}
	})
}
