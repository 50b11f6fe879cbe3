// Package sla holds business calendars and the deadline arithmetic of
// service-level agreements: "4 working hours from now" on a calendar of
// working days, opening hours, holidays and a fixed UTC offset.
//
// Everything here is deterministic and pure: a Calendar is plain data that
// is recorded inside events (CaseOpened, ComplaintReceived), so a deadline
// computed today can be explained, and recomputed, years later from the log
// alone. That is also why the time zone is a fixed UTC offset rather than an
// IANA name: resolving "Europe/Paris" needs the tz database of the machine
// that decides, which changes between releases. An organisation that
// observes daylight saving time records the offset in force when the
// request arrives (see ZoneAt); a deadline that spans the change is then off
// by at most the one-hour shift, and is still recorded exactly.
package sla

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evcrm/evcrm/domain"
)

// Calendar is a business calendar: the same opening hours on each working
// day, minus holidays, in a fixed UTC offset. The zero Calendar means
// "around the clock" (calendar hours, 24×7).
type Calendar struct {
	// Zone is the fixed UTC offset of the opening hours: "+01:00", "-05:30";
	// "" or "Z" is UTC.
	Zone string `json:"zone,omitempty"`
	// Days are the working days: "mon", "tue", "wed", "thu", "fri", "sat", "sun".
	Days []string `json:"days,omitempty"`
	// Opens and Closes are the opening hours of each working day, "09:00" to
	// "17:30" ("24:00" is the end of the day).
	Opens  string `json:"opens,omitempty"`
	Closes string `json:"closes,omitempty"`
	// Holidays are local dates ("2026-12-25") that are not worked.
	Holidays []string `json:"holidays,omitempty"`
}

// AroundTheClock is the zero Calendar: every hour of every day counts.
var AroundTheClock = Calendar{}

// WeekdaysNineToFive returns the common calendar Monday–Friday 09:00–17:00 at
// the given UTC offset ("+01:00").
func WeekdaysNineToFive(zone string) Calendar {
	return Calendar{Zone: zone, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Opens: "09:00", Closes: "17:00"}
}

// IsZero reports whether c is the around-the-clock calendar.
func (c Calendar) IsZero() bool {
	return c.Zone == "" && len(c.Days) == 0 && c.Opens == "" && c.Closes == "" && len(c.Holidays) == 0
}

// Equal reports whether two calendars are the same.
func (c Calendar) Equal(o Calendar) bool {
	return c.Zone == o.Zone && slices.Equal(c.Days, o.Days) && c.Opens == o.Opens && c.Closes == o.Closes &&
		slices.Equal(c.Holidays, o.Holidays)
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// schedule is a validated, compiled calendar.
type schedule struct {
	loc           *time.Location
	days          [7]bool
	opens, closes time.Duration // since local midnight
	holidays      map[civilDate]bool
}

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// Validate checks every field; field names match the JSON names.
func (c Calendar) Validate() error {
	_, err := c.compile()
	return err
}

func (c Calendar) compile() (*schedule, error) {
	var v domain.Validator
	s := &schedule{}
	loc, err := ParseZone(c.Zone)
	if err != nil {
		v.Add("zone", err.Error())
	}
	s.loc = loc
	if c.IsZero() {
		return nil, nil
	}
	v.Require("days", len(c.Days) > 0, "must name at least one working day")
	for i, d := range c.Days {
		k := slices.Index(dayNames[:], d)
		switch {
		case k < 0:
			v.Add(fmt.Sprintf("days[%d]", i), `must be one of "mon", "tue", "wed", "thu", "fri", "sat", "sun"`)
		case s.days[k]:
			v.Add(fmt.Sprintf("days[%d]", i), "is listed twice")
		default:
			s.days[k] = true
		}
	}
	var okO, okC bool
	s.opens, okO = parseClock(c.Opens)
	s.closes, okC = parseClock(c.Closes)
	okO = okO && s.opens < 24*time.Hour
	v.Require("opens", okO, `must be a time of day "HH:MM"`)
	v.Require("closes", okC, `must be a time of day "HH:MM" (up to "24:00")`)
	if okO && okC {
		v.Require("closes", s.closes > s.opens, "must be after opens")
	}
	for i, h := range c.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			v.Add(fmt.Sprintf("holidays[%d]", i), `must be a date "YYYY-MM-DD"`)
			continue
		}
		if s.holidays == nil {
			s.holidays = map[civilDate]bool{}
		}
		s.holidays[dateOf(d)] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseZone parses a fixed UTC offset: "", "Z", "UTC" or "±HH:MM" (up to ±14:00).
func ParseZone(zone string) (*time.Location, error) {
	switch zone {
	case "", "Z", "UTC":
		return time.UTC, nil
	}
	if len(zone) != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' {
		return time.UTC, fmt.Errorf(`must be a UTC offset "+HH:MM" or "-HH:MM"`)
	}
	h, errH := strconv.Atoi(zone[1:3])
	m, errM := strconv.Atoi(zone[4:6])
	if errH != nil || errM != nil || m > 59 || h*60+m > 14*60 {
		return time.UTC, fmt.Errorf(`must be a UTC offset between "-14:00" and "+14:00"`)
	}
	off := (h*60 + m) * 60
	if zone[0] == '-' {
		off = -off
	}
	return time.FixedZone("UTC"+zone, off), nil
}

// ZoneAt returns the fixed offset ("+02:00") that loc has at t: the way to
// record an IANA zone's offset in force when a request arrives.
func ZoneAt(loc *time.Location, t time.Time) string {
	_, off := t.In(loc).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off/60%60)
}

// parseClock parses "HH:MM" (00:00 to 24:00).
func parseClock(s string) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' || strings.ContainsAny(s, "+-") {
		return 0, false
	}
	h, errH := strconv.Atoi(s[:2])
	m, errM := strconv.Atoi(s[3:])
	if errH != nil || errM != nil || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// maxDays bounds the day-by-day walk, so that no input, however odd, loops
// for long: 100 years of days.
const maxDays = 100 * 366

// window returns the working window [open, close) of the local day that
// starts at midnight, and whether the day is worked.
func (s *schedule) window(midnight time.Time) (open, close time.Time, ok bool) {
	if !s.days[midnight.Weekday()] || s.holidays[dateOf(midnight)] {
		return time.Time{}, time.Time{}, false
	}
	// A fixed offset has no DST: every day is 24 hours long.
	return midnight.Add(s.opens), midnight.Add(s.closes), true
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// Add returns the instant at which d of working time has elapsed from t: the
// deadline of a target of d. Working time starts at the next opening when t
// is outside opening hours, and a deadline that falls exactly at closing time
// is that closing time (not the next opening). A non-positive d returns t.
// The result is in UTC. An invalid calendar (one that fails Validate) is
// treated as around the clock.
func (c Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t.UTC()
	}
	s, err := c.compile()
	if err != nil || s == nil {
		return t.Add(d).UTC()
	}
	cur := t.In(s.loc)
	day := startOfDay(cur)
	for i := 0; i < maxDays; i, day = i+1, day.AddDate(0, 0, 1) {
		open, close, ok := s.window(day)
		if !ok || !cur.Before(close) {
			continue
		}
		if cur.Before(open) {
			cur = open
		}
		if avail := close.Sub(cur); d <= avail {
			return cur.Add(d).UTC()
		} else {
			d -= avail
		}
	}
	return cur.Add(d).UTC() // unreachable for a valid calendar
}

// Between returns the working time in [from, to): how much of an SLA clock
// runs between two instants. It is zero when to is not after from. An invalid
// calendar is treated as around the clock.
func (c Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	s, err := c.compile()
	if err != nil || s == nil {
		return to.Sub(from)
	}
	from, to = from.In(s.loc), to.In(s.loc)
	var sum time.Duration
	day := startOfDay(from)
	for i := 0; i < maxDays && day.Before(to); i, day = i+1, day.AddDate(0, 0, 1) {
		open, close, ok := s.window(day)
		if !ok {
			continue
		}
		lo, hi := later(open, from), earlier(close, to)
		if hi.After(lo) {
			sum += hi.Sub(lo)
		}
	}
	return sum
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
