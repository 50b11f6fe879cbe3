// Package pack makes and checks audit packs: what an ISO auditor takes away
// from an audit and checks offline, with nothing but the log's public key.
//
// A pack is a zip file holding a period's events of one tenant as JSON
// Lines, each with its leaf index and an RFC 6962 inclusion proof against
// a signed checkpoint; that checkpoint and the public key; a consistency
// proof from the auditor's previous checkpoint when one is given; the
// quality report of the period as CSV files and a PDF; and a manifest of
// SHA-256 sums, signed (a note, with the log's key), so that no file can
// be changed, removed or added unnoticed. See docs/audit.md.
package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/audit"
	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/queries"
)

// The files of a pack.
const (
	ManifestFile           = "manifest.txt"            // signed note: the SHA-256 of every other file
	ReadmeFile             = "README.txt"              // what the pack is and how to check it
	EventsFile             = "events.jsonl"            // one EventLine per event of the period
	CheckpointFile         = "checkpoint.txt"          // the signed checkpoint the proofs are against
	PublicKeyFile          = "public-key.txt"          // the log's verifier key (check it against the one you got out of band)
	PreviousCheckpointFile = "previous-checkpoint.txt" // the auditor's previous checkpoint, when given
	ConsistencyFile        = "consistency.json"        // proof that the checkpoint extends the previous one
	ReportDir              = "report/"                 // the quality report: CSV files and quality-report.pdf
	ReportPDFFile          = ReportDir + "quality-report.pdf"
)

// manifestHeader starts the manifest's text (format version 1).
const manifestHeader = "evcrm audit pack 1"

// EventLine is one line of events.jsonl.
type EventLine struct {
	LeafIndex int64 `json:"leaf_index"`
	// Leaf is the event's canonical encoding (docs/audit.md): its leaf
	// hash is SHA-256(0x00 || leaf).
	Leaf string `json:"leaf"`
	// Proof is the inclusion proof against the pack's checkpoint
	// (tlog.RecordProof, standard base64).
	Proof     []string `json:"proof"`
	Backdated bool     `json:"backdated"`
}

// Consistency is consistency.json.
type Consistency struct {
	From  int64    `json:"from"`
	To    int64    `json:"to"`
	Proof []string `json:"proof"`
}

// Options select what a pack holds.
type Options struct {
	Tenant string
	Period queries.Period
	// Previous is the auditor's checkpoint from an earlier audit (a signed
	// note), optional: the pack then proves the log extends it.
	Previous []byte
}

// Summary describes a pack.
type Summary struct {
	Tenant    string
	Period    queries.Period
	TreeSize  int64 // of the checkpoint
	Events    int
	Backdated int
	Previous  int64 // size of the previous checkpoint proven extended, 0 if none
	Files     int
}

// Write signs a checkpoint of the log as it is now (or takes the one of
// that size), and writes the pack of opts to w. It needs the log's signing
// key (for the checkpoint and the manifest).
func Write(ctx context.Context, w io.Writer, src Source, opts Options) (Summary, error) {
	sum := Summary{Tenant: opts.Tenant, Period: opts.Period}
	signer := src.Log.Signer()
	if signer == nil {
		return sum, auditlog.ErrNoKey
	}
	verifier, err := audit.NewVerifier(src.PublicKey)
	if err != nil {
		return sum, err
	}
	c, err := src.Log.Publish(ctx)
	if err != nil {
		return sum, err
	}
	sum.TreeSize = c.Size
	leaves, err := src.Log.Leaves(ctx, auditlog.LeafQuery{From: 0, To: c.Size, Tenant: &opts.Tenant, RecordedFrom: opts.Period.From, RecordedTo: opts.Period.To})
	if err != nil {
		return sum, err
	}
	report, err := collectReport(ctx, src, opts.Tenant, opts.Period, leaves)
	if err != nil {
		return sum, err
	}
	files := map[string][]byte{CheckpointFile: c.Note, PublicKeyFile: []byte(strings.TrimSpace(src.PublicKey) + "\n")}

	// The events, with their proofs.
	indexes := make([]int64, len(leaves))
	for i, l := range leaves {
		indexes[i] = l.Index
	}
	proofs, err := src.Log.InclusionProofs(ctx, indexes, c.Size)
	if err != nil {
		return sum, err
	}
	var events bytes.Buffer
	enc := json.NewEncoder(&events)
	enc.SetEscapeHTML(false)
	for i, l := range leaves {
		e, err := audit.DecodeLeaf(l.Leaf)
		if err != nil {
			return sum, fmt.Errorf("pack: leaf %d does not decode: %w", l.Index, err)
		}
		line := EventLine{LeafIndex: l.Index, Leaf: string(l.Leaf), Proof: b64s(proofs[i]), Backdated: audit.BackdatedBy(e, report.BackdatedAfter)}
		if line.Backdated {
			sum.Backdated++
		}
		if err := enc.Encode(line); err != nil {
			return sum, err
		}
	}
	files[EventsFile] = events.Bytes()
	sum.Events = len(leaves)

	// The auditor's previous checkpoint.
	if len(opts.Previous) > 0 {
		prev, err := audit.OpenCheckpoint(opts.Previous, verifier)
		if err != nil {
			return sum, fmt.Errorf("pack: the previous checkpoint: %w", err)
		}
		if prev.Size > c.Size {
			return sum, fmt.Errorf("pack: the previous checkpoint is of %d leaves, the log has %d: %w", prev.Size, c.Size, auditlog.ErrBadRange)
		}
		proof, err := src.Log.ConsistencyProof(ctx, prev.Size, c.Size)
		if err != nil {
			return sum, err
		}
		if err := audit.CheckConsistency(prev, c.Checkpoint, proof); err != nil {
			return sum, fmt.Errorf("pack: the log does not extend the previous checkpoint: %w", err)
		}
		b, err := json.MarshalIndent(Consistency{From: prev.Size, To: c.Size, Proof: b64s(proof)}, "", "  ")
		if err != nil {
			return sum, err
		}
		files[PreviousCheckpointFile], files[ConsistencyFile] = opts.Previous, append(b, '\n')
		sum.Previous = prev.Size
	}

	// The report.
	csvs, err := report.CSV()
	if err != nil {
		return sum, err
	}
	for name, b := range csvs {
		files[ReportDir+name] = b
	}
	var pdf bytes.Buffer
	if err := report.PDF(&pdf); err != nil {
		return sum, fmt.Errorf("pack: rendering the report: %w", err)
	}
	files[ReportPDFFile] = pdf.Bytes()
	files[ReadmeFile] = []byte(readme(sum, c.Checkpoint))

	// The manifest, signed.
	manifest := manifestText(opts.Tenant, opts.Period, c.Size, report.BackdatedAfter, files)
	signed, err := note.Sign(&note.Note{Text: manifest}, signer)
	if err != nil {
		return sum, fmt.Errorf("pack: signing the manifest: %w", err)
	}
	files[ManifestFile] = signed
	sum.Files = len(files)

	zw := zip.NewWriter(w)
	for _, name := range sortedNames(files) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: c.Time})
		if err != nil {
			return sum, err
		}
		if _, err := fw.Write(files[name]); err != nil {
			return sum, err
		}
	}
	return sum, zw.Close()
}

func manifestText(tenantID string, p queries.Period, size int64, backdatedAfter time.Duration, files map[string][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\ntenant %s\nperiod %s %s\ncheckpoint %d\nbackdated-after %s\n", manifestHeader, tenantID,
		p.From.UTC().Format(time.RFC3339Nano), p.To.UTC().Format(time.RFC3339Nano), size, backdatedAfter)
	for _, name := range sortedNames(files) {
		if name == ManifestFile {
			continue
		}
		h := sha256.Sum256(files[name])
		fmt.Fprintf(&b, "sha256 %s %s\n", hex.EncodeToString(h[:]), name)
	}
	return b.String()
}

func readme(s Summary, c audit.Checkpoint) string {
	return fmt.Sprintf(`evcrm audit pack
================

Tenant %s, events recorded from %s to %s (end excluded): %d events, %d of them backdated.
They are leaves of the transparency log, each with an inclusion proof against the signed
checkpoint of %d leaves (%s, root %s).

Check it offline, with the log's public key obtained by another channel than this pack:

    evcrm audit verify-pack pack.zip --key '<name>+<hash>+<key>'

It checks the manifest's signature, every file's SHA-256, that no file is missing or added,
the checkpoint's signature, every event's inclusion proof and, when present, the consistency
proof from your previous checkpoint. Keep %s for your next audit.

%s     the events as JSON Lines: leaf_index, leaf (canonical encoding, docs/audit.md), proof, backdated
%s   the signed checkpoint (C2SP tlog-checkpoint)
%s   the log's public key, as the operator states it
%s    the quality report (CSV files) and %s
%s     signed SHA-256 sums of every other file
`, s.Tenant, ts(s.Period.From), ts(s.Period.To), s.Events, s.Backdated, c.Size, c.Origin, base64.StdEncoding.EncodeToString(c.Root[:]),
		CheckpointFile, EventsFile, CheckpointFile, PublicKeyFile, ReportDir, ReportPDFFile, ManifestFile)
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func b64s(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func unb64s(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, errors.New("malformed hash " + strconv.Quote(s))
		}
		out[i] = tlog.Hash(b)
	}
	return out, nil
}
