package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a signed statement of the log's state: its origin (the
// name of the log, which is the signing key's name), the number of leaves
// and the root hash of the tree over them, and when it was made.
//
// Its text is a C2SP tlog-checkpoint body with one extension line:
//
//	<origin>
//	<tree size, decimal>
//	<root hash, standard base64>
//	time <RFC 3339 UTC>
//
// signed as a note (golang.org/x/mod/sumdb/note, ed25519).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   time.Time
}

// Text returns the checkpoint body (the note text).
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n" +
		"time " + c.Time.UTC().Format(time.RFC3339) + "\n"
}

// ParseCheckpoint reads a checkpoint body.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return Checkpoint{}, errors.New("audit: malformed checkpoint: want origin, size and root hash lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return Checkpoint{}, fmt.Errorf("audit: malformed checkpoint: bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("audit: malformed checkpoint: bad root hash %q", lines[2])
	}
	c := Checkpoint{Origin: lines[0], Size: size, Root: tlog.Hash(root)}
	for _, ext := range lines[3:] {
		if v, ok := strings.CutPrefix(ext, "time "); ok {
			if c.Time, err = time.Parse(time.RFC3339, v); err != nil {
				return Checkpoint{}, fmt.Errorf("audit: malformed checkpoint: bad time %q", v)
			}
		}
	}
	return c, nil
}

// Sign signs the checkpoint with s, whose name must be the origin.
func (c Checkpoint) Sign(s note.Signer) ([]byte, error) {
	if s.Name() != c.Origin {
		return nil, fmt.Errorf("audit: key %q cannot sign checkpoints of origin %q", s.Name(), c.Origin)
	}
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// ErrSignature reports a checkpoint whose signature does not verify with
// the key the verifier trusts (forged, altered, or signed by another key).
var ErrSignature = errors.New("checkpoint signature does not verify")

// OpenCheckpoint checks a signed checkpoint against the verifier key v and
// parses it. A note not signed by v (or signed by it but altered) gives an
// error wrapping ErrSignature.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			names := make([]string, 0, len(unverified.Note.UnverifiedSigs))
			for _, s := range unverified.Note.UnverifiedSigs {
				names = append(names, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return Checkpoint{}, fmt.Errorf("%w: not signed by %s+%08x (signed by %s)", ErrSignature, v.Name(), v.KeyHash(), strings.Join(names, ", "))
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q", ErrSignature, c.Origin, v.Name())
	}
	return c, nil
}

// GenerateKey returns a new ed25519 signing key named name (the log's
// origin, e.g. "crm.example.com/audit") and its public verifier key, in
// the note formats "PRIVATE+KEY+<name>+<hash>+<key>" and
// "<name>+<hash>+<key>".
func GenerateKey(name string) (signer, verifier string, err error) {
	return note.GenerateKey(rand.Reader, name)
}

// LoadKey reads a signing key: from the file at path if path is set,
// else from key itself. It returns the signer and its public verifier key;
// neither set gives nil, "" and no error (no signing).
func LoadKey(path, key string) (note.Signer, string, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("audit: reading the signing key: %w", err)
		}
		key = string(b)
	}
	key = strings.TrimSpace(key)
	if key == "" {
		if path != "" {
			return nil, "", fmt.Errorf("audit: the signing key file %s is empty", path)
		}
		return nil, "", nil
	}
	s, err := note.NewSigner(key)
	if err != nil {
		return nil, "", errors.New("audit: the signing key is not a note signer key (PRIVATE+KEY+<name>+<hash>+<key>; make one with evcrm audit keygen)")
	}
	vkey, err := verifierKeyOf(key)
	if err != nil {
		return nil, "", err
	}
	return s, vkey, nil
}

// verifierKeyOf returns the public verifier key of a signer key.
func verifierKeyOf(signerKey string) (string, error) {
	// PRIVATE+KEY+<name>+<hash>+<base64(alg||seed)>
	parts := strings.SplitN(signerKey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", errors.New("audit: not a note signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("audit: not an ed25519 note signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// NewVerifier parses a public verifier key ("<name>+<hash>+<key>").
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("audit: bad verifier key: %w", err)
	}
	return v, nil
}

// CheckInclusion checks that leaf (its canonical encoding) is leaf index
// of the tree of checkpoint c, by the RFC 6962 inclusion proof.
func CheckInclusion(c Checkpoint, index int64, leaf []byte, proof tlog.RecordProof) error {
	if index < 0 || index >= c.Size {
		return fmt.Errorf("audit: leaf %d is not in a tree of %d leaves", index, c.Size)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("audit: leaf %d is not in the tree of checkpoint %d: %w", index, c.Size, err)
	}
	return nil
}

// CheckConsistency checks that the tree of newer extends the tree of
// older (same leaves first), by the RFC 6962 consistency proof.
func CheckConsistency(older, newer Checkpoint, proof tlog.TreeProof) error {
	if older.Size > newer.Size {
		return fmt.Errorf("audit: checkpoint of %d leaves cannot extend one of %d: log truncated", newer.Size, older.Size)
	}
	if err := tlog.CheckTree(proof, newer.Size, newer.Root, older.Size, older.Root); err != nil {
		return fmt.Errorf("audit: the tree of %d leaves does not extend the tree of %d leaves: %w", newer.Size, older.Size, err)
	}
	return nil
}
