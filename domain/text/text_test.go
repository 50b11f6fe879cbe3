package text_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

func failed(fn func(v *domain.Validator)) bool {
	var v domain.Validator
	fn(&v)
	return errors.Is(v.Err(), domain.ErrValidation)
}

func TestLineAndBlock(t *testing.T) {
	cases := []struct {
		name     string
		s        string
		required bool
		line     bool // want Line to fail
		block    bool // want Block to fail
	}{
		{"OK", "Acme GmbH", true, false, false},
		{"EmptyOptional", "", false, false, false},
		{"EmptyRequired", "", true, true, true},
		{"TooLong", strings.Repeat("é", 11), false, true, true},
		{"Newline", "a\nb", false, true, false},
		{"Control", "a\x00b", false, true, true},
		{"InvalidUTF8", "a\xffb", false, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := failed(func(v *domain.Validator) { text.Line(v, "f", c.s, c.required, 10) }); got != c.line {
				t.Errorf("Line failed = %v, want %v", got, c.line)
			}
			if got := failed(func(v *domain.Validator) { text.Block(v, "f", c.s, c.required, 10) }); got != c.block {
				t.Errorf("Block failed = %v, want %v", got, c.block)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	for s, want := range map[string]bool{
		"marketing": true, "web_form_2": true, "a": true,
		"": false, "Marketing": false, "2fa": false, "web-form": false, "x y": false, strings.Repeat("a", 65): false,
	} {
		if got := text.IsSlug(s); got != want {
			t.Errorf("IsSlug(%q) = %v, want %v", s, got, want)
		}
	}
	if failed(func(v *domain.Validator) { text.Slug(v, "f", "", false) }) {
		t.Errorf("empty optional slug refused")
	}
	if !failed(func(v *domain.Validator) { text.Slug(v, "f", "", true) }) {
		t.Errorf("empty required slug accepted")
	}
	if !failed(func(v *domain.Validator) { text.Slug(v, "f", "Bad", false) }) {
		t.Errorf("bad slug accepted")
	}
}
