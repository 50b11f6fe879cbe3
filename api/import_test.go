package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/internal/importer"
)

func TestImportCSV(t *testing.T) {
	t.Parallel()
	b := setup(t, withAPI(func(o *api.Options) { o.MaxImportBytes = 256 << 10 }))
	csvPost := func(role auth.Role, kind, body string) response {
		t.Helper()
		return b.do(req{method: http.MethodPost, path: "/v1/import/" + kind, role: role, body: body,
			headers: map[string]string{"Content-Type": "text/csv"}})
	}
	var file strings.Builder
	file.WriteString("\ufeffexternal_id,display_name,country\r\n")
	for i := range 200 {
		fmt.Fprintf(&file, "C%d,Customer %d,FR\r\n", i, i)
	}
	file.WriteString("NUL,Bad\x00Name,FR\r\nEMPTY,,FR\r\n")

	res := csvPost(auth.Sales, "customers", file.String())
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var rep importer.Report
	res.json(t, &rep)
	if rep.Rows != 202 || rep.Imported != 200 || len(rep.Refused) != 2 || rep.Refused[0].ExternalID != "NUL" || rep.Refused[1].Field != "display_name" {
		t.Fatalf("%+v", rep)
	}
	// The records are the caller's tenant's, made by the caller.
	evs := b.do(req{method: http.MethodGet, path: "/v1/streams/customer-" + importer.RecordID("acme", importer.Customers, "C7").String(), role: auth.Admin})
	if evs.status != http.StatusOK || !strings.Contains(string(evs.body), `"actor":"test-sales"`) || !strings.Contains(string(evs.body), `"source":"import"`) {
		t.Fatalf("stream: %d %s", evs.status, evs.body)
	}

	// Again: nothing new.
	res = csvPost(auth.Sales, "customers", file.String())
	rep = importer.Report{}
	res.json(t, &rep)
	if res.status != http.StatusOK || rep.Imported != 0 || rep.Unchanged != 200 || rep.Events != 0 {
		t.Fatalf("second time: %d %+v", res.status, rep)
	}

	for _, tc := range []struct {
		name   string
		role   auth.Role
		kind   string
		body   string
		status int
		code   string
	}{
		{"WrongColumns", auth.Sales, "customers", "id,name\n1,x\n", http.StatusUnprocessableEntity, "wrong_columns"},
		{"RoleMayNotCreateCases", auth.Sales, "cases", "external_id,customer_external_id,subject,channel\nK1,C1,x,web\n", http.StatusForbidden, "forbidden"},
		{"AuditorsImportNothing", auth.Auditor, "customers", file.String(), http.StatusForbidden, "forbidden"},
		{"UnknownKind", auth.Admin, "widgets", "external_id\n1\n", http.StatusNotFound, ""},
		{"TooLarge", auth.Admin, "customers", "external_id,display_name\n" + strings.Repeat("X,y\n", 80<<10), http.StatusRequestEntityTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := csvPost(tc.role, tc.kind, tc.body)
			if res.status != tc.status {
				t.Fatalf("%d %s, want %d", res.status, res.body, tc.status)
			}
			if p := res.problem(t); tc.code != "" && p.Code != tc.code {
				t.Fatalf("code %q, want %q", p.Code, tc.code)
			}
		})
	}
	// Cases of the caller's own customers import as service.
	res = csvPost(auth.Service, "cases", "external_id,customer_external_id,subject,channel\nK1,C1,Broken,web\nK2,ZZ,Unknown,web\n")
	rep = importer.Report{}
	res.json(t, &rep)
	if res.status != http.StatusOK || rep.Imported != 1 || len(rep.Refused) != 1 || rep.Refused[0].Code != "unknown_reference" {
		t.Fatalf("cases: %d %+v", res.status, rep)
	}
}
