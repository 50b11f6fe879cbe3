package importer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/contactinfo"
	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/domain/lead"
	"github.com/evcrm/evcrm/domain/opportunity"
	"github.com/evcrm/evcrm/domain/servicecase"
)

// Kind is what a file holds: one record of that kind per row.
type Kind string

const (
	Customers     Kind = "customers"
	Leads         Kind = "leads"
	Opportunities Kind = "opportunities"
	Cases         Kind = "cases"
)

// Kinds lists the kinds of file evcrm imports, in the order a migration
// loads them (opportunities and cases refer to customers).
var Kinds = []Kind{Customers, Leads, Opportunities, Cases}

// ParseKind reads a kind name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", &domain.Error{Kind: domain.KindValidation, Code: "unknown_import_kind",
		Message: fmt.Sprintf("cannot import %q: the kinds are customers, leads, opportunities and cases", s)}
}

// KeyColumn is the column every file must have: the record's ID in the
// system it comes from. It makes the import idempotent: the record's evcrm ID
// and the IDs of the commands that create it are derived from the tenant, the
// kind and this key.
const KeyColumn = "external_id"

// column of a file kind.
type column struct {
	name     string
	required bool
	doc      string
}

// step is one command a row becomes, at the time it happened (zero: now).
type step struct {
	name string // stable within the kind: part of the command ID
	cmd  domain.Command
	at   time.Time
}

// row gives a spec's build the values of one row by column name.
type row struct {
	values map[string]string
	v      *domain.Validator
	tenant string
}

func (r row) get(name string) string { return strings.TrimSpace(r.values[name]) }

// list splits a multi-value cell ("a@x.org; b@x.org").
func (r row) list(name string) []string {
	var out []string
	for _, p := range strings.Split(r.get(name), ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// time reads a date or date-time column; empty is the zero time.
func (r row) time(name string) time.Time {
	s := r.get(name)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		r.v.Add(name, err.Error())
	}
	return t
}

// ref reads a reference to a record imported before (its external ID in the
// column name) as the evcrm ID the import gave that record.
func (r row) ref(name string, kind Kind) uuid.UUID {
	s := r.get(name)
	if s == "" {
		return uuid.Nil
	}
	return RecordID(r.tenant, kind, s)
}

// money reads amount (decimal major units of a two-decimal currency, e.g.
// 12500.50) or amount_minor (integer minor units), and currency.
func (r row) money() domain.Money {
	m := domain.Money{Currency: strings.ToUpper(r.get("currency"))}
	major, minor := r.get("amount"), r.get("amount_minor")
	switch {
	case major != "" && minor != "":
		r.v.Add("amount", "give amount or amount_minor, not both")
	case minor != "":
		n, err := strconv.ParseInt(minor, 10, 64)
		if err != nil {
			r.v.Add("amount_minor", "must be a whole number of minor units")
		}
		m.Amount = n
	case major != "":
		n, ok := parseMajor(major)
		if !ok {
			r.v.Add("amount", "must be a decimal number with at most two decimals, e.g. 12500.50")
		}
		m.Amount = n
	}
	return m
}

// parseMajor reads "12500", "12500.5" or "-12500.50" as minor units (×100).
func parseMajor(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" || whole == "-" {
		return 0, false
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/100 || w < math.MinInt64/100 {
		return 0, false
	}
	f, err := strconv.ParseUint(frac, 10, 8)
	if err != nil {
		return 0, false
	}
	if strings.HasPrefix(whole, "-") {
		return w*100 - int64(f), true
	}
	return w*100 + int64(f), true
}

// ParseTime reads an RFC 3339 time, or a date-time or date without zone
// ("2025-03-01 14:30:00", "2025-03-01"), taken as UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("must be a date (2025-03-01) or an RFC 3339 time (2025-03-01T14:30:00Z)")
}

// spec describes a kind of file: its columns and how a row becomes commands.
type spec struct {
	columns []column
	build   func(r row, id uuid.UUID) []step
}

var createdAt = column{name: "created_at", doc: "when the record was created in the old system (date or RFC 3339 time; UTC if no zone); kept as the occurred-at of the events, within the backdating window"}

var specs = map[Kind]spec{
	Customers: {
		columns: []column{
			{name: KeyColumn, required: true, doc: "the customer's ID in the old system"},
			{name: "kind", doc: "organisation (default) or person"},
			{name: "display_name", required: true, doc: "name shown in evcrm"},
			{name: "legal_name"}, {name: "emails", doc: "separated by ;"}, {name: "phones", doc: "separated by ;"},
			{name: "tax_id"}, {name: "address_lines", doc: "separated by ;"}, {name: "postal_code"}, {name: "city"},
			{name: "region"}, {name: "country", doc: "ISO 3166-1 alpha-2"}, {name: "owner_id"}, {name: "segment"},
			createdAt,
		},
		build: func(r row, id uuid.UUID) []step {
			k := customer.Kind(r.get("kind"))
			if k == "" {
				k = customer.KindOrganisation
			}
			return []step{{name: "register", at: r.time("created_at"), cmd: customer.RegisterCustomer{
				CustomerID: id,
				Details: customer.Details{
					Kind: k, DisplayName: r.get("display_name"), LegalName: r.get("legal_name"),
					Emails: r.list("emails"), Phones: r.list("phones"), TaxID: r.get("tax_id"),
					Address: contactinfo.Address{Lines: r.list("address_lines"), PostalCode: r.get("postal_code"),
						City: r.get("city"), Region: r.get("region"), Country: strings.ToUpper(r.get("country"))},
				},
				OwnerID: r.get("owner_id"), Segment: r.get("segment"),
			}}}
		},
	},
	Leads: {
		columns: []column{
			{name: KeyColumn, required: true, doc: "the lead's ID in the old system"},
			{name: "source", required: true, doc: "a slug: web_form, trade_fair, referral..."},
			{name: "contact_name"}, {name: "company_name"}, {name: "email"}, {name: "phone"}, {name: "notes"},
			{name: "owner_id"}, createdAt,
		},
		build: func(r row, id uuid.UUID) []step {
			return []step{{name: "capture", at: r.time("created_at"), cmd: lead.CaptureLead{
				LeadID: id, Source: r.get("source"),
				Prospect: lead.Prospect{ContactName: r.get("contact_name"), CompanyName: r.get("company_name"),
					Email: r.get("email"), Phone: r.get("phone")},
				Notes: r.get("notes"), OwnerID: r.get("owner_id"),
			}}}
		},
	},
	Opportunities: {
		columns: []column{
			{name: KeyColumn, required: true, doc: "the opportunity's ID in the old system"},
			{name: "customer_external_id", required: true, doc: "external_id of a customer imported before"},
			{name: "name", required: true}, {name: "amount", doc: "decimal, two-decimal currencies (12500.50)"},
			{name: "amount_minor", doc: "integer minor units, instead of amount"}, {name: "currency", required: true, doc: "ISO 4217"},
			{name: "stage", doc: "a stage of the pipeline (default: the first)"}, {name: "expected_close", doc: "date"},
			{name: "owner_id"}, createdAt,
		},
		build: func(r row, id uuid.UUID) []step {
			return []step{{name: "open", at: r.time("created_at"), cmd: opportunity.OpenOpportunity{
				OpportunityID: id, CustomerID: r.ref("customer_external_id", Customers), Name: r.get("name"),
				Amount: r.money(), Stage: r.get("stage"), ExpectedClose: r.time("expected_close"), OwnerID: r.get("owner_id"),
			}}}
		},
	},
	Cases: {
		columns: []column{
			{name: KeyColumn, required: true, doc: "the case's ID in the old system"},
			{name: "customer_external_id", required: true, doc: "external_id of a customer imported before"},
			{name: "subject", required: true}, {name: "description"},
			{name: "queue", doc: "a slug (default support)"}, {name: "priority", doc: "P1..P4 (default P3)"},
			{name: "channel", required: true, doc: "how the request came in: email, phone, web, chat, social, in_person, letter"},
			createdAt,
			{name: "resolved_at", doc: "when it was resolved, if it was (needs resolution)"}, {name: "resolution"},
			{name: "closed_at", doc: "when it was closed, if it was (needs resolved_at)"},
		},
		build: func(r row, id uuid.UUID) []step {
			queue, prio, ch := r.get("queue"), servicecase.Priority(r.get("priority")), servicecase.Channel(r.get("channel"))
			if queue == "" {
				queue = "support"
			}
			if prio == "" {
				prio = servicecase.P3
			}
			steps := []step{{name: "open", at: r.time("created_at"), cmd: servicecase.OpenCase{
				CaseID: id, CustomerID: r.ref("customer_external_id", Customers), Queue: queue, Priority: prio, Channel: ch,
				Subject: r.get("subject"), Description: r.get("description"),
			}}}
			resolved, closed := r.time("resolved_at"), r.time("closed_at")
			if resolved.IsZero() && r.get("resolution") != "" {
				r.v.Add("resolved_at", "is required with a resolution")
			}
			if !resolved.IsZero() {
				steps = append(steps, step{name: "resolve", at: resolved, cmd: servicecase.ResolveCase{CaseID: id, Resolution: r.get("resolution")}})
			}
			if !closed.IsZero() {
				if resolved.IsZero() {
					r.v.Add("closed_at", "needs resolved_at: a case is resolved before it is closed")
				}
				steps = append(steps, step{name: "close", at: closed, cmd: servicecase.CloseCase{CaseID: id}})
			}
			return steps
		},
	},
}

// Columns lists the columns of a kind's files, "*" marking required ones,
// for help texts and documentation.
func Columns(k Kind) []string {
	var out []string
	for _, c := range specs[k].columns {
		name := c.name
		if c.required {
			name += "*"
		}
		out = append(out, name)
	}
	return out
}
