// Package queries reads evcrm's read models: typed results, filters and
// keyset pagination over the views the projections serve (see package
// projections). It only reads; the HTTP layer (api/query_*.go) maps
// requests to these functions.
//
// Time-dependent figures (days in stage, backlog age, overdue flags) are
// computed here from the stored timestamps and Queries.Now, so tests can
// fix the clock. Months and days are UTC.
//
// Errors: a bad filter or cursor is a *domain.Error of kind validation; an
// unknown customer is domain.ErrNotFound; anything else is internal.
package queries

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/domain"
	"github.com/jackc/pgx/v5"
)

// DB is what the queries need: a pool (or a connection) whose search_path
// reaches the serving schema. Every statement runs in a read-only
// transaction of its own, scoped to the tenant of its context.
type DB interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// reader is what the queries run statements on.
type reader interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Queries reads the read models.
type Queries struct {
	db reader
	// Now is the clock of time-dependent figures (default time.Now).
	Now func() time.Time
}

// New returns the queries over db. Each call reads as the tenant of its
// context (tenant.WithContext): row-level security on the read-model
// tables hides every other tenant's rows, and a context without a tenant
// fails with ErrNoTenant.
func New(db DB) *Queries { return &Queries{db: scoped{db}, Now: time.Now} }

func (q *Queries) now() time.Time { return q.Now().UTC() }

// Limits of a page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func limit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	return n, nil
}

func invalid(field, msg string) error {
	return &domain.Error{Kind: domain.KindValidation, Code: "invalid_query", Message: "invalid query",
		Fields: []domain.FieldError{{Field: "query." + field, Message: msg}}}
}

// Earliest and latest times a query may name: the years 1 to 9999 in UTC,
// the range PostgreSQL's timestamptz and RFC 3339 share.
var (
	earliest = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(9999, time.December, 31, 23, 59, 59, 999999999, time.UTC)
)

var errTimeRange = errors.New("time out of range: years 1 to 9999 (UTC)")

// CheckTime refuses a time outside the years 1 to 9999 (UTC).
func CheckTime(t time.Time) error {
	if t.Before(earliest) || t.After(latest) {
		return errTimeRange
	}
	return nil
}

// Period is a half-open time interval [From, To).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// MaxPeriod bounds a report's period.
const MaxPeriod = 5 * 366 * 24 * time.Hour

func (p Period) check() error {
	switch {
	case p.From.IsZero() || p.To.IsZero():
		return invalid("from", "from and to are required")
	case CheckTime(p.From) != nil:
		return invalid("from", "must lie between the years 1 and 9999")
	case CheckTime(p.To) != nil:
		return invalid("to", "must lie between the years 1 and 9999")
	case !p.From.Before(p.To):
		return invalid("to", "must be after from")
	case p.To.Sub(p.From) > MaxPeriod:
		return invalid("to", "the period may not exceed five years")
	}
	return nil
}

// Money is an amount in minor units of a currency. Totals are kept per
// currency: amounts in different currencies are never added.
type Money struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
}

// encodeCursor makes an opaque page cursor from the sort key of the last row.
func encodeCursor(key ...any) string {
	b, _ := json.Marshal(key) // strings, numbers, UUIDs: always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor into the sort key's parts.
func decodeCursor(cursor string, parts ...any) error {
	if cursor == "" {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) > 1024 {
		return invalid("cursor", "is not a cursor of this list")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || len(items) != len(parts) {
		return invalid("cursor", "is not a cursor of this list")
	}
	for i, it := range items {
		if err := json.Unmarshal(it, parts[i]); err != nil {
			return invalid("cursor", "is not a cursor of this list")
		}
		switch p := parts[i].(type) {
		case *time.Time:
			if CheckTime(*p) != nil {
				return invalid("cursor", "is not a cursor of this list")
			}
		case *string:
			if !utf8.ValidString(*p) || strings.IndexByte(*p, 0) >= 0 {
				return invalid("cursor", "is not a cursor of this list")
			}
		}
	}
	return nil
}

// parseCursorTime checks a time of a cursor: layout, years 1 to 9999.
func parseCursorTime(layout, s string) error {
	t, err := time.Parse(layout, s)
	if err != nil {
		return err
	}
	return CheckTime(t)
}

// ratio returns part/whole as a percentage rounded to 0.1, or nil when whole is 0.
func ratio(part, whole int64) *float64 {
	if whole == 0 {
		return nil
	}
	v := float64(int64(float64(part)*1000/float64(whole)+0.5)) / 10
	return &v
}

// round1 rounds to one decimal, halves away from zero.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

func round1p(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := round1(*f)
	return &v
}
