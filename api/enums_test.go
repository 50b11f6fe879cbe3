package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/internal/auth"
	"github.com/google/uuid"
)

// TestEnumeratedFieldsAreDiscoverable: every enumerated field of the
// commands is an enum in the OpenAPI document, and a value outside it is
// refused with a message listing what is allowed.
func TestEnumeratedFieldsAreDiscoverable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum  []string `json:"enum"`
					Items *struct {
						Enum []string `json:"enum"`
					} `json:"items"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	b.do(req{method: http.MethodGet, path: "/openapi.json"}).json(t, &doc)
	for field, want := range map[string][]string{
		"RegisterCustomerRequest.kind":            {"organisation", "person"},
		"OpenCaseRequest.priority":                {"P1", "P2", "P3", "P4"},
		"OpenCaseRequest.channel":                 {"email", "phone", "web", "chat", "social", "in_person", "letter"},
		"ReceiveComplaintRequest.severity":        {"low", "medium", "high", "critical"},
		"AssessComplaintRequest.urgency":          {"low", "normal", "high"},
		"RespondToComplaintRequest.outcome":       {"upheld", "partially_upheld", "rejected"},
		"ReviewRequirementsRequest.result":        {"approved", "rejected"},
		"requirement.Item.kind":                   {"customer", "delivery", "implied", "organisation", "statutory"},
		"RaiseNonconformityRequest.source":        {"complaint", "audit", "internal"},
		"RaiseNonconformityRequest.severity":      {"minor", "major", "critical"},
		"LogInteractionRequest.channel":           {"call", "email", "meeting", "chat", "visit", "letter"},
		"LogInteractionRequest.direction":         {"inbound", "outbound"},
		"interaction.Participant.kind":            {"user", "contact", "external"},
		"PlanCampaignRequest.channel":             {"email", "sms", "phone", "post", "social", "event", "web", "other"},
		"RecordCampaignResponseRequest.kind":      {"sent", "opened", "clicked", "replied", "opted_out"},
		"SubmitFeedbackRequest.method":            {"survey", "email", "phone", "web", "in_person", "other"},
		"GiveConsentRequest.channel":              {"email", "phone", "sms", "post", "messaging"},
		"ChangeCustomerDetailsRequest.kind":       {"organisation", "person"},
		"WithdrawConsentRequest.channel":          {"email", "phone", "sms", "post", "messaging"},
		"CorrectInteractionRequest.direction":     {"inbound", "outbound"},
		"ReceiveComplaintRequest.channel":         {"email", "phone", "web", "chat", "social", "in_person", "letter"},
		"AssessComplaintRequest.severity":         {"low", "medium", "high", "critical"},
		"LogCustomerInteractionRequest.direction": {"inbound", "outbound"},
	} {
		schema, prop, _ := strings.Cut(field, ".")
		if i := strings.LastIndex(field, "."); strings.Count(field, ".") > 1 {
			schema, prop = field[:i], field[i+1:]
		}
		p, ok := doc.Components.Schemas[schema].Properties[prop]
		if !ok {
			t.Errorf("%s: no such property", field)
			continue
		}
		if !slices.Equal(p.Enum, want) {
			t.Errorf("%s: enum %v, want %v", field, p.Enum, want)
		}
	}

	res := b.post(auth.Service, "/v1/cases", map[string]any{"customer_id": uuid.NewString(), "queue": "support",
		"priority": "P9", "channel": "fax", "subject": "x"})
	p := expect(t, res, http.StatusUnprocessableEntity)
	msgs := ""
	for _, e := range p.Errors {
		msgs += e.Location + ": " + e.Message + "\n"
	}
	for _, want := range []string{"P1", "P4", "in_person", "letter"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("refusal does not list %q:\n%s", want, msgs)
		}
	}
}

func TestPipelinesReadable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	withQueries(t, b, time.Second)
	var got []struct {
		Name    string `json:"name"`
		Current bool   `json:"current"`
		Stages  []struct {
			Name        string `json:"name"`
			Index       int    `json:"index"`
			Probability int    `json:"probability"`
		} `json:"stages"`
	}
	res := b.get(auth.Sales, "/v1/pipelines")
	if res.status != http.StatusOK {
		t.Fatalf("GET /v1/pipelines: %d %s", res.status, res.body)
	}
	res.json(t, &got)
	if len(got) != 1 || got[0].Name != "default" || !got[0].Current || len(got[0].Stages) != 4 ||
		got[0].Stages[0].Name != "qualification" || got[0].Stages[3].Probability != 75 || got[0].Stages[3].Index != 3 {
		t.Fatalf("pipelines = %+v", got)
	}
}
