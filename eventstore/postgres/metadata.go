package postgres

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/eventstore"
	"github.com/google/uuid"
)

// appendMetadata encodes m as the JSON object json.Marshal would produce
// (same field names, omissions and order, times in UTC), without
// reflection: appends encode metadata for every event they write.
func appendMetadata(buf []byte, m eventstore.Metadata) ([]byte, error) {
	buf = append(buf, '{')
	first := true
	field := func(name string) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, '"')
		buf = append(buf, name...)
		buf = append(buf, '"', ':')
	}
	if m.CorrelationID != uuid.Nil {
		field("correlation_id")
		buf = appendUUID(buf, m.CorrelationID)
	}
	if m.CausationID != uuid.Nil {
		field("causation_id")
		buf = appendUUID(buf, m.CausationID)
	}
	for _, f := range [...]struct{ name, value string }{
		{"actor", m.Actor}, {"actor_role", m.ActorRole}, {"source", m.Source}, {"tenant", m.Tenant},
	} {
		if f.value != "" {
			field(f.name)
			buf = appendString(buf, f.value)
		}
	}
	if !m.OccurredAt.IsZero() {
		t := m.OccurredAt.UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			return nil, errors.New("occurred-at year outside 0..9999")
		}
		field("occurred_at")
		buf = append(buf, '"')
		buf = t.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, '"')
	}
	if len(m.Extra) > 0 {
		field("extra")
		keys := make([]string, 0, len(m.Extra))
		for k := range m.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, k)
			buf = append(buf, ':')
			buf = appendString(buf, m.Extra[k])
		}
		buf = append(buf, '}')
	}
	return append(buf, '}'), nil
}

func appendUUID(buf []byte, id uuid.UUID) []byte {
	var s [38]byte
	s[0], s[37] = '"', '"'
	hex.Encode(s[1:9], id[0:4])
	s[9] = '-'
	hex.Encode(s[10:14], id[4:6])
	s[14] = '-'
	hex.Encode(s[15:19], id[6:8])
	s[19] = '-'
	hex.Encode(s[20:24], id[8:10])
	s[24] = '-'
	hex.Encode(s[25:37], id[10:16])
	return append(buf, s[:]...)
}

// appendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD (as json.Marshal
// does).
func appendString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// sameMetadata reports whether two events carry the same metadata, so an
// append encodes it once for a batch that shares it.
func sameMetadata(a, b *eventstore.Metadata) bool {
	if a.CorrelationID != b.CorrelationID || a.CausationID != b.CausationID || a.Actor != b.Actor ||
		a.ActorRole != b.ActorRole || a.Source != b.Source || a.Tenant != b.Tenant ||
		!a.OccurredAt.Equal(b.OccurredAt) || len(a.Extra) != len(b.Extra) {
		return false
	}
	for k, v := range a.Extra {
		if w, ok := b.Extra[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// parseMetadata decodes the metadata JSON PostgreSQL returns (jsonb's
// output: one flat object of strings, plus the "extra" object) without
// reflection. Anything it does not expect goes to json.Unmarshal, which
// gives the same result more slowly.
func parseMetadata(b []byte, m *eventstore.Metadata) error {
	if parseMetadataFast(b, m) {
		return nil
	}
	*m = eventstore.Metadata{}
	return json.Unmarshal(b, m)
}

// jsonScanner walks a JSON text.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether it was there.
func (s *jsonScanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string, unescaping it when needed.
func (s *jsonScanner) str() (string, bool) {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i
	escaped := false
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			if !escaped {
				return string(s.b[start+1 : j]), true
			}
			var out string
			if err := json.Unmarshal(s.b[start:j+1], &out); err != nil {
				return "", false
			}
			return out, true
		}
	}
	return "", false
}

func parseMetadataFast(b []byte, m *eventstore.Metadata) bool {
	s := jsonScanner{b: b}
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		s.space()
		return s.i == len(b)
	}
	for {
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return false
		}
		if key == "extra" {
			if !s.consume('{') {
				return false
			}
			m.Extra = map[string]string{}
			if !s.consume('}') {
				for {
					k, ok := s.str()
					if !ok || !s.consume(':') {
						return false
					}
					v, ok := s.str()
					if !ok {
						return false
					}
					m.Extra[k] = v
					if s.consume('}') {
						break
					}
					if !s.consume(',') {
						return false
					}
				}
			}
		} else {
			v, ok := s.str()
			if !ok {
				return false
			}
			switch key {
			case "correlation_id", "causation_id":
				id, err := uuid.Parse(v)
				if err != nil {
					return false
				}
				if key == "correlation_id" {
					m.CorrelationID = id
				} else {
					m.CausationID = id
				}
			case "actor":
				m.Actor = v
			case "actor_role":
				m.ActorRole = v
			case "source":
				m.Source = v
			case "tenant":
				m.Tenant = v
			case "occurred_at":
				if err := m.OccurredAt.UnmarshalText([]byte(v)); err != nil {
					return false
				}
			default:
				return false // unknown field: let json.Unmarshal decide
			}
		}
		if s.consume('}') {
			s.space()
			return s.i == len(b)
		}
		if !s.consume(',') {
			return false
		}
	}
}
