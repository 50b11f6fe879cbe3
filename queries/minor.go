package queries

import (
	"errors"
	"math/big"
	"strconv"
)

// Minor is a sum of amounts in minor units. A single amount is bounded
// (domain.MaxAmountMinor), but a sum over many records is not, so read
// models add amounts as PostgreSQL numeric and queries carry the sum as its
// decimal digits. It is written as a JSON integer of any size (the API
// describes it as an integer).
type Minor string

// MinorOf returns n as a Minor.
func MinorOf(n int64) Minor { return Minor(strconv.FormatInt(n, 10)) }

func (m Minor) big() *big.Int {
	v, ok := new(big.Int).SetString(string(m), 10)
	if !ok {
		return new(big.Int)
	}
	return v
}

// Add returns m + n.
func (m Minor) Add(n Minor) Minor { return Minor(new(big.Int).Add(m.big(), n.big()).String()) }

// Int64 returns m when it fits an int64.
func (m Minor) Int64() (int64, bool) {
	v := m.big()
	return v.Int64(), v.IsInt64()
}

// MarshalJSON writes m as a JSON number.
func (m Minor) MarshalJSON() ([]byte, error) { return []byte(m.big().String()), nil }

// UnmarshalJSON reads a JSON integer of any size.
func (m *Minor) UnmarshalJSON(b []byte) error {
	v, ok := new(big.Int).SetString(string(b), 10)
	if !ok {
		return errors.New("queries: Minor must be a JSON integer")
	}
	*m = Minor(v.String())
	return nil
}
