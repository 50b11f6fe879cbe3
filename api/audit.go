package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/evcrm/evcrm/audit/auditlog"
	"github.com/evcrm/evcrm/internal/auth"
	"github.com/evcrm/evcrm/queries"
)

// AuditReaders may read the transparency log: checkpoints, proofs, leaves.
var AuditReaders = []auth.Role{auth.Admin, auth.Auditor}

// AuditOptions configure the audit routes.
type AuditOptions struct {
	Log *auditlog.Log
	// PublicKey is the verifier key of the checkpoints' signing key, shown
	// with each checkpoint (auditors should get it out of band too).
	PublicKey string
	// BackdatedAfter: an event recorded more than this after it occurred
	// is a backdated fact, marked in the audit views (0: 24 h,
	// audit.BackdatedAfter).
	BackdatedAfter time.Duration
	// Queries, when set, serve the audit pack's quality report
	// (POST /v1/audit/packs is registered only then).
	Queries *queries.Queries
}

type auditRoutes struct {
	s    *Server
	opts AuditOptions
}

// RegisterAudit adds the transparency log's operations (/v1/audit/...).
func RegisterAudit(s *Server, opts AuditOptions) error {
	if opts.Log == nil {
		return errors.New("api: the audit log is required")
	}
	r := &auditRoutes{s: s, opts: opts}
	tags := []string{"Audit"}
	Register(s.api, huma.Operation{
		OperationID: "getAuditCheckpoint", Method: http.MethodGet, Path: "/v1/audit/checkpoint", Tags: tags,
		Summary:     "Latest signed checkpoint of the transparency log",
		Description: "The latest signed tree head (a C2SP tlog-checkpoint signed note, ed25519), or, when none is signed yet (no key configured), the current tree head marked unsigned. Keep the note: a later audit proves the log extends it.",
	}, AuditReaders, recordedRead(s, "getAuditCheckpoint", r.checkpoint, nil))
	Register(s.api, huma.Operation{
		OperationID: "publishAuditCheckpoint", Method: http.MethodPost, Path: "/v1/audit/checkpoints", Tags: tags,
		DefaultStatus: http.StatusCreated,
		Summary:       "Sign a checkpoint now",
		Description:   "Signs the tree as it is now (or returns the checkpoint of that size if one exists). 409 when no signing key is configured.",
		Errors:        []int{http.StatusConflict},
	}, []auth.Role{auth.Admin}, r.publish)
	Register(s.api, huma.Operation{
		OperationID: "getAuditInclusionProof", Method: http.MethodGet, Path: "/v1/audit/proofs/inclusion", Tags: tags,
		Summary:     "Inclusion proof of an event",
		Description: "Proves that an event (by event_id) or a leaf (by leaf) is in the tree of tree_size leaves (default: the latest signed checkpoint's). Check it with the leaf's canonical encoding and the checkpoint's root (RFC 6962). Only events of the caller's tenant.",
		Errors:      []int{http.StatusBadRequest, http.StatusNotFound},
	}, AuditReaders, recordedRead(s, "getAuditInclusionProof", r.inclusion, func(_ *inclusionInput, o *inclusionOutput) []string { return []string{o.Body.Stream} }))
	Register(s.api, huma.Operation{
		OperationID: "getAuditConsistencyProof", Method: http.MethodGet, Path: "/v1/audit/proofs/consistency", Tags: tags,
		Summary:     "Consistency proof between two tree sizes",
		Description: "Proves that the tree of `to` leaves extends the tree of `from` leaves (RFC 6962): nothing logged before was changed or removed.",
		Errors:      []int{http.StatusBadRequest},
	}, AuditReaders, recordedRead(s, "getAuditConsistencyProof", r.consistency, nil))
	Register(s.api, huma.Operation{
		OperationID: "listAuditLeaves", Method: http.MethodGet, Path: "/v1/audit/leaves", Tags: tags,
		Summary:     "Leaves of the transparency log",
		Description: "The canonical encodings of a range of leaves (docs/audit.md), in leaf order; only events of the caller's tenant (leaves of other tenants are skipped, so indexes have gaps).",
		Errors:      []int{http.StatusBadRequest},
	}, AuditReaders, recordedRead(s, "listAuditLeaves", r.leaves, func(_ *leavesInput, o *leavesOutput) []string {
		out := make([]string, len(o.Body.Leaves))
		for i, l := range o.Body.Leaves {
			out[i] = l.Stream
		}
		return out
	}))
	r.registerHistory()
	r.registerPack()
	return nil
}

// AuditCheckpoint is a tree head of the transparency log.
type AuditCheckpoint struct {
	Origin    string    `json:"origin,omitempty" doc:"The log's name (the signing key's name)"`
	TreeSize  int64     `json:"tree_size" doc:"Number of leaves (events) in the tree"`
	RootHash  string    `json:"root_hash" doc:"RFC 6962 root hash, standard base64"`
	Time      time.Time `json:"time,omitzero" doc:"When the checkpoint was signed"`
	Signed    bool      `json:"signed" doc:"False when no checkpoint is signed yet (no key configured): the current tree head, vouched for by nobody"`
	Note      string    `json:"note,omitempty" doc:"The signed note (C2SP tlog-checkpoint), to keep and to verify with the public key"`
	PublicKey string    `json:"public_key,omitempty" doc:"Verifier key of the signing key (note format, name+hash+key)"`
}

type auditCheckpointOutput struct{ Body AuditCheckpoint }

func (r *auditRoutes) checkpoint(ctx context.Context, _ *struct{}) (*auditCheckpointOutput, error) {
	c, err := r.opts.Log.Latest(ctx)
	if errors.Is(err, auditlog.ErrNotFound) {
		st, err := r.opts.Log.State(ctx)
		if err != nil {
			return nil, err
		}
		return &auditCheckpointOutput{Body: AuditCheckpoint{TreeSize: st.Size, RootHash: b64(st.Root), PublicKey: r.opts.PublicKey}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &auditCheckpointOutput{Body: r.signed(c)}, nil
}

func (r *auditRoutes) signed(c auditlog.SignedCheckpoint) AuditCheckpoint {
	return AuditCheckpoint{Origin: c.Origin, TreeSize: c.Size, RootHash: b64(c.Root), Time: c.Time, Signed: true, Note: string(c.Note), PublicKey: r.opts.PublicKey}
}

func (r *auditRoutes) publish(ctx context.Context, _ *struct{}) (*auditCheckpointOutput, error) {
	c, err := r.opts.Log.Publish(ctx)
	if err != nil {
		return nil, err
	}
	return &auditCheckpointOutput{Body: r.signed(c)}, nil
}

type inclusionInput struct {
	EventID  string `query:"event_id" doc:"The event to prove (or leaf)"`
	Leaf     int64  `query:"leaf" minimum:"-1" default:"-1" doc:"The leaf index to prove (or event_id)"`
	TreeSize int64  `query:"tree_size" minimum:"0" default:"0" doc:"Size of the tree to prove against (default: the latest signed checkpoint's, else the current tree)"`
}

// InclusionProof proves that a leaf is in a tree.
type InclusionProof struct {
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	EventID   string   `json:"event_id"`
	Stream    string   `json:"stream"`
	Version   uint64   `json:"version"`
	Leaf      string   `json:"leaf" doc:"The leaf's canonical encoding (hash its UTF-8 bytes: SHA-256(0x00 || leaf))"`
	LeafHash  string   `json:"leaf_hash" doc:"RFC 6962 leaf hash, standard base64"`
	Proof     []string `json:"proof" doc:"The audit path, standard base64 hashes, as golang.org/x/mod/sumdb/tlog.RecordProof"`
}

type inclusionOutput struct{ Body InclusionProof }

func (r *auditRoutes) inclusion(ctx context.Context, in *inclusionInput) (*inclusionOutput, error) {
	var rec auditlog.LeafRecord
	var err error
	switch {
	case in.EventID != "" && in.Leaf < 0:
		id, perr := uuid.Parse(in.EventID)
		if perr != nil {
			return nil, fmt.Errorf("event_id %q is not a UUID: %w", in.EventID, auditlog.ErrBadRange)
		}
		rec, err = r.opts.Log.LeafByEvent(ctx, id)
	case in.EventID == "" && in.Leaf >= 0:
		var recs []auditlog.LeafRecord
		recs, err = r.opts.Log.Leaves(ctx, auditlog.LeafQuery{From: in.Leaf, To: in.Leaf + 1})
		if err == nil && len(recs) == 0 {
			err = fmt.Errorf("leaf %d: %w", in.Leaf, auditlog.ErrNotFound)
		}
		if err == nil {
			rec = recs[0]
		}
	default:
		return nil, fmt.Errorf("give one of event_id and leaf: %w", auditlog.ErrBadRange)
	}
	if err != nil {
		return nil, err
	}
	if rec.Tenant != tenantOf(ctx) {
		return nil, fmt.Errorf("leaf %d: %w", rec.Index, auditlog.ErrNotFound) // another tenant's: not even its existence
	}
	size, err := r.defaultSize(ctx, in.TreeSize)
	if err != nil {
		return nil, err
	}
	if rec.Index >= size {
		return nil, fmt.Errorf("leaf %d is not in a tree of %d leaves (not yet in a checkpoint): %w", rec.Index, size, auditlog.ErrBadRange)
	}
	proof, err := r.opts.Log.InclusionProof(ctx, rec.Index, size)
	if err != nil {
		return nil, err
	}
	return &inclusionOutput{Body: InclusionProof{
		LeafIndex: rec.Index, TreeSize: size, EventID: rec.EventID.String(), Stream: rec.Stream, Version: rec.Version,
		Leaf: string(rec.Leaf), LeafHash: b64(tlog.RecordHash(rec.Leaf)), Proof: b64s(proof),
	}}, nil
}

// defaultSize is size, or the latest signed checkpoint's, or the tree's.
func (r *auditRoutes) defaultSize(ctx context.Context, size int64) (int64, error) {
	if size > 0 {
		return size, nil
	}
	c, err := r.opts.Log.Latest(ctx)
	if err == nil {
		return c.Size, nil
	}
	if !errors.Is(err, auditlog.ErrNotFound) {
		return 0, err
	}
	st, err := r.opts.Log.State(ctx)
	return st.Size, err
}

type consistencyInput struct {
	From int64 `query:"from" minimum:"1" required:"true" doc:"The older tree size (e.g. of the checkpoint you kept)"`
	To   int64 `query:"to" minimum:"0" default:"0" doc:"The newer tree size (default: the latest signed checkpoint's)"`
}

// ConsistencyProof proves that one tree extends another.
type ConsistencyProof struct {
	From  int64    `json:"from"`
	To    int64    `json:"to"`
	Proof []string `json:"proof" doc:"Standard base64 hashes, as golang.org/x/mod/sumdb/tlog.TreeProof"`
}

type consistencyOutput struct{ Body ConsistencyProof }

func (r *auditRoutes) consistency(ctx context.Context, in *consistencyInput) (*consistencyOutput, error) {
	to, err := r.defaultSize(ctx, in.To)
	if err != nil {
		return nil, err
	}
	proof, err := r.opts.Log.ConsistencyProof(ctx, in.From, to)
	if err != nil {
		return nil, err
	}
	return &consistencyOutput{Body: ConsistencyProof{From: in.From, To: to, Proof: b64s(proof)}}, nil
}

type leavesInput struct {
	From  int64 `query:"from" minimum:"0" default:"0" doc:"First leaf index"`
	Limit int   `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Leaves scanned per page"`
}

// AuditLeaf is a leaf of the transparency log.
type AuditLeaf struct {
	Index    int64  `json:"index"`
	EventID  string `json:"event_id"`
	Stream   string `json:"stream"`
	Version  uint64 `json:"version"`
	Leaf     string `json:"leaf" doc:"Canonical encoding of the event (docs/audit.md)"`
	LeafHash string `json:"leaf_hash" doc:"SHA-256(0x00 || leaf), standard base64"`
}

// AuditLeaves is a page of leaves.
type AuditLeaves struct {
	TreeSize int64       `json:"tree_size" doc:"Leaves in the tree now"`
	Leaves   []AuditLeaf `json:"leaves"`
	NextFrom int64       `json:"next_from,omitempty" doc:"Pass as from for the next page; absent at the end of the tree"`
}

type leavesOutput struct{ Body AuditLeaves }

func (r *auditRoutes) leaves(ctx context.Context, in *leavesInput) (*leavesOutput, error) {
	st, err := r.opts.Log.State(ctx)
	if err != nil {
		return nil, err
	}
	to := min(in.From+int64(in.Limit), st.Size)
	out := AuditLeaves{TreeSize: st.Size, Leaves: []AuditLeaf{}}
	if in.From < to {
		tenant := tenantOf(ctx)
		recs, err := r.opts.Log.Leaves(ctx, auditlog.LeafQuery{From: in.From, To: to, Tenant: &tenant})
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			out.Leaves = append(out.Leaves, AuditLeaf{Index: rec.Index, EventID: rec.EventID.String(), Stream: rec.Stream, Version: rec.Version,
				Leaf: string(rec.Leaf), LeafHash: b64(tlog.RecordHash(rec.Leaf))})
		}
		if to < st.Size {
			out.NextFrom = to
		}
	}
	return &leavesOutput{Body: out}, nil
}

// tenantOf is the tenant of the request's principal.
func tenantOf(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.Tenant
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func b64s(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = b64(h)
	}
	return out
}
