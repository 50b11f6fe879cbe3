package console

import (
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/queries"
)

// ---- customers

func (c *Console) customerLookup(w http.ResponseWriter, r *http.Request, s *session) error {
	if v := strings.TrimSpace(r.URL.Query().Get("id")); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return badRequest("a customer ID is a UUID, like 0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b")
		}
		http.Redirect(w, r, c.opts.Base+"/customers/"+id.String(), http.StatusSeeOther)
		return nil
	}
	c.render(w, r, s, http.StatusOK, "customers", "Customers", "customers", nil)
	return nil
}

type customerData struct {
	C        queries.Customer360
	Timeline queries.Page[queries.TimelineEntry]
	NextLink string
	CanAudit bool
}

func (c *Console) customer(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := idParam(r, "customer")
	if err != nil {
		return err
	}
	d := customerData{CanAudit: s.principal.Allowed(api.AuditReaders)}
	if err := c.get(r, s, "/v1/customers/"+id.String(), nil, &d.C); err != nil {
		return err
	}
	q := url.Values{"limit": {"50"}}
	if v := r.URL.Query().Get("cursor"); v != "" {
		q.Set("cursor", v)
	}
	if err := c.get(r, s, "/v1/customers/"+id.String()+"/timeline", q, &d.Timeline); err != nil {
		return err
	}
	if d.Timeline.Next != "" {
		d.NextLink = c.opts.Base + "/customers/" + id.String() + "?cursor=" + url.QueryEscape(d.Timeline.Next)
	}
	c.render(w, r, s, http.StatusOK, "customer", d.C.Profile.DisplayName, "customers", d)
	return nil
}

// ---- audit

type auditData struct {
	Checkpoint api.AuditCheckpoint
	Age        string
	// From and To (inclusive) are the default period of the audit pack.
	From, To string
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request, s *session) error {
	var d auditData
	if err := c.get(r, s, "/v1/audit/checkpoint", nil, &d.Checkpoint); err != nil {
		return err
	}
	if !d.Checkpoint.Time.IsZero() {
		d.Age = span(c.opts.Now().Sub(d.Checkpoint.Time))
	}
	_, from, to := months(c.opts.Now(), 6)
	d.From, d.To = day(from), day(to.AddDate(0, 0, -1))
	c.render(w, r, s, http.StatusOK, "audit", "Audit", "audit", d)
	return nil
}

type recordData struct {
	Record api.RecordAsOf
	AsOf   string
	State  []stateRow
}

// stateRow is one field of the record's state as of a time: as the system
// knew it then, and as it stood in business time (backdated facts in).
type stateRow struct {
	Field            string
	Known, Business  any
	InKnown, InBiz   bool
	DiffersInBizTime bool
}

// record is a record's history as known at a time (default: now), with
// its state then: the API folds the events with the record's aggregate,
// once as recorded by then and once as occurred by then.
func (c *Console) record(w http.ResponseWriter, r *http.Request, s *session) error {
	stream := chi.URLParam(r, "stream")
	asOf := c.opts.Now().UTC().Add(time.Minute).Truncate(time.Second)
	if v := strings.TrimSpace(r.URL.Query().Get("as_of")); v != "" {
		t, err := parseWhen(v)
		if err != nil {
			return badRequest("as of must be a time like 2026-03-31T23:59 (UTC) or an RFC 3339 time")
		}
		asOf = t
	}
	d := recordData{AsOf: asOf.Format("2006-01-02T15:04:05")}
	if err := c.get(r, s, "/v1/audit/records/"+url.PathEscape(stream), url.Values{"as_of": {asOf.Format(time.RFC3339)}}, &d.Record); err != nil {
		return err
	}
	known, biz := d.Record.StateKnown, d.Record.StateBusiness
	keys := slices.Sorted(maps.Keys(known))
	for k := range biz {
		if _, ok := known[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		kv, inK := known[k]
		bv, inB := biz[k]
		d.State = append(d.State, stateRow{Field: k, Known: kv, Business: bv, InKnown: inK, InBiz: inB,
			DiffersInBizTime: inK != inB || !reflect.DeepEqual(kv, bv)})
	}
	c.render(w, r, s, http.StatusOK, "record", "Record "+stream, "audit", d)
	return nil
}

// parseWhen reads a datetime-local value (UTC) or an RFC 3339 time.
func parseWhen(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	_, err := time.Parse(time.RFC3339, v)
	return time.Time{}, err
}

// recordLookup is the history form without JavaScript (?stream=).
func (c *Console) recordLookup(w http.ResponseWriter, r *http.Request, s *session) error {
	stream := strings.TrimSpace(r.URL.Query().Get("stream"))
	if stream == "" {
		return badRequest("name a record: its stream ID, like complaint-0195b2c4-7f5e-7d1a-9c3b-5a4e2f1d0c9b")
	}
	target := c.opts.Base + "/audit/records/" + url.PathEscape(stream)
	if v := r.URL.Query().Get("as_of"); v != "" {
		target += "?as_of=" + url.QueryEscape(v)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (c *Console) traceLookup(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := uuid.Parse(strings.TrimSpace(r.URL.Query().Get("correlation_id")))
	if err != nil {
		return badRequest("a correlation ID is a UUID (from X-Correlation-ID or a record's history)")
	}
	http.Redirect(w, r, c.opts.Base+"/audit/trace/"+id.String(), http.StatusSeeOther)
	return nil
}

func (c *Console) trace(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := idParam(r, "correlation ID")
	if err != nil {
		return err
	}
	var t api.Trace
	if err := c.get(r, s, "/v1/audit/trace/"+id.String(), nil, &t); err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "trace", "Trace "+id.String(), "audit", t)
	return nil
}
