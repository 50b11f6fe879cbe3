package privacy

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// EnvelopeVersion is the "$enc" value of the field envelopes written now.
const EnvelopeVersion = "v1"

// ErasedKey is the field added to the data of an event read back with
// erased personal fields: the list of their paths. The fields themselves
// read as null.
const ErasedKey = "$erased"

// envelope replaces a personal field's value in stored event data.
type envelope struct {
	Enc string    `json:"$enc"`
	Kid uuid.UUID `json:"kid"`
	CT  string    `json:"ct"` // base64: 12-byte nonce, then the AES-256-GCM ciphertext and tag
}

// dataKey is a subject's AES-256 data key, ready to use: the AEAD and the
// key deriving the (synthetic) nonces.
type dataKey struct {
	kid      uuid.UUID
	aead     cipher.AEAD
	nonceKey []byte
}

func newDataKey(kid uuid.UUID, dek []byte) (*dataKey, error) {
	if len(dek) != 32 {
		return nil, fmt.Errorf("privacy: data key %s: want 32 bytes, got %d", kid, len(dek))
	}
	derive := func(label string) []byte {
		h := hmac.New(sha256.New, dek)
		h.Write([]byte(label))
		return h.Sum(nil)
	}
	block, err := aes.NewCipher(derive("evcrm-privacy-enc/v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &dataKey{kid: kid, aead: aead, nonceKey: derive("evcrm-privacy-nonce/v1")}, nil
}

func fieldAAD(kid uuid.UUID, path string) []byte {
	return []byte("evcrm-privacy-field/v1|" + kid.String() + "|" + path)
}

// seal encrypts one field value. The nonce is synthetic (an HMAC of the
// event ID, the path and the plaintext), so sealing the same event twice
// gives the same bytes: a retried append stays idempotent (the store
// compares the data), and a nonce repeats only with its plaintext.
func (k *dataKey) seal(eventID uuid.UUID, path string, plain []byte) json.RawMessage {
	h := hmac.New(sha256.New, k.nonceKey)
	h.Write(eventID[:])
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(plain)
	nonce := h.Sum(nil)[:k.aead.NonceSize()]
	ct := k.aead.Seal(nonce, nonce, plain, fieldAAD(k.kid, path))
	b, _ := json.Marshal(envelope{Enc: EnvelopeVersion, Kid: k.kid, CT: base64.StdEncoding.EncodeToString(ct)})
	return b
}

func (k *dataKey) open(env envelope, path string) (json.RawMessage, error) {
	ct, err := base64.StdEncoding.DecodeString(env.CT)
	n := k.aead.NonceSize()
	if err != nil || len(ct) < n {
		return nil, fmt.Errorf("privacy: field %s: malformed ciphertext", path)
	}
	plain, err := k.aead.Open(nil, ct[:n], ct[n:], fieldAAD(k.kid, path))
	if err != nil {
		return nil, fmt.Errorf("privacy: field %s: ciphertext does not open with key %s (altered or misplaced)", path, k.kid)
	}
	return plain, nil
}

// sealPaths replaces the values at the personal paths of data by their
// envelopes (or by null when k is nil: the subject is erased). Absent and
// null values stay as they are. Data that is not a JSON object is returned
// unchanged (the store rejects it).
func sealPaths(data json.RawMessage, paths []string, eventID uuid.UUID, k *dataKey) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return data, nil // not an object: the store refuses it
	}
	changed := false
	for _, p := range paths {
		segs := strings.Split(p, ".")
		name, _ := strings.CutSuffix(segs[0], "[]")
		v, ok := obj[name]
		if !ok {
			continue
		}
		// Seal within a one-field object: the top level is parsed and written once.
		sealed, err := sealAt(json.RawMessage(`{"`+name+`":`+string(v)+`}`), segs, "", eventID, k)
		if err != nil {
			return nil, err
		}
		var one map[string]json.RawMessage
		if err := json.Unmarshal(sealed, &one); err != nil {
			return nil, err
		}
		obj[name] = one[name]
		changed = true
	}
	if !changed {
		return data, nil
	}
	return json.Marshal(obj)
}

func sealAt(raw json.RawMessage, segs []string, path string, eventID uuid.UUID, k *dataKey) (json.RawMessage, error) {
	if len(segs) == 0 {
		if isNull(raw) {
			return raw, nil
		}
		if k == nil {
			return json.RawMessage("null"), nil
		}
		return k.seal(eventID, path, compact(raw)), nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return raw, nil // not an object: nothing to seal here
	}
	name, isArray := strings.CutSuffix(segs[0], "[]")
	v, ok := obj[name]
	if !ok {
		return raw, nil
	}
	fieldPath := join(path, name)
	if isArray {
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil {
			return raw, nil
		}
		for i := range elems {
			sealed, err := sealAt(elems[i], segs[1:], join(fieldPath, strconv.Itoa(i)), eventID, k)
			if err != nil {
				return nil, err
			}
			elems[i] = sealed
		}
		v, _ = json.Marshal(elems)
	} else {
		sealed, err := sealAt(v, segs[1:], fieldPath, eventID, k)
		if err != nil {
			return nil, err
		}
		v = sealed
	}
	obj[name] = v
	return json.Marshal(obj)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// HasEnvelopes reports, cheaply, whether data may hold encrypted fields.
func HasEnvelopes(data []byte) bool { return bytes.Contains(data, []byte(`"$enc"`)) }

// keyLookup returns the data key with an ID, or nil when it was destroyed
// (or never existed).
type keyLookup func(kid uuid.UUID) (*dataKey, error)

// openAll replaces every field envelope in data by its plaintext, or by
// null when its key is gone; it then adds ErasedKey with the erased paths.
func openAll(data json.RawMessage, lookup keyLookup) (json.RawMessage, error) {
	if !HasEnvelopes(data) {
		return data, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return data, nil // not JSON: leave it to the decoder to complain
	}
	var erased []string
	v, err := openValue(v, "", lookup, &erased)
	if err != nil {
		return nil, err
	}
	if obj, ok := v.(map[string]any); ok && len(erased) > 0 {
		slices.Sort(erased)
		obj[ErasedKey] = erased
	}
	return json.Marshal(v)
}

var errNotEnvelope = errors.New("not an envelope")

func asEnvelope(m map[string]any) (envelope, error) {
	enc, ok := m["$enc"].(string)
	if !ok || len(m) != 3 {
		return envelope{}, errNotEnvelope
	}
	kid, _ := m["kid"].(string)
	ct, _ := m["ct"].(string)
	id, err := uuid.Parse(kid)
	if err != nil || ct == "" {
		return envelope{}, errNotEnvelope
	}
	if enc != EnvelopeVersion {
		return envelope{}, fmt.Errorf("privacy: unknown envelope version %q", enc)
	}
	return envelope{Enc: enc, Kid: id, CT: ct}, nil
}

func openValue(v any, path string, lookup keyLookup, erased *[]string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		env, err := asEnvelope(x)
		if err == nil {
			k, err := lookup(env.Kid)
			if err != nil {
				return nil, err
			}
			if k == nil {
				*erased = append(*erased, path)
				return nil, nil
			}
			plain, err := k.open(env, path)
			if err != nil {
				return nil, err
			}
			return json.RawMessage(plain), nil
		}
		if !errors.Is(err, errNotEnvelope) {
			return nil, err
		}
		for name, val := range x {
			opened, err := openValue(val, join(path, name), lookup, erased)
			if err != nil {
				return nil, err
			}
			x[name] = opened
		}
		return x, nil
	case []any:
		for i, val := range x {
			opened, err := openValue(val, join(path, strconv.Itoa(i)), lookup, erased)
			if err != nil {
				return nil, err
			}
			x[i] = opened
		}
		return x, nil
	}
	return v, nil
}

func splitPath(p string) []string { return strings.Split(p, ".") }
