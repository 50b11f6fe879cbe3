// Package requirement models what ISO 9001 asks before an organisation
// commits to supply a customer (clauses 8.2.2 to 8.2.4):
//
//   - the requirements are determined and written down, as a numbered
//     revision of a list of items (Item);
//   - a revision is reviewed before the commitment, and the result of the
//     review is kept (Review: who, when, approved or rejected, open points);
//   - when the requirements change, the change is a new revision, and the
//     earlier review no longer covers it.
//
// Record folds revisions and reviews and answers the one question the
// aggregates (opportunity, order) ask before a commitment: does the CURRENT
// revision have a positive review? Record is a value held inside an
// aggregate's State; it is deterministic and does no I/O.
package requirement

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/domain"
)

// Kind sorts requirement items by the sources ISO 9001 8.2.3.1 lists.
type Kind string

const (
	KindCustomer     Kind = "customer"     // specified by the customer (8.2.3.1 a)
	KindDelivery     Kind = "delivery"     // delivery and post-delivery activities (8.2.3.1 a)
	KindImplied      Kind = "implied"      // not stated, but necessary for the intended use (8.2.3.1 b)
	KindOrganisation Kind = "organisation" // added by the organisation itself (8.2.3.1 c)
	KindStatutory    Kind = "statutory"    // statutory and regulatory (8.2.3.1 d)
)

// Kinds lists every requirement kind, in order.
var Kinds = domain.NewEnum("requirement kind", KindCustomer, KindDelivery, KindImplied, KindOrganisation, KindStatutory)

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return Kinds.Has(k) }

// EnumValues lists the accepted values (the API schema's enum).
func (Kind) EnumValues() []string { return Kinds.Strings() }

// Item is one requirement. Ref identifies it within the list ("R1",
// "4.2"), so reviewers and later revisions can refer to it.
type Item struct {
	Ref         string `json:"ref"`
	Description string `json:"description"`
	Kind        Kind   `json:"kind"`
}

// Limits on a requirements list, against runaway or hostile input.
const (
	MaxItems          = 500
	MaxRefLength      = 40
	MaxTextLength     = 4000
	MaxOpenPoints     = 100
	MaxReviewerLength = 200
)

// NormaliseItems returns items with surrounding spaces trimmed.
func NormaliseItems(items []Item) []Item {
	if len(items) == 0 {
		return nil
	}
	out := make([]Item, len(items))
	for i, it := range items {
		out[i] = Item{Ref: strings.TrimSpace(it.Ref), Description: strings.TrimSpace(it.Description), Kind: it.Kind}
	}
	return out
}

// ValidateItems checks a (normalised) list: 1..MaxItems items, each with a
// unique ref, a description and a known kind. Field names are JSON paths
// under prefix ("items[2].ref").
func ValidateItems(v *domain.Validator, prefix string, items []Item) {
	if len(items) == 0 {
		v.Add(prefix, "at least one requirement is needed")
		return
	}
	if len(items) > MaxItems {
		v.Add(prefix, "at most "+strconv.Itoa(MaxItems)+" requirements")
		return
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		p := prefix + "[" + strconv.Itoa(i) + "]"
		switch {
		case it.Ref == "":
			v.Add(p+".ref", "is required")
		case utf8.RuneCountInString(it.Ref) > MaxRefLength:
			v.Add(p+".ref", "is too long")
		case seen[it.Ref]:
			v.Add(p+".ref", "appears twice in the list")
		}
		seen[it.Ref] = true
		v.Require(p+".description", it.Description != "", "is required")
		v.Require(p+".description", utf8.RuneCountInString(it.Description) <= MaxTextLength, "is too long")
		Kinds.Check(v, p+".kind", it.Kind)
	}
}

// Result is the outcome of a review.
type Result string

const (
	Approved Result = "approved" // the organisation can meet the requirements as written
	Rejected Result = "rejected" // it cannot yet: the open points say why
)

// Results lists every review result, in order.
var Results = domain.NewEnum("review result", Approved, Rejected)

// Valid reports whether r is one of Results.
func (r Result) Valid() bool { return Results.Has(r) }

// EnumValues lists the accepted values (the API schema's enum).
func (Result) EnumValues() []string { return Results.Strings() }

// Review is the retained result of reviewing one revision (8.2.3.2).
type Review struct {
	Revision   int       `json:"revision"`
	Reviewer   string    `json:"reviewer"` // user principal, as in event metadata "actor"
	Result     Result    `json:"result"`
	OpenPoints []string  `json:"open_points,omitempty"`
	At         time.Time `json:"at"`
}

// NormaliseOpenPoints trims each point and drops empty ones.
func NormaliseOpenPoints(points []string) []string {
	var out []string
	for _, p := range points {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ValidateReview checks the parts of a review a command supplies. An
// approval has no open points (differences must be resolved before the
// commitment, 8.2.3.1); a rejection names at least one.
func ValidateReview(v *domain.Validator, revision int, reviewer string, result Result, openPoints []string) {
	v.Require("revision", revision >= 1, "must be 1 or more")
	v.Require("reviewer", reviewer != "", "is required")
	v.Require("reviewer", utf8.RuneCountInString(reviewer) <= MaxReviewerLength, "is too long")
	switch result {
	case Approved:
		v.Require("open_points", len(openPoints) == 0, "must be empty when approved: resolve them or reject")
	case Rejected:
		v.Require("open_points", len(openPoints) > 0, "must say why the requirements are rejected")
	default:
		v.Add("result", Results.Refusal(result))
	}
	v.Require("open_points", len(openPoints) <= MaxOpenPoints, "too many open points")
	for i, p := range openPoints {
		v.Require("open_points["+strconv.Itoa(i)+"]", utf8.RuneCountInString(p) <= MaxTextLength, "is too long")
	}
}

// Sentinel errors, matched with errors.Is. Aggregates re-export them under
// their own names.
var (
	ErrNotCaptured   = domain.Conflict("requirements_not_captured", "no requirements have been captured yet")
	ErrStaleRevision = domain.Conflict("requirements_revision_stale", "the review is for a revision that is not the current one")
	ErrNotReviewed   = domain.Conflict("requirements_not_reviewed", "the current requirements have not been reviewed")
	ErrRejected      = domain.Conflict("requirements_rejected", "the review of the current requirements rejected them")
)

// Status summarises a Record.
type Status string

const (
	StatusNone     Status = "none"           // nothing captured
	StatusPending  Status = "pending_review" // the current revision has no review
	StatusApproved Status = "approved"       // the current revision's latest review approved it
	StatusRejected Status = "rejected"       // the current revision's latest review rejected it
)

// Record is the requirements status of one aggregate: its current revision
// and its latest review. The zero Record has nothing captured.
type Record struct {
	revision int
	last     Review
	reviewed bool
}

// Revise records that revision is now current (apply side).
func (r *Record) Revise(revision int) { r.revision = revision }

// Reviewed records a review (apply side).
func (r *Record) Reviewed(rv Review) {
	r.last = rv
	r.reviewed = true
}

// Revision returns the current revision (0: nothing captured).
func (r Record) Revision() int { return r.revision }

// LastReview returns the latest review, of whatever revision.
func (r Record) LastReview() (Review, bool) {
	rv := r.last
	rv.OpenPoints = slices.Clone(rv.OpenPoints)
	return rv, r.reviewed
}

// Status returns the review status of the current revision.
func (r Record) Status() Status {
	switch {
	case r.revision == 0:
		return StatusNone
	case !r.reviewed || r.last.Revision != r.revision:
		return StatusPending
	case r.last.Result == Approved:
		return StatusApproved
	}
	return StatusRejected
}

// Approved reports whether the current revision has a positive review.
func (r Record) Approved() bool { return r.Status() == StatusApproved }

// CheckReview returns nil if a review of revision may be recorded now: there
// are requirements, and revision is the current one.
func (r Record) CheckReview(revision int) error {
	switch {
	case r.revision == 0:
		return ErrNotCaptured
	case revision != r.revision:
		return ErrStaleRevision
	}
	return nil
}

// RepeatsLast reports whether a review with these contents is the latest
// review already recorded (so recording it again would change nothing).
func (r Record) RepeatsLast(revision int, reviewer string, result Result, openPoints []string) bool {
	return r.reviewed && r.last.Revision == revision && r.last.Reviewer == reviewer &&
		r.last.Result == result && slices.Equal(r.last.OpenPoints, openPoints)
}

// CheckCommitment returns nil when the current revision has a positive
// review, else ErrNotReviewed (nothing captured, or the current revision not
// yet reviewed) or ErrRejected.
func (r Record) CheckCommitment() error {
	switch r.Status() {
	case StatusApproved:
		return nil
	case StatusRejected:
		return ErrRejected
	}
	return ErrNotReviewed
}
