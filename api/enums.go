package api

import (
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/evcrm/evcrm/domain"
)

// schemaPrefix is the prefix of schema references in the OpenAPI document.
const schemaPrefix = "#/components/schemas/"

var enumerated = reflect.TypeFor[domain.Enumerated]()

// enumValues returns the values of an enumerated type (domain.Enumerated),
// or nil.
func enumValues(t reflect.Type) []any {
	if t.Kind() != reflect.String || !t.Implements(enumerated) {
		return nil
	}
	var out []any
	for _, v := range reflect.Zero(t).Interface().(domain.Enumerated).EnumValues() {
		out = append(out, v)
	}
	return out
}

// setEnums gives every property of s (the schema of struct type t) whose Go
// type is enumerated the enum of its values, and lists them in its
// description; lists of such values get it on their items. It reports
// whether it changed s.
func setEnums(s *huma.Schema, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil || t.Kind() != reflect.Struct || s.Properties == nil {
		return false
	}
	changed := false
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		p := s.Properties[jsonName(f)]
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if p == nil {
			continue
		}
		if (ft.Kind() == reflect.Slice || ft.Kind() == reflect.Array) && p.Items != nil {
			ft, p = ft.Elem(), p.Items
		}
		values := enumValues(ft)
		if values == nil || slices.Equal(p.Enum, values) {
			continue
		}
		p.Enum = values
		names := make([]string, len(values))
		for i, v := range values {
			names[i] = v.(string)
		}
		note := "One of: " + strings.Join(names, ", ") + "."
		if !strings.Contains(p.Description, note) {
			p.Description = strings.TrimSpace(p.Description + " " + note)
		}
		changed = true
	}
	if changed {
		s.PrecomputeMessages()
	}
	return changed
}

// setRegistryEnums runs setEnums on every schema of the registry that was
// made from a Go struct type.
func setRegistryEnums(registry huma.Registry, prefix string) {
	for name, s := range registry.Map() {
		if t := registry.TypeFromRef(prefix + name); t != nil {
			setEnums(s, t)
		}
	}
}
