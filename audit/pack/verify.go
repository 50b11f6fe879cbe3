package pack

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/evcrm/evcrm/audit"
)

// Problem is the first thing wrong with a pack: in which file (and line of
// events.jsonl, if any), and what.
type Problem struct {
	File   string
	Line   int // 1-based line of events.jsonl; 0 when not about a line
	Detail string
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("pack: %s line %d: %s", p.File, p.Line, p.Detail)
	}
	return fmt.Sprintf("pack: %s: %s", p.File, p.Detail)
}

// maxFile bounds what is read of one file of a pack.
const maxFile = 1 << 30

// Verify checks a pack offline with the log's public key v (obtained by
// another channel than the pack): the manifest's signature, every file's
// SHA-256 and that none is missing or added, the checkpoint's signature,
// every event's inclusion proof and period and tenant, the backdated
// marks and count, and the consistency proof from the previous
// checkpoint when there is one. It returns the first problem as a
// *Problem.
func Verify(r io.ReaderAt, size int64, v note.Verifier) (Summary, error) {
	var sum Summary
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return sum, &Problem{File: "pack", Detail: "not a zip file: " + err.Error()}
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return sum, &Problem{File: f.Name, Detail: "in the pack twice"}
		}
		rc, err := f.Open()
		if err != nil {
			return sum, &Problem{File: f.Name, Detail: err.Error()}
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxFile))
		rc.Close()
		if err != nil {
			return sum, &Problem{File: f.Name, Detail: err.Error()}
		}
		files[f.Name] = b
	}
	sum.Files = len(files)

	// The manifest: signed by the log's key, listing every other file.
	mb, ok := files[ManifestFile]
	if !ok {
		return sum, &Problem{File: ManifestFile, Detail: "missing"}
	}
	n, err := note.Open(mb, note.VerifierList(v))
	if err != nil {
		return sum, &Problem{File: ManifestFile, Detail: "signature does not verify with " + v.Name() + ": " + err.Error()}
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 5 || lines[0] != manifestHeader {
		return sum, &Problem{File: ManifestFile, Detail: "not an evcrm audit pack manifest"}
	}
	var from, to string
	var backdatedAfter time.Duration
	_, err1 := fmt.Sscanf(lines[1], "tenant %s", &sum.Tenant)
	_, err2 := fmt.Sscanf(lines[2], "period %s %s", &from, &to)
	_, err3 := fmt.Sscanf(lines[3], "checkpoint %d", &sum.TreeSize)
	bd, ok4 := strings.CutPrefix(lines[4], "backdated-after ")
	if ok4 {
		backdatedAfter, err = time.ParseDuration(bd)
	}
	if err1 != nil || err2 != nil || err3 != nil || !ok4 || err != nil {
		return sum, &Problem{File: ManifestFile, Detail: "malformed header"}
	}
	if sum.Period.From, err = time.Parse(time.RFC3339Nano, from); err == nil {
		sum.Period.To, err = time.Parse(time.RFC3339Nano, to)
	}
	if err != nil {
		return sum, &Problem{File: ManifestFile, Detail: "malformed period"}
	}
	listed := map[string]bool{ManifestFile: true}
	for _, l := range lines[5:] {
		f := strings.SplitN(l, " ", 3)
		if len(f) != 3 || f[0] != "sha256" {
			return sum, &Problem{File: ManifestFile, Detail: "malformed line " + strconv.Quote(l)}
		}
		name := f[2]
		listed[name] = true
		b, ok := files[name]
		if !ok {
			return sum, &Problem{File: name, Detail: "missing (listed in the manifest)"}
		}
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != f[1] {
			return sum, &Problem{File: name, Detail: "changed: its SHA-256 is " + hex.EncodeToString(h[:]) + ", the signed manifest says " + f[1]}
		}
	}
	for name := range files {
		if !listed[name] {
			return sum, &Problem{File: name, Detail: "not listed in the signed manifest (added)"}
		}
	}
	for _, name := range []string{CheckpointFile, EventsFile, ReportDir + "summary.csv", ReportDir + "backdated-facts.csv", ReportPDFFile} {
		if _, ok := files[name]; !ok {
			return sum, &Problem{File: name, Detail: "missing"}
		}
	}

	// The checkpoint.
	c, err := audit.OpenCheckpoint(files[CheckpointFile], v)
	if err != nil {
		return sum, &Problem{File: CheckpointFile, Detail: err.Error()}
	}
	if c.Size != sum.TreeSize {
		return sum, &Problem{File: CheckpointFile, Detail: fmt.Sprintf("of %d leaves, the manifest says %d", c.Size, sum.TreeSize)}
	}
	if pk := strings.TrimSpace(string(files[PublicKeyFile])); pk != "" {
		if pv, err := audit.NewVerifier(pk); err != nil || pv.Name() != v.Name() || pv.KeyHash() != v.KeyHash() {
			return sum, &Problem{File: PublicKeyFile, Detail: "is not the key given to check the pack with"}
		}
	}

	// The events.
	sc := bufio.NewScanner(bytes.NewReader(files[EventsFile]))
	sc.Buffer(make([]byte, 0, 1<<20), maxFile)
	last := int64(-1)
	for lineNo := 1; sc.Scan(); lineNo++ {
		bad := func(format string, args ...any) error {
			return &Problem{File: EventsFile, Line: lineNo, Detail: fmt.Sprintf(format, args...)}
		}
		var el EventLine
		if err := json.Unmarshal(sc.Bytes(), &el); err != nil {
			return sum, bad("not an event line: %v", err)
		}
		if el.LeafIndex <= last {
			return sum, bad("leaf %d after leaf %d: out of order", el.LeafIndex, last)
		}
		last = el.LeafIndex
		proof, err := unb64s(el.Proof)
		if err != nil {
			return sum, bad("%v", err)
		}
		if err := audit.CheckInclusion(c, el.LeafIndex, []byte(el.Leaf), proof); err != nil {
			return sum, bad("%v", err)
		}
		e, err := audit.DecodeLeaf([]byte(el.Leaf))
		if err != nil {
			return sum, bad("leaf %d: %v", el.LeafIndex, err)
		}
		where := fmt.Sprintf("leaf %d (stream %s, version %d, event %s)", el.LeafIndex, e.StreamID, e.Version, e.ID)
		if e.Metadata.Tenant != sum.Tenant {
			return sum, bad("%s is of tenant %q, not %q", where, e.Metadata.Tenant, sum.Tenant)
		}
		if e.RecordedAt.Before(sum.Period.From) || !e.RecordedAt.Before(sum.Period.To) {
			return sum, bad("%s was recorded at %s, outside the period", where, ts(e.RecordedAt))
		}
		if b := audit.BackdatedBy(e, backdatedAfter); b != el.Backdated {
			return sum, bad("%s is marked backdated %v, its times say %v", where, el.Backdated, b)
		}
		if el.Backdated {
			sum.Backdated++
		}
		sum.Events++
	}
	if err := sc.Err(); err != nil {
		return sum, &Problem{File: EventsFile, Detail: err.Error()}
	}

	// The report agrees with the events on what they determine.
	rows, err := csv.NewReader(bytes.NewReader(files[ReportDir+"backdated-facts.csv"])).ReadAll()
	if err != nil || len(rows) == 0 {
		return sum, &Problem{File: ReportDir + "backdated-facts.csv", Detail: "malformed"}
	}
	if len(rows)-1 != sum.Backdated {
		return sum, &Problem{File: ReportDir + "backdated-facts.csv", Detail: fmt.Sprintf("lists %d backdated facts, the events hold %d", len(rows)-1, sum.Backdated)}
	}
	rows, err = csv.NewReader(bytes.NewReader(files[ReportDir+"summary.csv"])).ReadAll()
	if err != nil {
		return sum, &Problem{File: ReportDir + "summary.csv", Detail: "malformed"}
	}
	for _, r := range rows {
		if len(r) == 2 && (r[0] == "events_recorded" && r[1] != strconv.Itoa(sum.Events) || r[0] == "backdated_facts" && r[1] != strconv.Itoa(sum.Backdated)) {
			return sum, &Problem{File: ReportDir + "summary.csv", Detail: fmt.Sprintf("%s is %s, the events say otherwise", r[0], r[1])}
		}
	}

	// The previous checkpoint, if any.
	if pb, ok := files[PreviousCheckpointFile]; ok {
		prev, err := audit.OpenCheckpoint(pb, v)
		if err != nil {
			return sum, &Problem{File: PreviousCheckpointFile, Detail: err.Error()}
		}
		var cons Consistency
		if err := json.Unmarshal(files[ConsistencyFile], &cons); err != nil {
			return sum, &Problem{File: ConsistencyFile, Detail: "malformed or missing: " + err.Error()}
		}
		proof, err := unb64s(cons.Proof)
		if err == nil {
			err = audit.CheckConsistency(prev, c, proof)
		}
		if err != nil {
			return sum, &Problem{File: ConsistencyFile, Detail: err.Error()}
		}
		sum.Previous = prev.Size
	}
	return sum, nil
}
