package domain

import (
	"errors"
	"strings"
)

// Kind classifies domain errors; the HTTP layer maps each kind to a status.
type Kind uint8

const (
	KindInternal      Kind = iota
	KindValidation         // the command is malformed or breaks a value rule (422)
	KindNotFound           // the aggregate does not exist (404)
	KindConflict           // the aggregate's state forbids the command (409)
	KindAlreadyExists      // creating something that exists (409)
)

func (k Kind) String() string {
	switch k {
	case KindValidation:
		return "validation"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindAlreadyExists:
		return "already_exists"
	}
	return "internal"
}

// FieldError names one field at fault, with a JSON-pointer-like path ("lines[2].quantity").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one domain error type. Code is a stable, machine-readable
// identifier ("requirements_not_reviewed"); Message is for people.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Is matches another *Error by Code, or by Kind when the target has no Code,
// so errors.Is(err, domain.ErrConflict) and errors.Is(err, opportunity.ErrNotReviewed) both work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t.Code == "" {
		return e.Kind == t.Kind
	}
	return e.Code == t.Code
}

// Kind sentinels, for errors.Is.
var (
	ErrValidation    = &Error{Kind: KindValidation, Message: "validation failed"}
	ErrNotFound      = &Error{Kind: KindNotFound, Message: "not found"}
	ErrConflict      = &Error{Kind: KindConflict, Message: "conflict with current state"}
	ErrAlreadyExists = &Error{Kind: KindAlreadyExists, Message: "already exists"}
)

// NewError declares a coded domain error, usually as a package-level sentinel.
func NewError(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Conflict declares a coded state-conflict error.
func Conflict(code, message string) *Error { return NewError(KindConflict, code, message) }

// NotFound returns a not-found error for an aggregate type.
func NotFound(aggregate string) *Error {
	return &Error{Kind: KindNotFound, Code: aggregate + "_not_found", Message: aggregate + " not found"}
}

// AlreadyExists returns an already-exists error for an aggregate type.
func AlreadyExists(aggregate string) *Error {
	return &Error{Kind: KindAlreadyExists, Code: aggregate + "_already_exists", Message: aggregate + " already exists"}
}

// KindOf returns the Kind of err if it is (or wraps) an *Error, else KindInternal.
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return KindInternal
}

// Validator collects field errors; Err returns nil when there are none.
//
//	var v domain.Validator
//	v.Require("name", cmd.Name != "", "is required")
//	if err := v.Err(); err != nil { return nil, err }
type Validator struct{ fields []FieldError }

// Require records message for field unless ok.
func (v *Validator) Require(field string, ok bool, message string) {
	if !ok {
		v.fields = append(v.fields, FieldError{Field: field, Message: message})
	}
}

// Add records a field error.
func (v *Validator) Add(field, message string) {
	v.fields = append(v.fields, FieldError{Field: field, Message: message})
}

// Merge adds the fields of a validation error under a prefix ("lines[0]").
func (v *Validator) Merge(prefix string, err error) {
	var de *Error
	if err == nil {
		return
	}
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		v.Add(prefix, err.Error())
		return
	}
	for _, f := range de.Fields {
		name := f.Field
		if prefix != "" {
			name = prefix + "." + f.Field
		}
		v.fields = append(v.fields, FieldError{Field: name, Message: f.Message})
	}
}

// InvalidField returns a validation error for one field.
func InvalidField(field, message string) error {
	var v Validator
	v.Add(field, message)
	return v.Err()
}

// Err returns a KindValidation *Error with the collected fields, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindValidation, Code: "validation_failed", Message: "validation failed", Fields: v.fields}
}
