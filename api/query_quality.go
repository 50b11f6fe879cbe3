package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/queries"
)

type qualityReportInput struct {
	Consistency
	PeriodParams
}

type qualityReportOutput struct{ Body queries.QualityReport }

type complaintsInput struct {
	Consistency
	PeriodParams
	PageParams
	Status   string `query:"status" enum:"received,acknowledged,responded,closed" doc:"Only complaints in this status"`
	Severity string `query:"severity" enum:"low,medium,high,critical" doc:"Only complaints of this severity"`
}

type complaintsOutput struct {
	Body queries.Page[queries.Complaint]
}

func (r *queryRoutes) registerQuality() {
	tags := []string{"Quality"}
	Register(r.s.api, huma.Operation{
		OperationID: "getQualityReport", Method: http.MethodGet, Path: "/v1/quality/report", Tags: tags,
		Summary: "Quality report of a period",
		Description: "ISO 9001 9.1.2, 9.1.3 and 10.2, ISO 10002: complaint figures (time to acknowledge and to close, reopen rate, satisfaction), " +
			"CSAT and NPS per month and segment, the nonconformity and corrective action log (overdue actions, effectiveness), " +
			"and requirements review compliance (won opportunities and confirmed orders without an approved review, listed).",
		Errors: []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, QualityReaders, func(ctx context.Context, in *qualityReportInput) (*qualityReportOutput, error) {
		if err := r.consistent(ctx, in.Consistency, qualityModels); err != nil {
			return nil, err
		}
		p, err := in.period(r.opts.Queries.Now())
		if err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.QualityReport(ctx, p)
		return &qualityReportOutput{Body: out}, err
	})
	Register(r.s.api, huma.Operation{
		OperationID: "listComplaints", Method: http.MethodGet, Path: "/v1/quality/complaints", Tags: tags,
		Summary:     "Complaint register",
		Description: "The complaints received in a period, by receipt time: received, acknowledged, responded and closed times, severity, satisfaction, linked nonconformities. Keyset-paginated: pass next as cursor.",
		Errors:      []int{http.StatusUnprocessableEntity, http.StatusGatewayTimeout},
	}, QualityReaders, func(ctx context.Context, in *complaintsInput) (*complaintsOutput, error) {
		if err := r.consistent(ctx, in.Consistency, qualityModels); err != nil {
			return nil, err
		}
		p, err := in.period(r.opts.Queries.Now())
		if err != nil {
			return nil, err
		}
		out, err := r.opts.Queries.Complaints(ctx, queries.ComplaintFilter{Period: p, Status: in.Status, Severity: in.Severity,
			Limit: in.Limit, Cursor: in.Cursor})
		return &complaintsOutput{Body: out}, err
	})
}
