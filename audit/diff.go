package audit

import (
	"bytes"
	"encoding/json"
	"strings"
)

// leafFields name the members of a leaf encoding in a diagnosis.
var leafFields = []struct{ key, name string }{
	{"stream", "stream"}, {"version", "version"}, {"event_id", "event ID"}, {"type", "type"},
	{"schema_version", "schema version"}, {"data", "data"}, {"metadata", "metadata"}, {"recorded_at", "recorded-at"},
	{"leaf_format", "leaf format"},
}

// DiffLeaves says which fields of two leaf encodings differ, e.g. "data
// and recorded-at differ" ("content differs" when it cannot tell).
func DiffLeaves(logged, now []byte) string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(logged, &a) != nil || json.Unmarshal(now, &b) != nil {
		return "content differs"
	}
	var diff []string
	for _, f := range leafFields {
		if !bytes.Equal(a[f.key], b[f.key]) {
			diff = append(diff, f.name)
		}
	}
	switch len(diff) {
	case 0:
		return "content differs"
	case 1:
		return diff[0] + " differs from the logged leaf"
	}
	return strings.Join(diff[:len(diff)-1], ", ") + " and " + diff[len(diff)-1] + " differ from the logged leaf"
}
