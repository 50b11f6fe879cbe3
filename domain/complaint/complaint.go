// Package complaint is the Complaint aggregate, after ISO 10002: a customer's
// expression of dissatisfaction, tracked from receipt to closure.
//
// # Life cycle
//
//	ReceiveComplaint ──▶ received ──Acknowledge──▶ acknowledged ──Respond──▶ responded ──Close──▶ closed
//	                                                     ▲                                          │
//	                                                     └─────────────── ReopenComplaint ◀─────────┘
//
// Assessment (severity, urgency), investigation (root cause), escalation and
// the raising of nonconformities are recorded along the way without changing
// the status. No complaint is answered or closed without an acknowledgement
// (ISO 10002 7.3): a response to a complaint not yet acknowledged (one
// settled on the phone) records the acknowledgement first, at the same
// moment, on time or late against its deadline (ComplaintAcknowledged, then
// ComplaintResponded); a complaint is closed only when it is both
// acknowledged (ErrNotAcknowledged) and answered (ErrNotResponded), and the
// closure records whether the customer was satisfied. Reopening asks for a
// new response before the next closure.
//
// # Reference
//
// Every complaint has a unique, human reference "CMP-2026-000123" (ISO 10002
// 7.2). Allocating the next number of a year needs a counter, which is I/O,
// so the reference is chosen by the command side (a PostgreSQL sequence per
// year, see FormatReference) and passed in ReceiveComplaint, which checks its
// format. Uniqueness across complaints is the job of that sequence and of the
// unique index of the complaint read model; the aggregate sees one complaint.
//
// # Acknowledgement deadline
//
// ReceiveComplaint carries the acknowledgement target (working minutes on a
// business calendar); the deadline is computed at receipt and recorded in
// ComplaintReceived. The SLA watcher sends FlagAcknowledgementOverdue once it
// passes: the first one records ComplaintAcknowledgementOverdue, any later
// one is a no-op; a flag that arrives after the acknowledgement, or before
// the deadline, is refused (ErrAlreadyAcknowledged, ErrNotOverdue) as a
// stale trigger.
//
// # Nonconformities
//
// RaiseNonconformityFromComplaint records NonconformityRaisedFromComplaint
// with the new nonconformity's ID; the command side then sends
// nonconformity.RaiseNonconformity for that ID with the complaint as source.
//
// Commands whose outcome already holds decide no events, so retries are harmless.
package complaint

import (
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/servicecase"
)

// Category is the stream category of complaints.
const Category = "complaint"

// StreamID returns the stream of one complaint, "complaint-<uuid>".
func StreamID(id uuid.UUID) string { return Category + "-" + id.String() }

// Channel is how the complaint reached the organisation; complaints and
// cases share the list of channels.
type Channel = servicecase.Channel

var checkChannel = servicecase.CheckChannel

// Severity is the assessed seriousness of a complaint.
type Severity string

const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical" // safety, legal or major financial impact
)

// Severities lists every severity, in order.
var Severities = domain.NewEnum("severity", SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical)

// Valid reports whether s is one of Severities.
func (s Severity) Valid() bool { return Severities.Has(s) }

// EnumValues lists the accepted values (the API schema's enum).
func (Severity) EnumValues() []string { return Severities.Strings() }

// Urgency is how fast the complaint must be handled.
type Urgency string

const (
	UrgencyLow    Urgency = "low"
	UrgencyNormal Urgency = "normal"
	UrgencyHigh   Urgency = "high"
)

// Urgencies lists every urgency, in order.
var Urgencies = domain.NewEnum("urgency", UrgencyLow, UrgencyNormal, UrgencyHigh)

// Valid reports whether u is one of Urgencies.
func (u Urgency) Valid() bool { return Urgencies.Has(u) }

// EnumValues lists the accepted values (the API schema's enum).
func (Urgency) EnumValues() []string { return Urgencies.Strings() }

// Outcome is the organisation's decision on the complaint.
type Outcome string

const (
	OutcomeUpheld          Outcome = "upheld"
	OutcomePartiallyUpheld Outcome = "partially_upheld"
	OutcomeRejected        Outcome = "rejected"
)

// Outcomes lists every outcome, in order.
var Outcomes = domain.NewEnum("outcome", OutcomeUpheld, OutcomePartiallyUpheld, OutcomeRejected)

// Valid reports whether o is one of Outcomes.
func (o Outcome) Valid() bool { return Outcomes.Has(o) }

// EnumValues lists the accepted values (the API schema's enum).
func (Outcome) EnumValues() []string { return Outcomes.Strings() }

// Status is where a complaint is in its life cycle.
type Status string

const (
	StatusReceived     Status = "received"
	StatusAcknowledged Status = "acknowledged"
	StatusResponded    Status = "responded"
	StatusClosed       Status = "closed"
)

// MaxEscalationLevel is the highest escalation level.
const MaxEscalationLevel = 5

// Errors of the complaint aggregate, for errors.Is.
var (
	ErrNotFound            = domain.NotFound("complaint")
	ErrAlreadyExists       = domain.AlreadyExists("complaint")
	ErrClosed              = domain.Conflict("complaint_closed", "the complaint is closed; reopen it first")
	ErrNotAcknowledged     = domain.Conflict("complaint_not_acknowledged", "the complaint must be acknowledged before it is closed")
	ErrNotResponded        = domain.Conflict("complaint_not_responded", "the decision must be communicated to the customer before the complaint is closed")
	ErrAlreadyAcknowledged = domain.Conflict("complaint_already_acknowledged", "the complaint is acknowledged; there is nothing to flag")
	ErrNotOverdue          = domain.Conflict("complaint_acknowledgement_not_overdue", "the acknowledgement deadline has not passed")
)

// ReferencePrefix starts every complaint reference.
const ReferencePrefix = "CMP-"

// FormatReference returns the reference of the seq-th complaint of year:
// FormatReference(2026, 123) = "CMP-2026-000123". Numbers above 999999 take
// more digits.
func FormatReference(year int, seq int64) string {
	return fmt.Sprintf("%s%04d-%06d", ReferencePrefix, year, seq)
}

// ParseReference checks a reference "CMP-YYYY-NNNNNN" (six to nine digits,
// a year from 2000 to 9999, a number from 1) and returns its parts.
func ParseReference(ref string) (year int, seq int64, ok bool) {
	const minLen = len("CMP-2026-000001")
	if len(ref) < minLen || len(ref) > minLen+3 || ref[:4] != ReferencePrefix || ref[8] != '-' {
		return 0, 0, false
	}
	if !digits(ref[4:8]) || !digits(ref[9:]) {
		return 0, 0, false
	}
	year, _ = strconv.Atoi(ref[4:8])
	seq, _ = strconv.ParseInt(ref[9:], 10, 64)
	if year < 2000 || seq < 1 {
		return 0, 0, false
	}
	return year, seq, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
