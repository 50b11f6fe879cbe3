package objective_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/domaintest"
	ob "github.com/evcrm/evcrm/domain/objective"
)

var (
	id  = uuid.MustParse("0195b2c4-0000-7000-8000-000000000001")
	now = domaintest.Now // 2025-03-03 09:30 UTC
	q1  = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	q2  = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	mar = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
)

func set() ob.ObjectiveSet {
	return ob.ObjectiveSet{ObjectiveID: id, Name: "Complaints acknowledged in time", Metric: ob.ComplaintsAcknowledgedOnTime,
		Granularity: ob.Quarter, Comparator: ob.AtLeast, Target: 95, EffectiveFrom: q1, At: now}
}

func TestSetObjective(t *testing.T) {
	cmd := ob.SetObjective{ObjectiveID: id, Name: " Complaints acknowledged in time ", Metric: ob.ComplaintsAcknowledgedOnTime,
		Granularity: ob.Quarter, Comparator: ob.AtLeast, Target: 95}
	st := domaintest.Given[ob.State](t).When(cmd).Then(set())
	if tg, ok := st.TargetAt(mar); !ok || tg.Value != 95 || st.Metric() != ob.ComplaintsAcknowledgedOnTime {
		t.Fatalf("target %+v %v", tg, ok)
	}
	domaintest.Given[ob.State](t, set()).When(cmd).ThenError(ob.ErrAlreadyExists)
	for name, c := range map[string]struct {
		mut    func(*ob.SetObjective)
		fields []string
	}{
		"NoName":         {func(c *ob.SetObjective) { c.Name = "" }, []string{"name"}},
		"UnknownMetric":  {func(c *ob.SetObjective) { c.Metric = "happiness" }, []string{"metric"}},
		"PercentOver100": {func(c *ob.SetObjective) { c.Target = 101 }, []string{"target"}},
		"NPSBelow100":    {func(c *ob.SetObjective) { c.Metric, c.Target = ob.NPS, -101 }, []string{"target"}},
		"CSATAverage0":   {func(c *ob.SetObjective) { c.Metric, c.Target = ob.CSATAverage, 0 }, []string{"target"}},
		"BadComparator":  {func(c *ob.SetObjective) { c.Comparator = ">=" }, []string{"comparator"}},
		"BadGranularity": {func(c *ob.SetObjective) { c.Granularity = "week" }, []string{"granularity"}},
		"NotPeriodStart": {func(c *ob.SetObjective) { c.EffectiveFrom = mar }, []string{"effective_from"}},
	} {
		t.Run(name, func(t *testing.T) {
			bad := cmd
			c.mut(&bad)
			domaintest.Given[ob.State](t).When(bad).ThenInvalid(c.fields...)
		})
	}
	// NPS may be negative; a month objective starts on any first of a month.
	domaintest.Given[ob.State](t).When(ob.SetObjective{ObjectiveID: id, Name: "NPS", Metric: ob.NPS, Granularity: ob.Month,
		Comparator: ob.AtLeast, Target: -10, EffectiveFrom: mar}).
		Then(ob.ObjectiveSet{ObjectiveID: id, Name: "NPS", Metric: ob.NPS, Granularity: ob.Month, Comparator: ob.AtLeast, Target: -10, EffectiveFrom: mar, At: now})
}

func TestChangeTarget(t *testing.T) {
	raise := ob.ChangeObjectiveTarget{ObjectiveID: id, Comparator: ob.AtLeast, Target: 97, EffectiveFrom: q2, Reason: "management review 2025-Q1"}
	st := domaintest.Given[ob.State](t, set()).When(raise).
		Then(ob.ObjectiveTargetChanged{ObjectiveID: id, Comparator: ob.AtLeast, Target: 97, EffectiveFrom: q2, Reason: "management review 2025-Q1", At: now})
	_ = st
	changed := ob.ObjectiveTargetChanged{ObjectiveID: id, Comparator: ob.AtLeast, Target: 97, EffectiveFrom: q2, Reason: "r", At: now}
	var s ob.State
	for _, e := range []domain.Event{set(), changed} {
		s.Apply(e)
	}
	if tg, _ := s.TargetAt(mar); tg.Value != 95 {
		t.Errorf("Q1 target %v, want 95 (kept)", tg.Value)
	}
	if tg, _ := s.TargetAt(q2.AddDate(0, 1, 0)); tg.Value != 97 {
		t.Errorf("Q2 target %v, want 97", tg.Value)
	}
	if _, ok := s.TargetAt(q1.AddDate(0, 0, -1)); ok {
		t.Error("a target before the objective applied")
	}
	// The same revision again changes nothing; an earlier one is refused.
	domaintest.Given[ob.State](t, set(), changed).When(raise).Then()
	domaintest.Given[ob.State](t, set(), changed).When(ob.ChangeObjectiveTarget{ObjectiveID: id, Comparator: ob.AtLeast, Target: 90, EffectiveFrom: q1, Reason: "x"}).
		ThenError(ob.ErrRevisionOrder)
	// Default: the current period (Q1 at now), replacing its revision.
	domaintest.Given[ob.State](t, set()).When(ob.ChangeObjectiveTarget{ObjectiveID: id, Comparator: ob.AtMost, Target: 50, Reason: "typo"}).
		Then(ob.ObjectiveTargetChanged{ObjectiveID: id, Comparator: ob.AtMost, Target: 50, EffectiveFrom: q1, Reason: "typo", At: now})
	domaintest.Given[ob.State](t, set()).When(ob.ChangeObjectiveTarget{ObjectiveID: id, Comparator: ob.AtLeast, Target: 150, Reason: ""}).
		ThenInvalid("target", "reason")
	domaintest.Given[ob.State](t).When(raise).ThenError(ob.ErrNotFound)
	domaintest.Given[ob.State](t, set(), ob.ObjectiveRetired{ObjectiveID: id, Reason: "done", At: now}).When(raise).ThenError(ob.ErrRetired)
}

func TestRetire(t *testing.T) {
	retire := ob.RetireObjective{ObjectiveID: id, Reason: "replaced by a working-day target"}
	st := domaintest.Given[ob.State](t, set()).When(retire).Then(ob.ObjectiveRetired{ObjectiveID: id, Reason: "replaced by a working-day target", At: now})
	_ = st
	domaintest.Given[ob.State](t, set(), ob.ObjectiveRetired{ObjectiveID: id, Reason: "x", At: now}).When(retire).Then()
	domaintest.Given[ob.State](t).When(retire).ThenError(ob.ErrNotFound)
	domaintest.Given[ob.State](t, set()).When(ob.RetireObjective{ObjectiveID: id}).ThenInvalid("reason")
}

func TestPeriods(t *testing.T) {
	at := time.Date(2025, 8, 17, 13, 0, 0, 0, time.UTC)
	if s := ob.Quarter.PeriodStart(at); !s.Equal(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)) || ob.Quarter.Label(s) != "2025-Q3" ||
		!ob.Quarter.Next(s).Equal(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("quarter of %s: %s", at, s)
	}
	if s := ob.Month.PeriodStart(at); ob.Month.Label(s) != "2025-08" || !ob.Month.Next(s).Equal(time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("month of %s: %s", at, s)
	}
	if !ob.AtLeast.Met(95, 95) || ob.AtLeast.Met(94.9, 95) || !ob.AtMost.Met(5, 5) || ob.AtMost.Met(5.1, 5) {
		t.Error("comparators")
	}
}
