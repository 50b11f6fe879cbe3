package domain_test

import (
	"slices"
	"testing"

	"github.com/evcrm/evcrm/domain"
)

type colour string

func TestEnum(t *testing.T) {
	e := domain.NewEnum[colour]("colour", "red", "green")
	if !e.Has("red") || e.Has("blue") || e.Has("") {
		t.Error("Has")
	}
	if got := e.Strings(); !slices.Equal(got, []string{"red", "green"}) {
		t.Errorf("Strings = %v", got)
	}
	var v domain.Validator
	e.Check(&v, "colour", "blue")
	e.Check(&v, "tint", "")
	e.Check(&v, "ok", "green")
	err := v.Err()
	want := `validation failed (colour: "blue" is not a known colour (allowed: red, green); tint: is required (allowed: red, green))`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
