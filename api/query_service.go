package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/queries"
)

type queuesInput struct {
	Consistency
}

type queuesOutput struct{ Body queries.QueueOverview }

type queueCasesInput struct {
	Consistency
	PageParams
	Queue    string `path:"queue" maxLength:"64" doc:"Queue name"`
	Priority string `query:"priority" enum:"P1,P2,P3,P4" doc:"Only this priority"`
	Agent    string `query:"agent" maxLength:"200" doc:"Only this agent's cases; - for unassigned ones"`
	Breached bool   `query:"breached" doc:"Only cases with a missed or overdue SLA deadline"`
}

type queueCasesOutput struct {
	Body queries.Page[queries.QueueCase]
}

type serviceMetricsInput struct {
	Consistency
	PeriodParams
	Queue string `query:"queue" maxLength:"64" doc:"Only this queue"`
}

type serviceMetricsOutput struct{ Body queries.ServiceMetrics }

func (r *queryRoutes) registerService() {
	tags := []string{"Service queues"}
	Register(r.s.api, huma.Operation{
		OperationID: "getQueues", Method: http.MethodGet, Path: "/v1/service/queues", Tags: tags,
		Summary:     "Queues, backlog age and agent workload",
		Description: "Open cases per queue and priority (waiting, unassigned, breached), backlog age buckets per queue, and each agent's open workload.",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, ServiceReaders, func(ctx context.Context, in *queuesInput) (*queuesOutput, error) {
		if err := r.consistent(ctx, in.Consistency, serviceModels); err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.Queues(ctx)
		return &queuesOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "listQueueCases", Method: http.MethodGet, Path: "/v1/service/queues/{queue}/cases", Tags: tags,
		Summary:     "Open cases of a queue, by SLA due time",
		Description: "A queue's open cases ordered by their next SLA deadline, with breach flags (a deadline missed, or overdue now). Keyset-paginated: pass next as cursor.",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, ServiceReaders, func(ctx context.Context, in *queueCasesInput) (*queueCasesOutput, error) {
		if err := r.consistent(ctx, in.Consistency, serviceModels); err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.QueueCases(ctx, queries.QueueFilter{Queue: in.Queue, Priority: in.Priority, Agent: in.Agent,
			Breached: in.Breached, Limit: in.Limit, Cursor: in.Cursor})
		return &queueCasesOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "getServiceMetrics", Method: http.MethodGet, Path: "/v1/service/metrics", Tags: tags,
		Summary:     "First-response and resolution times, SLA breach rate",
		Description: "For the cases opened in a period, per month: first-response minutes and resolution hours (mean, median, p90; resolution excludes time waiting on the customer) and the SLA breach rate.",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, ServiceReaders, func(ctx context.Context, in *serviceMetricsInput) (*serviceMetricsOutput, error) {
		if err := r.consistent(ctx, in.Consistency, serviceModels); err != nil {
			return nil, err
		}
		p, err := in.period(r.opts.Queries.Now())
		if err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.ServiceMetrics(ctx, in.Queue, p)
		return &serviceMetricsOutput{Body: out}, err
	})
}
