// Package servicecase is the service request aggregate (a "case"): a
// customer's request handled by a queue of agents under a service-level
// agreement (ISO 9001 8.2.1).
//
// # Life cycle
//
//	OpenCase ──▶ open ◀───WaitOnCustomer / ResumeCase───▶ waiting_on_customer
//	              │                                              │
//	              └──────────────ResolveCase─────┬───────────────┘ (resumes the clocks first)
//	                                             ▼
//	         open ◀──ReopenCase── resolved ──CloseCase──▶ closed (final)
//
// Assignment, the first response and escalations are facts recorded on an
// active (open or waiting) case; they do not change its status.
//
// # SLA clocks
//
// OpenCase carries the SLA policy in force (a business calendar and a
// first-response and resolution target per priority). The deadlines are
// computed when the case is opened and recorded in CaseOpened together with
// the terms that produced them, so projections and the SLA watcher read them
// from the log and never recompute. The clocks stop while the case waits on
// the customer and while it is resolved: CaseResumed and CaseReopened carry
// the pending deadlines pushed by the working time the clock was stopped.
// FirstResponseGiven and CaseResolved record whether their deadline was met.
//
// The SLA watcher escalates breaches with EscalateCase{Reason:
// ReasonFirstResponseBreach or ReasonResolutionBreach}. Each deadline kind is
// escalated at most once per case: a second breach escalation of the same
// kind is a no-op, so the watcher can retry freely. A breach escalation of a
// deadline that is not (or no longer) breached is refused with
// ErrNotBreached, which the watcher treats as a stale trigger.
//
// # Idempotency
//
// A command whose outcome already holds (assigning the assigned agent,
// resolving a resolved case with the same resolution, closing a closed case)
// decides no events. A command that contradicts the state is refused with a
// coded conflict error.
package servicecase

import (
	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/sla"
)

// Category is the stream category of cases: streams are "case-<uuid>".
const Category = "case"

// StreamID returns the stream of the case id.
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Priority is the urgency of a case, P1 (most urgent) to P4.
type Priority string

const (
	P1 Priority = "P1" // critical: service down for the customer
	P2 Priority = "P2" // high: major impact, no workaround
	P3 Priority = "P3" // normal
	P4 Priority = "P4" // low: question or minor request
)

// Priorities lists the valid priorities, most urgent first.
var Priorities = []Priority{P1, P2, P3, P4}

var priorityEnum = domain.NewEnum("priority", Priorities...)

// Valid reports whether p is one of Priorities.
func (p Priority) Valid() bool { return priorityEnum.Has(p) }

// EnumValues lists the accepted values (the API schema's enum).
func (Priority) EnumValues() []string { return priorityEnum.Strings() }

// Channel is how the customer reached the organisation.
type Channel string

const (
	ChannelEmail    Channel = "email"
	ChannelPhone    Channel = "phone"
	ChannelWeb      Channel = "web" // web form or customer portal
	ChannelChat     Channel = "chat"
	ChannelSocial   Channel = "social"
	ChannelInPerson Channel = "in_person"
	ChannelLetter   Channel = "letter"
	// ChannelUnknown is only found on cases recorded before channels were
	// (CaseOpened v1); new cases must name their channel.
	ChannelUnknown Channel = "unknown"
)

// Channels lists the channels a new case may name.
var Channels = []Channel{ChannelEmail, ChannelPhone, ChannelWeb, ChannelChat, ChannelSocial, ChannelInPerson, ChannelLetter}

var channelEnum = domain.NewEnum("channel", Channels...)

// Valid reports whether c is one of Channels.
func (c Channel) Valid() bool { return channelEnum.Has(c) }

// EnumValues lists the accepted values of a new case (the API schema's enum).
func (Channel) EnumValues() []string { return channelEnum.Strings() }

// CheckChannel records on v the refusal of c unless it is one of Channels.
func CheckChannel(v *domain.Validator, field string, c Channel) { channelEnum.Check(v, field, c) }

// Status is where a case is in its life cycle.
type Status string

const (
	StatusOpen              Status = "open"
	StatusWaitingOnCustomer Status = "waiting_on_customer"
	StatusResolved          Status = "resolved"
	StatusClosed            Status = "closed"
)

// Deadline names one of the two SLA clocks of a case.
type Deadline string

const (
	FirstResponse Deadline = "first_response"
	Resolution    Deadline = "resolution"
)

// Reasons of the escalations the SLA watcher sends; each is idempotent.
const (
	ReasonFirstResponseBreach = "first_response_breach"
	ReasonResolutionBreach    = "resolution_breach"
)

// BreachOf returns the deadline whose breach reason is reason, if any.
func BreachOf(reason string) (Deadline, bool) {
	switch reason {
	case ReasonFirstResponseBreach:
		return FirstResponse, true
	case ReasonResolutionBreach:
		return Resolution, true
	}
	return "", false
}

// MaxEscalationLevel is the highest escalation level; escalating beyond it
// keeps the case at this level.
const MaxEscalationLevel = 5

// SLAPolicy is an organisation's service-level agreement for cases: a
// business calendar and a target per priority. OpenCase carries the policy;
// CaseOpened records the terms it gave for the case's priority.
type SLAPolicy struct {
	Name     string                 `json:"name"`
	Calendar sla.Calendar           `json:"calendar,omitzero"` // zero: around the clock
	Targets  map[Priority]SLATarget `json:"targets"`
}

// SLATarget is the first-response and resolution target of one priority, in
// working minutes on the policy's calendar.
type SLATarget struct {
	FirstResponseMinutes int `json:"first_response_minutes"`
	ResolutionMinutes    int `json:"resolution_minutes"`
}

// SLATerms are the terms of the policy in force for one case, as recorded
// in CaseOpened: enough to explain, and recompute, its deadlines.
type SLATerms struct {
	Policy               string       `json:"policy"`
	Calendar             sla.Calendar `json:"calendar,omitzero"`
	FirstResponseMinutes int          `json:"first_response_minutes"`
	ResolutionMinutes    int          `json:"resolution_minutes"`
}

// Errors of the case aggregate, for errors.Is.
var (
	ErrNotFound      = domain.NotFound("case")
	ErrAlreadyExists = domain.AlreadyExists("case")
	ErrResolved      = domain.Conflict("case_resolved", "the case is resolved; reopen it first")
	ErrClosed        = domain.Conflict("case_closed", "the case is closed")
	ErrNotResolved   = domain.Conflict("case_not_resolved", "the case must be resolved before it is closed")
	ErrNotBreached   = domain.Conflict("case_deadline_not_breached",
		"the deadline is not breached: it is met, still ahead, the case has no SLA, or the clock is stopped")
)
