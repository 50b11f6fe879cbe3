package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/evcrm/evcrm/projections/readmodels"
	"github.com/evcrm/evcrm/queries"
)

// objectiveModels are the read models the objectives review reads: the
// objectives, and the figures it compares them with.
var objectiveModels = []string{readmodels.Objectives, readmodels.Quality, readmodels.Pipeline, readmodels.Service, readmodels.Customer}

type objectivesInput struct {
	Consistency
	From string `query:"from" maxLength:"64" doc:"Start of the review window (inclusive): a date or an RFC 3339 time; the periods that overlap it are shown whole. Default: 12 months before to." example:"2026-01-01"`
	To   string `query:"to" maxLength:"64" doc:"End of the review window (exclusive). Default: now." example:"2026-07-01"`
}

type objectivesOutput struct{ Body queries.ObjectivesReview }

func (r *queryRoutes) registerObjectives() {
	Register(r.s.api, huma.Operation{
		OperationID: "reviewObjectives", Method: http.MethodGet, Path: "/v1/quality/objectives", Tags: []string{"Quality objectives"},
		Summary: "Quality objectives: actual against target per period",
		Description: "Management review input (ISO 9001 6.2, 9.1.3, 9.3): every quality objective that applied in the window, with " +
			"its target revisions and, per month or quarter, the target in force, the actual computed from the read models, " +
			"its basis and a status (met, missed, on_track, off_track for the running period, no_data); a trend from the last two " +
			"periods with data and an off_track flag. Set objectives with POST /v1/quality/objectives.",
		Errors: []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, QualityReaders, func(ctx context.Context, in *objectivesInput) (*objectivesOutput, error) {
		if err := r.consistent(ctx, in.Consistency, objectiveModels); err != nil {
			return nil, err
		}
		p, err := PeriodParams{From: in.From, To: in.To}.period(r.opts.Queries.Now())
		if err != nil {
			return nil, err
		}
		if in.From == "" {
			p.From = p.To.AddDate(-1, 0, 0)
		}
		out, err := r.opts.Queries.ObjectivesReview(ctx, p)
		return &objectivesOutput{Body: out}, err
	})
}
