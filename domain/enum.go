package domain

import (
	"slices"
	"strconv"
	"strings"
)

// Enum is the list of the values of an enumerated type, declared once in
// the type's package: validation (Has, Check), the refusals that list what
// is allowed, and the API schema (the type's EnumValues method, see
// Enumerated) all read it.
//
//	var Channels = domain.NewEnum("channel", ChannelEmail, ChannelPhone)
//	func (c Channel) Valid() bool            { return Channels.Has(c) }
//	func (Channel) EnumValues() []string      { return Channels.Strings() }
type Enum[T ~string] struct {
	noun   string // what a value is, for messages: "channel"
	values []T
}

// NewEnum declares the values of an enumerated type; noun names one value
// in refusals (`"fax" is not a known channel (allowed: email, phone)`).
func NewEnum[T ~string](noun string, values ...T) Enum[T] {
	return Enum[T]{noun: noun, values: values}
}

// Enumerated is implemented by enumerated types: the values a field of the
// type accepts, in order. The HTTP API turns them into the schema's enum.
type Enumerated interface {
	EnumValues() []string
}

// Has reports whether v is one of the values.
func (e Enum[T]) Has(v T) bool { return slices.Contains(e.values, v) }

// Values returns the values, in order.
func (e Enum[T]) Values() []T { return slices.Clone(e.values) }

// Strings returns the values as strings, in order.
func (e Enum[T]) Strings() []string {
	out := make([]string, len(e.values))
	for i, v := range e.values {
		out[i] = string(v)
	}
	return out
}

// Allowed is the values for a message: "email, phone, sms".
func (e Enum[T]) Allowed() string { return strings.Join(e.Strings(), ", ") }

// Refusal is the message refusing value v: `"fax" is not a known channel
// (allowed: email, phone)`, or `is required (allowed: email, phone)`.
func (e Enum[T]) Refusal(v T) string {
	if v == "" {
		return "is required (allowed: " + e.Allowed() + ")"
	}
	return strconv.Quote(string(v)) + " is not a known " + e.noun + " (allowed: " + e.Allowed() + ")"
}

// Check records the refusal of v on field unless v is one of the values.
func (e Enum[T]) Check(val *Validator, field string, v T) {
	if !e.Has(v) {
		val.Add(field, e.Refusal(v))
	}
}
