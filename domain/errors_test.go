package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/evcrm/evcrm/domain"
)

var errThingLocked = domain.Conflict("thing_locked", "the thing is locked")

func TestErrorIs(t *testing.T) {
	wrapped := fmt.Errorf("handling: %w", errThingLocked)
	if !errors.Is(wrapped, errThingLocked) {
		t.Error("coded error does not match itself through a wrap")
	}
	if !errors.Is(wrapped, domain.ErrConflict) {
		t.Error("coded conflict does not match the kind sentinel")
	}
	if errors.Is(wrapped, domain.ErrValidation) || errors.Is(wrapped, domain.Conflict("other", "x")) {
		t.Error("matched the wrong sentinel")
	}
	if errors.Is(errThingLocked, errors.New("thing_locked")) {
		t.Error("matched a plain error")
	}
	if domain.KindOf(wrapped) != domain.KindConflict || domain.KindOf(errors.New("x")) != domain.KindInternal {
		t.Error("KindOf")
	}
	if !errors.Is(domain.NotFound("case"), domain.ErrNotFound) || !errors.Is(domain.AlreadyExists("case"), domain.ErrAlreadyExists) {
		t.Error("NotFound/AlreadyExists kinds")
	}
	for k, s := range map[domain.Kind]string{domain.KindValidation: "validation", domain.KindNotFound: "not_found", domain.KindConflict: "conflict", domain.KindAlreadyExists: "already_exists", domain.KindInternal: "internal"} {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q", k, k.String())
		}
	}
}

func TestValidator(t *testing.T) {
	var v domain.Validator
	if v.Err() != nil {
		t.Fatal("empty validator reports an error")
	}
	v.Require("name", false, "is required")
	v.Require("ok", true, "never")
	v.Add("email", "is malformed")
	var inner domain.Validator
	inner.Add("quantity", "must be positive")
	v.Merge("lines[0]", inner.Err())
	v.Merge("lines[1]", errors.New("plain"))
	v.Merge("lines[2]", nil)
	err := v.Err()
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindValidation || !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("Err() = %#v", err)
	}
	want := []domain.FieldError{{"name", "is required"}, {"email", "is malformed"}, {"lines[0].quantity", "must be positive"}, {"lines[1]", "plain"}}
	if fmt.Sprint(de.Fields) != fmt.Sprint(want) {
		t.Fatalf("fields = %v, want %v", de.Fields, want)
	}
	if got := err.Error(); got != "validation failed (name: is required; email: is malformed; lines[0].quantity: must be positive; lines[1]: plain)" {
		t.Fatalf("Error() = %q", got)
	}
	if errThingLocked.Error() != "the thing is locked" {
		t.Fatal("message")
	}
}

func TestMoney(t *testing.T) {
	for name, tc := range map[string]struct {
		m        domain.Money
		negative bool
		ok       bool
	}{
		"OK":               {domain.Money{Amount: 100, Currency: "EUR"}, false, true},
		"Zero":             {domain.Money{Currency: "JPY"}, false, true},
		"Negative":         {domain.Money{Amount: -1, Currency: "USD"}, false, false},
		"NegativeAllowed":  {domain.Money{Amount: -1, Currency: "USD"}, true, true},
		"UnknownCurrency":  {domain.Money{Amount: 1, Currency: "XXX"}, false, false},
		"LowercaseCode":    {domain.Money{Amount: 1, Currency: "eur"}, false, false},
		"SubstringOfCodes": {domain.Money{Amount: 1, Currency: "R A"}, false, false},
		"Empty":            {domain.Money{}, false, false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.m.Validate(tc.negative); (err == nil) != tc.ok {
				t.Fatalf("Validate(%v) = %v", tc.m, err)
			}
		})
	}
	if s := (domain.Money{Amount: 5, Currency: "EUR"}).String(); s != "5 EUR (minor units)" {
		t.Fatal(s)
	}
}

func TestInvalidField(t *testing.T) {
	err := domain.InvalidField("email", "is malformed")
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindValidation || len(de.Fields) != 1 || de.Fields[0] != (domain.FieldError{Field: "email", Message: "is malformed"}) {
		t.Fatalf("InvalidField = %#v", err)
	}
}
