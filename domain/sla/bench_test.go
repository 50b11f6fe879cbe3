package sla_test

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain/sla"
)

// BenchmarkCalendarAdd measures a typical deadline: 3 working days on a
// weekday calendar with holidays, starting on a Friday afternoon.
func BenchmarkCalendarAdd(b *testing.B) {
	c := sla.WeekdaysNineToFive("+01:00")
	c.Holidays = []string{"2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25"}
	from := at("2026-03-06T15:00:00Z")
	for b.Loop() {
		c.Add(from, 24*time.Hour)
	}
}

// BenchmarkCalendarBetween measures the working time of a 30-day span.
func BenchmarkCalendarBetween(b *testing.B) {
	c := sla.WeekdaysNineToFive("+01:00")
	from, to := at("2026-03-06T15:00:00Z"), at("2026-04-05T15:00:00Z")
	for b.Loop() {
		c.Between(from, to)
	}
}
