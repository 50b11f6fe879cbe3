package domain

import (
	"fmt"
	"strings"
)

// Money is an amount in integer minor units (cents) of an ISO 4217 currency.
// Amounts in different currencies are never added together.
type Money struct {
	Amount   int64  `json:"amount_minor"`
	Currency string `json:"currency"`
}

func (m Money) String() string { return fmt.Sprintf("%d %s (minor units)", m.Amount, m.Currency) }

// MaxAmountMinor bounds every single amount evcrm accepts (a price, a
// budget, an opportunity, an order total): 999,999,999,999,999 minor units,
// just under 10^13 major units of a two-decimal currency. Any amount a
// command brings, and any product or total the domain computes from such
// amounts, stays within ±MaxAmountMinor, so it fits a bigint column with
// room to spare; read models that add amounts up across records use
// numeric arithmetic, which cannot overflow.
const MaxAmountMinor int64 = 999_999_999_999_999

// Validate checks the currency code, the bound ±MaxAmountMinor and, unless
// allowNegative, the sign.
func (m Money) Validate(allowNegative bool) error {
	var v Validator
	v.Require("currency", IsCurrency(m.Currency), "must be an ISO 4217 currency code")
	v.Require("amount_minor", allowNegative || m.Amount >= 0, "must not be negative")
	v.Require("amount_minor", m.Amount >= -MaxAmountMinor && m.Amount <= MaxAmountMinor, "must be at most 999999999999999 in absolute value")
	return v.Err()
}

// IsCurrency reports whether code is an active ISO 4217 alphabetic code.
func IsCurrency(code string) bool {
	if len(code) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if code[i] < 'A' || code[i] > 'Z' {
			return false
		}
	}
	return strings.Contains(iso4217, code+" ")
}

// Active ISO 4217 codes (2024 list), space separated with a trailing space.
const iso4217 = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
	"CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD " +
	"HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD " +
	"MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG " +
	"QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD " +
	"TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG "
