package audit

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Kind names what a verification found broken.
type Kind string

// The kinds of broken things a verifier reports.
const (
	EventChanged        Kind = "event changed"              // an event's content differs from its leaf
	EventDeleted        Kind = "event deleted"              // a logged event is missing from the store
	EventInserted       Kind = "event inserted"             // an event in the logged part of the store is not in the log
	EventsReordered     Kind = "events reordered"           // logged events are in another order in the store
	EventsTruncated     Kind = "events truncated"           // the store lost the last logged events
	TreeHashRewritten   Kind = "tree hash rewritten"        // a stored tree hash is not the one recomputed from the events
	LeafCopyChanged     Kind = "leaf copy changed"          // the stored canonical encoding of a leaf differs from its event
	LogDamaged          Kind = "log damaged"                // the log's own tables are inconsistent (missing rows)
	LogTruncated        Kind = "log truncated"              // the tree is smaller than a checkpoint it signed or the auditor kept
	CheckpointSignature Kind = "checkpoint signature"       // a checkpoint does not verify with the trusted key
	CheckpointMismatch  Kind = "checkpoint mismatch"        // a checkpoint's root is not the tree recomputed from the events
	CheckpointFork      Kind = "checkpoint does not extend" // a checkpoint does not extend the one before it
	TrustedMismatch     Kind = "trusted checkpoint"         // today's tree does not extend the auditor's checkpoint
	NoKey               Kind = "no key"                     // no public key to check signatures with: nothing can be vouched for
	NotSigned           Kind = "not signed"                 // events not (yet) covered by a signed checkpoint
	NotLogged           Kind = "not logged"                 // events appended but not (yet) in the log
)

// Problem is the first broken thing a verification found. Leaf is -1 and
// EventID nil when they do not apply; CheckpointSize is 0 when no
// checkpoint is concerned.
type Problem struct {
	Kind           Kind
	Leaf           int64
	Stream         string
	Version        uint64
	EventID        uuid.UUID
	CheckpointSize int64
	Detail         string
}

func (p *Problem) Error() string {
	var where []string
	if p.Stream != "" {
		where = append(where, "stream "+p.Stream, fmt.Sprintf("version %d", p.Version))
	}
	if p.EventID != uuid.Nil {
		where = append(where, "event "+p.EventID.String())
	}
	if p.Leaf >= 0 {
		where = append(where, fmt.Sprintf("leaf %d", p.Leaf))
	}
	if p.CheckpointSize > 0 {
		where = append(where, fmt.Sprintf("checkpoint size %d", p.CheckpointSize))
	}
	s := string(p.Kind)
	if len(where) > 0 {
		s += " (" + strings.Join(where, ", ") + ")"
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}
