package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// MasterKey wraps the data keys. It lives outside the database (a file
// named by EVCRM_PRIVACY_KEY_FILE, or EVCRM_PRIVACY_KEY); its ID, recorded
// with every data key it wraps, is derived from the key itself.
type MasterKey struct {
	ID   string
	aead cipher.AEAD
}

// ErrNoMasterKey: no master key is configured.
var ErrNoMasterKey = errors.New("privacy: no master key configured (EVCRM_PRIVACY_KEY_FILE or EVCRM_PRIVACY_KEY)")

// NewMasterKeyText returns a new random master key in the form
// LoadMasterKeys reads (base64 of 32 bytes).
func NewMasterKeyText() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand never fails on supported platforms
	return base64.StdEncoding.EncodeToString(k)
}

// ParseMasterKeys reads master keys, one base64 key of 32 bytes a line
// (blank lines and lines starting with # are skipped). The first is the
// current key, which wraps new data keys; the others are earlier keys, kept
// while `evcrm privacy rotate-master-key` rewraps the data keys they wrap.
func ParseMasterKeys(text string) ([]MasterKey, error) {
	var keys []MasterKey
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("privacy: master key on line %d: want the base64 of 32 random bytes (evcrm privacy keygen)", i+1)
		}
		k, err := newMasterKey(raw)
		if err != nil {
			return nil, err
		}
		for _, other := range keys {
			if other.ID == k.ID {
				return nil, fmt.Errorf("privacy: master key on line %d appears twice", i+1)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// LoadMasterKeys reads the master keys from file (if set) or from inline
// text. Neither set: no keys, no error (personal data is then stored in
// plaintext; see docs/privacy.md).
func LoadMasterKeys(file, inline string) ([]MasterKey, error) {
	text := inline
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("privacy: reading the master key file: %w", err)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		if file != "" {
			return nil, fmt.Errorf("privacy: the master key file %s holds no key", file)
		}
		return nil, nil
	}
	return ParseMasterKeys(text)
}

func newMasterKey(raw []byte) (MasterKey, error) {
	sum := sha256.Sum256(append([]byte("evcrm-privacy-master-key-id\x00"), raw...))
	block, err := aes.NewCipher(raw)
	if err != nil {
		return MasterKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return MasterKey{}, err
	}
	return MasterKey{ID: "mk-" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// wrap seals a data key; the key's ID and subject are authenticated, so a
// wrapped key copied to another row does not open.
func (m MasterKey) wrap(dek []byte, kid, subject string) []byte {
	nonce := make([]byte, m.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return m.aead.Seal(nonce, nonce, dek, wrapAAD(kid, subject))
}

func (m MasterKey) unwrap(wrapped []byte, kid, subject string) ([]byte, error) {
	n := m.aead.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("privacy: wrapped key too short")
	}
	dek, err := m.aead.Open(nil, wrapped[:n], wrapped[n:], wrapAAD(kid, subject))
	if err != nil {
		return nil, fmt.Errorf("privacy: data key %s does not open with master key %s", kid, m.ID)
	}
	return dek, nil
}

func wrapAAD(kid, subject string) []byte {
	return []byte("evcrm-privacy-dek/v1|" + kid + "|" + subject)
}
