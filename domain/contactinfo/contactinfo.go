// Package contactinfo normalises and validates the ways to reach a customer,
// contact person or lead: email addresses, phone numbers and postal
// addresses. Normalise first (trim, drop blanks), then validate; field names
// in errors are the JSON paths the caller passes.
package contactinfo

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Limits, against runaway or hostile input.
const (
	MaxEmails       = 20
	MaxPhones       = 20
	MaxEmailLength  = 254 // RFC 5321 path limit
	MaxPhoneLength  = 32
	MaxAddressLines = 4
)

// Normalise trims each value and drops blank ones; nil when none remain.
func Normalise(values []string) []string {
	var out []string
	for _, s := range values {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ValidEmail reports whether s is a bare address ("ana@example.com", not
// "Ana <ana@example.com>").
func ValidEmail(s string) bool {
	if len(s) > MaxEmailLength {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// ValidPhone reports whether s looks like a phone number: digits with
// optional "+", spaces, dots, dashes and parentheses, and 3 to 20 digits.
func ValidPhone(s string) bool {
	if len(s) > MaxPhoneLength {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '.', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}

// ValidateEmails checks a normalised list: valid, no duplicates (ignoring case).
func ValidateEmails(v *domain.Validator, field string, emails []string) {
	validateList(v, field, emails, MaxEmails, ValidEmail, "must be an email address like name@example.com", strings.ToLower)
}

// ValidatePhones checks a normalised list: valid, no duplicates (ignoring punctuation).
func ValidatePhones(v *domain.Validator, field string, phones []string) {
	validateList(v, field, phones, MaxPhones, ValidPhone, "must be a phone number (digits, optional leading +)", digitsOnly)
}

func validateList(v *domain.Validator, field string, list []string, max int, valid func(string) bool, msg string, key func(string) string) {
	if len(list) > max {
		v.Add(field, "at most "+strconv.Itoa(max)+" entries")
		return
	}
	seen := make([]string, 0, len(list))
	for i, s := range list {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch k := key(s); {
		case !valid(s):
			v.Add(f, msg)
		case slices.Contains(seen, k):
			v.Add(f, "appears twice")
		default:
			seen = append(seen, k)
		}
	}
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, s)
}

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code ("DE").
type Address struct {
	Lines      []string `json:"lines,omitempty"`
	PostalCode string   `json:"postal_code,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	Country    string   `json:"country,omitempty"`
}

// IsZero reports whether the address is empty.
func (a Address) IsZero() bool {
	return len(a.Lines) == 0 && a.PostalCode == "" && a.City == "" && a.Region == "" && a.Country == ""
}

// Equal reports whether two addresses are the same.
func (a Address) Equal(b Address) bool {
	return slices.Equal(a.Lines, b.Lines) && a.PostalCode == b.PostalCode && a.City == b.City &&
		a.Region == b.Region && a.Country == b.Country
}

// Normalise trims every part, drops blank lines and upper-cases the country.
func (a Address) Normalise() Address {
	return Address{
		Lines:      Normalise(a.Lines),
		PostalCode: strings.TrimSpace(a.PostalCode),
		City:       strings.TrimSpace(a.City),
		Region:     strings.TrimSpace(a.Region),
		Country:    strings.ToUpper(strings.TrimSpace(a.Country)),
	}
}

// Validate checks a normalised address; an empty address is valid. A
// non-empty one needs a country.
func (a Address) Validate(v *domain.Validator, prefix string) {
	if a.IsZero() {
		return
	}
	v.Require(prefix+".lines", len(a.Lines) <= MaxAddressLines, "at most "+strconv.Itoa(MaxAddressLines)+" lines")
	for i, l := range a.Lines {
		text.Line(v, prefix+".lines["+strconv.Itoa(i)+"]", l, false, text.MaxName)
	}
	text.Line(v, prefix+".postal_code", a.PostalCode, false, 20)
	text.Line(v, prefix+".city", a.City, false, text.MaxName)
	text.Line(v, prefix+".region", a.Region, false, text.MaxName)
	v.Require(prefix+".country", isCountry(a.Country), "must be an ISO 3166-1 alpha-2 code like DE")
}

func isCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}
