package text

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/evcrm/evcrm/domain"
)

// CheckJSON checks the text of a raw JSON document before it is decoded:
// encoding/json silently replaces invalid UTF-8 and lone UTF-16 surrogate
// escapes ("\ud800") with U+FFFD, which would store something the client did
// not send. It returns a validation error naming the field (JSON path, e.g.
// "items[2].ref"; "" for the document itself) of the first string, key or
// value, that holds invalid UTF-8, a lone surrogate or a NUL character
// (raw or "\u0000"). A document that is not JSON is left to the decoder to
// report: CheckJSON then returns nil.
func CheckJSON(data []byte) error {
	s := scanner{data: data}
	s.value("", 0)
	if s.field == nil {
		return nil
	}
	return domain.InvalidField(s.field.path, s.field.msg)
}

type scanner struct {
	data  []byte
	i     int
	bad   bool // not JSON: give up quietly
	field *struct{ path, msg string }
}

const maxJSONDepth = 10000

func (s *scanner) stop() bool { return s.bad || s.field != nil }

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(path string, depth int) {
	s.ws()
	if s.i >= len(s.data) || depth > maxJSONDepth {
		s.bad = true
		return
	}
	switch s.data[s.i] {
	case '{':
		s.i++
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == '}' {
			s.i++
			return
		}
		for !s.stop() {
			s.ws()
			key, ok := s.str(path)
			if !ok {
				return
			}
			s.ws()
			if s.i >= len(s.data) || s.data[s.i] != ':' {
				s.bad = true
				return
			}
			s.i++
			child := key
			if path != "" {
				child = path + "." + key
			}
			s.value(child, depth+1)
			s.ws()
			if s.stop() || s.i >= len(s.data) {
				s.bad = s.bad || s.field == nil
				return
			}
			switch s.data[s.i] {
			case ',':
				s.i++
			case '}':
				s.i++
				return
			default:
				s.bad = true
			}
		}
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ']' {
			s.i++
			return
		}
		for n := 0; !s.stop(); n++ {
			s.value(path+"["+strconv.Itoa(n)+"]", depth+1)
			s.ws()
			if s.stop() || s.i >= len(s.data) {
				s.bad = s.bad || s.field == nil
				return
			}
			switch s.data[s.i] {
			case ',':
				s.i++
			case ']':
				s.i++
				return
			default:
				s.bad = true
			}
		}
	case '"':
		s.str(path)
	default:
		// number, true, false, null: skip to the next delimiter
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

// str reads a string at s.i (an object key or a value at path) and returns
// its decoded text; ok is false when scanning must stop.
func (s *scanner) str(path string) (string, bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		s.bad = true
		return "", false
	}
	s.i++
	var out []byte
	fail := func(msg string) (string, bool) {
		s.field = &struct{ path, msg string }{path, msg}
		return "", false
	}
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), true
		case c == 0:
			return fail("must not contain NUL characters")
		case c < 0x20:
			s.bad = true
			return "", false
		case c == '\\':
			if s.i+1 >= len(s.data) {
				s.bad = true
				return "", false
			}
			e := s.data[s.i+1]
			if e != 'u' {
				out = append(out, '\\', e)
				s.i += 2
				continue
			}
			r, ok := s.hex4(s.i + 2)
			if !ok {
				s.bad = true
				return "", false
			}
			s.i += 6
			switch {
			case r == 0:
				return fail("must not contain NUL characters")
			case utf16.IsSurrogate(r):
				r2, ok := rune(0), false
				if r < 0xdc00 && s.i+1 < len(s.data) && s.data[s.i] == '\\' && s.data[s.i+1] == 'u' {
					r2, ok = s.hex4(s.i + 2)
				}
				if !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
					return fail("must not contain unpaired UTF-16 surrogates")
				}
				s.i += 6
				out = utf8.AppendRune(out, utf16.DecodeRune(r, r2))
			default:
				out = utf8.AppendRune(out, r)
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			s.i++
		default:
			r, n := utf8.DecodeRune(s.data[s.i:])
			if r == utf8.RuneError && n <= 1 {
				return fail("must be valid UTF-8 text")
			}
			out = append(out, s.data[s.i:s.i+n]...)
			s.i += n
		}
	}
	s.bad = true
	return "", false
}

func (s *scanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.data[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
