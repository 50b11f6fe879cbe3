package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

type dailyEventsInput struct {
	Consistency
	PeriodParams
	Type []string `query:"type,explode" maxItems:"50" doc:"Only these event types"`
}

type dailyEventsOutput struct {
	Body []queries.DailyCount
}

type funnelInput struct {
	Consistency
	CampaignID string `query:"campaign_id" format:"uuid" doc:"Only this campaign"`
}

type funnelOutput struct {
	Body []queries.CampaignFunnel
}

func (r *queryRoutes) registerAnalytics() {
	tags := []string{"Analytics"}
	Register(r.s.api, huma.Operation{
		OperationID: "getDailyEvents", Method: http.MethodGet, Path: "/v1/analytics/daily-events", Tags: tags,
		Summary: "Events per day and type",
		Description: "How many events of each type occurred per UTC day, for every day the period touches: from the day " +
			"containing from to the day containing to (included unless to is its midnight). The default period, the 30 days up " +
			"to now, so ends with today so far.",
		Errors: []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, AnalyticsReaders, func(ctx context.Context, in *dailyEventsInput) (*dailyEventsOutput, error) {
		if err := r.consistent(ctx, in.Consistency, analyticsModels); err != nil {
			return nil, err
		}
		p, err := in.period(r.opts.Queries.Now())
		if err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.DailyEvents(ctx, p, in.Type)
		return &dailyEventsOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "getCampaignFunnel", Method: http.MethodGet, Path: "/v1/analytics/funnel", Tags: tags,
		Summary:     "Campaign funnel",
		Description: "Per campaign: leads, qualified, converted, opportunities, won and lost, with the revenue won per currency.",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, AnalyticsReaders, func(ctx context.Context, in *funnelInput) (*funnelOutput, error) {
		if err := r.consistent(ctx, in.Consistency, analyticsModels); err != nil {
			return nil, err
		}
		var id uuid.UUID
		if in.CampaignID != "" {
			var err error
			if id, err = uuid.Parse(in.CampaignID); err != nil {
				return nil, queryError("campaign_id", "must be a UUID")
			}
		}
		out, err := r.opts.Queries.Funnel(ctx, id)
		return &funnelOutput{Body: out}, err
	})
}
