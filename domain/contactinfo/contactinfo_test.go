package contactinfo_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/contactinfo"
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

func TestEmails(t *testing.T) {
	for s, want := range map[string]bool{
		"ana@example.com": true, "a.b+tag@sub.example.org": true,
		"": false, "ana": false, "Ana <ana@example.com>": false, "ana@": false, strings.Repeat("a", 250) + "@x.de": false,
	} {
		if got := contactinfo.ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
	cases := []struct {
		name   string
		emails []string
		want   []string
	}{
		{"OK", []string{"a@x.de", "b@x.de"}, nil},
		{"Invalid", []string{"a@x.de", "nope"}, []string{"emails[1]"}},
		{"Duplicate", []string{"a@x.de", "A@X.DE"}, []string{"emails[1]"}},
		{"TooMany", slices.Repeat([]string{"a@x.de"}, 21), []string{"emails"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v domain.Validator
			contactinfo.ValidateEmails(&v, "emails", c.emails)
			if got := fields(v.Err()); !slices.Equal(got, c.want) {
				t.Errorf("fields = %q, want %q", got, c.want)
			}
		})
	}
}

func TestPhones(t *testing.T) {
	for s, want := range map[string]bool{
		"+49 30 1234567": true, "(030) 123-45.67": true, "112": true,
		"": false, "12": false, "call me": false, "49+30": false, strings.Repeat("1", 33): false, strings.Repeat("1", 21): false,
	} {
		if got := contactinfo.ValidPhone(s); got != want {
			t.Errorf("ValidPhone(%q) = %v, want %v", s, got, want)
		}
	}
	var v domain.Validator
	contactinfo.ValidatePhones(&v, "phones", []string{"+49 30 1234567", "+4930-1234567", "x"})
	if got := fields(v.Err()); !slices.Equal(got, []string{"phones[1]", "phones[2]"}) {
		t.Errorf("fields = %q", got)
	}
}

func TestNormalise(t *testing.T) {
	if got := contactinfo.Normalise([]string{" a ", "", " "}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Normalise = %q", got)
	}
	if contactinfo.Normalise([]string{" "}) != nil {
		t.Errorf("Normalise of blanks should be nil")
	}
}

func TestAddress(t *testing.T) {
	a := contactinfo.Address{Lines: []string{" Hauptstr. 1 ", ""}, PostalCode: " 10115 ", City: " Berlin", Country: "de "}.Normalise()
	want := contactinfo.Address{Lines: []string{"Hauptstr. 1"}, PostalCode: "10115", City: "Berlin", Country: "DE"}
	if !a.Equal(want) || a.IsZero() {
		t.Fatalf("Normalise = %+v", a)
	}
	if want.Equal(contactinfo.Address{}) || !(contactinfo.Address{}).IsZero() {
		t.Errorf("Equal/IsZero wrong")
	}
	cases := []struct {
		name string
		a    contactinfo.Address
		want []string
	}{
		{"OK", want, nil},
		{"Empty", contactinfo.Address{}, nil},
		{"NoCountry", contactinfo.Address{City: "Berlin"}, []string{"address.country"}},
		{"BadCountry", contactinfo.Address{Country: "DEU"}, []string{"address.country"}},
		{"TooManyLines", contactinfo.Address{Lines: []string{"1", "2", "3", "4", "5"}, Country: "DE"}, []string{"address.lines"}},
		{"BadParts", contactinfo.Address{Lines: []string{"a\nb"}, PostalCode: strings.Repeat("1", 21), City: strings.Repeat("c", 201), Region: "\x00", Country: "DE"},
			[]string{"address.lines[0]", "address.postal_code", "address.city", "address.region"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v domain.Validator
			c.a.Validate(&v, "address")
			if got := fields(v.Err()); !slices.Equal(got, c.want) {
				t.Errorf("fields = %q, want %q", got, c.want)
			}
		})
	}
}
