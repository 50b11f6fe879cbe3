package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math/big"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/queries"
)

var funcs = template.FuncMap{
	"money":     money,
	"minor":     minorInt,
	"pct":       pct,
	"num":       num,
	"when":      when,
	"whenp":     whenp,
	"day":       day,
	"countdown": countdown,
	"rfc3339":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"query":     urlQueryEscape,
	"path":      url.PathEscape,
	"yesno":     yesno,
	"short":     shortJSON,
	"pretty":    prettyJSON,
	"orDash":    orDash,
	"streamOf":  func(category, id any) string { return fmt.Sprintf("%s-%v", category, id) },
	"inc":       func(i int) int { return i + 1 },
	"join":      strings.Join,
	"active":    func(a, b string) bool { return a == b },
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// zeroDecimals are the ISO 4217 currencies without minor units.
var zeroDecimals = map[string]bool{"JPY": true, "KRW": true, "ISK": true, "CLP": true, "VND": true, "XOF": true, "XAF": true, "UGX": true, "PYG": true}

// money formats minor units ("123456", "EUR") as "EUR 1,234.56".
func money(minor any, currency string) string {
	var s string
	switch m := minor.(type) {
	case queries.Minor:
		s = string(m)
	case int64:
		s = fmt.Sprint(m)
	case *int64:
		if m == nil {
			return "–"
		}
		s = fmt.Sprint(*m)
	case string:
		s = m
	default:
		s = fmt.Sprint(m)
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return s + " " + currency
	}
	neg := n.Sign() < 0
	n.Abs(n)
	digits := n.String()
	frac := ""
	if !zeroDecimals[currency] {
		for len(digits) < 3 {
			digits = "0" + digits
		}
		frac = "." + digits[len(digits)-2:]
		digits = digits[:len(digits)-2]
	}
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	sign := ""
	if neg {
		sign = "−"
	}
	return currency + " " + sign + b.String() + frac
}

// minorInt is a minor-unit amount as a float of major units (charts).
func minorInt(m queries.Minor, currency string) float64 {
	f, _ := new(big.Float).SetString(string(m))
	if f == nil {
		return 0
	}
	v, _ := f.Float64()
	if zeroDecimals[currency] {
		return v
	}
	return v / 100
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return trimZero(fmt.Sprintf("%.1f", *p)) + " %"
}

func num(p *float64) string {
	if p == nil {
		return "–"
	}
	return trimZero(fmt.Sprintf("%.1f", *p))
}

func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func whenp(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return when(*t)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// countdown says how long until (or since) a deadline, e.g. "in 3 h 20 min"
// or "overdue by 2 d 4 h".
func countdown(due *time.Time, now time.Time) string {
	if due == nil {
		return "no deadline (clock stopped or no SLA)"
	}
	d := due.Sub(now)
	if d < 0 {
		return "overdue by " + span(-d)
	}
	return "in " + span(d)
}

func span(d time.Duration) string {
	m := int(d.Minutes())
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 48*60:
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	return fmt.Sprintf("%d d %d h", m/(24*60), (m/60)%24)
}

func yesno(b *bool) string {
	switch {
	case b == nil:
		return "–"
	case *b:
		return "yes"
	}
	return "no"
}

// shortJSON summarises an event's data: its fields, values clipped.
func shortJSON(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return shorten(string(raw), 160)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v, _ := json.Marshal(m[k])
		parts = append(parts, k+"="+shorten(string(v), 60))
	}
	return shorten(strings.Join(parts, ", "), 300)
}

func prettyJSON(raw any) string {
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return fmt.Sprint(raw)
	}
	return string(b)
}

// months are the n calendar months up to and including now's, oldest
// first ("2026-07"), with the start of the first and of the month after
// the last.
func months(now time.Time, n int) ([]string, time.Time, time.Time) {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(n - 1), 0)
	out := make([]string, n)
	for i := range n {
		out[i] = first.AddDate(0, i, 0).Format("2006-01")
	}
	return out, first, first.AddDate(0, n, 0)
}

// caseList is the argument of the "cases" template.
type caseList struct {
	V     view
	List  []queries.QueueCase
	Empty string
}

func init() {
	funcs["dict2"] = func(v view, list []queries.QueueCase, empty string) caseList { return caseList{v, list, empty} }
	funcs["deref"] = func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	}
}

// eventList is the argument of the "events" template.
type eventList struct {
	V    view
	List []api.AuditEvent
}

func init() {
	funcs["dict3"] = func(v view, list []api.AuditEvent) eventList { return eventList{v, list} }
	funcs["list"] = func(s ...string) []string { return s }
	funcs["rfc3339n"] = func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	funcs["deref2"] = func(b *bool) bool { return b != nil && *b }
	funcs["zeroUUID"] = func(id uuid.UUID) bool { return id == uuid.Nil }
}
