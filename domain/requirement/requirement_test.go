package requirement_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/requirement"
)

func fields(err error) []string {
	var de *domain.Error
	if !errors.As(err, &de) {
		return nil
	}
	var out []string
	for _, f := range de.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidateItems(t *testing.T) {
	ok := requirement.Item{Ref: "R1", Description: "IP67 enclosure", Kind: requirement.KindCustomer}
	many := make([]requirement.Item, requirement.MaxItems+1)
	cases := []struct {
		name  string
		items []requirement.Item
		want  []string
	}{
		{"OK", []requirement.Item{ok, {Ref: "R2", Description: "CE marking", Kind: requirement.KindStatutory}}, nil},
		{"Empty", nil, []string{"items"}},
		{"TooMany", many, []string{"items"}},
		{"MissingParts", []requirement.Item{{}}, []string{"items[0].ref", "items[0].description", "items[0].kind"}},
		{"DuplicateRef", []requirement.Item{ok, ok}, []string{"items[1].ref"}},
		{"TooLong", []requirement.Item{{Ref: strings.Repeat("r", 41), Description: strings.Repeat("d", 4001), Kind: requirement.KindDelivery}},
			[]string{"items[0].ref", "items[0].description"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v domain.Validator
			requirement.ValidateItems(&v, "items", requirement.NormaliseItems(c.items))
			if got := fields(v.Err()); !slices.Equal(got, c.want) {
				t.Errorf("fields = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	got := requirement.NormaliseItems([]requirement.Item{{Ref: " R1 ", Description: " x\n", Kind: requirement.KindImplied}})
	if got[0].Ref != "R1" || got[0].Description != "x" {
		t.Errorf("NormaliseItems = %+v", got)
	}
	if requirement.NormaliseItems([]requirement.Item{}) != nil {
		t.Errorf("NormaliseItems(empty) should be nil")
	}
	if got := requirement.NormaliseOpenPoints([]string{" a ", "", "  "}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("NormaliseOpenPoints = %q", got)
	}
}

func TestValidateReview(t *testing.T) {
	cases := []struct {
		name     string
		revision int
		reviewer string
		result   requirement.Result
		points   []string
		want     []string
	}{
		{"Approved", 1, "qa.lead", requirement.Approved, nil, nil},
		{"Rejected", 2, "qa.lead", requirement.Rejected, []string{"lead time unclear"}, nil},
		{"ApprovedWithOpenPoints", 1, "qa.lead", requirement.Approved, []string{"x"}, []string{"open_points"}},
		{"RejectedWithoutReason", 1, "qa.lead", requirement.Rejected, nil, []string{"open_points"}},
		{"Missing", 0, "", "", nil, []string{"revision", "reviewer", "result"}},
		{"TooLong", 1, strings.Repeat("a", 201), requirement.Rejected, []string{strings.Repeat("p", 4001)}, []string{"reviewer", "open_points[0]"}},
		{"TooMany", 1, "qa", requirement.Rejected, make([]string, 101), []string{"open_points"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v domain.Validator
			requirement.ValidateReview(&v, c.revision, c.reviewer, c.result, c.points)
			if got := fields(v.Err()); !slices.Equal(got, c.want) {
				t.Errorf("fields = %q, want %q", got, c.want)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var r requirement.Record
	if r.Status() != requirement.StatusNone || r.Approved() {
		t.Fatalf("zero record: status %s", r.Status())
	}
	if !errors.Is(r.CheckReview(1), requirement.ErrNotCaptured) {
		t.Errorf("reviewing nothing: want ErrNotCaptured")
	}
	if !errors.Is(r.CheckCommitment(), requirement.ErrNotReviewed) {
		t.Errorf("committing with nothing captured: want ErrNotReviewed")
	}
	if _, ok := r.LastReview(); ok {
		t.Errorf("zero record has a last review")
	}

	r.Revise(1)
	if r.Status() != requirement.StatusPending || r.Revision() != 1 {
		t.Errorf("after capture: status %s revision %d", r.Status(), r.Revision())
	}
	if !errors.Is(r.CheckReview(2), requirement.ErrStaleRevision) || r.CheckReview(1) != nil {
		t.Errorf("CheckReview: only the current revision may be reviewed")
	}

	r.Reviewed(requirement.Review{Revision: 1, Reviewer: "qa", Result: requirement.Rejected, OpenPoints: []string{"x"}, At: at})
	if r.Status() != requirement.StatusRejected || !errors.Is(r.CheckCommitment(), requirement.ErrRejected) {
		t.Errorf("after rejection: status %s", r.Status())
	}
	if !r.RepeatsLast(1, "qa", requirement.Rejected, []string{"x"}) || r.RepeatsLast(1, "qa", requirement.Approved, nil) {
		t.Errorf("RepeatsLast is wrong")
	}

	r.Reviewed(requirement.Review{Revision: 1, Reviewer: "qa", Result: requirement.Approved, At: at})
	if !r.Approved() || r.CheckCommitment() != nil {
		t.Errorf("after approval: status %s", r.Status())
	}
	last, ok := r.LastReview()
	if !ok || last.Result != requirement.Approved || last.At != at {
		t.Errorf("LastReview = %+v, %v", last, ok)
	}

	r.Revise(2) // requirements changed after the review
	if r.Approved() || !errors.Is(r.CheckCommitment(), requirement.ErrNotReviewed) {
		t.Errorf("a new revision must need a new review; status %s", r.Status())
	}
}

func TestKindValid(t *testing.T) {
	for _, k := range []requirement.Kind{requirement.KindCustomer, requirement.KindDelivery, requirement.KindImplied, requirement.KindOrganisation, requirement.KindStatutory} {
		if !k.Valid() {
			t.Errorf("%s should be valid", k)
		}
	}
	if requirement.Kind("wish").Valid() {
		t.Errorf("unknown kind accepted")
	}
}
