package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

type customerInput struct {
	Consistency
	ID string `path:"id" format:"uuid" doc:"Customer ID"`
}

type customerOutput struct{ Body queries.Customer360 }

type timelineInput struct {
	Consistency
	PageParams
	ID       string   `path:"id" format:"uuid" doc:"Customer ID"`
	Category []string `query:"category,explode" maxItems:"20" doc:"Only events of these categories (customer, case, opportunity, order, complaint, interaction...)"`
	Type     []string `query:"type,explode" maxItems:"50" doc:"Only events of these types"`
	From     string   `query:"from" maxLength:"64" doc:"Only events that occurred at or after this date or time"`
	To       string   `query:"to" maxLength:"64" doc:"Only events that occurred before this date or time"`
	Data     bool     `query:"data" doc:"Include each event's data (with its actor and role): only for the roles that may read streams (admin, auditor); 403 for the others"`
}

// errTimelineData refuses data=true to the roles that may not read streams.
var errTimelineData = fmt.Errorf("%w: data=true (the events' data, actor and role) is only for the roles that may read streams (admin, auditor)", auth.ErrForbidden)

type timelineOutput struct {
	Body queries.Page[queries.TimelineEntry]
}

func (r *queryRoutes) registerCustomer() {
	tags := []string{"Customers"}
	Register(r.s.api, huma.Operation{
		OperationID: "getCustomer", Method: http.MethodGet, Path: "/v1/customers/{id}", Tags: tags,
		Summary:     "Customer 360",
		Description: "The customer's current profile, contacts and consents, open opportunities, orders with status, open cases and complaints.",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, CustomerReaders, func(ctx context.Context, in *customerInput) (*customerOutput, error) {
		if err := r.consistent(ctx, in.Consistency, customerModels); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(in.ID)
		if err != nil {
			return nil, queryError("id", "must be a UUID")
		}
		out, err := r.opts.Queries.Customer360(ctx, id)
		return &customerOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "getCustomerTimeline", Method: http.MethodGet, Path: "/v1/customers/{id}/timeline", Tags: tags,
		Summary:     "Customer timeline",
		Description: "Every interaction and life-cycle event about the customer (its leads, opportunities, orders, cases, complaints, feedback...), newest first. Keyset-paginated: pass next as cursor.",
		Errors:      []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, CustomerReaders, func(ctx context.Context, in *timelineInput) (*timelineOutput, error) {
		if err := r.consistent(ctx, in.Consistency, []string{customerModels[0]}); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(in.ID)
		if err != nil {
			return nil, queryError("id", "must be a UUID")
		}
		if in.Data {
			// Event data carries who did what in which role: the audit
			// trail, for the roles that may read streams.
			if p, ok := auth.FromContext(ctx); !ok || !p.Allowed(StreamReaders) {
				return nil, errTimelineData
			}
		}
		f := queries.TimelineFilter{Categories: in.Category, Types: in.Type, WithData: in.Data, Limit: in.Limit, Cursor: in.Cursor}
		if in.From != "" {
			if f.From, err = parseTime(in.From); err != nil {
				return nil, queryError("from", "must be a date (2026-01-31) or an RFC 3339 time")
			}
		}
		if in.To != "" {
			if f.To, err = parseTime(in.To); err != nil {
				return nil, queryError("to", "must be a date (2026-01-31) or an RFC 3339 time")
			}
		}
		out, err := r.opts.Queries.Timeline(ctx, id, f)
		return &timelineOutput{Body: out}, err
	})
}
