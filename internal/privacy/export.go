package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evcrm/evcrm/domain/customer"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/projections"
)

// Export is everything evcrm holds about a customer (GDPR art. 15, right
// of access): its events and those of every record about it (leads,
// interactions, cases, complaints, feedback, orders...), decrypted, the
// read-model rows about it, and its consents with their history.
type Export struct {
	CustomerID  uuid.UUID                   `json:"customer_id"`
	Tenant      string                      `json:"tenant"`
	GeneratedAt time.Time                   `json:"generated_at"`
	Streams     []string                    `json:"streams"`
	Events      []ExportEvent               `json:"events"`
	Consents    []ExportEvent               `json:"consent_history"`
	ReadModels  map[string][]map[string]any `json:"read_models"`
	Erased      bool                        `json:"erased"`
}

// ExportEvent is one event of an export.
type ExportEvent struct {
	Stream     string          `json:"stream"`
	Version    uint64          `json:"version"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at,omitzero"`
	RecordedAt time.Time       `json:"recorded_at"`
	Actor      string          `json:"actor,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// Exporter builds exports from the (decrypting) event store and the read models.
type Exporter struct {
	Pool  *pgxpool.Pool
	Store eventstore.Store // read through the privacy decorator, when configured
}

// Export collects what is held about customer id in tenant. A customer
// unknown in the tenant gives customer.ErrNotFound.
func (x Exporter) Export(ctx context.Context, tenant string, id uuid.UUID) (*Export, error) {
	main := customer.StreamID(id)
	first, err := x.Store.ReadStream(ctx, main, eventstore.ReadStreamOptions{From: 1, Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && (len(first) == 0 || first[0].Metadata.Tenant != tenant)) {
		return nil, customer.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := &Export{CustomerID: id, Tenant: tenant, GeneratedAt: time.Now().UTC(), Streams: []string{main},
		Events: []ExportEvent{}, Consents: []ExportEvent{}, ReadModels: map[string][]map[string]any{}}
	err = pgx.BeginTxFunc(ctx, x.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := projections.SetTenant(ctx, tx, tenant); err != nil {
			return err
		}
		// The records about the customer, as the read models know them.
		rows, err := tx.Query(ctx, `SELECT stream_id FROM rm_customer_streams WHERE customer_id = $1
			UNION SELECT 'lead-' || lead_id FROM rm_analytics_leads WHERE customer_id = $1 ORDER BY 1`, id)
		if err != nil {
			return err
		}
		streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, s := range streams {
			if !slices.Contains(out.Streams, s) {
				out.Streams = append(out.Streams, s)
			}
		}
		// Every read model with a customer_id column: its rows about the customer.
		rows, err = tx.Query(ctx, `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'customer_id' AND table_name LIKE 'rm\_%' ORDER BY 1`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, t := range tables {
			rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT row_to_json(t)::jsonb FROM %s t WHERE customer_id = $1`, pgx.Identifier{t}.Sanitize()), id)
			if err != nil {
				return fmt.Errorf("reading %s: %w", t, err)
			}
			found, err := pgx.CollectRows(rows, pgx.RowTo[map[string]any])
			if err != nil {
				return fmt.Errorf("reading %s: %w", t, err)
			}
			if len(found) > 0 {
				out.ReadModels[t] = found
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export of customer %s: %w", id, err)
	}
	for _, s := range out.Streams {
		events, err := x.Store.ReadStream(ctx, s, eventstore.ReadStreamOptions{})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("export of customer %s: %w", id, err)
		}
		for _, e := range events {
			if e.Metadata.Tenant != tenant {
				break
			}
			ev := ExportEvent{Stream: s, Version: e.Version, Type: e.Type, OccurredAt: e.Metadata.OccurredAt, RecordedAt: e.RecordedAt,
				Actor: e.Metadata.Actor, Data: e.Data}
			out.Events = append(out.Events, ev)
			switch e.Type {
			case "ConsentGiven", "ConsentWithdrawn":
				out.Consents = append(out.Consents, ev)
			case "CustomerErased":
				out.Erased = true
			}
		}
	}
	return out, nil
}

var exportPage = template.Must(template.New("export").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Personal data held about customer {{.CustomerID}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}pre{white-space:pre-wrap;margin:0}</style>
</head><body>
<h1>Personal data held about customer {{.CustomerID}}</h1>
<p>Tenant {{.Tenant}}, generated {{.GeneratedAt.Format "2006-01-02 15:04:05 UTC"}}.{{if .Erased}} <strong>This customer's personal data were erased;</strong> erased fields read as null.{{end}}</p>
<h2>Consents</h2>
{{if .Consents}}<table><tr><th>when</th><th>what</th><th>by</th><th>details</th></tr>
{{range .Consents}}<tr><td>{{.OccurredAt.Format "2006-01-02 15:04"}}</td><td>{{.Type}}</td><td>{{.Actor}}</td><td><pre>{{printf "%s" .Data}}</pre></td></tr>
{{end}}</table>{{else}}<p>None recorded.</p>{{end}}
<h2>Current records</h2>
{{range $table, $rows := .ReadModels}}<h3>{{$table}}</h3><table>
{{range $rows}}<tr><td><pre>{{range $k, $v := .}}{{$k}}: {{$v}}
{{end}}</pre></td></tr>{{end}}</table>
{{end}}
<h2>History ({{len .Events}} events)</h2>
<table><tr><th>record</th><th>when</th><th>what</th><th>by</th><th>data</th></tr>
{{range .Events}}<tr><td>{{.Stream}}</td><td>{{.RecordedAt.Format "2006-01-02 15:04"}}</td><td>{{.Type}}</td><td>{{.Actor}}</td><td><pre>{{printf "%s" .Data}}</pre></td></tr>
{{end}}</table>
</body></html>
`))

// HTML writes the export as a readable document.
func (e *Export) HTML(w io.Writer) error { return exportPage.Execute(w, e) }
