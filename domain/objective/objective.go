// Package objective is the quality objective aggregate (ISO 9001 6.2, 9.1.3,
// 9.3): a measurable target the organisation sets itself for one metric the
// read models compute — complaints acknowledged within their deadline, NPS,
// win rate, first response within SLA... — evaluated per month or quarter,
// and reviewed in management review against what was achieved.
//
// One objective is one stream: ObjectiveSet, then ObjectiveTargetChanged as
// the organisation raises or lowers the bar (each revision applies from the
// start of a period on, so earlier periods keep the target they had), and
// finally ObjectiveRetired. The actual values are never stored here: they
// are computed from the read models for each period (package queries).
package objective

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Category is the stream category of objectives.
const Category = "objective"

// StreamID returns the stream of one objective, "objective-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Metric is what an objective measures: one figure the read models compute
// per period.
type Metric string

const (
	// ComplaintsAcknowledgedOnTime: complaints received in the period and
	// acknowledged, the share acknowledged within their deadline, in %.
	ComplaintsAcknowledgedOnTime Metric = "complaints_acknowledged_on_time_percent"
	// ComplaintsSatisfied: complaints received in the period and closed,
	// the share closed with the customer satisfied, in %.
	ComplaintsSatisfied Metric = "complaints_satisfied_percent"
	// ComplaintsReopened: complaints closed at least once, the share
	// reopened, in %.
	ComplaintsReopened Metric = "complaints_reopen_rate_percent"
	// NPS: % promoters − % detractors of the NPS answers of the period.
	NPS Metric = "nps"
	// CSAT: share of CSAT answers of 4 or 5, in %.
	CSAT Metric = "csat_percent"
	// CSATAverage: mean CSAT score (1-5) of the period.
	CSATAverage Metric = "csat_average"
	// WinRate: won ÷ (won + lost) of the opportunities closed in the
	// period, in %.
	WinRate Metric = "win_rate_percent"
	// FirstResponseWithinSLA: cases opened in the period under an SLA whose
	// first response is due or given, the share answered in time, in %.
	FirstResponseWithinSLA Metric = "first_response_within_sla_percent"
	// SLABreachRate: cases opened in the period under an SLA, the share
	// with a missed deadline, in %.
	SLABreachRate Metric = "sla_breach_rate_percent"
)

// Metrics lists every metric, in order.
var Metrics = domain.NewEnum("metric", ComplaintsAcknowledgedOnTime, ComplaintsSatisfied, ComplaintsReopened,
	NPS, CSAT, CSATAverage, WinRate, FirstResponseWithinSLA, SLABreachRate)

func (m Metric) Valid() bool             { return Metrics.Has(m) }
func (Metric) EnumValues() []string      { return Metrics.Strings() }
func (m Metric) Range() (lo, hi float64) { return metricRange(m) }

func metricRange(m Metric) (lo, hi float64) {
	switch m {
	case NPS:
		return -100, 100
	case CSATAverage:
		return 1, 5
	}
	return 0, 100
}

// Comparator says on which side of the target a period is on track.
type Comparator string

const (
	AtLeast Comparator = "at_least" // actual ≥ target
	AtMost  Comparator = "at_most"  // actual ≤ target
)

// Comparators lists every comparator.
var Comparators = domain.NewEnum("comparator", AtLeast, AtMost)

func (c Comparator) Valid() bool        { return Comparators.Has(c) }
func (Comparator) EnumValues() []string { return Comparators.Strings() }

// Met reports whether actual meets target under c.
func (c Comparator) Met(actual, target float64) bool {
	if c == AtMost {
		return actual <= target
	}
	return actual >= target
}

// Granularity is the length of the periods an objective is evaluated over.
type Granularity string

const (
	Month   Granularity = "month"
	Quarter Granularity = "quarter"
)

// Granularities lists every granularity.
var Granularities = domain.NewEnum("granularity", Month, Quarter)

func (g Granularity) Valid() bool        { return Granularities.Has(g) }
func (Granularity) EnumValues() []string { return Granularities.Strings() }

// PeriodStart returns the start (UTC) of the period of granularity g that
// holds t.
func (g Granularity) PeriodStart(t time.Time) time.Time {
	t = t.UTC()
	m := t.Month()
	if g == Quarter {
		m = (m-1)/3*3 + 1
	}
	return time.Date(t.Year(), m, 1, 0, 0, 0, 0, time.UTC)
}

// Next returns the start of the period after the one starting at start.
func (g Granularity) Next(start time.Time) time.Time {
	if g == Quarter {
		return start.AddDate(0, 3, 0)
	}
	return start.AddDate(0, 1, 0)
}

// Label names the period starting at start: "2026-03" or "2026-Q1".
func (g Granularity) Label(start time.Time) string {
	if g == Quarter {
		return start.Format("2006") + "-Q" + string(rune('1'+(int(start.Month())-1)/3))
	}
	return start.Format("2006-01")
}

// Errors of the objective aggregate, for errors.Is.
var (
	ErrNotFound      = domain.NotFound("objective")
	ErrAlreadyExists = domain.AlreadyExists("objective")
	ErrRetired       = domain.Conflict("objective_retired", "the objective is retired: set a new one")
	// ErrRevisionOrder refuses a target revision that would apply before the
	// latest one: a period's target is never rewritten after a later one.
	ErrRevisionOrder = domain.Conflict("target_revision_out_of_order", "a target revision may not apply before the latest one")
)

// Target is the bar for one metric from a period on.
type Target struct {
	EffectiveFrom time.Time  `json:"effective_from" doc:"Start of the first period the target applies to (UTC, the first day of a month or quarter)"`
	Comparator    Comparator `json:"comparator"`
	Value         float64    `json:"value"`
}

// SetObjective sets a new objective.
type SetObjective struct {
	ObjectiveID uuid.UUID   `json:"objective_id"`
	Name        string      `json:"name" doc:"e.g. Complaints acknowledged within 2 working days"`
	Metric      Metric      `json:"metric"`
	Granularity Granularity `json:"granularity"`
	Comparator  Comparator  `json:"comparator"`
	Target      float64     `json:"target" doc:"In the metric's unit: percent (0-100), NPS (-100 to 100) or mean CSAT (1-5)"`
	// EffectiveFrom: zero means the start of the current period.
	EffectiveFrom time.Time `json:"effective_from,omitzero" doc:"Start of the first period the objective applies to (the first day of a month or quarter, UTC). Default: the current period."`
	Owner         string    `json:"owner,omitempty" doc:"Who answers for it (a user principal or a function)"`
	Note          string    `json:"note,omitempty" doc:"Why this objective, how it was derived (ISO 9001 6.2)"`
}

// ChangeObjectiveTarget revises the target from a period on.
type ChangeObjectiveTarget struct {
	ObjectiveID   uuid.UUID  `json:"objective_id"`
	Comparator    Comparator `json:"comparator"`
	Target        float64    `json:"target"`
	EffectiveFrom time.Time  `json:"effective_from,omitzero" doc:"Start of the first period the new target applies to. Default: the current period."`
	Reason        string     `json:"reason"`
}

// RetireObjective ends an objective; periods after it are not evaluated.
type RetireObjective struct {
	ObjectiveID uuid.UUID `json:"objective_id"`
	Reason      string    `json:"reason"`
}

func (SetObjective) CommandType() string          { return "SetObjective" }
func (ChangeObjectiveTarget) CommandType() string { return "ChangeObjectiveTarget" }
func (RetireObjective) CommandType() string       { return "RetireObjective" }

func (c SetObjective) AggregateID() uuid.UUID          { return c.ObjectiveID }
func (c ChangeObjectiveTarget) AggregateID() uuid.UUID { return c.ObjectiveID }
func (c RetireObjective) AggregateID() uuid.UUID       { return c.ObjectiveID }

// ObjectiveSet: a quality objective was set.
type ObjectiveSet struct {
	ObjectiveID   uuid.UUID   `json:"objective_id"`
	Name          string      `json:"name"`
	Metric        Metric      `json:"metric"`
	Granularity   Granularity `json:"granularity"`
	Comparator    Comparator  `json:"comparator"`
	Target        float64     `json:"target"`
	EffectiveFrom time.Time   `json:"effective_from"`
	Owner         string      `json:"owner,omitempty"`
	Note          string      `json:"note,omitempty"`
	At            time.Time   `json:"at"`
}

// ObjectiveTargetChanged: the target was revised from a period on.
type ObjectiveTargetChanged struct {
	ObjectiveID   uuid.UUID  `json:"objective_id"`
	Comparator    Comparator `json:"comparator"`
	Target        float64    `json:"target"`
	EffectiveFrom time.Time  `json:"effective_from"`
	Reason        string     `json:"reason"`
	At            time.Time  `json:"at"`
}

// ObjectiveRetired: the objective no longer applies.
type ObjectiveRetired struct {
	ObjectiveID uuid.UUID `json:"objective_id"`
	Reason      string    `json:"reason"`
	At          time.Time `json:"at"`
}

func (ObjectiveSet) EventType() string           { return "ObjectiveSet" }
func (ObjectiveTargetChanged) EventType() string { return "ObjectiveTargetChanged" }
func (ObjectiveRetired) EventType() string       { return "ObjectiveRetired" }

func init() {
	domain.Events.Register(
		domain.Registration{Event: ObjectiveSet{}, Aggregate: Category,
			Doc: "A quality objective was set: a metric, a target with its comparator, evaluated per month or quarter (ISO 9001 6.2)."},
		domain.Registration{Event: ObjectiveTargetChanged{}, Aggregate: Category,
			Doc: "The target of a quality objective was revised, from the start of a period on."},
		domain.Registration{Event: ObjectiveRetired{}, Aggregate: Category,
			Doc: "A quality objective was retired; periods after it are not evaluated."},
	)
}

// State is one objective folded from its events; the zero State does not exist.
type State struct {
	set       ObjectiveSet
	targets   []Target
	retired   bool
	retiredAt time.Time
}

var _ domain.Decider = (*State)(nil)

func (s *State) Exists() bool                        { return s.set.ObjectiveID != uuid.Nil }
func (s *State) ID() uuid.UUID                       { return s.set.ObjectiveID }
func (s *State) Name() string                        { return s.set.Name }
func (s *State) Metric() Metric                      { return s.set.Metric }
func (s *State) Granularity() Granularity            { return s.set.Granularity }
func (s *State) Retired() bool                       { return s.retired }
func (s *State) RetiredAt() time.Time                { return s.retiredAt }
func (s *State) Targets() []Target                   { return slices.Clone(s.targets) }
func (s *State) TargetAt(t time.Time) (Target, bool) { return TargetAt(s.targets, t) }

// TargetAt returns the target in force at t: the latest revision effective
// at or before t. false before the first.
func TargetAt(targets []Target, t time.Time) (Target, bool) {
	for i := len(targets) - 1; i >= 0; i-- {
		if !targets[i].EffectiveFrom.After(t) {
			return targets[i], true
		}
	}
	return Target{}, false
}

// Apply folds one event into the state; it ignores events of other aggregates.
func (s *State) Apply(e domain.Event) {
	switch e := e.(type) {
	case ObjectiveSet:
		*s = State{set: e, targets: []Target{{EffectiveFrom: e.EffectiveFrom, Comparator: e.Comparator, Value: e.Target}}}
	case ObjectiveTargetChanged:
		s.targets = Revise(s.targets, Target{EffectiveFrom: e.EffectiveFrom, Comparator: e.Comparator, Value: e.Target})
	case ObjectiveRetired:
		s.retired, s.retiredAt = true, e.At
	}
}

// Revise returns targets with t in force from t.EffectiveFrom on: a
// revision for the same period replaces it. targets stays in order.
func Revise(targets []Target, t Target) []Target {
	out := slices.Clone(targets)
	if n := len(out); n > 0 && out[n-1].EffectiveFrom.Equal(t.EffectiveFrom) {
		out[n-1] = t
		return out
	}
	return append(out, t)
}

// Decide checks cmd against the objective and returns the events to record.
func (s *State) Decide(cmd domain.Command, now time.Time) ([]domain.Event, error) {
	if !domain.Handles(commandList, cmd) {
		return nil, domain.UnknownCommand(cmd)
	}
	now = now.UTC()
	switch c := cmd.(type) {
	case SetObjective:
		return s.setObjective(c, now)
	case ChangeObjectiveTarget:
		return s.changeTarget(c, now)
	case RetireObjective:
		return s.retire(c, now)
	}
	return nil, domain.UnknownCommand(cmd) // unreachable while commandList and the switch agree
}

func checkTarget(v *domain.Validator, m Metric, c Comparator, target float64) {
	Comparators.Check(v, "comparator", c)
	if m.Valid() {
		lo, hi := metricRange(m)
		v.Require("target", !math.IsNaN(target) && target >= lo && target <= hi,
			"must lie between "+trimFloat(lo)+" and "+trimFloat(hi)+" for "+string(m))
	}
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(strconvF(f), "0"), ".")
}

// effective checks (or defaults) the start of the first period a target
// applies to.
func effective(v *domain.Validator, g Granularity, t, now time.Time) time.Time {
	if t.IsZero() {
		return g.PeriodStart(now)
	}
	t = t.UTC()
	if g.Valid() && !g.PeriodStart(t).Equal(t) {
		v.Add("effective_from", "must be the start of a "+string(g)+" (its first day, 00:00 UTC)")
	}
	domain.CheckTime(v, "effective_from", t)
	return t
}

func (s *State) setObjective(c SetObjective, now time.Time) ([]domain.Event, error) {
	if s.Exists() {
		return nil, ErrAlreadyExists
	}
	c.Name, c.Owner, c.Note = strings.TrimSpace(c.Name), strings.TrimSpace(c.Owner), strings.TrimSpace(c.Note)
	var v domain.Validator
	v.Require("objective_id", c.ObjectiveID != uuid.Nil, "is required")
	text.Line(&v, "name", c.Name, true, text.MaxName)
	Metrics.Check(&v, "metric", c.Metric)
	Granularities.Check(&v, "granularity", c.Granularity)
	checkTarget(&v, c.Metric, c.Comparator, c.Target)
	from := effective(&v, c.Granularity, c.EffectiveFrom, now)
	text.Line(&v, "owner", c.Owner, false, text.MaxName)
	text.Block(&v, "note", c.Note, false, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []domain.Event{ObjectiveSet{ObjectiveID: c.ObjectiveID, Name: c.Name, Metric: c.Metric, Granularity: c.Granularity,
		Comparator: c.Comparator, Target: c.Target, EffectiveFrom: from, Owner: c.Owner, Note: c.Note, At: now}}, nil
}

func (s *State) changeTarget(c ChangeObjectiveTarget, now time.Time) ([]domain.Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound
	}
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	checkTarget(&v, s.set.Metric, c.Comparator, c.Target)
	from := effective(&v, s.set.Granularity, c.EffectiveFrom, now)
	text.Line(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.retired {
		return nil, ErrRetired
	}
	last := s.targets[len(s.targets)-1]
	if from.Before(last.EffectiveFrom) {
		return nil, ErrRevisionOrder
	}
	if from.Equal(last.EffectiveFrom) && last.Comparator == c.Comparator && last.Value == c.Target {
		return nil, nil // already so
	}
	return []domain.Event{ObjectiveTargetChanged{ObjectiveID: s.ID(), Comparator: c.Comparator, Target: c.Target,
		EffectiveFrom: from, Reason: c.Reason, At: now}}, nil
}

func (s *State) retire(c RetireObjective, now time.Time) ([]domain.Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound
	}
	c.Reason = strings.TrimSpace(c.Reason)
	var v domain.Validator
	text.Line(&v, "reason", c.Reason, true, text.MaxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.retired {
		return nil, nil
	}
	return []domain.Event{ObjectiveRetired{ObjectiveID: s.ID(), Reason: c.Reason, At: now}}, nil
}
