package servicecase_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	sc "github.com/evcrm/evcrm/domain/servicecase"
)

func TestEventsRoundTrip(t *testing.T) {
	all := []domain.Event{
		opened, openedNoSLA, assigned, responded, paused,
		sc.CaseResumed{CaseID: caseID, PausedAt: paused.PausedAt, ResumedAt: at("2026-03-10T11:00:00Z"), PausedWorkingSeconds: 34200,
			FirstResponseDue: at("2026-03-10T11:30:00Z"), ResolutionDue: at("2026-03-11T09:30:00Z")},
		sc.CaseEscalated{CaseID: caseID, Level: 2, PreviousLevel: 1, Reason: sc.ReasonResolutionBreach, Note: "n",
			Breach: sc.Resolution, Due: opened.ResolutionDue, EscalatedAt: at("2026-03-09T16:01:00Z")},
		resolved, closed,
		sc.CaseReopened{CaseID: caseID, Reason: "r", ReopenedAt: at("2026-03-10T10:00:00Z"), ResolutionDue: at("2026-03-10T14:00:00Z")},
	}
	domaintest.RoundTrip(t, all...)
	domaintest.Covers(t, sc.Category, all...)
	for _, e := range all {
		_, version, data, err := domain.Events.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := domain.Events.Decode(e.EventType(), version, data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("%s: decoded %+v, want %+v", e.EventType(), back, e)
		}
	}
}

func TestCaseOpenedV1Upcast(t *testing.T) {
	if v, _ := domain.Events.CurrentVersion("CaseOpened"); v != 2 {
		t.Fatalf("CaseOpened is at v%d, want v2", v)
	}
	t.Run("PilotEvent", func(t *testing.T) {
		v1 := `{"case_id":"00000000-0000-4000-8000-00000000c001","customer_id":"00000000-0000-4000-8000-0000000c0001",
			"queue":"support","priority":"urgent","subject":"Line down","opened_at":"2025-11-03T10:00:00Z",
			"first_response_due":"2025-11-03T11:00:00Z","resolution_due":"2025-11-03T14:00:30Z"}`
		e, err := domain.Events.Decode("CaseOpened", 1, []byte(v1))
		if err != nil {
			t.Fatal(err)
		}
		want := sc.CaseOpened{CaseID: caseID, CustomerID: customerID, Queue: "support", Priority: sc.P1, Channel: sc.ChannelUnknown,
			Subject: "Line down", OpenedAt: at("2025-11-03T10:00:00Z"),
			SLA:              &sc.SLATerms{Policy: sc.LegacyPolicyName, FirstResponseMinutes: 60, ResolutionMinutes: 241},
			FirstResponseDue: at("2025-11-03T11:00:00Z"), ResolutionDue: at("2025-11-03T14:00:30Z")}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("upcast v1:\n got %+v\nwant %+v", e, want)
		}
		// The upcast case behaves like any other: its deadlines are the recorded ones.
		st := domain.Fold[sc.State](e)
		if st.Priority() != sc.P1 || !st.Breached(sc.FirstResponse, at("2025-11-03T11:00:01Z")) {
			t.Errorf("upcast state: priority %s", st.Priority())
		}
	})
	t.Run("AllWords", func(t *testing.T) {
		for word, want := range map[string]sc.Priority{"urgent": sc.P1, "high": sc.P2, "normal": sc.P3, "low": sc.P4} {
			e, err := domain.Events.Decode("CaseOpened", 1, []byte(`{"priority":"`+word+`","opened_at":"2025-11-03T10:00:00Z"}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := e.(sc.CaseOpened); got.Priority != want || got.SLA != nil || got.Channel != sc.ChannelUnknown {
				t.Errorf("%s: %+v", word, got)
			}
		}
	})
	t.Run("KeepsChannelAndDeadlineBeforeOpening", func(t *testing.T) {
		e, err := domain.Events.Decode("CaseOpened", 1, []byte(`{"priority":"low","channel":"email",
			"opened_at":"2025-11-03T10:00:00Z","first_response_due":"2025-11-03T09:00:00Z","resolution_due":"2025-11-03T10:00:00Z"}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := e.(sc.CaseOpened); got.Channel != sc.ChannelEmail || got.SLA.FirstResponseMinutes != 0 {
			t.Errorf("%+v", got)
		}
	})
	for name, data := range map[string]string{
		"UnknownWord":  `{"priority":"P1"}`,
		"NoPriority":   `{}`,
		"NotJSON":      `{`,
		"BadTimestamp": `{"priority":"low","opened_at":"yesterday"}`,
	} {
		t.Run("Err"+name, func(t *testing.T) {
			if _, err := domain.Events.Decode("CaseOpened", 1, []byte(data)); err == nil {
				t.Fatalf("decoded %s", data)
			}
		})
	}
	t.Run("ErrFutureVersion", func(t *testing.T) {
		_, err := domain.Events.Decode("CaseOpened", 3, []byte(`{}`))
		if !errors.Is(err, domain.ErrUnsupportedSchemaVersion) {
			t.Fatalf("err = %v", err)
		}
	})
}
