package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/api"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

// TestLifecycle walks a customer over HTTP from lead to delivered order to
// complaint to closed nonconformity, on the real server and the PostgreSQL
// event store, and checks the recorded history.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Now().UTC()
	path := func(format string, id uuid.UUID) string { return strings.Replace(format, "{id}", id.String(), 1) }

	// Marketing captures and qualifies a lead.
	leadRes := b.mustPost(auth.Marketing, "/v1/leads", map[string]any{
		"source": "trade_fair", "company_name": "Acme Tools Ltd", "contact_name": "Ann Buyer", "email": "ann@acme.example",
	}, "Idempotency-Key", "lead-acme")
	leadID := leadRes.ID
	b.mustPost(auth.Sales, path("/v1/leads/{id}/qualify", leadID), map[string]any{"score": 80, "notes": "budget approved"})

	// Sales registers the customer and converts the lead into it.
	custRes := b.mustPost(auth.Sales, "/v1/customers", registerCustomerBody(uuid.Nil))
	custID := custRes.ID
	oppID := uuid.New()
	b.mustPost(auth.Sales, path("/v1/leads/{id}/convert", leadID), map[string]any{
		"customer_id": custID, "existing_customer": true, "opportunity_id": oppID,
		"amount": map[string]any{"amount_minor": 1250000, "currency": "EUR"},
	})

	// The opportunity (opened here by hand; a process manager does it from the conversion).
	b.mustPost(auth.Sales, "/v1/opportunities", map[string]any{
		"opportunity_id": oppID, "customer_id": custID, "lead_id": leadID, "name": "Acme workshop tools",
		"amount": map[string]any{"amount_minor": 1250000, "currency": "EUR"},
	})
	callAt := now.Add(-time.Hour).Truncate(time.Second)
	call := b.mustPost(auth.Sales, path("/v1/customers/{id}/interactions", custID), map[string]any{
		"channel": "call", "direction": "outbound", "subject": "Requirements call", "summary": "Needs 40 torque wrenches, delivery in May",
		"occurred_at": callAt.Format(time.RFC3339), "actor": "test-sales", "opportunity_id": oppID,
	}, "Occurred-At", callAt.Format(time.RFC3339))
	b.mustPost(auth.Sales, path("/v1/opportunities/{id}/stage", oppID), map[string]any{"stage": "proposal"})
	b.mustPost(auth.Sales, path("/v1/opportunities/{id}/requirements", oppID), map[string]any{"items": []map[string]any{
		{"ref": "R1", "description": "40 torque wrenches, 20-100 Nm", "kind": "customer"},
		{"ref": "R2", "description": "Delivery to the Leeds site by 31 May", "kind": "delivery"},
	}})

	// ISO 9001 8.2.3: no win before the requirements are reviewed.
	res := b.post(auth.Sales, path("/v1/opportunities/{id}/win", oppID), map[string]any{})
	if p := expect(t, res, http.StatusConflict); p.Code != "requirements_not_reviewed" {
		t.Fatalf("win before review: code %q", p.Code)
	}
	b.mustPost(auth.Sales, path("/v1/opportunities/{id}/requirements/review", oppID), map[string]any{
		"revision": 1, "reviewer": "test-sales", "result": "approved",
	})
	won := b.mustPost(auth.Sales, path("/v1/opportunities/{id}/win", oppID), map[string]any{}, "If-Match", "\"4\"")
	if won.Version != 5 {
		t.Fatalf("opportunity at version %d after the win, want 5", won.Version)
	}

	// The order, placed from the won opportunity, runs to delivery.
	orderRes := b.mustPost(auth.Sales, "/v1/orders", map[string]any{
		"customer_id": custID, "opportunity_id": oppID, "customer_reference": "PO-7781",
		"lines": []map[string]any{{"product_id": "TW-100", "description": "Torque wrench 20-100 Nm", "quantity": 40,
			"unit_price": map[string]any{"amount_minor": 31250, "currency": "EUR"}}},
	}, "Idempotency-Key", "order-acme-1")
	orderID := orderRes.ID
	b.mustPost(auth.Sales, path("/v1/orders/{id}/confirm", orderID), map[string]any{"promised_delivery": now.Add(30 * 24 * time.Hour).Format(time.RFC3339)})
	b.mustPost(auth.Service, path("/v1/orders/{id}/production", orderID), nil)
	b.mustPost(auth.Service, path("/v1/orders/{id}/ship", orderID), map[string]any{"carrier": "DHL", "tracking_ref": "JD0146"})
	b.mustPost(auth.Service, path("/v1/orders/{id}/deliver", orderID), map[string]any{"received_by": "Goods-in, Leeds"})

	// A complaint about the delivery; its reference is allocated by the server.
	complaintRes := b.mustPost(auth.Service, "/v1/complaints", map[string]any{
		"customer_id": custID, "order_id": orderID, "channel": "email", "severity": "high",
		"description": "Six wrenches arrived out of calibration", "remedy_sought": "Replacement of the six wrenches",
	})
	complaintID := complaintRes.ID
	b.mustPost(auth.Service, path("/v1/complaints/{id}/acknowledge", complaintID), nil)
	b.mustPost(auth.Quality, path("/v1/complaints/{id}/assess", complaintID), map[string]any{"severity": "high", "urgency": "high"})
	b.mustPost(auth.Quality, path("/v1/complaints/{id}/investigation", complaintID), map[string]any{
		"root_cause": "Calibration step skipped for one batch", "findings": "Batch 2231 not calibrated after repair",
	})

	// Quality raises a nonconformity from the complaint and closes it.
	ncID := uuid.New()
	b.mustPost(auth.Quality, path("/v1/complaints/{id}/nonconformities", complaintID), map[string]any{"nonconformity_id": ncID})
	b.mustPost(auth.Quality, "/v1/nonconformities", map[string]any{
		"nonconformity_id": ncID, "source": "complaint", "source_id": complaintID, "severity": "major",
		"title": "Uncalibrated wrenches delivered", "description": "Batch 2231 shipped without calibration",
		"customer_id": custID, "order_id": orderID,
	})
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/analysis", ncID), map[string]any{"analyst_id": "test-quality"})
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/immediate-actions", ncID), map[string]any{"description": "Six replacement wrenches sent"})
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/root-cause", ncID), map[string]any{"root_cause": "Repair procedure lacks a calibration step", "method": "five_whys"})
	actionID := uuid.New()
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/actions", ncID), map[string]any{
		"action_id": actionID, "description": "Add calibration to the repair procedure", "owner_id": "test-quality",
		"due_date": now.Add(14 * 24 * time.Hour).Format(time.DateOnly),
	})
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/action-plan/approve", ncID), nil)
	res = b.post(auth.Quality, path("/v1/nonconformities/{id}/close", ncID), map[string]any{})
	if p := expect(t, res, http.StatusConflict); p.CurrentVersion != nil {
		t.Fatalf("closing with actions outstanding: %+v", p)
	}
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/actions/complete", ncID), map[string]any{"action_id": actionID, "outcome": "Procedure QP-12 rev C issued"})
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/effectiveness", ncID), map[string]any{"effective": true, "evidence": "No calibration findings in 3 months"})
	b.mustPost(auth.Quality, path("/v1/nonconformities/{id}/close", ncID), map[string]any{"summary": "Procedure fixed and verified"})

	b.mustPost(auth.Service, path("/v1/complaints/{id}/response", complaintID), map[string]any{
		"outcome": "upheld", "decision": "Wrenches replaced; procedure corrected", "remedy_offered": "Replacement and 5% credit",
	})
	closed := b.mustPost(auth.Service, path("/v1/complaints/{id}/close", complaintID), map[string]any{"customer_satisfied": true})

	// The history, as an auditor reads it.
	history := func(stream string) api.StreamPage {
		t.Helper()
		res := b.do(req{method: http.MethodGet, path: "/v1/streams/" + stream, role: auth.Auditor})
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", stream, res.status, res.body)
		}
		var page api.StreamPage
		res.json(t, &page)
		if res.header.Get("ETag") == "" {
			t.Errorf("%s: no ETag", stream)
		}
		return page
	}
	types := func(p api.StreamPage) []string {
		var out []string
		for _, e := range p.Events {
			out = append(out, e.Type)
		}
		return out
	}
	for _, tc := range []struct {
		stream string
		want   []string
	}{
		{leadRes.Stream, []string{"LeadCaptured", "LeadQualified", "LeadConverted"}},
		{"opportunity-" + oppID.String(), []string{"OpportunityOpened", "OpportunityStageChanged", "RequirementsCaptured", "RequirementsReviewed", "OpportunityWon"}},
		{orderRes.Stream, []string{"OrderPlaced", "OrderConfirmed", "OrderProductionStarted", "OrderShipped", "OrderDelivered"}},
		{complaintRes.Stream, []string{"ComplaintReceived", "ComplaintAcknowledged", "ComplaintAssessed", "ComplaintInvestigated",
			"NonconformityRaisedFromComplaint", "ComplaintResponded", "ComplaintClosed"}},
		{"nonconformity-" + ncID.String(), []string{"NonconformityRaised", "NonconformityAnalysisStarted", "ImmediateActionRecorded",
			"RootCauseRecorded", "CorrectiveActionPlanned", "ActionPlanApproved", "CorrectiveActionCompleted", "EffectivenessVerified", "NonconformityClosed"}},
	} {
		got := types(history(tc.stream))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got  %v\n want %v", tc.stream, got, tc.want)
		}
	}

	// Every event carries who, in which role, from where, when and why.
	page := history(complaintRes.Stream)
	if page.Version != closed.Version {
		t.Errorf("complaint stream at %d, close returned %d", page.Version, closed.Version)
	}
	if !strings.Contains(string(page.Events[0].Data), `"reference":"CMP-`) {
		t.Errorf("no allocated reference in %s", page.Events[0].Data)
	}
	for _, e := range page.Events {
		m := e.Metadata
		if m.Actor == "" || m.ActorRole == "" || m.Tenant != "acme" || m.Source != "api" || m.CorrelationID == uuid.Nil ||
			m.CausationID == uuid.Nil || m.OccurredAt.IsZero() || e.RecordedAt.IsZero() || m.Extra["command"] == "" {
			t.Errorf("%s@%d: incomplete metadata %+v", e.Type, e.Version, m)
		}
	}
	if page.Events[1].Metadata.ActorRole != "service" || page.Events[2].Metadata.ActorRole != "quality" {
		t.Errorf("roles not recorded: %s, %s", page.Events[1].Metadata.ActorRole, page.Events[2].Metadata.ActorRole)
	}
	// The order relied on the opportunity's review.
	if order := history(orderRes.Stream); !strings.Contains(string(order.Events[0].Data), `"reviewer":"test-sales"`) {
		t.Errorf("the order does not record the review it relied on: %s", order.Events[0].Data)
	}
	// The call was logged an hour late: it occurred at the client's time.
	if e := history(call.Stream).Events[0]; !e.Metadata.OccurredAt.Equal(callAt) || !e.RecordedAt.After(callAt) {
		t.Errorf("interaction occurred at %v, recorded at %v; want occurred %v", e.Metadata.OccurredAt, e.RecordedAt, callAt)
	}
}
