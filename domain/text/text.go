// Package text holds the rules evcrm applies to free-text fields of commands:
// single-line text (names, subjects), multi-line text (summaries, notes) and
// slugs (machine names such as a consent purpose). Callers trim first
// (strings.TrimSpace), then check; errors go into a domain.Validator under
// the field's JSON name.
package text

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evcrm/evcrm/domain"
)

// Common length limits, in characters.
const (
	MaxName    = 200   // names, titles, subjects, single-line references
	MaxReason  = 2000  // a reason or short note
	MaxSummary = 20000 // a summary or long note
	MaxSlug    = 64
)

// Line checks single-line text: present if required, at most max
// characters, valid UTF-8 without control characters.
func Line(v *domain.Validator, field, s string, required bool, max int) {
	check(v, field, s, required, max, func(r rune) bool { return unicode.IsControl(r) }, "must be a single line of text")
}

// Block checks multi-line text: like Line, but newlines and tabs are allowed.
func Block(v *domain.Validator, field, s string, required bool, max int) {
	check(v, field, s, required, max, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}, "must be text without control characters")
}

func check(v *domain.Validator, field, s string, required bool, max int, bad func(rune) bool, msg string) {
	switch {
	case s == "":
		v.Require(field, !required, "is required")
	case utf8.RuneCountInString(s) > max:
		v.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case !utf8.ValidString(s) || strings.IndexFunc(s, bad) >= 0:
		v.Add(field, msg)
	}
}

// IsSlug reports whether s is a lower-case machine name: a letter, then
// letters, digits or underscores, at most MaxSlug characters ("marketing",
// "web_form").
func IsSlug(s string) bool {
	if s == "" || len(s) > MaxSlug || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Slug checks a slug field; an empty value passes unless required.
func Slug(v *domain.Validator, field, s string, required bool) {
	switch {
	case s == "":
		v.Require(field, !required, "is required")
	case !IsSlug(s):
		v.Add(field, "must be lower-case letters, digits and underscores, starting with a letter")
	}
}
