package domain

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of every value a command may bring, so that every event the domain
// accepts fits every read model (PostgreSQL integer, bigint, timestamptz and
// text columns) and every encoder (JSON cannot write years past 9999).
var (
	// EarliestTime and LatestTime bound every time in a command and every
	// occurred-at: 1900-01-01 to 2999-12-31 (UTC), far inside what
	// PostgreSQL and RFC 3339 can hold, with room for deadlines computed
	// from them.
	EarliestTime = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	LatestTime   = time.Date(2999, time.December, 31, 23, 59, 59, 999999999, time.UTC)
)

// MaxCount bounds every integer in a command that is not an amount of
// money: it fits a PostgreSQL integer column.
const MaxCount = math.MaxInt32

// CheckTime records a field error unless t is zero or within
// [EarliestTime, LatestTime].
func CheckTime(v *Validator, field string, t time.Time) {
	if !t.IsZero() && (t.Before(EarliestTime) || t.After(LatestTime)) {
		v.Add(field, "must lie between 1900-01-01 and 2999-12-31")
	}
}

// CheckValues walks a command (any struct of exported, JSON-tagged fields)
// and checks the bounds every value must keep, whatever the command: text is
// valid UTF-8 without NUL characters, times lie within [EarliestTime,
// LatestTime], money amounts within ±MaxAmountMinor, other integers within
// ±MaxCount, and floats are finite. Errors name the JSON path of the field
// ("items[2].ref"). Commands check their own, narrower rules in Decide; this
// is the floor under all of them.
func CheckValues(cmd any) error {
	var v Validator
	checkValue(&v, "", reflect.ValueOf(cmd), 0)
	return v.Err()
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	moneyType = reflect.TypeFor[Money]()
)

// maxDepth stops a walk through a (hostile) self-referencing value.
const maxDepth = 32

func checkValue(v *Validator, path string, val reflect.Value, depth int) {
	if depth > maxDepth || !val.IsValid() {
		return
	}
	switch val.Type() {
	case timeType:
		CheckTime(v, fieldPath(path), val.Interface().(time.Time))
		return
	case moneyType:
		m := val.Interface().(Money)
		checkString(v, join(path, "currency"), m.Currency)
		if m.Amount < -MaxAmountMinor || m.Amount > MaxAmountMinor {
			v.Add(join(path, "amount_minor"), "must be at most 999999999999999 in absolute value")
		}
		return
	}
	switch val.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !val.IsNil() {
			checkValue(v, path, val.Elem(), depth+1)
		}
	case reflect.String:
		checkString(v, fieldPath(path), val.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := val.Int(); n < -MaxCount || n > MaxCount {
			v.Add(fieldPath(path), "must be at most "+strconv.Itoa(MaxCount)+" in absolute value")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if val.Uint() > MaxCount {
			v.Add(fieldPath(path), "must be at most "+strconv.Itoa(MaxCount))
		}
	case reflect.Float32, reflect.Float64:
		if f := val.Float(); math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			v.Add(fieldPath(path), "must be a finite number of at most 1e15 in absolute value")
		}
	case reflect.Slice, reflect.Array:
		if val.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (a UUID): not text
		}
		for i := 0; i < val.Len(); i++ {
			checkValue(v, path+"["+strconv.Itoa(i)+"]", val.Index(i), depth+1)
		}
	case reflect.Map:
		iter := val.MapRange()
		for iter.Next() {
			k := iter.Key()
			key := ""
			if k.Kind() == reflect.String {
				key = k.String()
				checkString(v, fieldPath(path), key)
			}
			checkValue(v, join(path, key), iter.Value(), depth+1)
		}
	case reflect.Struct:
		t := val.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				checkValue(v, path, val.Field(i), depth+1)
				continue
			}
			if name == "" {
				name = f.Name
			}
			checkValue(v, join(path, name), val.Field(i), depth+1)
		}
	}
}

func checkString(v *Validator, field, s string) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8 text")
	case strings.IndexByte(s, 0) >= 0:
		v.Add(field, "must not contain NUL characters")
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldPath is path; empty names the command itself.
func fieldPath(path string) string { return path }
