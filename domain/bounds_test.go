package domain_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/evcrm/evcrm/domain"
)

type Inner struct {
	Ref  string            `json:"ref"`
	Tags map[string]string `json:"tags,omitempty"`
}

type boundsCmd struct {
	Name   string       `json:"name"`
	Count  int          `json:"count"`
	Qty    int64        `json:"qty"`
	Score  *int         `json:"score,omitempty"`
	At     time.Time    `json:"at,omitzero"`
	Amount domain.Money `json:"amount"`
	Items  []Inner      `json:"items"`
	Inner
}

func TestCheckValues(t *testing.T) {
	big := math.MaxInt32 + 1
	cases := []struct {
		name  string
		cmd   boundsCmd
		field string
	}{
		{"OK", boundsCmd{Name: "é𝄞", Count: domain.MaxCount, Qty: -domain.MaxCount, At: domain.EarliestTime,
			Amount: domain.Money{Amount: domain.MaxAmountMinor, Currency: "EUR"}}, ""},
		{"NUL", boundsCmd{Items: []Inner{{}, {Ref: "a\x00"}}}, "items[1].ref"},
		{"InvalidUTF8", boundsCmd{Name: "\xff"}, "name"},
		{"Embedded", boundsCmd{Inner: Inner{Ref: "\x00"}}, ""},
		{"MapKey", boundsCmd{Items: []Inner{{Tags: map[string]string{"k\x00": "v"}}}}, "items[0].tags"},
		{"Count", boundsCmd{Count: big}, "count"},
		{"Pointer", boundsCmd{Score: &big}, "score"},
		{"Year0", boundsCmd{At: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}, "at"},
		{"Year3000", boundsCmd{At: domain.LatestTime.Add(time.Nanosecond)}, "at"},
		{"Amount", boundsCmd{Amount: domain.Money{Amount: math.MaxInt64, Currency: "EUR"}}, "amount.amount_minor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := domain.CheckValues(c.cmd)
			var de *domain.Error
			if c.field == "" && c.name == "OK" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.As(err, &de) || de.Kind != domain.KindValidation {
				t.Fatalf("want a validation error, got %v", err)
			}
			if c.field != "" && de.Fields[0].Field != c.field {
				t.Fatalf("field %q, want %q", de.Fields[0].Field, c.field)
			}
		})
	}
}
