package text_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/domain/text"
)

func TestCheckJSON(t *testing.T) {
	cases := []struct {
		name, body, field string // field "": accepted
	}{
		{"OK", `{"a":"x","b":[{"c":"é 𝄞 \u00e9 \ud834\udd1e"}],"n":1.5e3,"t":true,"z":null}`, ""},
		{"Empty", `{}`, ""},
		{"NotJSON", `{"a":`, ""},
		{"NULEscape", `{"items":[{"ref":"a\u0000b"}]}`, "items[0].ref"},
		{"NULRaw", "{\"a\":\"x\x00\"}", "a"},
		{"InvalidUTF8", "{\"review\":{\"reviewer\":\"\xff\"}}", "review.reviewer"},
		{"Overlong", "{\"a\":\"\xc0\xaf\"}", "a"},
		{"LoneHigh", `{"open_points":["ok","\ud800"]}`, "open_points[1]"},
		{"LoneLow", `{"a":"\udc00x"}`, "a"},
		{"HighThenOther", `{"a":"\ud800\u0041"}`, "a"},
		{"BadKey", "{\"\xff\":1}", ""},
		{"EscapedSurrogatePairOK", `["\ud83d\ude00"]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := text.CheckJSON([]byte(c.body))
			var de *domain.Error
			switch {
			case c.name == "BadKey":
				if !errors.As(err, &de) {
					t.Fatalf("want a refusal, got %v", err)
				}
			case c.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.field != "" && (!errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != c.field):
				t.Fatalf("want field %q, got %v", c.field, err)
			}
		})
	}
}

// FuzzCheckJSON: CheckJSON never panics, and whatever it accepts decodes
// (when it is JSON at all) to text that is valid UTF-8 without NUL and
// without replacement characters the document did not hold.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"x"}`, `{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `["\ud800"]`, `["\ud83d\ude00"]`, `{"a":[{"b":"\ufffd"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if text.CheckJSON(data) != nil {
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("accepted NUL in %q", data)
				}
				if strings.ContainsRune(v, utf8.RuneError) && !bytes.Contains(data, []byte("\uFFFD")) && !bytes.Contains(bytes.ToLower(data), []byte(`\ufffd`)) {
					t.Fatalf("accepted text the decoder altered: %q", data)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}
