package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/queries"
	"github.com/google/uuid"
)

type pipelineSummaryInput struct {
	Consistency
	Pipeline string `query:"pipeline" maxLength:"64" doc:"Only this pipeline"`
	Owner    string `query:"owner" maxLength:"200" doc:"Only this owner's opportunities (user principal)"`
}

type pipelineSummaryOutput struct{ Body queries.PipelineSummary }

type opportunitiesInput struct {
	Consistency
	PageParams
	Status     string `query:"status" enum:"open,won,lost" default:"open" doc:"Opportunity status"`
	Pipeline   string `query:"pipeline" maxLength:"64"`
	Stage      string `query:"stage" maxLength:"64"`
	Owner      string `query:"owner" maxLength:"200"`
	CustomerID string `query:"customer_id" format:"uuid" doc:"Only this customer's opportunities"`
	Currency   string `query:"currency" maxLength:"3" doc:"Only amounts in this currency"`
}

type opportunitiesOutput struct {
	Body queries.Page[queries.Opportunity]
}

type pipelineMetricsInput struct {
	Consistency
	PeriodParams
	Pipeline string `query:"pipeline" maxLength:"64"`
	Owner    string `query:"owner" maxLength:"200"`
}

type pipelineMetricsOutput struct{ Body queries.PipelineMetrics }

type pipelinesOutput struct{ Body []queries.Pipeline }

func (r *queryRoutes) registerPipeline() {
	tags := []string{"Sales pipeline"}
	Register(r.s.api, huma.Operation{
		OperationID: "listPipelines", Method: http.MethodGet, Path: "/v1/pipelines", Tags: tags,
		Summary: "Sales pipelines, their stages and probabilities",
		Description: "First the pipeline new opportunities open in (current: true): its stages are the values openOpportunity's and " +
			"changeOpportunityStage's stage accept. Then every other pipeline opportunities were opened in, with the stages " +
			"and probabilities they recorded (an opportunity keeps the pipeline it was opened in). Won and lost are outcomes, not stages.",
		Errors: []int{http.StatusGatewayTimeout},
	}, PipelineReaders, func(ctx context.Context, in *Consistency) (*pipelinesOutput, error) {
		if err := r.consistent(ctx, *in, pipelineModels); err != nil {
			return nil, err
		}
		cur := queries.Pipeline{Name: r.opts.Pipeline.Name, Stages: []queries.PipelineStage{}}
		for i, s := range r.opts.Pipeline.Stages {
			cur.Stages = append(cur.Stages, queries.PipelineStage{Name: s.Name, Index: i, Probability: s.Probability})
		}
		out, err := r.opts.Queries.Pipelines(ctx, cur)
		return &pipelinesOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "getPipelineSummary", Method: http.MethodGet, Path: "/v1/pipeline/summary", Tags: tags,
		Summary:     "Open pipeline by stage, and forecast",
		Description: "Open opportunities per pipeline and stage: count, total and weighted value (Σ amount × probability), per currency (never summed across currencies); and the forecast by expected-close month.",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, PipelineReaders, func(ctx context.Context, in *pipelineSummaryInput) (*pipelineSummaryOutput, error) {
		if err := r.consistent(ctx, in.Consistency, pipelineModels); err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.PipelineSummary(ctx, queries.PipelineFilter{Pipeline: in.Pipeline, Owner: in.Owner})
		return &pipelineSummaryOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "listOpportunities", Method: http.MethodGet, Path: "/v1/pipeline/opportunities", Tags: tags,
		Summary: "List opportunities",
		Description: "Opportunities by expected close date (those without one last), with stage, amount, probability, owner and days in stage. " +
			"Only open opportunities unless status asks for won or lost ones (status defaults to open). Keyset-paginated: pass next as cursor.",
		Errors: []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, PipelineReaders, func(ctx context.Context, in *opportunitiesInput) (*opportunitiesOutput, error) {
		if err := r.consistent(ctx, in.Consistency, pipelineModels); err != nil {
			return nil, err
		}
		f := queries.OpportunityFilter{Status: in.Status, Pipeline: in.Pipeline, Stage: in.Stage, Owner: in.Owner,
			Currency: in.Currency, Limit: in.Limit, Cursor: in.Cursor}
		if in.CustomerID != "" {
			id, err := uuid.Parse(in.CustomerID)
			if err != nil {
				return nil, queryError("customer_id", "must be a UUID")
			}
			f.CustomerID = id
		}
		out, err := r.opts.Queries.Opportunities(ctx, f)
		return &opportunitiesOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "getPipelineMetrics", Method: http.MethodGet, Path: "/v1/pipeline/metrics", Tags: tags,
		Summary:     "Win rate, stage conversion, time in stage, sales velocity",
		Description: "For a period: win rate (won ÷ (won + lost) closed in the period), stage-to-stage conversion and mean/median time in stage (from the stage history), and sales velocity per currency (open × average deal × win rate ÷ average cycle days, from the exact averages, rounded at the end). Stage figures count opportunities, not visits (see each field).",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, PipelineReaders, func(ctx context.Context, in *pipelineMetricsInput) (*pipelineMetricsOutput, error) {
		if err := r.consistent(ctx, in.Consistency, pipelineModels); err != nil {
			return nil, err
		}
		p, err := in.period(r.opts.Queries.Now())
		if err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.PipelineMetrics(ctx, queries.PipelineFilter{Pipeline: in.Pipeline, Owner: in.Owner}, p)
		return &pipelineMetricsOutput{Body: out}, err
	})
}
