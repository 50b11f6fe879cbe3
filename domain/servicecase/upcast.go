package servicecase

import (
	"encoding/json"
	"fmt"
	"time"
)

// CaseOpened v1 → v2: the migration story.
//
// The pilot release recorded CaseOpened v1:
//
//	{"case_id": "…", "customer_id": "…", "queue": "support", "priority": "high",
//	 "subject": "…", "opened_at": "…", "first_response_due": "…", "resolution_due": "…"}
//
// Priority was a word ("low", "normal", "high", "urgent"), the channel was not
// asked, and the deadlines were calendar hours from a hard-coded table, with
// no record of the policy behind them. When SLA policies keyed by priority
// code and business calendars arrived, v2 changed three things: priority is
// a code P1–P4, channel is required, and the SLA terms are recorded next to
// the deadlines.
//
// Stored events are never rewritten. A v1 event is upcast on read:
//
//   - priority: urgent → P1, high → P2, normal → P3, low → P4; any other word
//     is an error (the event cannot be interpreted, and must not be guessed);
//   - channel: "unknown" (ChannelUnknown, which new cases cannot use);
//   - sla: when v1 has deadlines, the terms {"policy": "v1_calendar_hours",
//     around-the-clock calendar, minutes = deadline − opened_at rounded up};
//     the deadlines themselves are kept exactly as recorded;
//   - every other field is kept as it is.
var v1Priorities = map[string]Priority{"urgent": P1, "high": P2, "normal": P3, "low": P4}

// LegacyPolicyName names the SLA terms reconstructed for v1 cases.
const LegacyPolicyName = "v1_calendar_hours"

func upcastCaseOpenedV1(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	var word string
	if err := json.Unmarshal(m["priority"], &word); err != nil {
		return nil, fmt.Errorf("priority: %w", err)
	}
	p, ok := v1Priorities[word]
	if !ok {
		return nil, fmt.Errorf("priority %q is not a v1 priority (low, normal, high, urgent)", word)
	}
	m["priority"], _ = json.Marshal(p)
	if _, ok := m["channel"]; !ok {
		m["channel"], _ = json.Marshal(ChannelUnknown)
	}
	var v1 struct {
		OpenedAt         time.Time `json:"opened_at"`
		FirstResponseDue time.Time `json:"first_response_due"`
		ResolutionDue    time.Time `json:"resolution_due"`
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, err
	}
	if !v1.FirstResponseDue.IsZero() && !v1.ResolutionDue.IsZero() {
		m["sla"], _ = json.Marshal(SLATerms{
			Policy:               LegacyPolicyName,
			FirstResponseMinutes: minutesUp(v1.FirstResponseDue.Sub(v1.OpenedAt)),
			ResolutionMinutes:    minutesUp(v1.ResolutionDue.Sub(v1.OpenedAt)),
		})
	}
	return json.Marshal(m)
}

func minutesUp(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Minute - 1) / time.Minute)
}
