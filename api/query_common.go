package api

import (
	"context"
	"errors"
	"github.com/evcrm/evcrm/domain/opportunity"
	"strings"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/eventstore"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
)

// ReadModelWaiter waits until read models have applied the log up to a
// position (projections.Runtime).
type ReadModelWaiter interface {
	WaitFor(ctx context.Context, names []string, pos eventstore.Position) error
}

// QueryOptions configure the read side of the API.
type QueryOptions struct {
	Queries *queries.Queries
	// Waiter serves read-your-writes; nil disables it (after= is then ignored).
	Waiter ReadModelWaiter
	// MaxWait bounds how long a query waits for its read models to reach
	// the position a client asked for (default 5s); then it fails with 504.
	MaxWait time.Duration
	// Pipeline is the sales pipeline new opportunities open in, as given
	// to the command side (commands.Deps.Pipeline; zero: the default).
	Pipeline opportunity.Pipeline
}

// Who may read which read models: analysts, auditors and admins read
// everything; each front-line role reads its own area.
var (
	PipelineReaders  = []auth.Role{auth.Admin, auth.Analyst, auth.Auditor, auth.Sales}
	ServiceReaders   = []auth.Role{auth.Admin, auth.Analyst, auth.Auditor, auth.Service}
	QualityReaders   = []auth.Role{auth.Admin, auth.Analyst, auth.Auditor, auth.Quality}
	CustomerReaders  = []auth.Role{auth.Admin, auth.Analyst, auth.Auditor, auth.Sales, auth.Service, auth.Marketing}
	AnalyticsReaders = []auth.Role{auth.Admin, auth.Analyst, auth.Auditor, auth.Marketing}
)

// The read models each group of queries reads, for read-your-writes.
var (
	pipelineModels  = []string{readmodels.Pipeline, readmodels.Customer}
	serviceModels   = []string{readmodels.Service, readmodels.Customer}
	qualityModels   = []string{readmodels.Quality, readmodels.Customer}
	customerModels  = []string{readmodels.Customer, readmodels.Pipeline, readmodels.Service, readmodels.Quality}
	analyticsModels = []string{readmodels.Analytics}
)

// Consistency is read by every query: the position of a command's last
// event (from its response) makes the query wait until the read models it
// reads include that event.
type Consistency struct {
	After     string `query:"after" maxLength:"41" doc:"Read your writes: the position (commit/prepare) returned by a command; the query waits, up to a few seconds, until its read models include it (504 if they do not in time)." example:"10452/10452"`
	ReadAfter string `header:"Read-After" maxLength:"41" doc:"Same as the after parameter, as a header."`
}

type queryRoutes struct {
	s    *Server
	opts QueryOptions
}

// RegisterQueries adds the read-model queries (GET /v1/...) to the server.
func RegisterQueries(s *Server, opts QueryOptions) error {
	if opts.Queries == nil {
		return errors.New("api: queries are required")
	}
	if opts.Pipeline.IsZero() {
		opts.Pipeline = opportunity.DefaultPipeline()
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 5 * time.Second
	}
	r := &queryRoutes{s: s, opts: opts}
	r.registerPipeline()
	r.registerService()
	r.registerQuality()
	r.registerObjectives()
	r.registerCustomer()
	r.registerAnalytics()
	r.registerMe()
	setRegistryEnums(s.api.OpenAPI().Components.Schemas, schemaPrefix)
	return nil
}

// consistent waits, within MaxWait, for the read models to reach the
// position the client asked for.
func (r *queryRoutes) consistent(ctx context.Context, c Consistency, models []string) error {
	raw := strings.TrimSpace(c.After)
	if raw == "" {
		raw = strings.TrimSpace(c.ReadAfter)
	}
	if raw == "" || r.opts.Waiter == nil {
		return nil
	}
	pos, err := eventstore.ParsePosition(raw)
	if err != nil {
		return queryError("after", "must be a position commit/prepare, as returned by a command")
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.MaxWait)
	defer cancel()
	return r.opts.Waiter.WaitFor(ctx, models, pos)
}

func queryError(field, msg string) error {
	return &domain.Error{Kind: domain.KindValidation, Code: "invalid_query", Message: "invalid query",
		Fields: []domain.FieldError{{Field: "query." + field, Message: msg}}}
}

// PeriodParams select a report's period; dates (2026-01-31) or RFC 3339
// times. Default: the 30 days up to now.
type PeriodParams struct {
	From string `query:"from" maxLength:"64" doc:"Start of the period (inclusive): a date (UTC midnight) or an RFC 3339 time. Default: 30 days before to." example:"2026-01-01"`
	To   string `query:"to" maxLength:"64" doc:"End of the period (exclusive): a date (UTC midnight) or an RFC 3339 time. Default: now." example:"2026-04-01"`
}

func (p PeriodParams) period(now time.Time) (queries.Period, error) {
	to := now.UTC()
	if p.To != "" {
		t, err := parseTime(p.To)
		if err != nil {
			return queries.Period{}, queryError("to", "must be a date (2026-01-31) or an RFC 3339 time")
		}
		to = t
	}
	from := to.AddDate(0, 0, -30)
	if p.From != "" {
		t, err := parseTime(p.From)
		if err != nil {
			return queries.Period{}, queryError("from", "must be a date (2026-01-31) or an RFC 3339 time")
		}
		from = t
	}
	return queries.Period{From: from, To: to}, nil
}

// parseTime reads a date or an RFC 3339 time between the years 1 and 9999
// (UTC), the range PostgreSQL and RFC 3339 share.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return time.Time{}, err
	}
	if err := queries.CheckTime(t); err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// PageParams page through a list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Items per page"`
	Cursor string `query:"cursor" maxLength:"1024" doc:"The next value of the previous page"`
}
