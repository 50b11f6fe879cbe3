package sla

import (
	"time"

	"github.com/evcrm/evcrm/domain"
)

// MaxTargetMinutes bounds a target at one year of working time.
const MaxTargetMinutes = 366 * 24 * 60

// Target is a service-level target: so many minutes of working time on a
// calendar, e.g. "acknowledge within 16 working hours".
type Target struct {
	Minutes  int      `json:"minutes"`
	Calendar Calendar `json:"calendar,omitzero"` // zero: around the clock
}

// Validate checks the target; field names match the JSON names.
func (t Target) Validate() error {
	var v domain.Validator
	v.Require("minutes", t.Minutes > 0 && t.Minutes <= MaxTargetMinutes, "must be between 1 and 527040 (one year)")
	v.Merge("calendar", t.Calendar.Validate())
	return v.Err()
}

// Duration is the target as a time.Duration of working time.
func (t Target) Duration() time.Duration { return time.Duration(t.Minutes) * time.Minute }

// Due returns the deadline of the target for a clock started at start.
func (t Target) Due(start time.Time) time.Time { return t.Calendar.Add(start, t.Duration()) }
