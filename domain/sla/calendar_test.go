package sla_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/sla"
)

// 2026-03-06 is a Friday; 2026-03-09 the Monday after.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendarAdd(t *testing.T) {
	nineToFive := sla.WeekdaysNineToFive("")
	paris := sla.WeekdaysNineToFive("+01:00")
	withHoliday := sla.WeekdaysNineToFive("")
	withHoliday.Holidays = []string{"2026-03-09"}
	fullDay := sla.Calendar{Days: []string{"sat", "sun"}, Opens: "00:00", Closes: "24:00"}

	tests := []struct {
		name string
		cal  sla.Calendar
		from string
		d    time.Duration
		want string
	}{
		{"AroundTheClock", sla.AroundTheClock, "2026-03-06T16:00:00Z", 4 * time.Hour, "2026-03-06T20:00:00Z"},
		{"WithinDay", nineToFive, "2026-03-06T10:00:00Z", 2 * time.Hour, "2026-03-06T12:00:00Z"},
		{"EndsExactlyAtClose", nineToFive, "2026-03-06T15:00:00Z", 2 * time.Hour, "2026-03-06T17:00:00Z"},
		{"OverWeekend", nineToFive, "2026-03-06T16:00:00Z", 2 * time.Hour, "2026-03-09T10:00:00Z"},
		{"StartsAtClose", nineToFive, "2026-03-06T17:00:00Z", time.Hour, "2026-03-09T10:00:00Z"},
		{"StartsBeforeOpen", nineToFive, "2026-03-06T07:00:00Z", time.Hour, "2026-03-06T10:00:00Z"},
		{"StartsOnSaturday", nineToFive, "2026-03-07T12:00:00Z", 30 * time.Minute, "2026-03-09T09:30:00Z"},
		{"StartsAtOpen", nineToFive, "2026-03-09T09:00:00Z", 8 * time.Hour, "2026-03-09T17:00:00Z"},
		{"SeveralDays", nineToFive, "2026-03-09T13:00:00Z", 3 * 8 * time.Hour, "2026-03-12T13:00:00Z"},
		{"TwoWeeks", nineToFive, "2026-03-06T09:00:00Z", 10 * 8 * time.Hour, "2026-03-19T17:00:00Z"},
		{"HolidayMonday", withHoliday, "2026-03-06T16:00:00Z", 2 * time.Hour, "2026-03-10T10:00:00Z"},
		{"FixedOffset", paris, "2026-03-06T15:00:00Z", 2 * time.Hour, "2026-03-09T09:00:00Z"},    // 16:00+01 → Mon 10:00+01
		{"FixedOffsetMorning", paris, "2026-03-06T07:30:00Z", time.Hour, "2026-03-06T09:00:00Z"}, // 08:30+01 → 10:00+01
		{"MidnightClose", fullDay, "2026-03-06T12:00:00Z", 25 * time.Hour, "2026-03-08T01:00:00Z"},
		{"ZeroDuration", nineToFive, "2026-03-07T12:00:00Z", 0, "2026-03-07T12:00:00Z"},
		{"NegativeDuration", nineToFive, "2026-03-07T12:00:00Z", -time.Hour, "2026-03-07T12:00:00Z"},
		{"InvalidCalendarIsAroundTheClock", sla.Calendar{Days: []string{"mon"}, Opens: "17:00", Closes: "09:00"}, "2026-03-07T12:00:00Z", time.Hour, "2026-03-07T13:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.Add(at(tt.from), tt.d)
			if !got.Equal(at(tt.want)) {
				t.Fatalf("Add(%s, %s) = %s, want %s", tt.from, tt.d, got.Format(time.RFC3339), tt.want)
			}
			if got.Location() != time.UTC {
				t.Fatalf("Add returned location %s, want UTC", got.Location())
			}
		})
	}
}

func TestCalendarBetween(t *testing.T) {
	nineToFive := sla.WeekdaysNineToFive("")
	paris := sla.WeekdaysNineToFive("+01:00")
	tests := []struct {
		name     string
		cal      sla.Calendar
		from, to string
		want     time.Duration
	}{
		{"AroundTheClock", sla.AroundTheClock, "2026-03-06T16:00:00Z", "2026-03-09T10:00:00Z", 66 * time.Hour},
		{"OverWeekend", nineToFive, "2026-03-06T16:00:00Z", "2026-03-09T10:00:00Z", 2 * time.Hour},
		{"WithinWeekend", nineToFive, "2026-03-07T08:00:00Z", "2026-03-08T20:00:00Z", 0},
		{"OutsideHours", nineToFive, "2026-03-06T17:00:00Z", "2026-03-06T23:00:00Z", 0},
		{"Reversed", nineToFive, "2026-03-09T10:00:00Z", "2026-03-06T16:00:00Z", 0},
		{"Equal", nineToFive, "2026-03-09T10:00:00Z", "2026-03-09T10:00:00Z", 0},
		{"FullWeek", nineToFive, "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z", 40 * time.Hour},
		{"FixedOffset", paris, "2026-03-06T15:00:00Z", "2026-03-09T09:00:00Z", 2 * time.Hour},
		{"InvalidCalendarIsAroundTheClock", sla.Calendar{Days: []string{"xyz"}}, "2026-03-07T12:00:00Z", "2026-03-07T13:00:00Z", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cal.Between(at(tt.from), at(tt.to)); got != tt.want {
				t.Fatalf("Between(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

// TestCalendarAddBetweenInverse checks, on many deterministic random inputs,
// that Between measures exactly the working time Add advanced over.
func TestCalendarAddBetweenInverse(t *testing.T) {
	cals := []sla.Calendar{
		sla.AroundTheClock,
		sla.WeekdaysNineToFive("-05:30"),
		{Zone: "+09:00", Days: []string{"sun", "wed", "sat"}, Opens: "07:15", Closes: "24:00", Holidays: []string{"2026-03-11", "2026-03-14"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := at("2026-03-01T00:00:00Z")
	for _, c := range cals {
		for range 500 {
			from := base.Add(time.Duration(rng.Int64N(int64(60*24*time.Hour))) / time.Minute * time.Minute)
			d := time.Duration(1+rng.Int64N(int64(200*time.Hour))) / time.Minute * time.Minute
			due := c.Add(from, d)
			if got := c.Between(from, due); got != d {
				t.Fatalf("%+v: Between(%s, Add(%s, %s)=%s) = %s", c, from, from, d, due, got)
			}
			if !due.After(from) {
				t.Fatalf("%+v: Add(%s, %s) = %s is not after the start", c, from, d, due)
			}
		}
	}
}

func TestCalendarValidate(t *testing.T) {
	tests := []struct {
		name   string
		cal    sla.Calendar
		fields []string
	}{
		{"AroundTheClock", sla.AroundTheClock, nil},
		{"NineToFive", sla.WeekdaysNineToFive("+05:45"), nil},
		{"MidnightClose", sla.Calendar{Zone: "Z", Days: []string{"sun"}, Opens: "00:00", Closes: "24:00"}, nil},
		{"ZoneOnly", sla.Calendar{Zone: "+01:00"}, []string{"days", "opens", "closes"}},
		{"BadZone", sla.Calendar{Zone: "Europe/Paris", Days: []string{"mon"}, Opens: "09:00", Closes: "17:00"}, []string{"zone"}},
		{"ZoneTooFar", sla.Calendar{Zone: "+14:30", Days: []string{"mon"}, Opens: "09:00", Closes: "17:00"}, []string{"zone"}},
		{"BadDay", sla.Calendar{Days: []string{"mon", "Monday", "mon"}, Opens: "09:00", Closes: "17:00"}, []string{"days[1]", "days[2]"}},
		{"BadClock", sla.Calendar{Days: []string{"mon"}, Opens: "9:00", Closes: "24:30"}, []string{"opens", "closes"}},
		{"OpensAt24", sla.Calendar{Days: []string{"mon"}, Opens: "24:00", Closes: "24:00"}, []string{"opens"}},
		{"ClosesBeforeOpens", sla.Calendar{Days: []string{"mon"}, Opens: "17:00", Closes: "09:00"}, []string{"closes"}},
		{"SignedClock", sla.Calendar{Days: []string{"mon"}, Opens: "+9:00", Closes: "17:00"}, []string{"opens"}},
		{"BadHoliday", sla.Calendar{Days: []string{"mon"}, Opens: "09:00", Closes: "17:00", Holidays: []string{"2026-02-30"}}, []string{"holidays[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cal.Validate()
			assertFields(t, err, tt.fields)
		})
	}
}

func TestTarget(t *testing.T) {
	tgt := sla.Target{Minutes: 120, Calendar: sla.WeekdaysNineToFive("")}
	if err := tgt.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := tgt.Due(at("2026-03-06T16:00:00Z")), at("2026-03-09T10:00:00Z"); !got.Equal(want) {
		t.Fatalf("Due = %s, want %s", got, want)
	}
	assertFields(t, sla.Target{Minutes: 0}.Validate(), []string{"minutes"})
	assertFields(t, sla.Target{Minutes: sla.MaxTargetMinutes + 1}.Validate(), []string{"minutes"})
	assertFields(t, sla.Target{Minutes: 5, Calendar: sla.Calendar{Days: []string{"mon"}}}.Validate(), []string{"calendar.opens", "calendar.closes"})
}

func TestZoneAt(t *testing.T) {
	loc := time.FixedZone("test", -(5*3600 + 30*60))
	if got := sla.ZoneAt(loc, at("2026-03-06T00:00:00Z")); got != "-05:30" {
		t.Fatalf("ZoneAt = %q", got)
	}
	if got := sla.ZoneAt(time.UTC, at("2026-03-06T00:00:00Z")); got != "+00:00" {
		t.Fatalf("ZoneAt = %q", got)
	}
	if _, err := sla.ParseZone(sla.ZoneAt(loc, time.Time{})); err != nil {
		t.Fatal(err)
	}
}

func TestCalendarEqualAndZero(t *testing.T) {
	a, b := sla.WeekdaysNineToFive("+01:00"), sla.WeekdaysNineToFive("+01:00")
	if !a.Equal(b) || a.IsZero() || !sla.AroundTheClock.IsZero() {
		t.Fatal("Equal/IsZero disagree")
	}
	b.Holidays = []string{"2026-01-01"}
	if a.Equal(b) {
		t.Fatal("calendars with different holidays are equal")
	}
}

func assertFields(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("error %v is not a validation error", err)
	}
	var de *domain.Error
	errors.As(err, &de)
	var got []string
	for _, f := range de.Fields {
		got = append(got, f.Field)
	}
	if len(got) != len(want) {
		t.Fatalf("fields = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("fields = %v, want %v", got, want)
		}
	}
}
