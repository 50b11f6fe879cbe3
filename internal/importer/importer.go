// Package importer takes in the records older systems hold, from CSV files,
// through the normal command handlers: each row becomes the commands a user
// would have sent (RegisterCustomer, CaptureLead, OpenOpportunity, OpenCase
// and, for a case resolved or closed in the old system, ResolveCase and
// CloseCase), with the same validation, the same roles, the tenant of the
// importer and the backdating rules, the row's historic dates becoming the
// events' occurred-at.
//
// An import is idempotent: a record's evcrm ID and the IDs of the commands
// that create it are derived from the tenant, the kind and the row's
// external_id, so importing the same file again records nothing new (the
// command handlers find the commands' events already there). It is resumable:
// Config.Skip passes over the rows an interrupted run finished (Checkpoint
// tells how far that is), and because rows are idempotent, a run that
// re-sends a row an earlier one already did is harmless anyway. A row the
// domain refuses is reported with the reason and the import goes on.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/evcrm/evcrm/commands"
	"github.com/evcrm/evcrm/domain"
	"github.com/evcrm/evcrm/internal/auth"
)

// Dispatcher is the command side (commands.Dispatcher).
type Dispatcher interface {
	Dispatch(ctx context.Context, cmd domain.Command, meta commands.Metadata) (commands.Result, error)
}

// Defaults of Config.
const (
	DefaultWorkers        = 4
	DefaultMaxRecordBytes = 1 << 20
	// MaxFieldChars bounds a single cell; longer ones refuse their row
	// (the longest text a command takes is 20,000 characters).
	MaxFieldChars = 32 << 10
)

// Config says who imports, into which tenant, and how.
type Config struct {
	Dispatcher Dispatcher
	// Catalogues give the roles that may send each command (the
	// dispatcher's registered catalogues). A row whose commands Role may
	// not send is refused, as over HTTP.
	Catalogues []commands.Catalogue
	Tenant     string
	Actor      string    // recorded on the events: the user or token importing
	Role       auth.Role // the role the actor acts in
	Source     string    // the app recorded on the events (default "evcrm-import")
	// Workers is how many rows are imported at once (default 4). Rows of a
	// file are independent (a row's own commands run in order).
	Workers int
	// MaxRecordBytes bounds one CSV record (default 1 MiB); a longer one
	// stops the import, since the rest of the file cannot be read reliably.
	MaxRecordBytes int
	// Skip passes over the first Skip data rows (done by an earlier run):
	// they are read (duplicates are still found) but not sent.
	Skip int
	// Progress, if set, is called after each row with the bytes read and
	// rows finished so far.
	Progress func(Progress)
	// Checkpoint, if set, is called from time to time and at the end with
	// the number of leading rows finished (every row before it is done: a
	// later run may Skip that many) and the refusals among them.
	Checkpoint func(done int, refused []Refusal)
	// CheckpointEvery is the number of finished rows between checkpoints
	// (default 500).
	CheckpointEvery int
}

// Progress of a running import.
type Progress struct {
	Bytes int64 // bytes of the file read
	Rows  int   // data rows finished (imported, already there, refused or skipped)
}

// Refusal is a row that was not imported, and why.
type Refusal struct {
	Row        int    `json:"row" doc:"1-based number of the data row (the header is row 0)"`
	Line       int    `json:"line" doc:"line of the file the row starts on"`
	ExternalID string `json:"external_id,omitempty"`
	Code       string `json:"code" doc:"stable reason code, as in the API's problem details (e.g. unknown_reference, occurred_at_outside_window)"`
	Field      string `json:"field,omitempty" doc:"the column (or command field) at fault, when one is"`
	Message    string `json:"message"`
}

// Report tells what an import did.
type Report struct {
	Kind     Kind `json:"kind"`
	Rows     int  `json:"rows" doc:"data rows read"`
	Imported int  `json:"imported" doc:"rows whose records were created now"`
	// Unchanged rows were imported before (by an earlier run of this file
	// or another file with the same external_id): nothing was recorded.
	Unchanged int       `json:"unchanged" doc:"rows imported before: nothing recorded"`
	Skipped   int       `json:"skipped" doc:"rows passed over as done by an interrupted earlier run (resume)"`
	Refused   []Refusal `json:"refused" doc:"rows not imported, with the reason, in row order"`
	Events    int       `json:"events" doc:"events recorded"`
}

// Run imports the rows of one CSV file of kind k from r. Row problems are
// refusals in the report; the error is for the file as a whole (bad header,
// unreadable CSV, a role that may not import this kind) or for a fault of
// the command side (database down), after which a later run may resume.
func Run(ctx context.Context, cfg Config, k Kind, r io.Reader) (Report, error) {
	rep := Report{Kind: k, Refused: []Refusal{}}
	sp, ok := specs[k]
	if !ok {
		_, err := ParseKind(string(k))
		return rep, err
	}
	if cfg.Dispatcher == nil {
		return rep, errors.New("importer: no dispatcher")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 500
	}
	if cfg.Source == "" {
		cfg.Source = "evcrm-import"
	}
	roles := rolesByCommand(cfg.Catalogues)
	if err := mayImport(cfg, k, roles); err != nil {
		return rep, err
	}

	cr := &countingReader{r: r, max: int64(cfg.MaxRecordBytes)}
	br := bufio.NewReader(cr)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3) // a UTF-8 byte order mark, as spreadsheet programs write
	}
	cv := csv.NewReader(br)
	cv.FieldsPerRecord = -1 // checked per row, to refuse the row rather than stop
	cv.ReuseRecord = false
	cr.mark()
	header, err := cv.Read()
	if err != nil && cr.tooLong {
		return rep, fileError("record_too_large", fmt.Sprintf("the header row is larger than %d bytes", cfg.MaxRecordBytes))
	}
	if errors.Is(err, io.EOF) {
		return rep, fileError("empty_file", "the file is empty: it needs a header row naming its columns")
	}
	if err != nil {
		return rep, fileError("malformed_csv", "reading the header row: "+err.Error())
	}
	cols, err := checkHeader(sp, header)
	if err != nil {
		return rep, err
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan job)
	results := make(chan result)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- runJob(ctx, cfg, roles, j)
			}
		}()
	}

	// The reader: one job per data row, in order.
	var readErr error
	go func() {
		defer close(jobs)
		seen := map[string]int{}
		for n := 1; ; n++ {
			cr.mark()
			rec, err := cv.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil && cr.tooLong {
				// The rows before it still finish.
				readErr = fileError("record_too_large", fmt.Sprintf("row %d is larger than %d bytes; the import stops there (the rows before it were imported)", n, cfg.MaxRecordBytes))
				return
			}
			line, _ := cv.FieldPos(0)
			j := job{kind: k, row: n, line: line, bytes: cr.n}
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe):
				j.refusal = &Refusal{Code: "malformed_csv", Message: pe.Err.Error()}
				if pe.StartLine > 0 {
					j.line = pe.StartLine
				}
			case err != nil:
				readErr = fmt.Errorf("reading row %d: %w", n, err)
				return
			default:
				j.externalID, j.steps, j.refusal = buildRow(cfg.Tenant, k, sp, cols, rec)
			}
			if j.refusal == nil {
				if first, dup := seen[j.externalID]; dup {
					j.refusal = &Refusal{Code: "duplicate_external_id", Field: KeyColumn,
						Message: fmt.Sprintf("external_id %q is also on row %d of this file; only the first is imported", j.externalID, first)}
				} else {
					seen[j.externalID] = n
				}
			}
			j.skip = n <= cfg.Skip
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	// The collector: tallies, progress and checkpoints, in row order.
	pending := map[int]result{}
	done := 0 // rows 1..done are finished
	var lastBytes int64
	var fault error
	var refusedDone []Refusal
	sinceCheckpoint := 0
	for res := range results {
		if res.err != nil {
			if fault == nil {
				fault = res.err
				cancel(fault)
			}
			continue
		}
		rep.Rows++
		switch {
		case res.skipped:
			rep.Skipped++
		case res.refusal != nil:
			rep.Refused = append(rep.Refused, *res.refusal)
		case res.recorded > 0:
			rep.Imported++
		default:
			rep.Unchanged++
		}
		rep.Events += res.recorded
		pending[res.row] = res
		for {
			next, ok := pending[done+1]
			if !ok {
				break
			}
			delete(pending, done+1)
			done++
			sinceCheckpoint++
			lastBytes = max(lastBytes, next.bytes)
			if next.refusal != nil {
				refusedDone = append(refusedDone, *next.refusal)
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Bytes: lastBytes, Rows: rep.Rows})
		}
		if cfg.Checkpoint != nil && sinceCheckpoint >= cfg.CheckpointEvery {
			cfg.Checkpoint(done, slices.Clone(refusedDone))
			sinceCheckpoint = 0
		}
	}
	if cfg.Checkpoint != nil {
		cfg.Checkpoint(done, slices.Clone(refusedDone))
	}
	slices.SortFunc(rep.Refused, func(a, b Refusal) int { return a.Row - b.Row })
	switch {
	case readErr != nil:
		return rep, readErr
	case fault != nil:
		return rep, fault
	}
	return rep, ctx.Err()
}

type job struct {
	kind       Kind
	row, line  int
	bytes      int64
	externalID string
	steps      []step
	refusal    *Refusal
	skip       bool
}

type result struct {
	row      int
	bytes    int64
	skipped  bool
	refusal  *Refusal
	recorded int // events recorded now
	err      error
}

func runJob(ctx context.Context, cfg Config, roles map[string][]auth.Role, j job) result {
	res := result{row: j.row, bytes: j.bytes}
	refuse := func(r Refusal) result {
		r.Row, r.Line, r.ExternalID = j.row, j.line, j.externalID
		res.refusal = &r
		return res
	}
	switch {
	case j.refusal != nil:
		return refuse(*j.refusal)
	case j.skip:
		res.skipped = true
		return res
	}
	for _, s := range j.steps {
		typ := s.cmd.CommandType()
		if rs, ok := roles[typ]; ok && !slices.Contains(rs, cfg.Role) {
			return refuse(Refusal{Code: "forbidden", Message: fmt.Sprintf("the role %s may not send %s", cfg.Role, typ)})
		}
		out, err := cfg.Dispatcher.Dispatch(ctx, s.cmd, commands.Metadata{
			CommandID:  CommandID(cfg.Tenant, j.kind, j.externalID, s.name),
			Actor:      cfg.Actor,
			Role:       string(cfg.Role),
			Source:     cfg.Source,
			Tenant:     cfg.Tenant,
			OccurredAt: s.at,
			Extra:      map[string]string{"import_external_id": j.externalID},
		})
		var de *domain.Error
		switch {
		case errors.As(err, &de):
			r := Refusal{Code: commands.ErrorCode(err), Message: de.Error()}
			if len(de.Fields) > 0 {
				r.Field = de.Fields[0].Field
			}
			if len(j.steps) > 1 {
				r.Message = typ + ": " + r.Message
			}
			return refuse(r)
		case err != nil:
			res.err = fmt.Errorf("row %d (line %d, external_id %q): %s: %w", j.row, j.line, j.externalID, typ, err)
			return res
		}
		if !out.Replayed {
			res.recorded += len(out.EventIDs)
		}
	}
	return res
}

// buildRow turns a record into the external ID and the commands of its row,
// or a refusal.
func buildRow(tenant string, k Kind, sp spec, cols []string, rec []string) (string, []step, *Refusal) {
	if len(rec) != len(cols) {
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			return "", nil, &Refusal{Code: "empty_row", Message: "the row is empty"}
		}
		return "", nil, &Refusal{Code: "wrong_field_count", Message: fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(cols))}
	}
	values := make(map[string]string, len(cols))
	for i, c := range cols {
		values[c] = rec[i]
	}
	ext := strings.TrimSpace(values[KeyColumn])
	var v domain.Validator
	for i, c := range cols {
		switch cell := rec[i]; {
		case utf8.RuneCountInString(cell) > MaxFieldChars:
			v.Add(c, fmt.Sprintf("is longer than %d characters", MaxFieldChars))
		case !utf8.ValidString(cell):
			v.Add(c, "is not valid UTF-8 text (save the file as UTF-8)")
		case strings.ContainsRune(cell, 0):
			v.Add(c, "holds a NUL character")
		}
	}
	if err := v.Err(); err != nil {
		return safeID(ext), nil, refusalOf(err)
	}
	if ext == "" {
		return "", nil, &Refusal{Code: "validation_failed", Field: KeyColumn, Message: "external_id is required"}
	}
	if len(ext) > 200 {
		return "", nil, &Refusal{Code: "validation_failed", Field: KeyColumn, Message: "external_id must be at most 200 bytes"}
	}
	r := row{values: values, v: &v, tenant: tenant}
	steps := sp.build(r, RecordID(tenant, k, ext))
	if err := v.Err(); err != nil {
		return ext, nil, refusalOf(err)
	}
	return ext, steps, nil
}

// safeID is an external ID fit for a report, or "" when it is not text.
func safeID(s string) string {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > 200 {
		return ""
	}
	return s
}

func refusalOf(err error) *Refusal {
	r := &Refusal{Code: commands.ErrorCode(err), Message: err.Error()}
	var de *domain.Error
	if errors.As(err, &de) && len(de.Fields) > 0 {
		r.Field = de.Fields[0].Field
	}
	return r
}

// checkHeader matches the header to the kind's columns: every name known,
// none twice, every required one there. It returns the column of each field.
func checkHeader(sp spec, header []string) ([]string, error) {
	known := map[string]column{}
	var names []string
	for _, c := range sp.columns {
		known[c.name] = c
		names = append(names, c.name)
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	var v domain.Validator
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch _, ok := known[name]; {
		case !ok:
			if !utf8.ValidString(h) || strings.ContainsRune(h, 0) || len(h) > 100 {
				h = fmt.Sprintf("column %d", i+1)
			}
			v.Add(h, "is not a column of this kind of file; the columns are "+strings.Join(names, ", "))
		case seen[name]:
			v.Add(name, "is named twice")
		}
		seen[name] = true
		cols[i] = name
	}
	for _, c := range sp.columns {
		if c.required && !seen[c.name] {
			v.Add(c.name, "is a required column")
		}
	}
	if err := v.Err(); err != nil {
		var de *domain.Error
		errors.As(err, &de)
		return nil, &domain.Error{Kind: domain.KindValidation, Code: "wrong_columns", Message: "the header row does not fit this kind of file", Fields: de.Fields}
	}
	return cols, nil
}

func fileError(code, message string) error {
	return &domain.Error{Kind: domain.KindValidation, Code: code, Message: message}
}

// mayImport refuses a role that may not send the command that creates the
// kind's records, before any row is read.
func mayImport(cfg Config, k Kind, roles map[string][]auth.Role) error {
	creation := specs[k].build(row{values: map[string]string{}, v: &domain.Validator{}}, uuid.Nil)[0].cmd.CommandType()
	if rs, ok := roles[creation]; ok && !slices.Contains(rs, cfg.Role) {
		return fmt.Errorf("%w: the role %s may not import %s (%s)", auth.ErrForbidden, cfg.Role, k, creation)
	}
	return nil
}

// Roles returns the roles that may import kind k: those that may send the
// command creating its records.
func Roles(catalogues []commands.Catalogue, k Kind) []auth.Role {
	creation := specs[k].build(row{values: map[string]string{}, v: &domain.Validator{}}, uuid.Nil)[0].cmd.CommandType()
	return rolesByCommand(catalogues)[creation]
}

func rolesByCommand(cats []commands.Catalogue) map[string][]auth.Role {
	out := map[string][]auth.Role{}
	for _, c := range cats {
		for _, s := range c.Commands {
			out[s.Command.CommandType()] = s.Roles
		}
	}
	return out
}

// countingReader counts the bytes read and fails once a record (the bytes
// since the last mark) grows past max.
type countingReader struct {
	r      io.Reader
	n      int64 // bytes read so far
	at     int64 // n at the last mark
	max    int64
	marked bool
	// tooLong is set once a record grew past max; reads fail from then on.
	tooLong bool
}

var errRecordTooLong = errors.New("record too long")

func (c *countingReader) mark() { c.at, c.marked = c.n, true }

func (c *countingReader) Read(p []byte) (int, error) {
	// bufio reads ahead up to its buffer (4 KiB): allow for it.
	if c.tooLong || c.marked && c.n-c.at > c.max+64<<10 {
		c.tooLong = true
		return 0, errRecordTooLong
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
