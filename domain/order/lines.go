package order

import (
	"slices"
	"strconv"
	"strings"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

// Line is one ordered product.
type Line struct {
	ProductID   string       `json:"product_id"` // product code or SKU
	Description string       `json:"description,omitempty"`
	Quantity    int64        `json:"quantity"` // whole units
	UnitPrice   domain.Money `json:"unit_price"`
}

// PricedLine is a line with its total (quantity × unit price), as recorded.
type PricedLine struct {
	Line
	Total domain.Money `json:"total"`
}

// Limits, against runaway or hostile input.
const (
	MaxLines    = 1000
	MaxQuantity = 1_000_000_000
)

// price normalises and validates lines (under the JSON path "lines") and
// prices them. Every line is in the currency of the first; line and order
// totals above domain.MaxAmountMinor are refused.
func price(v *domain.Validator, lines []Line) ([]PricedLine, domain.Money) {
	switch {
	case len(lines) == 0:
		v.Add("lines", "at least one line is needed")
		return nil, domain.Money{}
	case len(lines) > MaxLines:
		v.Add("lines", "at most "+strconv.Itoa(MaxLines)+" lines")
		return nil, domain.Money{}
	}
	currency := lines[0].UnitPrice.Currency
	total := domain.Money{Currency: currency}
	out := make([]PricedLine, len(lines))
	for i, l := range lines {
		p := "lines[" + strconv.Itoa(i) + "]"
		l.ProductID, l.Description = strings.TrimSpace(l.ProductID), strings.TrimSpace(l.Description)
		text.Line(v, p+".product_id", l.ProductID, true, text.MaxName)
		text.Line(v, p+".description", l.Description, false, text.MaxReason)
		v.Require(p+".quantity", l.Quantity >= 1 && l.Quantity <= MaxQuantity, "must be between 1 and 1000000000")
		v.Merge(p+".unit_price", l.UnitPrice.Validate(false))
		v.Require(p+".unit_price.currency", l.UnitPrice.Currency == currency, "must be the currency of the first line ("+currency+")")
		lineTotal := domain.Money{Currency: l.UnitPrice.Currency}
		if l.Quantity > 0 && l.UnitPrice.Amount >= 0 {
			if l.UnitPrice.Amount > domain.MaxAmountMinor/l.Quantity {
				v.Add(p, "line total is too large")
			} else {
				lineTotal.Amount = l.Quantity * l.UnitPrice.Amount
			}
		}
		if total.Amount > domain.MaxAmountMinor-lineTotal.Amount {
			v.Add("lines", "order total is too large")
		} else {
			total.Amount += lineTotal.Amount
		}
		out[i] = PricedLine{Line: l, Total: lineTotal}
	}
	return out, total
}

func cloneLines(ls []PricedLine) []PricedLine { return slices.Clone(ls) }
